//! The summary of a rejected file: how many rows have each problem ("816 rows: column
//! 'organisation' is missing"), so a file with thousands of rejected rows is fixed by its few
//! causes.

use std::collections::BTreeMap;

use super::RowError;

/// One kind of problem and how many rows have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemCount {
    /// The field and what is wrong, with the row's own values left out (`'…'`).
    pub problem: String,
    /// Rows with it.
    pub rows: usize,
    /// The first row with it.
    pub first: String,
}

/// A message with quoted values replaced by `'…'`, so the same problem groups across rows.
fn generalise(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quote = false;
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if in_quote {
                out.push_str("…'");
                in_quote = false;
            } else {
                // A quote opens a value when it follows a space or starts the text.
                let opens = out.is_empty() || out.ends_with(' ') || out.ends_with('(');
                if opens && chars.peek().is_some() {
                    out.push('\'');
                    in_quote = true;
                } else {
                    out.push(c);
                }
            }
        } else if !in_quote {
            out.push(c);
        }
    }
    out
}

/// The problems of `rejected`, most rows first.
#[must_use]
pub fn summarise(rejected: &[RowError]) -> Vec<ProblemCount> {
    let mut groups: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for r in rejected {
        // A row counts once per kind of problem, however often it has it.
        let mut seen: Vec<String> = Vec::new();
        for e in &r.errors.0 {
            let key = format!("{}: {}", e.field, generalise(&e.message));
            if seen.contains(&key) {
                continue;
            }
            seen.push(key.clone());
            groups.entry(key).or_insert_with(|| (0, r.row.clone())).0 += 1;
        }
    }
    let mut out: Vec<ProblemCount> = groups
        .into_iter()
        .map(|(problem, (rows, first))| ProblemCount {
            problem,
            rows,
            first,
        })
        .collect();
    out.sort_by(|a, b| b.rows.cmp(&a.rows).then_with(|| a.problem.cmp(&b.problem)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ValidationErrors;

    #[test]
    fn the_same_problem_with_different_values_is_one_group() {
        let row = |n: usize, field: &str, msg: &str| RowError {
            row: format!("line {n}"),
            errors: ValidationErrors::one(field, msg),
        };
        let rejected = vec![
            row(
                2,
                "column 'organisation'",
                "is missing; name the reporting organisation",
            ),
            row(
                3,
                "column 'severity'",
                "is '9' (text); it must be a whole number from 1 to 5",
            ),
            row(
                4,
                "column 'organisation'",
                "is missing; name the reporting organisation",
            ),
            row(
                5,
                "column 'severity'",
                "is '0' (text); it must be a whole number from 1 to 5",
            ),
            row(
                6,
                "column 'organisation'",
                "is missing; name the reporting organisation",
            ),
        ];
        let s = summarise(&rejected);
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[0].rows, 3);
        assert_eq!(s[0].first, "line 2");
        assert_eq!(s[1].rows, 2);
        assert_eq!(
            s[1].problem,
            "column 'severity': is '…' (text); it must be a whole number from 1 to 5"
        );
    }
}
