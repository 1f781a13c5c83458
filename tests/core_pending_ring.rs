//! The hot path's ring of requests waiting on their KV read.

use edge_sessions::core::pending_ring::PendingRing;

const T0: i64 = 1_790_000_000;

#[test]
fn entries_finish_in_any_order_and_a_number_finds_only_its_own() {
    let mut ring = PendingRing::new(8, 30);
    let a = ring.insert("a", T0).unwrap();
    let b = ring.insert("b", T0).unwrap();
    let c = ring.insert("c", T0).unwrap();
    assert_eq!(ring.take(b), Some("b"));
    assert_eq!(ring.take(b), None, "taken once");
    assert_eq!(ring.take(a), Some("a"));
    let d = ring.insert("d", T0).unwrap();
    assert_ne!(d, a, "numbers are not reused while the ring holds what came after them");
    assert_eq!(ring.take(c), Some("c"));
    assert_eq!(ring.take(d), Some("d"));
    assert!(ring.is_empty());
    assert_eq!(ring.take(12345), None);
}

#[test]
fn the_ring_is_bounded_and_drops_entries_nobody_finished() {
    let mut ring = PendingRing::new(2, 30);
    let a = ring.insert(1, T0).unwrap();
    ring.insert(2, T0).unwrap();
    assert_eq!(ring.insert(3, T0 + 29), None, "full of live entries: the caller takes the full path");
    // The first two were never finished (their requests were cancelled): past the age
    // limit they go, and their numbers find nothing.
    let c = ring.insert(3, T0 + 30).unwrap();
    assert_eq!(ring.take(a), None);
    assert_eq!(ring.take(c), Some(3));
    assert_eq!(ring.len(), 0);
}
