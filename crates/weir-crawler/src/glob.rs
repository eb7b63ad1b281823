//! Glue's exclude patterns: Unix globs relative to the include path. `*` matches within one
//! level (never a `/`), `**` across levels, `?` one character, `[abc]`/`[a-z]`/`[!a-c]` a
//! class, `{a,b}` alternatives (not nested), `\` escapes the next character. A leading `.` is
//! not special.

use regex::Regex;

/// A compiled exclude pattern.
#[derive(Debug, Clone)]
pub struct Glob(Regex);

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, String> {
        let mut re = String::from("^");
        let mut chars = pattern.chars().peekable();
        let mut in_group = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(n) => re.push_str(&regex::escape(&n.to_string())),
                    None => return Err(format!("Invalid exclude pattern: {pattern}")),
                },
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    re.push_str(".*");
                }
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                '[' => {
                    re.push('[');
                    if chars.peek() == Some(&'!') {
                        chars.next();
                        re.push('^');
                    }
                    let mut closed = false;
                    for n in chars.by_ref() {
                        if n == ']' {
                            closed = true;
                            break;
                        }
                        if n == '\\' || n == '^' || n == '[' {
                            re.push('\\');
                        }
                        re.push(n);
                    }
                    if !closed {
                        return Err(format!("Invalid exclude pattern: {pattern}"));
                    }
                    re.push(']');
                }
                '{' if !in_group => {
                    in_group = true;
                    re.push_str("(?:");
                }
                ',' if in_group => re.push('|'),
                '}' if in_group => {
                    in_group = false;
                    re.push(')');
                }
                c => re.push_str(&regex::escape(&c.to_string())),
            }
        }
        if in_group {
            return Err(format!("Invalid exclude pattern: {pattern}"));
        }
        re.push('$');
        Regex::new(&re)
            .map(Glob)
            .map_err(|_| format!("Invalid exclude pattern: {pattern}"))
    }

    /// Whether `path` (relative to the include path) matches.
    pub fn matches(&self, path: &str) -> bool {
        self.0.is_match(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, path: &str) -> bool {
        Glob::new(p).map(|g| g.matches(path)).unwrap_or(false)
    }

    #[test]
    fn glue_examples() {
        assert!(m("departments/**", "departments/a/b.csv"));
        assert!(!m("departments/**", "employees/a.csv"));
        assert!(m("**.csv", "a/b/c.csv"));
        assert!(m("employees/*.csv", "employees/x.csv"));
        assert!(!m("employees/*.csv", "employees/2020/x.csv"));
        assert!(m("myfolder**", "myfolder/x/y"));
        assert!(m("*.{csv,json}", "a.json"));
        assert!(m("[!a-c]*", "dog"));
        assert!(!m("[!a-c]*", "cat"));
        assert!(m("?.txt", "a.txt"));
        assert!(m("*", ".hidden"));
        assert!(m("a\\*b", "a*b"));
        assert!(Glob::new("{a,b").is_err());
        assert!(Glob::new("[ab").is_err());
    }
}
