//! `close()` while an item is handed to a getter that has not taken it yet: the waiting getters
//! must not fail with `Closed` while that item may still come back (the `close` docs: gets take
//! what is left, then fail with `Closed`).

mod common;

use common::Polled;
use toro_sync::{GetError, Queue};

#[test]
fn dropped_holder_after_close_passes_the_item_to_a_waiting_getter() {
    let q = Queue::unbounded();
    let mut g1 = Polled::new(q.get());
    let mut g2 = Polled::new(q.get());
    assert!(g1.is_pending() && g2.is_pending());
    q.try_put(9).unwrap();
    q.close();
    // G2 keeps waiting: the item handed to G1 may still come back.
    assert!(g2.is_pending());
    drop(g1);
    assert_eq!(g2.ready(), Ok(9));
    assert_eq!(q.try_get(), Err(GetError::Closed));
    assert_eq!(q.waiters(), 0);
}

#[test]
fn taken_item_after_close_releases_waiting_getters_with_closed() {
    let q = Queue::unbounded();
    let mut g1 = Polled::new(q.get());
    let mut g2 = Polled::new(q.get());
    assert!(g1.is_pending() && g2.is_pending());
    q.try_put(1).unwrap();
    q.close();
    assert!(g2.is_pending());
    assert_eq!(g1.ready(), Ok(1));
    assert_eq!(g2.wakes(), 1);
    assert_eq!(g2.ready(), Err(GetError::Closed));
    assert_eq!(q.waiters(), 0);
}
