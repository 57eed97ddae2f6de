//! Rules for free text and short labels.

use super::error::Checks;
use super::pii::find_personal_data;

/// Longest free-text description or report, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest short label (names, references, organisations), in characters.
pub const MAX_LABEL_CHARS: usize = 200;

/// Checks a short label: not blank, no control characters, at most [`MAX_LABEL_CHARS`].
pub fn check_label(checks: &mut Checks, field: &str, value: &str) {
    checks.require(!value.trim().is_empty(), field, || {
        "must not be empty".into()
    });
    check_len(checks, field, value, MAX_LABEL_CHARS);
    checks.require(!value.chars().any(char::is_control), field, || {
        "must not contain control characters (line breaks, tabs)".into()
    });
    check_personal_data(checks, field, value);
}

/// Checks free text: at most [`MAX_TEXT_CHARS`], no control characters except line breaks and tabs.
pub fn check_text(checks: &mut Checks, field: &str, value: &str) {
    check_len(checks, field, value, MAX_TEXT_CHARS);
    checks.require(
        !value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
        field,
        || "must not contain control characters other than line breaks and tabs".into(),
    );
    check_personal_data(checks, field, value);
}

/// Refuses personal identity numbers and phone numbers (see [`super::pii`]).
pub fn check_personal_data(checks: &mut Checks, field: &str, value: &str) {
    let found = if checks.is_stored() {
        super::pii::find_personal_data_in_stored(value)
    } else {
        find_personal_data(value)
    };
    if let Some(found) = found {
        checks.require(false, field, || found.reason().into());
    }
}

fn check_len(checks: &mut Checks, field: &str, value: &str, max: usize) {
    let n = value.chars().count();
    checks.require(n <= max, field, || {
        format!("is {n} characters long; at most {max} are allowed")
    });
}

/// `s` made safe to print on a terminal or in a log line: control characters (including ESC,
/// so no terminal escape sequence survives) and Unicode bidirectional overrides become `\u{…}`
/// escapes, and at most `max_chars` characters are kept, escapes counted as written (then `…`).
#[must_use]
pub fn printable(s: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 2));
    let mut written = 0;
    for c in s.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        let escaped = c.is_control() || bidi;
        let width = if escaped {
            c.escape_unicode().count()
        } else {
            1
        };
        if written + width > max_chars {
            out.push('…');
            break;
        }
        if escaped {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
        written += width;
    }
    out
}

/// No control characters (Unicode Cc) anywhere, as a JSON Schema (ECMA-262) pattern.
const NO_CONTROLS: &str = "\\u0000-\\u001f\\u007f-\\u009f";

fn string_schema(
    description: &str,
    max: usize,
    pattern: String,
    min: Option<usize>,
) -> utoipa::openapi::schema::ObjectBuilder {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some(description))
        .min_length(min)
        .max_length(Some(max))
        .pattern(Some(pattern))
}

/// The JSON Schema of a short label (what [`check_label`] accepts, less the personal-data guard,
/// which no schema can express).
#[must_use]
pub fn label_schema() -> utoipa::openapi::schema::Object {
    string_schema(
        "A short label: 1–200 characters, not blank, no control characters, no personal data",
        MAX_LABEL_CHARS,
        format!("^[^{NO_CONTROLS}]*[^\\s{NO_CONTROLS}][^{NO_CONTROLS}]*$"),
        Some(1),
    )
    .build()
}

/// [`label_schema`], or `null` when absent.
#[must_use]
pub fn optional_label_schema() -> utoipa::openapi::schema::Object {
    let mut s = label_schema();
    s.schema_type = utoipa::openapi::schema::SchemaType::from_iter([
        utoipa::openapi::schema::Type::String,
        utoipa::openapi::schema::Type::Null,
    ]);
    s
}

/// The JSON Schema of free text (what [`check_text`] accepts, less the personal-data guard).
#[must_use]
pub fn text_schema() -> utoipa::openapi::schema::Object {
    string_schema(
        "Free text: at most 2000 characters, no control characters but line breaks and tabs; places and patterns, never persons",
        MAX_TEXT_CHARS,
        "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$".to_owned(),
        None,
    )
    .default(Some(serde_json::Value::String(String::new())))
    .build()
}

#[cfg(test)]
mod printable_tests {
    use super::printable;

    #[test]
    fn escapes_terminal_control_and_caps_length() {
        assert_eq!(printable("anna", 64), "anna");
        assert_eq!(printable("x\u{1b}[2Jy", 64), "x\\u{1b}[2Jy");
        assert_eq!(printable("a\nb\r", 64), "a\\u{a}b\\u{d}");
        assert_eq!(printable("\u{202e}evil", 64), "\\u{202e}evil");
        assert_eq!(printable("abcdef", 3), "abc…");
        assert!(!printable(&"\u{7}".repeat(10), 100).contains('\u{7}'));
    }
}
