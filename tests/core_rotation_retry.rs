//! The rotation retry window: which token may retry, and until when.

use edge_sessions::core::rotation_retry::{PreviousToken, RotatedAway, DEFAULT_WINDOW_SECS};
use edge_sessions::core::token::SessionToken;

const T0: i64 = 1_790_000_000;

#[test]
fn only_the_previous_token_retries_and_only_inside_the_window() {
    let (old, other) =
        (SessionToken::from_random_bytes([1; 32]).hash(), SessionToken::from_random_bytes([2; 32]).hash());
    let previous = PreviousToken { hash: old.clone(), rotated_at: T0 };
    assert!(previous.admits(&old, 60, T0));
    assert!(previous.admits(&old, 60, T0 + 59));
    assert!(!previous.admits(&old, 60, T0 + 60), "the window is exclusive at its end");
    assert!(!previous.admits(&other, 60, T0), "another token never");
    assert!(!previous.admits(&old, 0, T0), "a window of 0 admits nothing");
    let far = PreviousToken { hash: old.clone(), rotated_at: i64::MAX - 1 };
    assert!(far.admits(&old, 300, i64::MAX - 1), "saturates instead of wrapping");
}

#[test]
fn the_marker_lives_at_least_as_long_as_kv_allows_and_keys_apart_from_sessions() {
    assert_eq!(RotatedAway::kv_ttl(DEFAULT_WINDOW_SECS), 60);
    assert_eq!(RotatedAway::kv_ttl(1), 60, "KV's minimum expiration TTL");
    assert_eq!(RotatedAway::kv_ttl(300), 300);
    let hash = SessionToken::from_random_bytes([3; 32]).hash();
    let key = RotatedAway::kv_key(&hash);
    assert_eq!(key, format!("rotated:{}", hash.as_str()));
    assert!(!key.starts_with(edge_sessions::core::token::KV_KEY_PREFIX));
}
