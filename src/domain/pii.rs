//! The personal-data guard: free text may describe places and patterns, never persons.
//!
//! # What is refused
//!
//! Two kinds of number are refused wherever people type text:
//! - a Swedish personal identity number (personnummer, or samordningsnummer with day + 60):
//!   `YYMMDD-NNNN`, `YYMMDD+NNNN`, `YYYYMMDD-NNNN`, the same with a space instead of the hyphen
//!   (`19121212 1212`), or the same 10 or 12 digits without a separator, whose last digit is the
//!   Luhn check digit of the 10-digit form, whose date part is a possible month and day (day
//!   1–31, or 61–91 for a samordningsnummer) and, in the 12-digit form, whose century is 18, 19
//!   or 20;
//! - a phone number: `0` followed by 7–9 more digits (`070-123 45 67`, `08-123 456 78`), the same
//!   after `+46` / `0046` (with or without the trunk `0`, also as `+46(0)70…`), or any other
//!   country's number written with `+` and 8–15 digits.
//!
//! # Spelling does not matter
//!
//! The text is normalised before it is matched, so that what a reader sees is what is judged:
//! - Unicode NFKC (full-width `０７０`, superscript and mathematical digits become `070`), and the
//!   decimal digits of other scripts (Arabic-Indic, Devanagari, …) become ASCII digits;
//! - every dash-like character (`‐ ‑ ‒ – — ― − ﹣ －` and the rest of Unicode's dash punctuation)
//!   becomes `-`; every space-like character (no-break, thin, narrow no-break, ideographic, line
//!   breaks) becomes a space;
//! - invisible characters (zero-width space and joiners, soft hyphen, bidirectional marks,
//!   variation selectors) and combining marks are dropped, so `070\u{200B}1234567` is read as
//!   the `0701234567` it displays as.
//!
//! Digits then form groups, and groups join into one number across a separator of at most four
//! characters made of spaces, at most one of `-` `/` `.` `+`, and brackets `( ) [ ]` — so
//! `(070) 123 45 67`, `070/123 45 67`, `070.123.45.67`, `070 - 123 45 67` and
//! `+46 (0)70-123 45 67` are all one number. A phone number may be any consecutive groups of such
//! a run, so a count or house number beside it (`Hus 12 070 123 45 67`, `… 45 67 2 gånger`) does
//! not hide it. A personal number is one group of 10 or 12 digits, or a group of 6 or 8 digits and
//! one of 4 joined by `-`, `+` or spaces (not `/` or `.`, which nobody writes in one).
//!
//! # What is let through, and why
//!
//! - **Digits glued to letters** (`K123456`, `5000-K123456-26`, `Hus 12B`, `E4`, `2026-W48`) are
//!   references and labels, not numbers of either kind.
//! - **Dates and times** are recognised first and never form part of a phone number:
//!   `DD MM YYYY` with any of space, `-`, `/`, `.` between the parts (`01 07 2024`, `01.07.2024`,
//!   `1/7-2024`), `YYYY-MM-DD`, `DD.MM.YY` (punctuation only, and exactly three parts, because
//!   `07 12 34 56 78` is a phone number grouped in pairs), a time `HH.MM` (`kl 08.15`), and a
//!   time span `HHMM-HHMM` (`0815-0930`). The fraction after a decimal point (`17.0501`) never
//!   starts a number. Without this, `01 07 2024` would read as the phone number `010-720 24`.
//! - **Numbers that can only belong to an organisation** are not personal data. In the Swedish
//!   numbering plan (PTS) these are never assigned to a private subscriber: freephone `020-` and
//!   `0200-`, the shared-cost national numbers `0771-` (Skatteverket, Försäkringskassan, …), and
//!   the premium-rate services `0900-`, `0939-` and `0944-` — also when written `+46 771 …`.
//!   Short numbers (`112`, `114 14` the police, `113 13`, `1177`, `116 111`, `118 118`) do not
//!   start with `0`, so they never looked like a phone number. Everything else starting with `0`
//!   is refused: mobile numbers (`07x`) always, and also `010`, `075` and geographic numbers,
//!   which private persons can hold.
//! - **Organisation numbers** (`556036-0793`) have a "month" of 20 or more, so they are never a
//!   possible date; amounts (`1 500 kr`), coordinates (`59.2412, 17.8453`), weeks, counts and
//!   house numbers do not start with `0` or are too short.
//!
//! A timestamp written `YYYYMMDD-HHMM` (a bare hyphen, `HHMM` a time of day) whose date lies
//! within three years before today is read as a date and a time, and let through — also in the
//! one case of ten where its last digit happens to be the check digit and it *is* the personal
//! number of a child born that day (`20240512-2215`): event logs and exports write times so,
//! and a security picture does not describe toddlers. An older date, a space or `+` between the
//! parts, or the 10-digit form stays a personal number (any dash reads as `-`). A stored row is
//! read back with any such stamp accepted, so what was accepted once always loads again.
//! (`2024-05-12 22:15` is the unambiguous spelling.)
//!
//! Known limits: the guard catches numbers written by mistake or out of habit, not a writer
//! set on smuggling one (`noll sju noll …`). A number glued to a letter (`tel0701234567`) passes
//! like any reference; a personal number with its date split up (`12 12 12-1212`) is not
//! recognised. The other way round, codes with only spaces between them (`Rum 0123 0124`) and
//! amounts of a billion or more (`1 050 000 000 kr`) read as phone numbers — refusing is the
//! safe side of that error, and a comma fixes the text.
//!
//! The examples that must and must not be refused are kept in `pii_corpus.txt`, checked by a
//! unit test below. The guard is linear in the text length: each group starts at most a bounded
//! number of candidate numbers (a number has at most 15 digits).

use unicode_normalization::UnicodeNormalization;

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
                "contains what looks like a Swedish personal identity number; the picture is about places and patterns, never persons: remove it (a date and time is written 2024-05-12 22:15: YYYYMMDD-HHMM more than three years back cannot be told from one)"
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
    find_personal_data_on(text, crate::domain::time::now_utc().date())
}

/// How far back a `YYYYMMDD-HHMM` stamp reads as a date and time rather than a personal number.
pub const RECENT_STAMP_DAYS: i64 = 3 * 366;

/// [`find_personal_data`] as of `today` (which decides what a recent timestamp is).
#[must_use]
pub fn find_personal_data_on(text: &str, today: time::Date) -> Option<PersonalData> {
    find(text, Some(today))
}

/// [`find_personal_data`] for a stored row read back: a timestamp was recent when the row was
/// accepted, so any `YYYYMMDD-HHMM` stamp counts as one (the row must read again years later).
#[must_use]
pub fn find_personal_data_in_stored(text: &str) -> Option<PersonalData> {
    find(text, None)
}

/// The fewest digits either kind of number has (a phone number: `0` and 7 more; `+` and 8).
const MIN_DIGITS: usize = 8;

/// Whether `text` may hold [`MIN_DIGITS`] digits once normalised: ASCII digits count one each;
/// ASCII's other characters and the Latin-1 letters (`å ä ö é ü …`, which NFKC leaves as
/// they are) none; every other character is counted as 4, more than the 3 digits NFKC makes of
/// any one character (`⅒` → `1⁄10`). Most free text has no number in it, and skips the
/// normalisation (start-up reads every stored text through this guard).
fn may_hold_a_number(text: &str) -> bool {
    let mut digits = 0;
    for c in text.chars() {
        digits += match c {
            '0'..='9' => 1,
            c if c.is_ascii() => 0,
            '\u{C0}'..='\u{FF}' if c != '\u{D7}' && c != '\u{F7}' => 0,
            _ => 4,
        };
        if digits >= MIN_DIGITS {
            return true;
        }
    }
    false
}

/// `today` decides what a recent stamp is; `None`: any stamp.
fn find(text: &str, today: Option<time::Date>) -> Option<PersonalData> {
    if !may_hold_a_number(text) {
        return None;
    }
    scan(text, today)
}

/// [`find`] without the shortcut.
fn scan(text: &str, today: Option<time::Date>) -> Option<PersonalData> {
    let chars = normalise(text);
    let mut i = 0;
    while i < chars.len() {
        if starts_run(&chars, i) {
            let run = Run::read(&chars, i);
            if run.has_identity_number(today) {
                return Some(PersonalData::IdentityNumber);
            }
            if run.has_phone_number() {
                return Some(PersonalData::PhoneNumber);
            }
            i = run.end.max(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

/// The text as a reader sees it: NFKC, other scripts' digits as ASCII, dashes as `-`, spaces as
/// ` `, invisible characters and combining marks dropped.
fn normalise(text: &str) -> Vec<char> {
    text.nfkc()
        .filter_map(|c| {
            if in_ranges(c, &INVISIBLE) {
                None
            } else if in_ranges(c, &DASHES) {
                Some('-')
            } else if c.is_whitespace() || c == '\u{2800}' {
                Some(' ')
            } else {
                Some(script_digit(c).unwrap_or(c))
            }
        })
        .collect()
}

/// Unicode dash punctuation (general category Pd) and the minus signs, as inclusive ranges.
const DASHES: [(char, char); 22] = [
    ('\u{02D7}', '\u{02D7}'),
    ('\u{058A}', '\u{058A}'),
    ('\u{05BE}', '\u{05BE}'),
    ('\u{1400}', '\u{1400}'),
    ('\u{1806}', '\u{1806}'),
    ('\u{2010}', '\u{2015}'),
    ('\u{2043}', '\u{2043}'),
    ('\u{2212}', '\u{2212}'),
    ('\u{2796}', '\u{2796}'),
    ('\u{2E17}', '\u{2E17}'),
    ('\u{2E1A}', '\u{2E1A}'),
    ('\u{2E3A}', '\u{2E3B}'),
    ('\u{2E40}', '\u{2E40}'),
    ('\u{2E5D}', '\u{2E5D}'),
    ('\u{301C}', '\u{301C}'),
    ('\u{3030}', '\u{3030}'),
    ('\u{30A0}', '\u{30A0}'),
    ('\u{FE31}', '\u{FE32}'),
    ('\u{FE58}', '\u{FE58}'),
    ('\u{FE63}', '\u{FE63}'),
    ('\u{FF0D}', '\u{FF0D}'),
    ('\u{10EAD}', '\u{10EAD}'),
];

/// Characters that show nothing (format characters, fillers) or only mark the one before them
/// (combining marks: a keycap, an accent on a digit), as inclusive ranges.
const INVISIBLE: [(char, char); 21] = [
    ('\u{00AD}', '\u{00AD}'),
    ('\u{0300}', '\u{036F}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{1AB0}', '\u{1AFF}'),
    ('\u{1DC0}', '\u{1DFF}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{20D0}', '\u{20FF}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FE20}', '\u{FE2F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

fn in_ranges(c: char, ranges: &[(char, char)]) -> bool {
    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// The zeros of the decimal digit sets (general category Nd) that NFKC leaves alone.
const DIGIT_ZEROS: [u32; 58] = [
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
    0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50,
    0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0x104A0,
    0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0,
    0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50, 0x1E140,
    0x1E2F0, 0x1E950,
];

/// The ASCII digit a decimal digit of another script stands for.
fn script_digit(c: char) -> Option<char> {
    let code = u32::from(c);
    if code < 0x660 {
        return None;
    }
    DIGIT_ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&code))
        .and_then(|zero| char::from_digit(code - zero, 10))
}

/// A digit (or a `+` before one) that is not glued to a letter or digit before it.
fn starts_run(chars: &[char], i: usize) -> bool {
    let opens = chars[i].is_ascii_digit()
        || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit));
    opens && (i == 0 || !chars[i - 1].is_alphanumeric())
}

/// What joins two digit groups: spaces, at most one of `-` `/` `.` `+`, brackets.
#[derive(Debug, Clone, Copy)]
struct Sep {
    punct: Option<char>,
    spaced: bool,
    bracket: bool,
}

impl Sep {
    /// The separator at `i` and where the next group starts, if one follows.
    fn read(chars: &[char], i: usize) -> Option<(Sep, usize)> {
        let mut sep = Sep {
            punct: None,
            spaced: false,
            bracket: false,
        };
        let mut j = i;
        while j < chars.len() && j - i < 4 {
            match chars[j] {
                ' ' => sep.spaced = true,
                '(' | ')' | '[' | ']' => sep.bracket = true,
                c @ ('-' | '/' | '.' | '+') if sep.punct.is_none() => sep.punct = Some(c),
                _ => break,
            }
            j += 1;
        }
        (j > i && chars.get(j).is_some_and(char::is_ascii_digit)).then_some((sep, j))
    }

    /// Exactly `c`, with no spaces or brackets around it.
    fn is_bare(self, c: char) -> bool {
        self.punct == Some(c) && !self.spaced && !self.bracket
    }

    /// Between the date and the serial number of a personal number: `-`, `+` or spaces.
    fn joins_identity(self) -> bool {
        !self.bracket && matches!(self.punct, None | Some('-' | '+'))
    }

    /// Between the parts of a date: spaces, `-`, `/` or `.`.
    fn joins_date(self) -> bool {
        !self.bracket && self.punct != Some('+')
    }
}

/// One group of digits and the separator before it (none for the first).
#[derive(Debug)]
struct Group {
    digits: String,
    sep: Option<Sep>,
}

impl Group {
    fn len(&self) -> usize {
        self.digits.len()
    }

    fn value(&self) -> u32 {
        self.digits.parse().unwrap_or(u32::MAX)
    }

    fn joined_by(&self, test: impl Fn(Sep) -> bool) -> bool {
        self.sep.is_some_and(test)
    }

    /// The `-` `/` `.` `+` in the separator before this group, if any.
    fn punct(&self) -> Option<char> {
        self.sep.and_then(|s| s.punct)
    }
}

/// Digit groups joined by separators, optionally after a leading `+`.
#[derive(Debug)]
struct Run {
    plus: bool,
    groups: Vec<Group>,
    end: usize,
}

impl Run {
    /// The run starting at `start` (see [`starts_run`]). A last group glued to a letter (`12B`)
    /// is a label, not part of the run.
    fn read(chars: &[char], start: usize) -> Run {
        let plus = chars[start] == '+';
        let mut i = if plus { start + 1 } else { start };
        let mut groups = Vec::new();
        let mut sep = None;
        loop {
            let begin = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            groups.push(Group {
                digits: chars[begin..i].iter().collect(),
                sep,
            });
            match Sep::read(chars, i) {
                Some((s, next)) => {
                    sep = Some(s);
                    i = next;
                }
                None => break,
            }
        }
        if chars.get(i).is_some_and(|c| c.is_alphanumeric()) {
            groups.pop();
        }
        Run {
            plus,
            groups,
            end: i,
        }
    }

    /// A group of 10/12 digits, or of 6/8 digits joined to one of 4, that is a valid number.
    fn has_identity_number(&self, today: Option<time::Date>) -> bool {
        self.groups.iter().enumerate().any(|(k, g)| match g.len() {
            10 | 12 => valid_identity_digits(&g.digits),
            6 | 8 => self.groups.get(k + 1).is_some_and(|serial| {
                serial.len() == 4
                    && serial.joined_by(Sep::joins_identity)
                    && !(g.len() == 8 && recent_stamp(&g.digits, serial, today))
                    && valid_identity_digits(&format!("{}{}", g.digits, serial.digits))
            }),
            _ => false,
        })
    }

    /// Consecutive groups, not crossing a date or time, that spell a phone number.
    fn has_phone_number(&self) -> bool {
        let (taken, no_start) = self.dates_and_times();
        for k in 0..self.groups.len() {
            let international = k == 0 && self.plus;
            if taken[k] || no_start[k] || !(international || self.groups[k].digits.starts_with('0'))
            {
                continue;
            }
            let mut digits = String::new();
            for (g, group) in self.groups.iter().enumerate().skip(k) {
                if taken[g] {
                    break;
                }
                digits.push_str(&group.digits);
                if digits.len() > 15 {
                    break;
                }
                if phone_digits(&digits, international) {
                    return true;
                }
            }
        }
        false
    }

    /// Which groups are part of a date or a time (and so of no phone number), and which are the
    /// fraction of a decimal number (and so start none).
    fn dates_and_times(&self) -> (Vec<bool>, Vec<bool>) {
        let g = &self.groups;
        let n = g.len();
        let mut taken = vec![false; n];
        let mut no_start = vec![false; n];
        let bare_dot = |k: usize| g.get(k).is_some_and(|x| x.joined_by(|s| s.is_bare('.')));
        for k in 0..n {
            if k + 2 < n
                && g[k + 1].joined_by(Sep::joins_date)
                && g[k + 2].joined_by(Sep::joins_date)
            {
                let (a, b, c) = (&g[k], &g[k + 1], &g[k + 2]);
                // DD.MM.YY only with punctuation and as the whole chain: `07 12 34 56 78` and
                // `07.12.34.56.78` are phone numbers grouped in pairs.
                let (s1, s2) = (b.punct(), c.punct());
                let short_year = c.len() == 2
                    && s1.is_some()
                    && s2.is_some()
                    && (k == 0 || a.punct() != s1)
                    && g.get(k + 3).is_none_or(|d| d.punct() != s2);
                let dmy = a.len() <= 2
                    && b.len() <= 2
                    && day(a.value())
                    && month(b.value())
                    && ((c.len() == 4 && year(c.value())) || short_year);
                let ymd = a.len() == 4
                    && year(a.value())
                    && b.len() <= 2
                    && month(b.value())
                    && c.len() <= 2
                    && day(c.value());
                if dmy || ymd {
                    taken[k..=k + 2].fill(true);
                }
            }
            if k + 1 < n {
                let (a, b) = (&g[k], &g[k + 1]);
                let pair_of_dots = bare_dot(k + 1) && !bare_dot(k) && !bare_dot(k + 2);
                if pair_of_dots
                    && a.len() <= 2
                    && b.len() == 2
                    && a.value() <= 24
                    && b.value() <= 59
                {
                    taken[k..=k + 1].fill(true); // kl 08.15
                } else if pair_of_dots && (a.digits == "0" || !a.digits.starts_with('0')) {
                    no_start[k + 1] = true; // 17.0501
                }
                let span = a.len() == 4
                    && b.len() == 4
                    && b.joined_by(|s| s.punct == Some('-') && !s.bracket)
                    && hhmm(a.value())
                    && hhmm(b.value());
                if span {
                    taken[k..=k + 1].fill(true); // 0815-0930
                }
            }
        }
        (taken, no_start)
    }
}

fn day(v: u32) -> bool {
    (1..=31).contains(&v)
}

fn month(v: u32) -> bool {
    (1..=12).contains(&v)
}

fn year(v: u32) -> bool {
    (1900..=2099).contains(&v)
}

fn hhmm(v: u32) -> bool {
    v / 100 <= 24 && v % 100 <= 59
}

/// Whether `digits` (a run's groups from a start, concatenated) is a phone number a person can
/// hold. `international`: the run began with `+`.
fn phone_digits(digits: &str, international: bool) -> bool {
    let trunk = |rest: &str| format!("0{}", rest.strip_prefix('0').unwrap_or(rest));
    let national = if international {
        match digits.strip_prefix("46") {
            Some(rest) => trunk(rest),
            // Another country's number: E.164 allows at most 15 digits.
            None => return (8..=15).contains(&digits.len()) && !digits.starts_with('0'),
        }
    } else if let Some(rest) = digits.strip_prefix("0046") {
        trunk(rest)
    } else {
        digits.to_owned()
    };
    national.starts_with('0')
        && !national.starts_with("00")
        && (8..=10).contains(&national.len())
        && !organisation_number(&national)
}

/// Freephone, shared-cost and premium-rate numbers: only organisations hold them.
fn organisation_number(national: &str) -> bool {
    ["020", "0771", "0900", "0939", "0944"]
        .iter()
        .any(|prefix| national.starts_with(prefix))
}

/// Whether `YYYYMMDD` and a serial joined by a bare `-` read as a recent date and a clock time
/// (`20240512-2215`): a date within [`RECENT_STAMP_DAYS`] before `today` (or up to a day after)
/// and `HHMM` a time of day. Such a stamp is also the personal number of a child born that day
/// in one case of ten (the check digit); children under three are not what a security picture
/// describes, so the date-and-time reading wins there, and only there. With no `today` (a
/// stored row read back) any date counts. Dashes of other kinds were made `-` by
/// [`normalise`], so an en dash reads the same.
fn recent_stamp(date: &str, serial: &Group, today: Option<time::Date>) -> bool {
    if !serial.joined_by(|s| s.is_bare('-')) {
        return false;
    }
    let fmt = time::macros::format_description!("[year][month][day]");
    let Ok(day) = time::Date::parse(date, &fmt) else {
        return false;
    };
    let recent = today.is_none_or(|t| (-1..=RECENT_STAMP_DAYS).contains(&(t - day).whole_days()));
    let clock = serial.value();
    recent && clock / 100 < 24 && clock % 100 < 60
}

/// Whether 10 or 12 digits form a possible date and carry a valid Luhn check digit.
fn valid_identity_digits(d: &str) -> bool {
    let Some(digits) = d
        .chars()
        .map(|c| c.to_digit(10))
        .collect::<Option<Vec<u32>>>()
    else {
        return false;
    };
    let ten = match digits.len() {
        10 => &digits[..],
        12 if (18..=20).contains(&(digits[0] * 10 + digits[1])) => &digits[2..],
        _ => return false,
    };
    let month = ten[2] * 10 + ten[3];
    let day = ten[4] * 10 + ten[5];
    let day_ok = (1..=31).contains(&day) || (61..=91).contains(&day);
    if !(1..=12).contains(&month) || !day_ok {
        return false;
    }
    luhn_check_digit(&ten[..9]) == ten[9]
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Examples that must and must not be refused, one a line (see the file's header).
    const CORPUS: &str = include_str!("pii_corpus.txt");

    /// `\u{XXXX}` in a corpus line stands for that character (invisible ones stay readable).
    fn unescape(line: &str) -> String {
        let mut out = String::new();
        let mut rest = line;
        while let Some(at) = rest.find("\\u{") {
            out.push_str(&rest[..at]);
            let tail = &rest[at + 3..];
            let close = tail.find('}').expect("a closing brace after \\u{");
            let code = u32::from_str_radix(&tail[..close], 16).expect("hex after \\u{");
            out.push(char::from_u32(code).expect("a Unicode scalar value"));
            rest = &tail[close + 1..];
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn a_stamp_accepted_once_reads_again_years_later() {
        let text = "händelse 20240512-2215";
        let then = time::macros::date!(2024 - 06 - 01);
        let later = time::macros::date!(2031 - 06 - 01);
        assert_eq!(find_personal_data_on(text, then), None);
        assert_eq!(
            find_personal_data_on(text, later),
            Some(PersonalData::IdentityNumber),
            "a new text years later is judged anew"
        );
        assert_eq!(
            find_personal_data_in_stored(text),
            None,
            "a stored row loads"
        );
        // Real numbers are refused when stored rows are read back too.
        assert_eq!(
            find_personal_data_in_stored("pojke 121212-1212"),
            Some(PersonalData::IdentityNumber)
        );
    }

    /// The shortcut never lets through what the whole scan refuses: on every line of the
    /// corpus, and on texts made of digits, separators and the characters NFKC turns into
    /// digits (full-width, superscript, circled, fractions, other scripts' digits).
    #[test]
    fn the_shortcut_agrees_with_the_whole_scan() {
        use proptest::prelude::*;
        for line in CORPUS.lines().filter_map(|l| l.split_once(": ")) {
            assert_eq!(find(line.1, None), scan(line.1, None), "{}", line.1);
        }
        let pieces = prop::sample::select(vec![
            "0", "7", "1", "2", "46", "+", "-", " ", "å", "ä", "Ö", "é", "×", "a", "(", ")", "０",
            "７", "¹", "²", "½", "⅒", "①", "⑳", "⒛", "㉑", "٠", "٧", "७", "𝟎", "𝟕", "\u{200B}",
            "\u{0301}", "–", "\u{00A0}",
        ]);
        let mut runner = proptest::test_runner::TestRunner::default();
        runner
            .run(&prop::collection::vec(pieces, 0..16), |parts| {
                let text = parts.concat();
                prop_assert_eq!(find(&text, None), scan(&text, None), "{}", text);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn the_corpus_is_judged_as_written() {
        let mut failures = Vec::new();
        let mut checked = 0;
        for (n, line) in CORPUS.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (label, text) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("line {}: no `label: ` prefix: {line}", n + 1));
            let expected = match label {
                "refuse-id" => Some(PersonalData::IdentityNumber),
                "refuse-phone" => Some(PersonalData::PhoneNumber),
                "allow" => None,
                other => panic!("line {}: unknown label {other:?}", n + 1),
            };
            let text = unescape(text);
            // The corpus is judged as of a fixed day, so recent timestamps stay recent.
            let got = find_personal_data_on(&text, time::macros::date!(2026 - 12 - 02));
            if got != expected {
                failures.push(format!("  line {}: {label}: {text:?} gave {got:?}", n + 1));
            }
            checked += 1;
        }
        assert!(checked >= 40, "the corpus holds only {checked} examples");
        assert!(
            failures.is_empty(),
            "{} of {checked} corpus lines judged wrongly:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

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
            "991212121212", // century 99
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
    fn normalising_reads_what_a_reader_sees() {
        let text: String = normalise("０７０–１２３\u{00A0}45\u{2009}67\u{200B}8 ٠٧ 𝟕")
            .into_iter()
            .collect();
        assert_eq!(text, "070-123 45 678 07 7");
    }

    #[test]
    fn a_long_text_of_numbers_is_judged_quickly() {
        // Linear: 2 000 characters of one-digit groups, each starting a candidate that grows to
        // 16 digits before it is given up, judged in well under the bound even unoptimised.
        let text = "0 ".repeat(1_000);
        let started = std::time::Instant::now();
        assert_eq!(find_personal_data(&text), None);
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
    }

    #[test]
    fn luhn_matches_the_known_example() {
        // 811218-987(6): the check digit of 811218987 is 6.
        assert_eq!(luhn_check_digit(&[8, 1, 1, 2, 1, 8, 9, 8, 7]), 6);
    }
}
