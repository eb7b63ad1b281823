//! W3C_LOG_PARSE's formats: the predefined ones (COMMON, COMMON WITH VHOST, NCSA EXTENDED,
//! REFERER, AGENT) or Apache log format specifiers (`%h %l %u %t "%r" %>s %b`, arguments in
//! square brackets or braces: `%[Referer]i`). Each specifier is a field, COLUMN1..n in order;
//! the text between specifiers must appear as written. A field runs to the next text of the
//! format (the rest of the line for the last); a bare `%t` is the bracketed time, brackets
//! included.

/// The letters Apache's log formats define.
const LETTERS: &str = "aABbCDefhHilmnoOpPqrsStTuUvVXI";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Text(String),
    Field { letter: char, argument: bool },
}

#[derive(Debug)]
pub struct W3cFormat(Vec<Item>);

fn predefined(name: &str) -> Option<&'static str> {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(match name.to_ascii_uppercase().as_str() {
        "COMMON" => r#"%h %l %u %t "%r" %>s %b"#,
        "COMMON WITH VHOST" => r#"%v %h %l %u %t "%r" %>s %b"#,
        "NCSA EXTENDED" => r#"%h %l %u %t "%r" %>s %b "%[Referer]i" "%[User-agent]i""#,
        "REFERER" => "%[Referer]i ---> %U",
        "AGENT" => "%[User-agent]i",
        _ => return None,
    })
}

impl W3cFormat {
    pub fn new(format: &str) -> Result<W3cFormat, String> {
        if format.trim().eq_ignore_ascii_case("IIS") {
            return Err("the IIS format is not supported".into());
        }
        let spec = predefined(format).unwrap_or(format).replace("\\\"", "\"");
        let chars: Vec<char> = spec.chars().collect();
        let mut items = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            if c != '%' {
                text.push(c);
                continue;
            }
            if chars.get(i) == Some(&'%') {
                text.push('%');
                i += 1;
                continue;
            }
            // Modifiers: `<` `>` `!` and status codes.
            while i < chars.len() && matches!(chars[i], '<' | '>' | '!' | ',' | '0'..='9') {
                i += 1;
            }
            let mut argument = false;
            if let Some(close) = match chars.get(i) {
                Some('[') => Some(']'),
                Some('{') => Some('}'),
                _ => None,
            } {
                match chars[i..].iter().position(|c| *c == close) {
                    Some(len) => i += len + 1,
                    None => return Err(format!("an unclosed argument in '{format}'")),
                }
                argument = true;
            }
            let Some(&letter) = chars.get(i) else {
                return Err(format!("'{format}' ends in the middle of a specifier"));
            };
            if !LETTERS.contains(letter) {
                return Err(format!("%{letter} is not a log format specifier"));
            }
            i += 1;
            if !text.is_empty() {
                items.push(Item::Text(std::mem::take(&mut text)));
            }
            items.push(Item::Field { letter, argument });
        }
        if !text.is_empty() {
            items.push(Item::Text(text));
        }
        if !items.iter().any(|i| matches!(i, Item::Field { .. })) {
            return Err(format!("'{format}' has no specifiers"));
        }
        Ok(W3cFormat(items))
    }

    pub fn fields(&self) -> usize {
        self.0
            .iter()
            .filter(|i| matches!(i, Item::Field { .. }))
            .count()
    }

    /// The fields of a line, or `None` when it does not follow the format.
    pub fn parse(&self, line: &str) -> Option<Vec<Option<String>>> {
        let mut out = Vec::with_capacity(self.fields());
        let mut rest = line;
        for (i, item) in self.0.iter().enumerate() {
            match item {
                Item::Text(t) => rest = rest.strip_prefix(t.as_str())?,
                Item::Field { letter, argument } => {
                    let end = if *letter == 't' && !argument && rest.starts_with('[') {
                        rest.find(']')? + 1
                    } else {
                        match self.0.get(i + 1) {
                            Some(Item::Text(t)) => rest.find(t.as_str())?,
                            Some(Item::Field { .. }) => 0,
                            None => rest.len(),
                        }
                    };
                    out.push(Some(rest[..end].to_string()));
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(out)
    }
}
