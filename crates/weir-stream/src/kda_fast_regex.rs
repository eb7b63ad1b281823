//! FAST_REGEX_LOG_PARSE's patterns: the regular expression is cut into one expression per
//! group and one per run of text between groups; a fixed-length start of an expression moves
//! to the end of the one before (an expression entirely of fixed length merges into it); the
//! pieces then match one after the other, each as little as it can (`.`'s repetitions are
//! lazy, a repeated character or class takes all it can), never going back to an earlier
//! piece. The last piece must end at the end of the text, or nothing is returned.
//! Syntax (the automaton syntax the reference lists): `.` `[...]` `"literal"` `\c` `@` (any
//! string) `#` (nothing) `<Digit>`-style named classes, `?` `*` `+` `{n}` `{n,}` `{n,m}`, and
//! `|` inside a group. Intersection (`&`), complement (`~`) and `<n-m>` intervals are refused.

use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quant {
    One,
    Opt,
    Star,
    Range(usize, Option<usize>),
}

#[derive(Debug, Clone)]
struct Unit {
    /// The atom as Rust regex text (without its quantifier).
    atom: String,
    /// `.`: repeated lazily.
    any: bool,
    /// The atom always matches the same number of characters.
    sized: bool,
    quant: Quant,
}

impl Unit {
    fn fixed(&self) -> bool {
        self.sized
            && (matches!(self.quant, Quant::One)
                || matches!(self.quant, Quant::Range(n, Some(m)) if n == m))
    }

    fn regex(&self) -> String {
        let lazy = if self.any { "?" } else { "" };
        let q = match self.quant {
            Quant::One => return self.atom.clone(),
            Quant::Opt => "?".to_string(),
            Quant::Star => "*".to_string(),
            Quant::Range(n, Some(m)) if n == m => return format!("{}{{{n}}}", self.atom),
            Quant::Range(n, Some(m)) => format!("{{{n},{m}}}"),
            Quant::Range(n, None) => format!("{{{n},}}"),
        };
        format!("{}{q}{lazy}", self.atom)
    }
}

/// A compiled pattern.
#[derive(Debug)]
pub struct FastRegex {
    /// Each piece's regex and, per capture of it, the group the text belongs to.
    pieces: Vec<(Regex, Vec<Option<usize>>)>,
    groups: usize,
}

fn named_class(name: &str) -> Option<&'static str> {
    Some(match name {
        "Digit" => "[0-9]",
        "Upper" => "[A-Z]",
        "Lower" => "[a-z]",
        "ASCII" => r"[\x00-\x7F]",
        "Alpha" => "[A-Za-z]",
        "Alnum" => "[A-Za-z0-9]",
        "Punct" => r##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"##,
        "Blank" => r"[ \t]",
        "Space" => r"[ \t\n\x0B\f\r]",
        "Cntrl" => r"[\x00-\x1F\x7F]",
        "XDigit" => "[0-9a-fA-F]",
        "Print" | "Graph" => r##"[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"##,
        _ => return None,
    })
}

struct Reader<'a> {
    chars: Vec<char>,
    at: usize,
    text: &'a str,
}

/// An element of the top level: a group's units, or a unit outside groups.
enum Item {
    Group(Vec<Unit>),
    Outside(Unit),
}

impl Reader<'_> {
    fn fail<T>(&self, why: &str) -> Result<T, String> {
        Err(format!("{why} at position {} of '{}'", self.at, self.text))
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    /// One atom (without quantifier); `(` only inside a group, as a non-capturing part.
    fn atom(&mut self) -> Result<(String, bool, bool), String> {
        let Some(c) = self.peek() else {
            return self.fail("a pattern ends early");
        };
        self.at += 1;
        Ok(match c {
            '.' => ("(?s:.)".into(), true, true),
            // Any string, as little as it can (as `.*`).
            '@' => ("(?s:.*?)".into(), false, false),
            '#' => (r"[^\s\S]".into(), false, true),
            '\\' => match self.peek() {
                Some(e) => {
                    self.at += 1;
                    (regex::escape(&e.to_string()), false, true)
                }
                None => return self.fail("a pattern ends after '\\'"),
            },
            '"' => {
                let mut lit = String::new();
                loop {
                    match self.peek() {
                        Some('"') => break,
                        Some(ch) => lit.push(ch),
                        None => return self.fail("an unterminated string"),
                    }
                    self.at += 1;
                }
                self.at += 1;
                (format!("(?:{})", regex::escape(&lit)), false, true)
            }
            '[' => {
                let mut class = String::from("[");
                if self.peek() == Some('^') {
                    class.push('^');
                    self.at += 1;
                }
                let mut first = true;
                loop {
                    match self.peek() {
                        Some(']') if !first => break,
                        Some('\\') => {
                            self.at += 1;
                            match self.peek() {
                                Some(e) => class.push_str(&regex::escape(&e.to_string())),
                                None => return self.fail("an unterminated class"),
                            }
                        }
                        Some(ch @ ('[' | '&' | '~')) => {
                            class.push('\\');
                            class.push(ch);
                        }
                        Some(ch) => class.push(ch),
                        None => return self.fail("an unterminated class"),
                    }
                    first = false;
                    self.at += 1;
                }
                self.at += 1;
                class.push(']');
                (class, false, true)
            }
            '<' => {
                let mut name = String::new();
                loop {
                    match self.peek() {
                        Some('>') => break,
                        Some(ch) => name.push(ch),
                        None => return self.fail("an unterminated <name>"),
                    }
                    self.at += 1;
                }
                self.at += 1;
                match named_class(&name) {
                    Some(class) => (class.to_string(), false, true),
                    None => return self.fail(&format!("<{name}> is not supported")),
                }
            }
            '(' => {
                let inner = self.sequence(true)?;
                if self.peek() != Some(')') {
                    return self.fail("an unclosed '('");
                }
                self.at += 1;
                (format!("(?:{inner})"), false, false)
            }
            '&' | '~' => return self.fail(&format!("'{c}' is not supported")),
            ')' | '|' | '*' | '+' | '?' | '{' => {
                self.at -= 1;
                return self.fail(&format!("an unexpected '{c}'"));
            }
            c => (regex::escape(&c.to_string()), false, true),
        })
    }

    fn number(&mut self) -> Option<usize> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        self.chars[start..self.at]
            .iter()
            .collect::<String>()
            .parse()
            .ok()
    }

    /// The quantifiers after an atom, as units (`x+` is `x` then `x*`).
    fn units(&mut self, (atom, any, sized): (String, bool, bool)) -> Result<Vec<Unit>, String> {
        let unit = |quant| Unit {
            atom: atom.clone(),
            any,
            sized,
            quant,
        };
        Ok(match self.peek() {
            Some('?') => {
                self.at += 1;
                vec![unit(Quant::Opt)]
            }
            Some('*') => {
                self.at += 1;
                vec![unit(Quant::Star)]
            }
            Some('+') => {
                self.at += 1;
                vec![unit(Quant::One), unit(Quant::Star)]
            }
            Some('{') => {
                self.at += 1;
                let Some(n) = self.number() else {
                    return self.fail("a repetition count is expected");
                };
                let m = match self.peek() {
                    Some(',') => {
                        self.at += 1;
                        self.number()
                    }
                    _ => Some(n),
                };
                if self.peek() != Some('}') {
                    return self.fail("an unclosed '{'");
                }
                self.at += 1;
                vec![unit(Quant::Range(n, m))]
            }
            _ => vec![unit(Quant::One)],
        })
    }

    /// Regex text of a sequence up to `)` or the end (with `|` when `alternatives`).
    fn sequence(&mut self, alternatives: bool) -> Result<String, String> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            match c {
                ')' => break,
                '|' if alternatives => {
                    self.at += 1;
                    out.push('|');
                }
                _ => {
                    let atom = self.atom()?;
                    for u in self.units(atom)? {
                        out.push_str(&u.regex());
                    }
                }
            }
        }
        Ok(out)
    }

    /// The units of a top-level group's body (one unit of alternatives when it has `|`).
    fn group(&mut self) -> Result<Vec<Unit>, String> {
        let start = self.at;
        let mut units = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                ')' => return Ok(units),
                '|' => {
                    self.at = start;
                    let body = self.sequence(true)?;
                    if self.peek() != Some(')') {
                        return self.fail("an unclosed '('");
                    }
                    return Ok(vec![Unit {
                        atom: format!("(?:{body})"),
                        any: false,
                        sized: false,
                        quant: Quant::One,
                    }]);
                }
                _ => {
                    let atom = self.atom()?;
                    units.extend(self.units(atom)?);
                }
            }
        }
        self.fail("an unclosed '('")
    }
}

impl FastRegex {
    pub fn new(pattern: &str) -> Result<FastRegex, String> {
        let mut r = Reader {
            chars: pattern.chars().collect(),
            at: 0,
            text: pattern,
        };
        let mut items = Vec::new();
        while let Some(c) = r.peek() {
            match c {
                '(' => {
                    r.at += 1;
                    let units = r.group()?;
                    r.at += 1;
                    items.push(Item::Group(units));
                }
                '|' => return r.fail("'|' outside a group is not supported"),
                _ => {
                    let atom = r.atom()?;
                    items.extend(r.units(atom)?.into_iter().map(Item::Outside));
                }
            }
        }
        // Expressions: each group, and each run of units between groups.
        let mut exprs: Vec<(Option<usize>, Vec<Unit>)> = Vec::new();
        let mut groups = 0;
        for item in items {
            match item {
                Item::Group(units) => {
                    exprs.push((Some(groups), units));
                    groups += 1;
                }
                Item::Outside(u) => match exprs.last_mut() {
                    Some((None, units)) => units.push(u),
                    _ => exprs.push((None, vec![u])),
                },
            }
        }
        let mut pieces: Vec<Vec<(Option<usize>, Unit)>> = Vec::new();
        for (group, units) in exprs {
            let mut units = units.into_iter().peekable();
            if let Some(last) = pieces.last_mut() {
                while let Some(u) = units.next_if(Unit::fixed) {
                    last.push((group, u));
                }
            }
            let rest: Vec<_> = units.map(|u| (group, u)).collect();
            if !rest.is_empty() || (pieces.is_empty() && group.is_some()) {
                pieces.push(rest);
            }
        }
        let count = pieces.len();
        let pieces = pieces
            .into_iter()
            .enumerate()
            .map(|(i, units)| {
                let mut re = String::from("^");
                let mut owners = Vec::new();
                for (group, u) in units {
                    re.push('(');
                    re.push_str(&u.regex());
                    re.push(')');
                    owners.push(group);
                }
                if i + 1 == count {
                    re.push('$');
                }
                Regex::new(&re)
                    .map(|re| (re, owners))
                    .map_err(|e| format!("'{pattern}' is not a valid pattern: {e}"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(FastRegex { pieces, groups })
    }

    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The groups' texts, or `None` when some of the text is not accounted for.
    pub fn parse(&self, text: &str) -> Option<Vec<Option<String>>> {
        let mut spans: Vec<Option<(usize, usize)>> = vec![None; self.groups];
        let mut at = 0;
        for (re, owners) in &self.pieces {
            let caps = re.captures(&text[at..])?;
            for (i, owner) in owners.iter().enumerate() {
                let (Some(g), Some(m)) = (owner, caps.get(i + 1)) else {
                    continue;
                };
                let (s, e) = (at + m.start(), at + m.end());
                spans[*g] = Some(match spans[*g] {
                    Some((s0, e0)) => (s0.min(s), e0.max(e)),
                    None => (s, e),
                });
            }
            at += caps.get(0)?.end();
        }
        if at != text.len() {
            return None;
        }
        Some(
            spans
                .into_iter()
                .map(|s| Some(s.map_or(String::new(), |(s, e)| text[s..e].to_string())))
                .collect(),
        )
    }
}
