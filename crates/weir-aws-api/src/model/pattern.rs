//! Java regular expressions (as AWS's models write them) for Rust's `regex` engine.
//!
//! AWS matches the whole value with Java's engine. Three differences matter here: Java's `\w`,
//! `\d` and `\s` are ASCII classes (Rust's are Unicode, and far larger when repeated); Java
//! writes characters as UTF-16 `\uXXXX` escapes, a surrogate pair standing for one code point
//! beyond U+FFFF; and Java has look-aheads. A leading `^(?!X)` is split off and checked apart;
//! patterns with other look-arounds are not compiled (a unit test lists them).

use regex::Regex;

/// The compiled pattern: an optional leading look-ahead (a value starting with a match of it
/// does not match) and the rest, anchored at both ends. `None` when Rust cannot express it.
pub fn compile(p: &str) -> Option<(Option<Regex>, Regex)> {
    let (ahead, core) = split_lookahead(p)?;
    let core = core.strip_prefix('^').unwrap_or(core);
    let core = core.strip_suffix('$').unwrap_or(core);
    let ahead = match ahead {
        Some(a) => Some(Regex::new(&format!("^(?:{})", translate(a)?)).ok()?),
        None => None,
    };
    let core = Regex::new(&format!("^(?:{})$", translate(core)?)).ok()?;
    Some((ahead, core))
}

/// The grouping characters of a pattern (`(`, `)`, `|` outside classes and escapes), each with
/// its byte offset and the group depth after it (a `)` closing past the start goes to -1).
fn structure(p: &str) -> impl Iterator<Item = (usize, char, i32)> + '_ {
    let (mut depth, mut escaped, mut in_class) = (0, false, false);
    p.char_indices().filter_map(move |(i, c)| {
        let grouping = match c {
            _ if escaped => {
                escaped = false;
                false
            }
            '\\' => {
                escaped = true;
                false
            }
            '[' if !in_class => {
                in_class = true;
                false
            }
            ']' if in_class => {
                in_class = false;
                false
            }
            '(' if !in_class => {
                depth += 1;
                true
            }
            ')' if !in_class => {
                depth -= 1;
                true
            }
            '|' => !in_class,
            _ => false,
        };
        grouping.then_some((i, c, depth))
    })
}

/// Splits a leading `^(?!X)` off: `(Some(X), rest)`, or `(None, p)` without one. `None` when
/// the look-ahead covers only the first branch of an alternation.
fn split_lookahead(p: &str) -> Option<(Option<&str>, &str)> {
    let Some(rest) = p.strip_prefix("^(?!") else {
        return Some((None, p));
    };
    // The group ends at the parenthesis that balances its opening one.
    let (end, _, _) = structure(rest).find(|&(_, c, depth)| c == ')' && depth < 0)?;
    let after = &rest[end + 1..];
    if structure(after).any(|(_, c, depth)| c == '|' && depth == 0) {
        return None;
    }
    Some((Some(&rest[..end]), after))
}

/// Java's syntax in Rust's: ASCII `\w \d \s`, `\uXXXX` escapes (surrogate pairs joined into one
/// code point). `None` for a look-around or a lone surrogate, which Rust cannot express.
fn translate(p: &str) -> Option<String> {
    if p.contains("(?=") || p.contains("(?!") || p.contains("(?<") {
        return None;
    }
    let mut out = String::with_capacity(p.len());
    let mut in_class = false;
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push(c);
                    break;
                };
                let ascii = match n {
                    'w' => Some("0-9A-Za-z_"),
                    'd' => Some("0-9"),
                    's' => Some("\\t\\n\\x0B\\x0C\\r "),
                    _ => None,
                };
                match (ascii, n, in_class) {
                    (Some(a), _, true) => out.push_str(a),
                    (Some(a), _, false) => {
                        out.push('[');
                        out.push_str(a);
                        out.push(']');
                    }
                    (None, 'u', _) => {
                        let unit = hex4(&mut chars)?;
                        let code = if (0xD800..0xDC00).contains(&unit) {
                            // A high surrogate must be followed by `\uDC00`..`\uDFFF`.
                            if chars.next() != Some('\\') || chars.next() != Some('u') {
                                return None;
                            }
                            let low = hex4(&mut chars)?;
                            if !(0xDC00..0xE000).contains(&low) {
                                return None;
                            }
                            0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..0xE000).contains(&unit) {
                            return None;
                        } else {
                            unit
                        };
                        out.push_str(&format!("\\x{{{code:X}}}"));
                    }
                    (None, _, _) => {
                        out.push(c);
                        out.push(n);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

fn hex4(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<u32> {
    let mut v = 0;
    for _ in 0..4 {
        v = v * 16 + chars.next()?.to_digit(16)?;
    }
    Some(v)
}

/// Whether parentheses in `s` balance (so stripping an outer group kept a whole expression).
pub fn balanced(s: &str) -> bool {
    let mut last = 0;
    for (_, _, depth) in structure(s) {
        if depth < 0 {
            return false;
        }
        last = depth;
    }
    last == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(p: &str, s: &str) -> bool {
        let (ahead, core) = compile(p).expect("compiles");
        ahead.is_none_or(|a| !a.is_match(s)) && core.is_match(s)
    }

    #[test]
    fn java_classes_are_ascii() {
        assert_eq!(
            translate("[\\w\\.\\-]{1,255}").as_deref(),
            Some("[0-9A-Za-z_\\.\\-]{1,255}")
        );
        assert_eq!(translate("\\d{12}").as_deref(), Some("[0-9]{12}"));
        assert_eq!(translate("a\\Sb").as_deref(), Some("a\\Sb"));
        assert!(!matches("\\w+", "é"));
    }

    #[test]
    fn utf16_escapes_and_surrogate_pairs() {
        // Glue's "single line string": any character but control characters.
        let p = "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*";
        assert!(matches(p, "a table_name é 😀\tx"));
        assert!(!matches(p, "line\nbreak"));
        assert!(translate("\\uD800").is_none(), "a lone surrogate");
    }

    #[test]
    fn leading_look_aheads() {
        assert!(matches("^(?!aws:)[a-z:]*$", "team:x"));
        assert!(!matches("^(?!aws:)[a-z:]*$", "aws:x"));
        assert!(!matches("^(?!\\s*$).+", "   "));
        assert!(matches("^(?!(.*[.\\/\\\\]|aws:)).*$", "plain"));
        assert!(!matches("^(?!(.*[.\\/\\\\]|aws:)).*$", "a/b"));
        assert!(compile("^(?![0-9_])\\w+$|^_\\w*[a-zA-Z0-9]\\w*$").is_none());
        // Escaped and bracketed parentheses are not groups.
        assert!(matches("^(?!a\\))[a-z)(|]*$", "b)"));
        assert!(!matches("^(?!a\\))[a-z)(|]*$", "a)"));
        assert!(balanced("a\\)(b)[)]"));
    }
}
