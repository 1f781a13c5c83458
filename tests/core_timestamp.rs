//! The answers' RFC 3339 timestamps (`core::timestamp::rfc3339`), written out by hand,
//! against the `time` crate's formatter they replaced.

use edge_sessions::core::timestamp::rfc3339;
use proptest::prelude::*;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn by_time(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

#[test]
fn known_instants() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_795_852_020), "2026-11-28T07:47:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z", "a leap day of a 400-year leap year");
    assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z", "2100 is not a leap year");
    assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    // Outside what RFC 3339 can write: the same fallback as before.
    assert_eq!(rfc3339(253_402_300_800), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(-62_167_219_201), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(i64::MAX), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(i64::MIN), "1970-01-01T00:00:00Z");
}

#[test]
fn every_day_boundary_of_five_centuries_matches_time() {
    // 1900..2400: every leap rule, once a day and a second before midnight.
    let (from, to) = (-2_208_988_800_i64, 13_569_465_600_i64);
    let mut secs = from;
    while secs < to {
        assert_eq!(rfc3339(secs), by_time(secs), "{secs}");
        assert_eq!(rfc3339(secs + 86_399), by_time(secs + 86_399), "{}", secs + 86_399);
        secs += 86_400;
    }
}

proptest! {
    #[test]
    fn matches_time_everywhere(secs in -63_000_000_000_i64..260_000_000_000) {
        prop_assert_eq!(rfc3339(secs), by_time(secs));
    }
}
