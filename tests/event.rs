//! Event: set/clear/wait, released waiters, futures created before a set.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Polled, WakeLog};
use toro_sync::{Event, Timeout};

#[test]
fn set_releases_every_waiter_in_order() {
    let e = Event::new();
    let log = WakeLog::default();
    let mut ws: Vec<_> = (0..4)
        .map(|i| Polled::with_waker(e.wait(), log.waker(i)))
        .collect();
    for w in &mut ws {
        assert!(w.is_pending());
    }
    assert_eq!(e.waiters(), 4);
    e.set();
    assert_eq!(log.take(), vec![0, 1, 2, 3]);
    assert_eq!(e.waiters(), 0);
    for w in &mut ws {
        assert!(w.poll().is_ready());
    }
    assert!(e.is_set());
    assert!(
        Polled::new(e.wait()).poll().is_ready(),
        "set: completes at once"
    );
}

#[test]
fn set_then_clear_still_releases_registered_waiters() {
    for n in [1, 100] {
        let e = Event::new();
        let mut ws: Vec<_> = (0..n).map(|_| Polled::new(e.wait())).collect();
        for w in &mut ws {
            assert!(w.is_pending());
        }
        e.set();
        e.clear();
        assert!(!e.is_set());
        for w in &mut ws {
            assert_eq!(w.wakes(), 1);
            assert!(w.poll().is_ready());
        }
        assert!(
            Polled::new(e.wait()).is_pending(),
            "after clear, new waits block"
        );
    }
}

#[test]
fn future_created_before_set_completes_even_if_cleared() {
    let e = Event::new();
    let early = e.wait();
    e.set();
    e.clear();
    assert!(Polled::new(early).poll().is_ready());
    let late = e.wait();
    assert!(Polled::new(late).is_pending());
}

#[test]
fn dropped_waiter_is_unregistered() {
    let e = Event::new();
    let mut w = Polled::new(e.wait());
    assert!(w.is_pending());
    drop(w);
    assert_eq!(e.waiters(), 0);
}

#[test]
fn debug_shows_state() {
    let e = Event::new();
    assert_eq!(format!("{e:?}"), "Event { set: false, waiters: 0 }");
    e.set();
    assert_eq!(format!("{e:?}"), "Event { set: true, waiters: 0 }");
}

#[tokio::test(start_paused = true)]
async fn wait_timeout_then_set_resolves_a_longer_wait() {
    let e = Arc::new(Event::new());
    let start = tokio::time::Instant::now();
    assert_eq!(
        e.wait().deadline(Duration::from_millis(100)).await,
        Err(Timeout)
    );
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    let e2 = e.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        e2.set();
    });
    assert_eq!(e.wait().deadline(Duration::from_secs(1)).await, Ok(()));
    assert_eq!(start.elapsed(), Duration::from_millis(200));
}

#[test]
fn block_from_threads() {
    let e = Arc::new(Event::new());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let e = e.clone();
            std::thread::spawn(move || e.wait().block())
        })
        .collect();
    while e.waiters() < 4 {
        std::thread::yield_now();
    }
    e.set();
    for t in threads {
        t.join().unwrap();
    }
}
