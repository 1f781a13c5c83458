//! Account ids: the name of an account's Durable Object and a field of every record.
//!
//! They arrive in URL paths from the origin, so they are validated strictly. The only
//! percent-escapes taken are `%40` and `%3A` (`@` and `:`, which an OpenAPI client must
//! encode in a path parameter), once: any other `%` is refused, so no encoded `/`, `.` or
//! `%` can reach the id.

use std::fmt;

/// Longest accepted account id, in bytes.
pub const ACCOUNT_ID_MAX_LEN: usize = 128;

/// Why a string is not an account id. Messages never echo the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountIdError {
    Empty,
    TooLong,
    /// Only ASCII letters, digits and `-` `_` `.` `@` `:` are allowed.
    BadCharacter,
    /// A leading `.` or a `..` anywhere: refused so an id can never act as a path segment
    /// like `.` or `..` in a URL built from it.
    DotSegment,
}

impl fmt::Display for AccountIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccountIdError::Empty => "account id is empty",
            AccountIdError::TooLong => "account id is longer than 128 bytes",
            AccountIdError::BadCharacter => {
                "account id may contain only ASCII letters, digits and - _ . @ : (in a path, @ and : may be sent as %40 and %3A)"
            }
            AccountIdError::DotSegment => "account id may not start with '.' or contain '..'",
        })
    }
}

impl std::error::Error for AccountIdError {}

/// A validated account id: 1 to 128 bytes of `[A-Za-z0-9._@:-]`, no leading `.`, no `..`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    pub fn parse(input: &str) -> Result<Self, AccountIdError> {
        if input.is_empty() {
            return Err(AccountIdError::Empty);
        }
        if input.len() > ACCOUNT_ID_MAX_LEN {
            return Err(AccountIdError::TooLong);
        }
        if !input.bytes().all(is_account_id_byte) {
            return Err(AccountIdError::BadCharacter);
        }
        if input.starts_with('.') || input.contains("..") {
            return Err(AccountIdError::DotSegment);
        }
        Ok(AccountId(input.to_owned()))
    }

    /// An id as it appears in a URL path segment: `%40` and `%3A` (hex digits in either
    /// case) stand for `@` and `:`; every other byte must be the id's own.
    pub fn from_path_segment(segment: &str) -> Result<Self, AccountIdError> {
        if !segment.contains('%') {
            return AccountId::parse(segment);
        }
        let mut decoded = String::with_capacity(segment.len());
        let mut rest = segment;
        while let Some(at) = rest.find('%') {
            decoded.push_str(&rest[..at]);
            let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
            match escape {
                "%40" => decoded.push('@'),
                "%3A" | "%3a" => decoded.push(':'),
                _ => return Err(AccountIdError::BadCharacter),
            }
            rest = &rest[at + escape.len()..];
        }
        decoded.push_str(rest);
        AccountId::parse(&decoded)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_account_id_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'@' | b':')
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for AccountId {
    type Error = AccountIdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        AccountId::parse(&value)
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.0
    }
}
