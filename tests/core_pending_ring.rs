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

#[test]
fn a_ring_started_elsewhere_does_not_answer_another_rings_numbers() {
    // After a wasm reset a new ring is built; a request the old one numbered may come
    // back. Started at different numbers, the new ring finds nothing under the old one's.
    let mut old = PendingRing::starting_at(0, 8, 30);
    let stale = old.insert("the old instance's request", T0).unwrap();
    let mut new = PendingRing::starting_at(0x9e37_79b9, 8, 30);
    let fresh = new.insert("a newer request", T0).unwrap();
    assert_ne!(stale, fresh);
    assert_eq!(new.take(stale), None);
    assert_eq!(new.take(fresh), Some("a newer request"));
    // Numbering wraps around u32 without losing an entry.
    let mut edge = PendingRing::starting_at(u32::MAX, 8, 30);
    let (x, y) = (edge.insert('x', T0).unwrap(), edge.insert('y', T0).unwrap());
    assert_eq!((x, y), (u32::MAX, 0));
    assert_eq!((edge.take(y), edge.take(x)), (Some('y'), Some('x')));
}
