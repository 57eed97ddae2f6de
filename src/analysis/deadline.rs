//! When long work gives up. The permutation loops (Knox, Gi* with permutations) run on the
//! request's own thread (`block_in_place`), where the server's request timeout cannot cut them:
//! they look at a [`Deadline`] between draws instead, and stop with [`Stopped`] once it has
//! passed, so a request never computes past its time limit and the thread is free again.

use std::time::{Duration, Instant};

/// A point in time work stops at, or none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// No deadline: the work runs to its end (the command line, tests, benchmarks).
    pub const NEVER: Self = Self(None);

    /// `limit` from now.
    #[must_use]
    pub fn after(limit: Duration) -> Self {
        Self(Instant::now().checked_add(limit))
    }

    /// Whether the deadline has passed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.0.is_some_and(|at| Instant::now() >= at)
    }
}

/// Work stopped at its deadline after `done` of the `asked` permutations (nothing of it is
/// answered: p-values from fewer draws than asked would not be the result the seed promises).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the time limit was reached after {done} of {asked} permutations; ask fewer permutations, or narrow the window, the area or the categories"
)]
pub struct Stopped {
    /// Permutations done when it stopped (where the work is not done one permutation at a time,
    /// its share of the whole in permutations).
    pub done: usize,
    /// Permutations asked.
    pub asked: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_passes_and_never_does_not() {
        assert!(!Deadline::NEVER.passed());
        assert!(Deadline::after(Duration::ZERO).passed());
        assert!(!Deadline::after(Duration::from_secs(3600)).passed());
        // Too far to represent: no deadline rather than a panic.
        assert!(!Deadline::after(Duration::MAX).passed());
    }
}
