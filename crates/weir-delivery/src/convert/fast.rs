//! The fast way through a record: its JSON is read straight into the columns (keys borrowed,
//! strings copied once, unknown keys skipped unparsed) instead of into a `serde_json::Value`
//! first. It takes only what reads cleanly; on any doubt it gives up, the caller rolls the
//! columns back and reads the record the exact way (`json.rs`), which decides and says why.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::columns::Column;
use super::json::{put, Decoder, Deserializer};

/// Reads a record (one or more objects) into the decoder's columns; `None` when it does not
/// read cleanly (the caller rolls back).
pub(super) fn read(dec: &mut Decoder, record: &[u8]) -> Option<usize> {
    let mut d = serde_json::Deserializer::from_slice(record);
    let mut rows = 0;
    loop {
        Row { dec: &mut *dec }.deserialize(&mut d).ok()?;
        dec.rows += 1;
        rows += 1;
        if d.end().is_ok() {
            return Some(rows);
        }
    }
}

/// A key, borrowed from the record unless it has escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// One object: each key's value into its column, absent columns null.
struct Row<'a> {
    dec: &'a mut Decoder,
}

impl<'de> DeserializeSeed<'de> for Row<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Row<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let dec = self.dec;
        let row = dec.rows;
        dec.seen.clear();
        dec.seen.resize(dec.columns.len(), false);
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match dec.column_of(&key) {
                Some(i) => {
                    // A key given twice: the last value counts.
                    if dec.seen[i] {
                        dec.columns[i].truncate(row);
                    }
                    map.next_value_seed(Cell {
                        col: &mut dec.columns[i],
                        de: &dec.de,
                    })?;
                    dec.seen[i] = true;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        for (c, seen) in dec.columns.iter_mut().zip(&dec.seen) {
            if !*seen {
                c.push_null().map_err(de::Error::custom)?;
            }
        }
        Ok(())
    }
}

/// One value into its column.
struct Cell<'a> {
    col: &'a mut Column,
    de: &'a Deserializer,
}

fn fail<E: de::Error>() -> E {
    E::custom("read it the exact way")
}

impl<'de> DeserializeSeed<'de> for Cell<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.col {
            Column::String(_)
            | Column::TinyInt(_)
            | Column::SmallInt(_)
            | Column::Int(_)
            | Column::BigInt(_)
            | Column::Float(_)
            | Column::Double(_) => d.deserialize_any(self),
            _ => {
                let v = Value::deserialize(d)?;
                put(self.col, Some(&v), self.de).map_err(|_| fail())
            }
        }
    }
}

impl Cell<'_> {
    fn text<E: de::Error>(self, s: &str) -> Result<(), E> {
        match self.col {
            Column::String(c) => c.push(Some(s.as_bytes())).map_err(|_| fail()),
            _ if !matches!(self.de, Deserializer::OpenX { .. }) => Err(fail()),
            Column::Float(c) => {
                c.push(Some(s.trim().parse::<f32>().map_err(|_| fail())?));
                Ok(())
            }
            Column::Double(c) => {
                c.push(Some(s.trim().parse::<f64>().map_err(|_| fail())?));
                Ok(())
            }
            _ => self.int(s.trim().parse::<i64>().map_err(|_| fail())?),
        }
    }

    fn int<E: de::Error>(self, v: i64) -> Result<(), E> {
        match self.col {
            Column::TinyInt(c) => c.push(Some(i8::try_from(v).map_err(|_| fail())?)),
            Column::SmallInt(c) => c.push(Some(i16::try_from(v).map_err(|_| fail())?)),
            Column::Int(c) => c.push(Some(i32::try_from(v).map_err(|_| fail())?)),
            Column::BigInt(c) => c.push(Some(v)),
            Column::Float(c) => c.push(Some(v as f32)),
            Column::Double(c) => c.push(Some(v as f64)),
            Column::String(c) => c.push(Some(v.to_string().as_bytes())).map_err(|_| fail())?,
            _ => return Err(fail()),
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for Cell<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.col.push_null().map_err(|_| fail())
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        match self.col {
            Column::String(c) => c
                .push(Some(if b { b"true" } else { b"false" }))
                .map_err(|_| fail()),
            _ => Err(fail()),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.int(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(v) => self.int(v),
            Err(_) => Err(fail()),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        match self.col {
            Column::Float(c) => c.push(Some(v as f32)),
            Column::Double(c) => c.push(Some(v)),
            Column::String(c) => {
                let text = serde_json::Number::from_f64(v)
                    .ok_or_else(fail)?
                    .to_string();
                c.push(Some(text.as_bytes())).map_err(|_| fail())?;
            }
            // Integers from fractions: the exact way (OpenX truncates, Hive refuses).
            _ => return Err(fail()),
        }
        Ok(())
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<(), E> {
        self.text(s)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.text(s)
    }
    // Objects and arrays into a string column are JSON text with OpenX.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let v = Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.nested(&v)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        self.nested(&v)
    }
}

impl Cell<'_> {
    fn nested<E: de::Error>(self, v: &Value) -> Result<(), E> {
        put(self.col, Some(v), self.de).map_err(|_| fail())
    }
}
