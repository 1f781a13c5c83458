// The properties each fuzz target checks, shared by the fuzz targets
// (fuzz_targets/*.rs) and by the host regression test (tests/fuzz_regressions.rs), which
// replays every file under fuzz/seeds/ and fuzz/regressions/ through them. Included
// with `include!`, so it names the crate by its path.

use edge_sessions::core::account::AccountId;
use edge_sessions::core::cookie::find_cookie;
use edge_sessions::core::credentials::extract_credential;
use edge_sessions::core::gate::strip_cookie;
use edge_sessions::core::record::SessionRecord;
use edge_sessions::core::token::{SessionToken, TOKEN_LEN, TOKEN_PREFIX};

/// Token parsing never panics; whatever parses is the input itself, of the exact shape,
/// and never printed by `Debug` or `Display`.
pub fn check_token_parse(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else { return };
    if let Ok(token) = SessionToken::parse(input) {
        assert_eq!(token.expose_secret(), input);
        assert_eq!(input.len(), TOKEN_LEN);
        assert!(input.starts_with(TOKEN_PREFIX));
        assert!(!format!("{token:?}{token}").contains(&input[TOKEN_PREFIX.len()..]));
    }
}

/// Cookie-header and credential parsing never panic; a found value is part of the
/// header; an accepted credential is a valid token; stripping removes the cookie.
pub fn check_cookie_header(data: &[u8]) {
    let Ok(header) = std::str::from_utf8(data) else { return };
    if let Ok(Some(value)) = find_cookie(header, "__Host-session") {
        assert!(header.contains(value));
    }
    if let Ok(credential) = extract_credential(Some(header), None, "__Host-session", None, 0) {
        assert!(SessionToken::parse(credential.token().expect("without binding keys, a token").expose_secret()).is_ok());
    }
    if let Some(rest) = strip_cookie(header, "__Host-session") {
        assert_eq!(find_cookie(&rest, "__Host-session"), Ok(None));
    }
}

/// Record decoding never panics; a decoded record keeps its deadlines ordered and
/// survives a re-encode unchanged.
pub fn check_record_decode(data: &[u8]) {
    if let Ok(record) = SessionRecord::decode(data) {
        assert!(record.idle_expires_at <= record.absolute_expires_at);
        let again = SessionRecord::decode(record.encode().as_bytes()).expect("re-encoded record decodes");
        assert_eq!(again, record);
    }
}

/// Account-id validation never panics; whatever is accepted is a safe path segment.
pub fn check_account_id(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else { return };
    if let Ok(id) = AccountId::parse(input) {
        let s = id.as_str();
        assert!(!s.is_empty() && s.len() <= 128);
        assert!(!s.contains('/') && !s.contains('\\') && !s.contains("..") && !s.starts_with('.'));
        assert!(s.bytes().all(|b| b.is_ascii_graphic()));
    }
}
