//! The service's idea of "now": the system clock, or a hand-set one for tests (session expiry,
//! login throttling, retention).

use std::sync::{Arc, Mutex};

use time::{Duration, OffsetDateTime};

/// Where the time comes from.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<OffsetDateTime>>>,
}

impl Clock {
    /// The system clock.
    #[must_use]
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands still at `at` until set or advanced.
    #[must_use]
    pub fn manual(at: OffsetDateTime) -> Self {
        Self {
            manual: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// Now, in UTC, to the microsecond.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        match &self.manual {
            Some(m) => *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner),
            None => crate::domain::time::now_utc(),
        }
    }

    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Some(m) = &self.manual {
            let mut t = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *t += by;
        }
    }

    /// Sets a manual clock (no effect on the system clock).
    pub fn set(&self, at: OffsetDateTime) {
        if let Some(m) = &self.manual {
            *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = at;
        }
    }
}
