//! At most one touch per token per interval from one isolate, in bounded memory.

use edge_sessions::core::touch_memory::TouchMemory;

mod common;

#[test]
fn a_stale_copy_sends_one_touch_per_interval_not_one_per_validation() {
    let hash = common::token(7).hash();
    let mut memory = TouchMemory::new(100);
    // 1,000 validations over 60 s of a stale copy that always finds a touch due.
    let sent = (0..1000).filter(|i| memory.should_send(&hash, 1000 + i * 60 / 1000, 300)).count();
    assert_eq!(sent, 1);
    assert!(memory.should_send(&hash, 1000 + 300, 300), "due again after the interval");
    assert!((0..5).all(|_| TouchMemory::new(1).should_send(&hash, 1, 0)), "interval 0 touches every use");
}

#[test]
fn memory_is_bounded_and_per_token() {
    let mut memory = TouchMemory::new(3);
    let hashes: Vec<_> = (0..10u8).map(|n| common::token(n).hash()).collect();
    for h in &hashes {
        assert!(memory.should_send(h, 10, 300), "another token has its own budget");
        assert!(memory.len() <= 3);
    }
    assert!(!memory.is_empty());
}

#[test]
fn a_touch_that_could_not_be_sent_is_forgotten() {
    let hash = common::token(9).hash();
    let mut memory = TouchMemory::new(8);
    assert!(memory.should_send(&hash, 1_000, 300));
    assert!(!memory.should_send(&hash, 1_001, 300), "remembered");
    memory.forget(&hash); // the hot path's ring was full: nothing was sent
    assert!(memory.should_send(&hash, 1_002, 300), "the next use asks again");
}
