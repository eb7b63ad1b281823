//! Result files read back for GetQueryResults: Athena's CSV (RFC 4180, every value quoted,
//! NULL an empty unquoted field, a header row) and its `.txt` (tab-separated, no header).

/// The rows of a result file; `None` is NULL.
pub fn parse(bytes: &[u8], csv: bool) -> Vec<Vec<Option<String>>> {
    let text = String::from_utf8_lossy(bytes);
    if !csv {
        return text
            .lines()
            .map(|l| l.split('\t').map(|v| Some(v.to_string())).collect())
            .collect();
    }
    let c: Vec<char> = text.chars().collect();
    let mut rows = Vec::new();
    let mut row: Vec<Option<String>> = Vec::new();
    let mut i = 0;
    let mut field_start = true;
    while i < c.len() {
        if c[i] == '"' {
            let mut v = String::new();
            i += 1;
            while i < c.len() {
                if c[i] == '"' {
                    if c.get(i + 1) == Some(&'"') {
                        v.push('"');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                v.push(c[i]);
                i += 1;
            }
            row.push(Some(v));
            field_start = false;
            continue;
        }
        match c[i] {
            ',' => {
                if field_start {
                    row.push(None);
                }
                field_start = true;
                i += 1;
            }
            '\n' => {
                // An empty line is one NULL (a result of one column).
                if field_start {
                    row.push(None);
                }
                rows.push(std::mem::take(&mut row));
                field_start = true;
                i += 1;
            }
            '\r' => i += 1,
            _ => {
                // An unquoted value (not written by Weir, but readable).
                let mut v = String::new();
                while i < c.len() && c[i] != ',' && c[i] != '\n' {
                    v.push(c[i]);
                    i += 1;
                }
                row.push(Some(v));
                field_start = false;
            }
        }
    }
    if !row.is_empty() || !field_start {
        if field_start {
            row.push(None);
        }
        rows.push(row);
    }
    rows
}

/// A result row as Athena's CSV writes it.
pub fn csv_line(values: &[Option<&str>]) -> String {
    let mut line = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        if let Some(v) = v {
            line.push('"');
            line.push_str(&v.replace('"', "\"\""));
            line.push('"');
        }
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut text = csv_line(&[Some("a"), Some("b")]);
        text += &csv_line(&[Some("x,\"y\"\nz"), None]);
        text += &csv_line(&[None, Some("")]);
        text += &csv_line(&[None]);
        let rows = parse(text.as_bytes(), true);
        assert_eq!(
            rows,
            vec![
                vec![Some("a".into()), Some("b".into())],
                vec![Some("x,\"y\"\nz".into()), None],
                vec![None, Some("".into())],
                vec![None],
            ]
        );
        assert_eq!(parse(b"a\tb\nc\td\n", false).len(), 2);
    }
}
