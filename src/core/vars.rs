//! Reading settings from environment variables: the one shape of a configuration
//! error, and the readers every section's `from_vars` is written with.
//!
//! A leaf: it imports nothing from the rest of the core, so every section can use it
//! without the sections importing each other. Modelled on rust-lang/crates.io's
//! `crates_io_env_vars`: `var` for a trimmed value, `parsed` for anything `FromStr`,
//! `whole_number` for a bounded integer whose error message is derived from its range
//! (so no range is written twice), and `list` for comma-separated values.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

/// A variable whose value cannot be used, always naming the variable. Carries no secret
/// values: only settings that are plain configuration are ever echoed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, reason: impl Into<String>) -> Self {
        ConfigError { variable, reason: reason.into() }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: {} {}", self.variable, self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// How settings are looked up: the worker passes its env, tests pass a map.
pub trait Vars: Fn(&str) -> Option<String> {}
impl<F: Fn(&str) -> Option<String>> Vars for F {}

/// The variable's value, trimmed; `None` when unset or blank. For settings that switch
/// a feature on or list things, where blank means "off" or "none".
pub fn var(vars: &impl Vars, name: &str) -> Option<String> {
    set(vars, name).filter(|v| !v.is_empty())
}

/// The variable's value, trimmed, blank kept: for values that must parse once set. A
/// lifetime set to nothing is a mistake to report, not a request for the default.
pub fn set(vars: &impl Vars, name: &str) -> Option<String> {
    vars(name).map(|v| v.trim().to_owned())
}

/// The variable parsed as `T`, or `default` when unset; `expected` says what a valid
/// value looks like.
pub fn parsed<T: FromStr>(vars: &impl Vars, name: &'static str, default: T, expected: &str) -> Result<T, ConfigError> {
    match set(vars, name) {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|_| ConfigError::new(name, format!("{expected}, got {:?}", shown(&raw)))),
    }
}

/// A whole number within `range`, or `default` when unset. Accepts `60.0` as 60: a
/// dashboard or a JSON-minded tool writes numbers that way.
pub fn whole_number<T>(
    vars: &impl Vars,
    name: &'static str,
    default: T,
    range: RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: Copy + PartialOrd + fmt::Display + TryFrom<i64>,
{
    let Some(raw) = set(vars, name) else { return Ok(default) };
    parse_whole(&raw)
        .and_then(|n| T::try_from(n).ok())
        .filter(|n| range.contains(n))
        .ok_or_else(|| ConfigError::new(name, format!("{}, got {:?}", range_reason(&range), shown(&raw))))
}

/// The message for a whole number outside `range`: the one place it is worded.
pub fn range_reason<T: fmt::Display>(range: &RangeInclusive<T>) -> String {
    format!("must be a whole number from {} to {}", range.start(), range.end())
}

/// The comma-separated entries of a variable, trimmed, blanks dropped; empty when unset.
pub fn list(vars: &impl Vars, name: &str) -> Vec<String> {
    var(vars, name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(String::from)
        .collect()
}

/// A comma-separated list of HTTP method names (letters only, at most 32 each), upper
/// case; `None` when unset, and empty when set but blank.
pub fn methods(vars: &impl Vars, name: &'static str) -> Result<Option<Vec<String>>, ConfigError> {
    if vars(name).is_none() {
        return Ok(None);
    }
    list(vars, name)
        .into_iter()
        .map(|m| {
            if m.bytes().all(|c| c.is_ascii_alphabetic()) && m.len() <= 32 {
                Ok(m.to_ascii_uppercase())
            } else {
                Err(ConfigError::new(name, format!("'{}' is not a method", shown(&m))))
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `true`/`false`, or `default` when unset.
pub fn boolean(vars: &impl Vars, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(vars, name).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(ConfigError::new(name, "must be 'true' or 'false'")),
    }
}

/// `42` or `42.0` (but not `42.5`, `4e1` or `0x2a`).
pub fn parse_whole(raw: &str) -> Option<i64> {
    let digits = raw.strip_suffix(".0").unwrap_or(raw);
    let unsigned = digits.strip_prefix('-').unwrap_or(digits);
    if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A value as an error message may echo it: at most 32 characters.
pub fn shown(raw: &str) -> String {
    raw.chars().take(32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &'static str, value: &str) -> impl Fn(&str) -> Option<String> {
        let value = value.to_owned();
        move |asked: &str| (asked == name).then(|| value.clone())
    }

    #[test]
    fn whole_numbers_come_from_the_range_or_name_it() {
        assert_eq!(whole_number(&one("N", " 60 "), "N", 5, 1..=100), Ok(60));
        assert_eq!(whole_number(&one("N", "60.0"), "N", 5, 1..=100), Ok(60));
        assert_eq!(whole_number(&one("M", "60"), "N", 5, 1..=100), Ok(5));
        for bad in ["", "0", "101", "6.5", "1e2", "0x10", "-", "ten", "+5"] {
            let err = whole_number(&one("N", bad), "N", 5u32, 1..=100).unwrap_err();
            assert_eq!(err.variable, "N");
            assert!(err.reason.starts_with("must be a whole number from 1 to 100, got"), "{bad}: {}", err.reason);
        }
        // A value that fits i64 but not the target type is out of range, not a panic.
        assert!(whole_number(&one("N", "-1"), "N", 5u32, 0..=100).is_err());
    }

    #[test]
    fn lists_drop_blanks_and_messages_truncate() {
        assert_eq!(list(&one("L", " a, ,b ,"), "L"), vec!["a", "b"]);
        assert!(list(&one("L", ""), "L").is_empty());
        let err = parsed::<u8>(&one("P", &"9".repeat(40)), "P", 0, "must be small").unwrap_err();
        assert_eq!(err.reason, format!("must be small, got {:?}", "9".repeat(32)));
        assert_eq!(boolean(&one("B", "maybe"), "B", false).unwrap_err().reason, "must be 'true' or 'false'");
    }
}
