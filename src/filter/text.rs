//! The CQL2 text encoding (`filter-lang=cql2-text`): a tokenizer and a recursive-descent parser
//! with the standard's precedence (`OR` < `AND` < `NOT` < predicates).

use geozero::ToGeo;

use super::{Case, CmpOp, Expr, Operand, SpatialOp, TemporalOp};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An unquoted word: a keyword or a property name.
    Word(String),
    /// A `"double-quoted"` property name.
    Quoted(String),
    /// A `'single-quoted'` string.
    Str(String),
    Num(f64),
    Cmp(CmpOp),
    Open,
    Close,
    Comma,
}

/// A token and the character position (from 1) where it starts.
#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    at: usize,
    /// Its byte offset in the source (for geometry literals, read whole).
    byte: usize,
}

fn describe(t: Option<&Token>) -> String {
    match t.map(|t| &t.tok) {
        None => "the end of the filter".into(),
        Some(Tok::Word(w)) => format!("'{w}'"),
        Some(Tok::Quoted(w)) => format!("\"{w}\""),
        Some(Tok::Str(s)) => format!("the string '{s}'"),
        Some(Tok::Num(n)) => format!("the number {n}"),
        Some(Tok::Cmp(_)) => "a comparison".into(),
        Some(Tok::Open) => "'('".into(),
        Some(Tok::Close) => "')'".into(),
        Some(Tok::Comma) => "','".into(),
    }
}

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (byte, c) = chars[i];
        let at = i + 1;
        let push = |out: &mut Vec<Token>, tok| out.push(Token { tok, at, byte });
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                push(&mut out, Tok::Open);
                i += 1;
            }
            ')' => {
                push(&mut out, Tok::Close);
                i += 1;
            }
            ',' => {
                push(&mut out, Tok::Comma);
                i += 1;
            }
            '=' => {
                push(&mut out, Tok::Cmp(CmpOp::Eq));
                i += 1;
            }
            '<' | '>' => {
                let next = chars.get(i + 1).map(|&(_, c)| c);
                let (op, len) = match (c, next) {
                    ('<', Some('>')) => (CmpOp::Ne, 2),
                    ('<', Some('=')) => (CmpOp::Le, 2),
                    ('>', Some('=')) => (CmpOp::Ge, 2),
                    ('<', _) => (CmpOp::Lt, 1),
                    _ => (CmpOp::Gt, 1),
                };
                push(&mut out, Tok::Cmp(op));
                i += len;
            }
            '\'' | '"' => {
                let quote = c;
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(format!(
                                "at character {at}: the quoted text is not closed with {quote}"
                            ));
                        }
                        Some(&(_, q)) if q == quote => {
                            // A doubled quote stands for itself.
                            if chars.get(j + 1).is_some_and(|&(_, n)| n == quote) {
                                text.push(quote);
                                j += 2;
                            } else {
                                j += 1;
                                break;
                            }
                        }
                        Some(&(_, ch)) => {
                            text.push(ch);
                            j += 1;
                        }
                    }
                }
                push(
                    &mut out,
                    if quote == '\'' {
                        Tok::Str(text)
                    } else {
                        Tok::Quoted(text)
                    },
                );
                i = j;
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+' || c == '.')
                    && chars.get(i + 1).is_some_and(|&(_, n)| n.is_ascii_digit())) =>
            {
                let mut j = i + 1;
                while let Some(&(_, n)) = chars.get(j) {
                    let exponent_sign =
                        (n == '-' || n == '+') && matches!(chars.get(j - 1), Some(&(_, 'e' | 'E')));
                    if n.is_ascii_digit() || n == '.' || n == 'e' || n == 'E' || exponent_sign {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let end = chars.get(j).map_or(s.len(), |&(b, _)| b);
                let text = &s[byte..end];
                let n: f64 = text
                    .parse()
                    .map_err(|_| format!("at character {at}: '{text}' is not a number"))?;
                push(&mut out, Tok::Num(n));
                i = j;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while chars
                    .get(j)
                    .is_some_and(|&(_, n)| n.is_alphanumeric() || n == '_' || n == '.' || n == ':')
                {
                    j += 1;
                }
                let end = chars.get(j).map_or(s.len(), |&(b, _)| b);
                push(&mut out, Tok::Word(s[byte..end].to_owned()));
                i = j;
            }
            other => {
                return Err(format!(
                    "at character {at}: '{other}' has no meaning in CQL2 text"
                ));
            }
        }
    }
    Ok(out)
}

/// Words that cannot name a property.
const RESERVED: &[&str] = &[
    "AND", "OR", "NOT", "LIKE", "ILIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE",
];

const GEOMETRY_WORDS: &[&str] = &[
    "POINT",
    "LINESTRING",
    "POLYGON",
    "MULTIPOINT",
    "MULTILINESTRING",
    "MULTIPOLYGON",
    "GEOMETRYCOLLECTION",
];

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    /// How deep the parser is in parentheses and NOTs (each a recursion).
    depth: usize,
}

/// The deepest a filter may nest parentheses and NOTs: enough for any real filter, and far from
/// the stack's end however a request is written.
pub(super) const MAX_DEPTH: usize = 32;

/// Reads a CQL2 text filter.
pub(super) fn parse(s: &str) -> Result<Expr, String> {
    let toks = tokenize(s)?;
    if toks.is_empty() {
        return Err("is empty; write a condition such as category = 'shooting'".into());
    }
    let mut p = Parser {
        src: s,
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    if p.pos < p.toks.len() {
        return Err(p.unexpected("AND, OR or the end of the filter"));
    }
    Ok(e)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.peek().map(|t| &t.tok), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let hit = self.peek_word(word);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn unexpected(&self, wanted: &str) -> String {
        let at = self
            .peek()
            .map_or_else(|| self.src.chars().count() + 1, |t| t.at);
        format!(
            "at character {at}: expected {wanted}, found {}",
            describe(self.peek())
        )
    }

    fn expect(&mut self, tok: &Tok, wanted: &str) -> Result<(), String> {
        if self.peek().map(|t| &t.tok) == Some(tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(wanted))
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.and()?];
        while self.eat_word("OR") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.not()?];
        while self.eat_word("AND") {
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "at character {}: the filter nests parentheses and NOTs deeper than {MAX_DEPTH} levels",
                self.peek().map_or(self.src.chars().count(), |t| t.at)
            ));
        }
        Ok(())
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.eat_word("NOT") {
            self.deeper()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, String> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.unexpected("a condition"));
        };
        match &t.tok {
            Tok::Open => {
                self.pos += 1;
                self.deeper()?;
                let e = self.or()?;
                self.depth -= 1;
                self.expect(&Tok::Close, "')'")?;
                return Ok(e);
            }
            // A literal alone is a condition; followed by a comparison it is an operand.
            Tok::Word(w)
                if (w.eq_ignore_ascii_case("TRUE") || w.eq_ignore_ascii_case("FALSE"))
                    && !matches!(
                        self.toks.get(self.pos + 1).map(|t| &t.tok),
                        Some(Tok::Cmp(_))
                    ) =>
            {
                self.pos += 1;
                return Ok(Expr::Literal(w.eq_ignore_ascii_case("TRUE")));
            }
            Tok::Word(w) => {
                let upper = w.to_ascii_uppercase();
                if let Some(op) = spatial_op(&upper) {
                    self.pos += 1;
                    let (a, b) = self.two_args(&upper)?;
                    return Ok(Expr::Spatial(op, a, b));
                }
                if let Some(op) = temporal_op(&upper) {
                    self.pos += 1;
                    let (a, b) = self.two_args(&upper)?;
                    return Ok(Expr::Temporal(op, a, b));
                }
                if upper.starts_with("S_") || upper.starts_with("T_") || upper.starts_with("A_") {
                    return Err(format!(
                        "at character {}: {w} is not supported; the spatial functions are S_INTERSECTS, S_DISJOINT, S_WITHIN, S_CONTAINS, S_EQUALS and the temporal ones T_INTERSECTS, T_DISJOINT, T_BEFORE, T_AFTER, T_EQUALS, T_DURING, T_CONTAINS",
                        t.at
                    ));
                }
            }
            _ => {}
        }
        let left = self.operand()?;
        let negated = self.eat_word("NOT");
        let e = if let Some(Tok::Cmp(op)) = self.peek().map(|t| t.tok.clone()) {
            if negated {
                return Err(self.unexpected("LIKE, BETWEEN or IN after NOT"));
            }
            self.pos += 1;
            Expr::Compare(op, left, self.operand()?)
        } else if self.eat_word("LIKE") {
            Expr::Like(left, self.operand()?, Case::Sensitive)
        } else if self.eat_word("ILIKE") {
            Expr::Like(left, self.operand()?, Case::Insensitive)
        } else if self.eat_word("BETWEEN") {
            let low = self.operand()?;
            if !self.eat_word("AND") {
                return Err(self.unexpected("AND (BETWEEN low AND high)"));
            }
            Expr::Between(left, low, self.operand()?)
        } else if self.eat_word("IN") {
            self.expect(&Tok::Open, "'(' and a list of values")?;
            let mut list = vec![self.operand()?];
            while self.peek().map(|t| &t.tok) == Some(&Tok::Comma) {
                self.pos += 1;
                list.push(self.operand()?);
            }
            self.expect(&Tok::Close, "',' or ')'")?;
            Expr::In(left, list)
        } else if !negated && self.eat_word("IS") {
            let not = self.eat_word("NOT");
            if !self.eat_word("NULL") {
                return Err(self.unexpected("NULL"));
            }
            let e = Expr::IsNull(left);
            return Ok(if not { Expr::Not(Box::new(e)) } else { e });
        } else if negated {
            return Err(self.unexpected("LIKE, BETWEEN or IN after NOT"));
        } else {
            return Err(self
                .unexpected("a comparison (= <> < > <= >=), LIKE, ILIKE, BETWEEN, IN or IS NULL"));
        };
        Ok(if negated { Expr::Not(Box::new(e)) } else { e })
    }

    fn two_args(&mut self, name: &str) -> Result<(Operand, Operand), String> {
        self.expect(&Tok::Open, &format!("'(' after {name}"))?;
        let a = self.operand()?;
        self.expect(&Tok::Comma, &format!("',' between {name}'s two arguments"))?;
        let b = self.operand()?;
        self.expect(&Tok::Close, &format!("')' after {name}'s two arguments"))?;
        Ok((a, b))
    }

    fn string_arg(&mut self, name: &str) -> Result<(String, usize), String> {
        self.expect(&Tok::Open, &format!("'(' after {name}"))?;
        let Some(Token {
            tok: Tok::Str(s),
            at,
            ..
        }) = self.peek().cloned()
        else {
            return Err(self.unexpected(&format!("a quoted value in {name}('…')")));
        };
        self.pos += 1;
        self.expect(&Tok::Close, &format!("')' after {name}'s value"))?;
        Ok((s, at))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.unexpected("a property, a value or a geometry"));
        };
        match t.tok {
            Tok::Str(s) => {
                self.pos += 1;
                Ok(Operand::Text(s))
            }
            Tok::Num(n) => {
                self.pos += 1;
                Ok(Operand::Number(n))
            }
            Tok::Quoted(name) => {
                self.pos += 1;
                Ok(Operand::Property(name))
            }
            Tok::Word(w) => {
                let upper = w.to_ascii_uppercase();
                match upper.as_str() {
                    "TRUE" | "FALSE" => {
                        self.pos += 1;
                        Ok(Operand::Bool(upper == "TRUE"))
                    }
                    "TIMESTAMP" => {
                        self.pos += 1;
                        let (s, at) = self.string_arg("TIMESTAMP")?;
                        super::instant(&s)
                            .map(Operand::Timestamp)
                            .map_err(|e| format!("at character {at}: {e}"))
                    }
                    "DATE" => {
                        self.pos += 1;
                        let (s, at) = self.string_arg("DATE")?;
                        super::day(&s)
                            .map(|(a, b)| Operand::Date(a, b))
                            .map_err(|e| format!("at character {at}: {e}"))
                    }
                    "INTERVAL" => {
                        self.pos += 1;
                        self.expect(&Tok::Open, "'(' after INTERVAL")?;
                        let a = self.interval_end()?;
                        self.expect(&Tok::Comma, "',' between the interval's start and end")?;
                        let b = self.interval_end()?;
                        self.expect(&Tok::Close, "')' after the interval's end")?;
                        Ok(Operand::Interval(a.map(Box::new), b.map(Box::new)))
                    }
                    "BBOX" => {
                        self.pos += 1;
                        self.bbox()
                    }
                    g if GEOMETRY_WORDS.contains(&g) => self.wkt(),
                    r if RESERVED.contains(&r) => {
                        Err(self.unexpected("a property, a value or a geometry"))
                    }
                    _ => {
                        self.pos += 1;
                        if self.peek().map(|t| &t.tok) == Some(&Tok::Open) {
                            return Err(format!(
                                "at character {}: {w}(…) is not a function this server knows",
                                t.at
                            ));
                        }
                        Ok(Operand::Property(w))
                    }
                }
            }
            _ => Err(self.unexpected("a property, a value or a geometry")),
        }
    }

    /// One end of `INTERVAL(…)`: a quoted instant or date, `'..'` (open), or a property.
    fn interval_end(&mut self) -> Result<Option<Operand>, String> {
        match self.peek().cloned() {
            Some(Token {
                tok: Tok::Str(s),
                at,
                ..
            }) => {
                self.pos += 1;
                if s == ".." {
                    return Ok(None);
                }
                let v = if s.len() == 10 {
                    super::day(&s).map(|(a, b)| Operand::Date(a, b))
                } else {
                    super::instant(&s).map(Operand::Timestamp)
                };
                v.map(Some).map_err(|e| format!("at character {at}: {e}"))
            }
            _ => self.operand().map(Some),
        }
    }

    fn bbox(&mut self) -> Result<Operand, String> {
        self.expect(&Tok::Open, "'(' after BBOX")?;
        let mut n = Vec::new();
        loop {
            match self.peek().map(|t| t.tok.clone()) {
                Some(Tok::Num(v)) => {
                    self.pos += 1;
                    n.push(v);
                }
                _ => return Err(self.unexpected("a number in BBOX(…)")),
            }
            if self.peek().map(|t| &t.tok) == Some(&Tok::Comma) {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.expect(&Tok::Close, "')' after BBOX's numbers")?;
        super::json::bbox_geometry(&n).map(Operand::Geometry)
    }

    /// A WKT geometry literal, read whole from the source (keyword to its closing parenthesis).
    fn wkt(&mut self) -> Result<Operand, String> {
        let start = &self.toks[self.pos];
        let (at, byte) = (start.at, start.byte);
        let mut depth = 0usize;
        let mut end_byte = None;
        let mut j = self.pos + 1;
        while let Some(t) = self.toks.get(j) {
            match t.tok {
                Tok::Open if depth >= 4 => {
                    return Err(format!(
                        "at character {at}: the geometry nests deeper than a MultiPolygon"
                    ));
                }
                Tok::Open => depth += 1,
                Tok::Close => {
                    if depth <= 1 {
                        end_byte = Some(t.byte + 1);
                        break;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            j += 1;
        }
        let Some(end) = end_byte.filter(|_| depth > 0) else {
            return Err(format!(
                "at character {at}: the geometry is not closed with ')'"
            ));
        };
        let text = &self.src[byte..end];
        let g = geozero::wkt::Wkt(text)
            .to_geo()
            .map_err(|e| format!("at character {at}: the geometry is not valid WKT ({e})"))?;
        // Checked like any geometry a client sends: WGS84 ranges, kinds, validity.
        let value = serde_json::to_value(geojson::Geometry::from(&g))
            .map_err(|e| format!("at character {at}: {e}"))?;
        let g = crate::index::params::parse_any_geometry(&value)
            .map_err(|e| format!("at character {at}: {e}"))?;
        self.pos = j + 1;
        Ok(Operand::Geometry(g))
    }
}

fn spatial_op(word: &str) -> Option<SpatialOp> {
    Some(match word {
        "S_INTERSECTS" => SpatialOp::Intersects,
        "S_DISJOINT" => SpatialOp::Disjoint,
        "S_WITHIN" => SpatialOp::Within,
        "S_CONTAINS" => SpatialOp::Contains,
        "S_EQUALS" => SpatialOp::Equals,
        _ => return None,
    })
}

fn temporal_op(word: &str) -> Option<TemporalOp> {
    Some(match word {
        "T_INTERSECTS" => TemporalOp::Intersects,
        "T_DISJOINT" => TemporalOp::Disjoint,
        "T_BEFORE" => TemporalOp::Before,
        "T_AFTER" => TemporalOp::After,
        "T_EQUALS" => TemporalOp::Equals,
        "T_DURING" => TemporalOp::During,
        "T_CONTAINS" => TemporalOp::Contains,
        _ => return None,
    })
}

/// The operator's CQL2 JSON name (`s_intersects`, …), shared with the JSON reader.
pub(super) fn spatial_by_json(name: &str) -> Option<SpatialOp> {
    spatial_op(&name.to_ascii_uppercase())
}

/// As [`spatial_by_json`], for the temporal functions.
pub(super) fn temporal_by_json(name: &str) -> Option<TemporalOp> {
    temporal_op(&name.to_ascii_uppercase())
}
