#![cfg(loom)]
//! `Event`: `set` versus registration, `set(); clear()` versus a waiting thread (no waiter
//! registered before a `set` is stranded by the `clear`).

mod support;

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use support::{Probe, leak, try_once};
use toro_sync::Event;

/// No lost wake-up: a wait created and polled on one thread while `set` runs on another
/// completes (a lost one is a loom deadlock), whether it registered before the set or saw the
/// flag on its first poll. A registered waiter R is released too.
#[test]
fn set_vs_register_no_lost_wakeup() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let setter = {
            let event = event.clone();
            thread::spawn(move || event.set())
        };
        block_on(event.wait());
        setter.join().unwrap();
        assert!(event.is_set());
        assert_eq!(event.waiters(), 0);
    });
}

/// `set(); clear()` on one thread releases every wait created before the `set`: W1 registered
/// before, W2 created before but polled (through `block_on`) concurrently with the set and the
/// clear — even if its first poll comes after the clear. A wait created after the clear
/// returned is pending.
#[test]
fn set_clear_vs_waiting_thread_releases_earlier_waits() {
    loom::model(|| {
        let event = leak(Event::new());
        let p1 = Probe::new();
        let mut w1 = event.wait();
        p1.pending(&mut w1);
        let mut w2 = event.wait();

        let toggler = thread::spawn(move || {
            event.set();
            event.clear();
        });
        block_on(&mut w2);
        toggler.join().unwrap();

        assert_eq!(p1.wakes(), 1);
        p1.ready(&mut w1);
        assert!(!event.is_set());
        assert_eq!(event.waiters(), 0);
        let mut later = event.wait();
        assert!(
            try_once(&mut later).is_pending(),
            "a wait after clear() completed"
        );
        assert_eq!(event.waiters(), 0);
    });
}

/// A registered waiter whose drop races `set`: nothing is lost for the other waiter (it waits
/// through `block_on`), and nothing stays registered.
#[test]
fn set_vs_drop_of_registered_waiter() {
    loom::model(|| {
        let event = leak(Event::new());
        let (pa, pb) = (Probe::new(), Probe::new());
        let (mut a, mut b) = (event.wait(), event.wait());
        pa.pending(&mut a);
        pb.pending(&mut b);

        let setter = thread::spawn(move || event.set());
        let dropper = thread::spawn(move || drop(a));
        block_on(&mut b);
        setter.join().unwrap();
        dropper.join().unwrap();
        assert!(pa.wakes() <= 1);
        assert_eq!(event.waiters(), 0);
    });
}

/// A `set` on an event that looks set (its lock-free path) racing a `clear` and a waiter that
/// registers after the clear: the waiter is released exactly when that `set` came after the
/// clear, i.e. when the event ends up set. A `set` that trusted a stale flag would strand it.
#[test]
fn set_of_a_set_event_vs_clear_and_register() {
    loom::model(|| {
        let event = leak(Event::new());
        event.set();
        let setter = thread::spawn(move || event.set());
        event.clear();
        let probe = Probe::new();
        let mut w = event.wait();
        let first = probe.poll(&mut w);
        setter.join().unwrap();
        let released = first.is_ready() || probe.poll(&mut w).is_ready();
        assert_eq!(released, event.is_set());
        if !released {
            assert_eq!(event.waiters(), 1);
            event.set();
            assert_eq!(probe.wakes(), 1);
            probe.ready(&mut w);
        }
        assert_eq!(event.waiters(), 0);
    });
}

/// A registered waiter's deadline passing (its expiry, which may pick a release up without the
/// lock) racing a `set` on another thread: one outcome — released if the set came first, timed
/// out otherwise — nothing stays registered, and the waiter is woken at most once.
#[test]
fn lock_free_pickup_vs_expiry() {
    use toro_sync::future::Waitable;
    loom::model(|| {
        let event = leak(Event::new());
        let probe = Probe::new();
        let mut w = event.wait();
        probe.pending(&mut w);
        let setter = thread::spawn(move || event.set());
        let outcome = Waitable::expire(&mut w);
        setter.join().unwrap();
        assert!(probe.wakes() <= 1);
        if outcome.is_err() {
            // Timed out: the set found nobody to wake.
            assert_eq!(probe.wakes(), 0);
        }
        assert_eq!(event.waiters(), 0);
        assert!(event.is_set());
    });
}
