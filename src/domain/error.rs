//! Validation errors that name the field, say what was wrong and what is allowed.

use std::fmt;

/// A value outside a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value '{value}'; allowed: {}", allowed.join(", "))]
pub struct UnknownValue {
    /// What was given.
    pub value: String,
    /// What would have been accepted.
    pub allowed: &'static [&'static str],
}

/// One problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Where the problem is, as a JSON pointer into the submitted document (`/properties/severity`)
    /// or the name of a query parameter (`bbox`).
    pub field: String,
    /// What is wrong, in words a person can act on.
    pub message: String,
}

impl ValidationError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// All problems found in one input; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<ValidationError>);

/// Reads a `T` from JSON, naming the first field serde could not read by its JSON pointer
/// (`/properties/severity`; the empty pointer for the whole document).
///
/// # Errors
/// That field and what is wrong with it.
pub fn read_json<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, ValidationErrors> {
    serde_path_to_error::deserialize(value).map_err(at_pointer)
}

/// Serde's error at the JSON pointer of the field it stopped at.
fn at_pointer(e: serde_path_to_error::Error<serde_json::Error>) -> ValidationErrors {
    let path = e.path().to_string();
    let pointer = if path == "." {
        String::new()
    } else {
        format!("/{}", path.replace('.', "/"))
    };
    ValidationErrors::one(pointer, e.into_inner().to_string())
}

/// [`read_json`] from a borrowed value (the caller keeps it, e.g. to name every problem).
///
/// # Errors
/// As [`read_json`].
pub fn read_json_ref<'de, T: serde::Deserialize<'de>>(
    value: &'de serde_json::Value,
) -> Result<T, ValidationErrors> {
    serde_path_to_error::deserialize(value).map_err(at_pointer)
}

impl ValidationErrors {
    /// A single problem.
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![ValidationError::new(field, message)])
    }

    /// Prefixes every field pointer, e.g. to place property errors under `/properties`.
    #[must_use]
    pub fn under(mut self, prefix: &str) -> Self {
        for e in &mut self.0 {
            e.field = format!("{prefix}{}", e.field);
        }
        self
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl From<ValidationError> for ValidationErrors {
    fn from(e: ValidationError) -> Self {
        Self(vec![e])
    }
}

/// Collects problems while checking several fields, so a person sees all of them at once.
#[derive(Debug, Default)]
pub struct Checks {
    problems: Vec<ValidationError>,
    stored: bool,
}

impl Checks {
    /// Checks of a stored row being read back: rules that depend on the day (a recent
    /// timestamp in text) are judged as they were when the row was written, so a row accepted
    /// once always reads again.
    #[must_use]
    pub fn stored() -> Self {
        Self {
            problems: Vec::new(),
            stored: true,
        }
    }

    /// Whether these are [`Checks::stored`].
    #[must_use]
    pub const fn is_stored(&self) -> bool {
        self.stored
    }

    /// Records a problem with `field` when `ok` is false.
    pub fn require(&mut self, ok: bool, field: &str, message: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(ValidationError::new(field, message()));
        }
    }

    /// Records a problem unconditionally.
    pub fn push(&mut self, e: ValidationError) {
        self.problems.push(e);
    }

    /// `Ok` when nothing was recorded.
    ///
    /// # Errors
    /// Every recorded problem.
    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.problems))
        }
    }
}
