use super::*;
use crate::protocol::Envelope;
use std::sync::Arc;

fn message() -> ReceivedMessage {
    ReceivedMessage::new(Envelope::default(), b"Subject: x\r\n\r\n".to_vec())
}

#[test]
fn a_blocked_waiter_is_woken_by_a_push_and_stops_counting_itself() {
    let store = Arc::new(Store::default());
    let waiter = {
        let store = store.clone();
        std::thread::spawn(move || store.wait_until(Duration::from_secs(30), |r| r.messages.len() >= 2))
    };
    // Whether the waiter blocks before, between or after the pushes,
    // it sees both (no timed assertion: the 30 s bound is only a cap).
    store.push_message(message());
    store.push_message(message());
    assert!(waiter.join().unwrap());
    assert_eq!(store.blocked.load(Ordering::SeqCst), 0);
    assert!(store.wait_until(Duration::ZERO, |r| r.messages.len() == 2));
    assert_eq!(store.blocked.load(Ordering::SeqCst), 0);
}

#[test]
fn events_reach_a_subscriber_once_there_is_one() {
    let store = Store::default();
    store.push_message(message());
    let mut events = store.subscribe();
    store.push_message(message());
    assert!(matches!(events.try_recv(), Ok(StoreEvent::Accepted(2))));
    assert!(events.try_recv().is_err());
}
