//! Whole numbers as JSON writes them. JSON Schema 2020-12 counts `60.0` as an integer,
//! and so do dashboards and JSON-minded clients that write every number as a float;
//! serde refuses it for an integer field. These accept it, and nothing else that is not
//! a whole number: `60.5` and `"60"` stay errors (`6e1` is sixty, as JSON Schema reads it).

use serde::{Deserialize, Deserializer};

/// A whole number as text (a query parameter): `42` or `42.0`, as in a JSON body, but not
/// `42.5`, `4e1`, `+42` or `0x2a`. The same rule configuration values follow.
pub fn from_text(raw: &str) -> Option<i64> {
    crate::core::vars::parse_whole(raw)
}

/// `60` or `60.0` as an i64; `None` for anything with a fraction or out of range.
pub fn from_number(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        let f = n.as_f64()?;
        // i64::MAX is not exactly representable as f64; stay strictly inside the range.
        (f.fract() == 0.0 && (-9.0e18..=9.0e18).contains(&f)).then_some(f as i64)
    })
}

/// `#[serde(default, deserialize_with = "whole_number::optional")]` for an optional
/// integer field of any width; `null` reads as absent, like a missing field.
pub fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error;
    match Option::<serde_json::Number>::deserialize(deserializer)? {
        None => Ok(None),
        Some(n) => from_number(&n)
            .and_then(|whole| T::try_from(whole).ok())
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("expected a whole number in range, got {n}"))),
    }
}
