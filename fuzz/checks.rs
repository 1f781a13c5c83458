// The properties each fuzz target checks, shared by the fuzz targets
// (fuzz_targets/*.rs) and by the host regression test (tests/fuzz_regressions.rs), which
// replays every file under fuzz/seeds/ and fuzz/regressions/ through them. Included
// with `include!`, so it names the crate by its path.

use edge_sessions::core::account::AccountId;
use edge_sessions::core::bound_cookie::BoundCookie;
use edge_sessions::core::dbsc_proof::{parse_proof, ProofStep};
use edge_sessions::core::device_challenge::BindingKeys;
use edge_sessions::core::structured_field::{read_string_item, string_item};
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

/// DBSC proof parsing never panics; an accepted proof signs exactly its first two parts,
/// carries a key only at registration, and that key's algorithm is the proof's.
pub fn check_dbsc_proof(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else { return };
    for step in [ProofStep::Registration, ProofStep::Refresh] {
        if let Ok(proof) = parse_proof(input, step) {
            assert!(input.contains(&proof.signing_input));
            assert_eq!(proof.signing_input.matches('.').count(), 1);
            assert_eq!(proof.key.is_some(), step == ProofStep::Registration);
            if let Some(key) = &proof.key {
                assert_eq!(key.alg(), proof.alg);
                let input = key.thumbprint_input();
                assert!(input.starts_with("{\"") && input.ends_with("\"}") && !input.contains(char::is_whitespace));
            }
        }
    }
}

/// Structured-field String parsing never panics, and what it reads writes back to a
/// String that reads the same.
pub fn check_structured_field(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else { return };
    if let Some(value) = read_string_item(input) {
        let written = string_item(&value).expect("a read String holds only printable ASCII");
        assert_eq!(read_string_item(&written).as_deref(), Some(value.as_str()));
    }
}

/// Bound-cookie checking never panics, and only this worker's own encoding of a cookie
/// verifies: the MAC cannot be met by any other bytes.
pub fn check_bound_cookie(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let keys = BindingKeys::derive(&[7; 32]);
    if let Ok(cookie) = BoundCookie::verify(input, &keys, 0) {
        assert_eq!(cookie.encode(&keys), input);
    }
    let header = format!("__Host-session={input}");
    let _ = extract_credential(Some(&header), None, "__Host-session", Some(&keys), 0);
}
