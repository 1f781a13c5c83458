//! `core::timestamp` reads and writes RFC 3339 exactly as the `time` crate's `Rfc3339`
//! did before it replaced it (docs/performance.md, "Size"): compared here on generated
//! date-times, near-misses and noise.

use edge_sessions::core::timestamp::{parse_rfc3339, rfc3339, Instant};
use proptest::prelude::*;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What `time` makes of `text`: unix seconds and the nanoseconds after them.
fn reference(text: &str) -> Option<Instant> {
    let t = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    Some(Instant { secs: t.unix_timestamp(), nanos: t.nanosecond() })
}

fn reference_render(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

#[test]
fn examples_read_as_time_reads_them() {
    let cases = [
        ("2026-11-22T07:47:00Z", Some(Instant { secs: 1_795_333_620, nanos: 0 })),
        ("2026-11-22t07:47:00z", Some(Instant { secs: 1_795_333_620, nanos: 0 })),
        ("2026-11-22 07:47:00.5+01:30", Some(Instant { secs: 1_795_328_220, nanos: 500_000_000 })),
        ("1970-01-01T00:00:00.1234567891Z", Some(Instant { secs: 0, nanos: 123_456_789 })),
        ("2016-12-31T23:59:60Z", Some(Instant { secs: 1_483_228_799, nanos: 999_999_999 })),
        ("2017-01-01T00:59:60+01:00", Some(Instant { secs: 1_483_228_799, nanos: 999_999_999 })),
        ("2016-12-30T23:59:60Z", None),
        ("2024-02-29T00:00:00Z", Some(Instant { secs: 1_709_164_800, nanos: 0 })),
        ("2023-02-29T00:00:00Z", None),
        ("2026-11-22T07:47:00+24:00", None),
        ("2026-11-22T07:47:00+01:60", None),
        ("2026-11-22T07:47:00", None),
        ("2026-11-22T07:47:00Z ", None),
        ("2026-11-22T07:47:00.Z", None),
        ("0000-01-01T00:00:00-23:59", Some(Instant { secs: -62_167_132_860, nanos: 0 })),
        ("9999-12-31T23:59:60-23:59", None),
        ("2026-11-22\u{e9}07:47:00Z", None),
    ];
    for (text, expected) in cases {
        assert_eq!(reference(text), expected, "the reference, for {text:?}");
        assert_eq!(parse_rfc3339(text), expected, "{text:?}");
    }
}

#[test]
fn renders_as_time_renders() {
    for secs in [0, 1_795_333_620, -1, -62_167_219_200, -62_167_219_201, 253_402_300_799, 253_402_300_800, i64::MIN] {
        assert_eq!(rfc3339(secs), reference_render(secs), "{secs}");
    }
}

/// Date-times in the grammar's shape, with any digits in each field (so invalid dates,
/// hours, offsets and leap seconds come up often), any separator and either zone.
fn shaped() -> impl Strategy<Value = String> {
    (
        (0u32..10000, 0u32..14, 0u32..33, any::<char>()),
        (0u32..26, 0u32..61, prop_oneof![50 => 55u32..61, 1 => 0u32..100]),
        proptest::option::of("[0-9]{1,12}"),
        prop_oneof![
            Just("Z".to_owned()),
            Just("z".to_owned()),
            (any::<bool>(), 0u32..26, 0u32..62)
                .prop_map(|(minus, h, m)| format!("{}{h:02}:{m:02}", if minus { '-' } else { '+' }))
        ],
    )
        .prop_map(|((y, mo, d, sep), (h, mi, s), fraction, zone)| {
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{fraction}{zone}")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn shaped_input_reads_as_time_reads_it(text in shaped()) {
        prop_assert_eq!(parse_rfc3339(&text), reference(&text), "{:?}", text);
    }

    #[test]
    fn last_seconds_of_months_read_as_time_reads_them(
        y in 0u32..10000, mo in 1u32..13, d in 27u32..32, minus in any::<bool>(), h in 0u32..24, m in 0u32..60,
    ) {
        // The leap second in every offset: valid only where it is 23:59:60 UTC.
        let sign = if minus { '-' } else { '+' };
        let text = format!("{y:04}-{mo:02}-{d:02}T23:59:60{sign}{h:02}:{m:02}");
        prop_assert_eq!(parse_rfc3339(&text), reference(&text), "{:?}", text);
        let shifted = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:60Z");
        prop_assert_eq!(parse_rfc3339(&shifted), reference(&shifted), "{:?}", shifted);
    }

    #[test]
    fn noise_reads_as_time_reads_it(text in "[0-9Tt:.+zZ -]{0,40}") {
        prop_assert_eq!(parse_rfc3339(&text), reference(&text), "{:?}", text);
    }

    #[test]
    fn any_second_renders_as_time_renders(secs in -70_000_000_000i64..260_000_000_000) {
        prop_assert_eq!(rfc3339(secs), reference_render(secs));
    }
}

#[test]
fn known_instants() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(1_795_852_020), "2026-11-28T07:47:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z", "a leap day of a 400-year leap year");
    assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z", "2100 is not a leap year");
    assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    // Outside what RFC 3339 can write: the fallback.
    assert_eq!(rfc3339(253_402_300_800), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(-62_167_219_201), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(i64::MAX), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(i64::MIN), "1970-01-01T00:00:00Z");
}

#[test]
fn every_day_boundary_of_five_centuries_renders_as_time_renders() {
    // 1900..2400: every leap rule, once a day and a second before midnight.
    let (from, to) = (-2_208_988_800_i64, 13_569_465_600_i64);
    let mut secs = from;
    while secs < to {
        assert_eq!(rfc3339(secs), reference_render(secs), "{secs}");
        assert_eq!(rfc3339(secs + 86_399), reference_render(secs + 86_399), "{}", secs + 86_399);
        secs += 86_400;
    }
}
