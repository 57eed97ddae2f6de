//! The personal-data guard: free text may describe places and patterns, never persons.
//!
//! Two kinds of number are refused wherever people type text:
//! - a Swedish personal identity number (personnummer, or samordningsnummer with day + 60):
//!   `YYMMDD-NNNN`, `YYMMDD+NNNN`, `YYYYMMDD-NNNN`, or the same 10 or 12 digits without a
//!   separator, whose last digit is the Luhn check digit of the 10-digit form and whose date part
//!   is a possible month and day;
//! - a Swedish phone number: `0` followed by 7–9 more digits (`070-123 45 67`, `08-123 456 78`)
//!   or the same after `+46` / `0046`, digits grouped by single spaces or hyphens.
//!
//! Digits glued to letters (`K123456`) are not numbers of either kind. Dates and times
//! (`2026-11-23 22:15`) do not match: a date is not a plausible phone number (it does not start
//! with 0) and its groups are not the 6/8 + 4 shape of a personal number.

/// What kind of personal data was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalData {
    /// A Swedish personal identity or coordination number.
    IdentityNumber,
    /// A phone number.
    PhoneNumber,
}

impl PersonalData {
    /// Why the text is refused, for the error message.
    #[must_use]
    pub const fn reason(self) -> &'static str {
        match self {
            PersonalData::IdentityNumber => {
                "contains what looks like a Swedish personal identity number; the picture is about places and patterns, never persons: remove it"
            }
            PersonalData::PhoneNumber => {
                "contains what looks like a phone number; the picture holds no personal data: remove it"
            }
        }
    }
}

/// The first kind of personal data found in `text`, if any.
#[must_use]
pub fn find_personal_data(text: &str) -> Option<PersonalData> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_token = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '+');
        if starts_token && (chars[i].is_ascii_digit() || chars[i] == '+') {
            let (groups, end) = digit_groups(&chars, i);
            if identity_number(&groups) {
                return Some(PersonalData::IdentityNumber);
            }
            if phone_number(&groups) {
                return Some(PersonalData::PhoneNumber);
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// A run of digit groups starting at `start`, split by single spaces, hyphens or `+` (the
/// separator is kept before each group after the first). A leading `+` is kept as a group of its
/// own. Returns the groups and where the run ends. A run glued to a letter at its end is empty.
fn digit_groups(chars: &[char], start: usize) -> (Vec<(char, String)>, usize) {
    let mut groups: Vec<(char, String)> = Vec::new();
    let mut i = start;
    let mut sep = ' ';
    if chars[i] == '+' {
        groups.push(('+', String::new()));
        i += 1;
    }
    loop {
        let begin = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i == begin {
            break;
        }
        groups.push((sep, chars[begin..i].iter().collect()));
        if i + 1 < chars.len()
            && matches!(chars[i], ' ' | '-' | '+')
            && chars[i + 1].is_ascii_digit()
        {
            sep = chars[i];
            i += 1;
        } else {
            break;
        }
    }
    if i < chars.len() && chars[i].is_alphabetic() {
        return (Vec::new(), i);
    }
    (groups, i)
}

/// `YYMMDD[-+]NNNN`, `YYYYMMDD[-+]NNNN` or 10/12 digits in one group, anywhere in the run.
fn identity_number(groups: &[(char, String)]) -> bool {
    let digits = |g: &(char, String)| g.1.clone();
    for (k, g) in groups.iter().enumerate() {
        let candidate = match g.1.len() {
            10 | 12 => Some(digits(g)),
            6 | 8 => groups
                .get(k + 1)
                .filter(|n| matches!(n.0, '-' | '+') && n.1.len() == 4)
                .map(|n| format!("{}{}", g.1, n.1)),
            _ => None,
        };
        if candidate.as_deref().is_some_and(valid_identity_digits) {
            return true;
        }
    }
    false
}

/// Whether 10 or 12 digits form a possible date and carry a valid Luhn check digit.
fn valid_identity_digits(d: &str) -> bool {
    let ten = if d.len() == 12 { &d[2..] } else { d };
    let Ok(digits) = ten
        .chars()
        .map(|c| c.to_digit(10).ok_or(()))
        .collect::<Result<Vec<u32>, ()>>()
    else {
        return false;
    };
    if digits.len() != 10 {
        return false;
    }
    let month = digits[2] * 10 + digits[3];
    let day = digits[4] * 10 + digits[5];
    let day_ok = (1..=31).contains(&day) || (61..=91).contains(&day);
    if !(1..=12).contains(&month) || !day_ok {
        return false;
    }
    luhn_check_digit(&digits[..9]) == digits[9]
}

/// The Luhn check digit of nine digits (weights 2,1,2,1,…).
fn luhn_check_digit(digits: &[u32]) -> u32 {
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let p = if i % 2 == 0 { d * 2 } else { *d };
            p / 10 + p % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

/// `0` + 7–9 digits, or `+46` / `0046` + 7–9 digits, the whole run being the number.
fn phone_number(groups: &[(char, String)]) -> bool {
    let mut all: String = groups.iter().map(|g| g.1.as_str()).collect();
    let international = groups.first().is_some_and(|g| g.0 == '+');
    if international {
        let Some(rest) = all.strip_prefix("46") else {
            return false;
        };
        all = format!("0{}", rest.strip_prefix('0').unwrap_or(rest));
    } else if let Some(rest) = all.strip_prefix("0046") {
        all = format!("0{rest}");
    }
    all.starts_with('0') && !all.starts_with("00") && (8..=10).contains(&all.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_identity_numbers_with_a_valid_check_digit() {
        for t in [
            "Pojke 121212-1212 sågs",
            "19121212-1212",
            "191212121212",
            "1212121212",
            "nr 811218-9876.",
            "hundraåring 121212+1212",
            "samordningsnummer 701063-2391",
        ] {
            assert_eq!(
                find_personal_data(t),
                Some(PersonalData::IdentityNumber),
                "{t}"
            );
        }
    }

    #[test]
    fn ignores_identity_shapes_with_a_wrong_check_digit_or_date() {
        for t in [
            "121212-1213",
            "19121212-1214",
            "811218-9875",
            "991332-1234", // month 13
            "K121212-1212",
            "ärende 5000-K123456-26",
        ] {
            assert_eq!(find_personal_data(t), None, "{t}");
        }
    }

    #[test]
    fn finds_phone_numbers() {
        for t in [
            "ring 070-123 45 67",
            "0701234567",
            "08-123 456 78",
            "+46 70 123 45 67",
            "+46701234567",
            "0046 8 123 456 78",
            "tel 031-12 34 56",
        ] {
            assert_eq!(
                find_personal_data(t),
                Some(PersonalData::PhoneNumber),
                "{t}"
            );
        }
    }

    #[test]
    fn leaves_dates_times_counts_and_references_alone() {
        for t in [
            "Bilbrand 2026-11-23 22:15 vid Alby centrum",
            "3 bilar, 12 personer, kl 22-23",
            "LST 2024-1234",
            "Hus 17, port 2",
            "2026-11-23",
            "severity 5 of 5",
            "",
        ] {
            assert_eq!(find_personal_data(t), None, "{t}");
        }
    }

    #[test]
    fn luhn_matches_the_known_example() {
        // 811218-987(6): the check digit of 811218987 is 6.
        assert_eq!(luhn_check_digit(&[8, 1, 1, 2, 1, 8, 9, 8, 7]), 6);
    }
}
