//! What the platform-free core costs per validation, step by step, natively on the host
//! (`cargo run --release --example core_validate`). Prints nanoseconds per operation.
//! The wasm build runs the same code somewhat slower; the point is the proportions:
//! which steps of the validate path are worth optimising at all.

use edge_sessions::core::account::AccountId;
use edge_sessions::core::credentials::extract_credential;
use edge_sessions::core::drift::{Baseline, BaselineStamp, ClientSignals};
use edge_sessions::core::policy::{LifetimeOverrides, Policy};
use edge_sessions::core::record::{SessionMeta, SessionRecord};
use edge_sessions::core::timestamp::rfc3339;
use edge_sessions::core::token::SessionToken;
use edge_sessions::core::user_agent::UserAgent;
use std::hint::black_box;
use std::time::Instant;

const ITERATIONS: u32 = 200_000;

fn measure(name: &str, mut step: impl FnMut()) {
    for _ in 0..ITERATIONS / 10 {
        step(); // warm-up
    }
    let started = Instant::now();
    for _ in 0..ITERATIONS {
        step();
    }
    let ns = started.elapsed().as_nanos() as f64 / f64::from(ITERATIONS);
    println!("| {name} | {ns:.0} |");
}

fn main() {
    let token = SessionToken::from_random_bytes(std::array::from_fn(|i| (i * 37 + 11) as u8));
    let cookie_header = format!(
        "_ga=GA1.2.1234567890.1790000000; theme=dark; lang=en-GB; __Host-session={}; consent=yes",
        token.expose_secret()
    );
    let policy = Policy::default();
    let now = 1_790_000_100;
    let meta = SessionMeta {
        ip: Some("203.0.113.7".into()),
        user_agent: Some(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0 Safari/537.36".into(),
        ),
        label: Some("Laptop".into()),
    };
    let record = policy
        .start(
            AccountId::parse("alice@example.com").unwrap(),
            token.session_id(),
            meta,
            LifetimeOverrides::default(),
            now - 100,
        )
        .unwrap();
    let stored = record.encode();

    println!("| step (native, {ITERATIONS} iterations) | ns/op |");
    println!("| --- | --- |");
    measure("find and parse the token in a 5-cookie header", || {
        black_box(extract_credential(Some(black_box(&cookie_header)), None, "__Host-session", None, 0).unwrap());
    });
    measure("blake3 hash and KV key", || {
        black_box(black_box(&token).hash().kv_key());
    });
    measure("decode the stored record (JSON)", || {
        black_box(SessionRecord::decode(black_box(stored.as_bytes())).unwrap());
    });
    measure("check deadlines and decide on a touch", || {
        black_box(policy.check(black_box(&record), now));
        black_box(policy.touch(black_box(&record), now));
    });
    measure("format three RFC 3339 timestamps", || {
        black_box(rfc3339(black_box(record.created_at)));
        black_box(rfc3339(black_box(record.idle_expires_at)));
        black_box(rfc3339(black_box(record.absolute_expires_at)));
    });
    // Theft signals (docs/theft-signals.md): the request's baseline from the lines the
    // entry shim passes, its digest, and the compare with the record's stamp.
    let ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36";
    let headers = format!("203.0.113.7\n{ua}\n\"Linux\"");
    let cf = "3320\nDE\n0123456789abcdef0123456789abcdef01234567\n76543210fedcba9876543210fedcba9876543210\nTLSv1.3\n";
    let stamp = BaselineStamp::of(&Baseline::observe(&ClientSignals::from_lines(&headers, Some(cf))), None);
    measure("  of which: the user-agent table", || {
        black_box(UserAgent::parse(Some(black_box(ua)), Some("\"Linux\"")));
    });
    let observed = Baseline::observe(&ClientSignals::from_lines(&headers, Some(cf)));
    measure("  of which: the digest", || {
        black_box(black_box(&observed).digest());
    });
    measure("theft signals: baseline from request.cf and headers, digest, compare", || {
        let observed = Baseline::observe(&ClientSignals::from_lines(black_box(&headers), Some(black_box(cf))));
        black_box(observed.digest() == black_box(&stamp).digest);
    });
    measure("encode the response body (JSON)", || {
        let body = serde_json::json!({
            "account_id": record.account_id.as_str(),
            "session_id": record.session_id.as_str(),
            "created_at": "2026-11-22T08:00:00Z",
            "expires_at": "2026-11-22T08:30:00Z",
            "absolute_expires_at": "2026-12-22T08:00:00Z",
        });
        black_box(serde_json::to_string(&body).unwrap());
    });
}
