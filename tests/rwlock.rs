//! RwLock: FIFO and write-preferring grants, max_readers, all-or-nothing writes on timeout and
//! drop, try_* never barging, the recursive-read policy, cancel safety, panics, and the small
//! API (get_mut, into_inner, Debug, Default).
//!
//! Also covers the cases of toro 1.0.1's `test/test_rwlock.py`.

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Polled, WakeLog};
use toro_sync::{RwLock, RwLockReadGuard, RwLockWriteGuard, Timeout};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}

#[test]
fn auto_traits() {
    assert_send_sync::<RwLock<Vec<u8>>>();
    assert_send_sync::<RwLockReadGuard<'static, Vec<u8>>>();
    assert_send_sync::<RwLockWriteGuard<'static, Vec<u8>>>();
    assert_send::<toro_sync::future::RwLockRead<'static, Vec<u8>>>();
    assert_send::<toro_sync::future::RwLockWrite<'static, Vec<u8>>>();
    assert_send::<toro_sync::future::WithDeadline<toro_sync::future::RwLockWrite<'static, Vec<u8>>>>(
    );
}

// ---------------------------------------------------------------------------------------------
// FIFO and write preference
// ---------------------------------------------------------------------------------------------

/// Reads and writes interleaved, max_readers = 2: every release hands access to the oldest
/// requests that fit, in order, and nobody behind a request that does not fit is served.
#[test]
fn fifo_grant_order_reads_and_writes_interleaved() {
    let lock = RwLock::with_max_readers(0u32, 2);
    let log = WakeLog::default();
    let w0 = lock.try_write().expect("a fresh lock is free");

    let mut r1 = Polled::with_waker(lock.read(), log.waker(1));
    let mut r2 = Polled::with_waker(lock.read(), log.waker(2));
    let mut w3 = Polled::with_waker(lock.write(), log.waker(3));
    let mut r4 = Polled::with_waker(lock.read(), log.waker(4));
    let mut r5 = Polled::with_waker(lock.read(), log.waker(5));
    let mut r6 = Polled::with_waker(lock.read(), log.waker(6));
    let mut w7 = Polled::with_waker(lock.write(), log.waker(7));
    let mut r8 = Polled::with_waker(lock.read(), log.waker(8));
    assert!(r1.is_pending());
    assert!(r2.is_pending());
    assert!(w3.is_pending());
    assert!(r4.is_pending());
    assert!(r5.is_pending());
    assert!(r6.is_pending());
    assert!(w7.is_pending());
    assert!(r8.is_pending());
    assert_eq!(lock.waiters(), 8);
    assert!(log.take().is_empty());

    // The writer leaves: the two reads at the head fit together; W3 (needs 2) does not.
    drop(w0);
    assert_eq!(log.take(), [1, 2]);
    assert_eq!(lock.waiters(), 6);
    let g1 = r1.ready();
    let g2 = r2.ready();
    assert!(w3.is_pending());

    // One read released: one slot free, W3 still does not fit, and R4 behind it is not served.
    drop(g1);
    assert!(log.take().is_empty());
    assert!(w3.is_pending());
    assert!(r4.is_pending());
    drop(g2);
    assert_eq!(log.take(), [3]);
    let mut g3 = w3.ready();
    *g3 = 3;
    assert!(r4.is_pending());

    // The writer leaves: R4 and R5 fill both slots, R6 waits for a slot.
    drop(g3);
    assert_eq!(log.take(), [4, 5]);
    let g4 = r4.ready();
    let g5 = r5.ready();
    assert_eq!((*g4, *g5), (3, 3));
    assert!(r6.is_pending());
    drop(g4);
    assert_eq!(log.take(), [6]);
    let g6 = r6.ready();
    assert_eq!(*g6, 3);
    assert!(w7.is_pending());
    drop(g5);
    assert!(log.take().is_empty(), "W7 needs both slots");
    drop(g6);
    assert_eq!(log.take(), [7]);
    let mut g7 = w7.ready();
    *g7 = 7;
    assert!(r8.is_pending());
    drop(g7);
    assert_eq!(log.take(), [8]);
    assert_eq!(*r8.ready(), 7);
    assert_eq!(lock.waiters(), 0);
}

/// With unlimited readers, all the reads queued behind a writer are granted in the one call
/// that releases it, and the write queued behind them is not.
#[test]
fn consecutive_queued_reads_granted_together() {
    let lock = RwLock::new(String::from("a"));
    let log = WakeLog::default();
    let mut w0 = lock.try_write().unwrap();
    let mut reads: Vec<_> = (0..5)
        .map(|i| Polled::with_waker(lock.read(), log.waker(i)))
        .collect();
    let mut w = Polled::with_waker(lock.write(), log.waker(100));
    let mut late = Polled::with_waker(lock.read(), log.waker(200));
    for r in &mut reads {
        assert!(r.is_pending());
    }
    assert!(w.is_pending());
    assert!(late.is_pending());
    assert_eq!(lock.waiters(), 7);

    w0.push('b');
    drop(w0);
    assert_eq!(log.take(), [0, 1, 2, 3, 4]);
    let guards: Vec<_> = reads.iter_mut().map(|r| r.ready()).collect();
    assert!(guards.iter().all(|g| **g == "ab"));
    assert!(w.is_pending());
    assert!(
        late.is_pending(),
        "the late read is behind the queued write"
    );
    assert_eq!(lock.waiters(), 2);

    drop(guards);
    assert_eq!(log.take(), [100]);
    drop(w.ready());
    assert_eq!(log.take(), [200]);
    assert_eq!(*late.ready(), "ab");
}

/// Write preference: a read arriving after a queued write waits for it even though read slots
/// are free.
#[test]
fn read_after_queued_write_waits_for_it() {
    let lock = RwLock::new(1);
    let log = WakeLog::default();
    let r1 = lock.try_read().unwrap();
    let mut w = Polled::with_waker(lock.write(), log.waker(0));
    assert!(w.is_pending());
    let mut r2 = Polled::with_waker(lock.read(), log.waker(1));
    assert!(r2.is_pending(), "slots are free, but a write is queued");
    assert!(lock.try_read().is_none());
    assert_eq!(lock.waiters(), 2);

    drop(r1);
    assert_eq!(log.take(), [0]);
    let mut g = w.ready();
    *g = 2;
    assert!(r2.is_pending());
    drop(g);
    assert_eq!(log.take(), [1]);
    assert_eq!(*r2.ready(), 2);
    assert_eq!(lock.waiters(), 0);
}

/// A writer waits for every reader ahead of it, however many there are (toro's
/// test_reacquire / test_partial_release).
#[test]
fn writer_waits_for_all_readers_then_readers_wait_for_writer() {
    let lock = RwLock::with_max_readers((), 10);
    let readers: Vec<_> = (0..5).map(|_| lock.try_read().unwrap()).collect();
    let mut w = Polled::new(lock.write());
    assert!(w.is_pending());
    let mut readers = readers.into_iter();
    for _ in 0..4 {
        drop(readers.next());
        assert!(w.is_pending());
        assert_eq!(w.wakes(), 0);
    }
    drop(readers.next());
    assert_eq!(w.wakes(), 1);
    let g = w.ready();
    assert!(lock.try_read().is_none());
    assert!(lock.try_write().is_none());
    drop(g);
    assert!(lock.try_write().is_some());
}

/// Two queued writers cannot split the read slots between them: the second waits until the
/// first has had and released all of them.
#[test]
fn concurrent_writers_do_not_split_slots() {
    let lock = RwLock::with_max_readers(0, 8);
    let log = WakeLog::default();
    let readers: Vec<_> = (0..6).map(|_| lock.try_read().unwrap()).collect();
    let mut w1 = Polled::with_waker(lock.write(), log.waker(1));
    let mut w2 = Polled::with_waker(lock.write(), log.waker(2));
    assert!(w1.is_pending());
    assert!(w2.is_pending());
    for r in readers {
        assert!(log.take().is_empty());
        drop(r);
    }
    assert_eq!(log.take(), [1]);
    let mut g1 = w1.ready();
    *g1 += 1;
    assert!(w2.is_pending());
    drop(g1);
    assert_eq!(log.take(), [2]);
    let mut g2 = w2.ready();
    *g2 += 1;
    assert_eq!(*g2, 2);
}

// ---------------------------------------------------------------------------------------------
// max_readers
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn max_readers_three_admits_three() {
    let lock = RwLock::with_max_readers(9, 3);
    assert_eq!(lock.max_readers(), 3);
    let r1 = lock.read().await;
    let r2 = lock.read().await;
    let r3 = lock.read().await;
    assert_eq!(*r1 + *r2 + *r3, 27);
    assert!(lock.try_read().is_none());
    let mut r4 = Polled::new(lock.read());
    assert!(r4.is_pending());
    assert_eq!(lock.waiters(), 1);
    drop(r2);
    assert_eq!(r4.wakes(), 1);
    let g4 = r4.ready();
    assert_eq!(*g4, 9);
    assert!(lock.try_read().is_none());
    drop((r1, r3, g4));
    let all: Vec<_> = (0..3).map(|_| lock.try_read().unwrap()).collect();
    assert!(lock.try_read().is_none());
    drop(all);
    assert!(lock.try_write().is_some());
}

/// max_readers = 1 makes it a mutex: reads exclude reads and writes alike.
#[test]
fn max_readers_one_is_a_mutex() {
    let lock = RwLock::with_max_readers(Vec::<u32>::new(), 1);
    let log = WakeLog::default();
    let r = lock.try_read().unwrap();
    assert!(lock.try_read().is_none());
    assert!(lock.try_write().is_none());
    let mut r2 = Polled::with_waker(lock.read(), log.waker(2));
    let mut w3 = Polled::with_waker(lock.write(), log.waker(3));
    let mut r4 = Polled::with_waker(lock.read(), log.waker(4));
    assert!(r2.is_pending());
    assert!(w3.is_pending());
    assert!(r4.is_pending());
    drop(r);
    assert_eq!(log.take(), [2], "one reader at a time");
    let g2 = r2.ready();
    assert!(w3.is_pending());
    drop(g2);
    assert_eq!(log.take(), [3]);
    w3.ready().push(3);
    assert_eq!(log.take(), [4]);
    let g4 = r4.ready();
    assert_eq!(*g4, [3]);
    assert!(lock.try_read().is_none());
}

/// Five contending tasks on a max_readers = 1 lock never overlap (toro's
/// test_acquire_contended on the read side).
#[tokio::test]
async fn max_readers_one_contended_tasks_serialize() {
    let lock = Arc::new(RwLock::with_max_readers((), 1));
    let inside = Arc::new(AtomicUsize::new(0));
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let held = lock.write().await;
    let mut tasks = Vec::new();
    for i in 0..5 {
        let (lock2, inside, order) = (lock.clone(), inside.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            let _g = lock2.read().await;
            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
            order.lock().unwrap().push(i);
            tokio::task::yield_now().await;
            inside.fetch_sub(1, Ordering::SeqCst);
        }));
        // Let it register before the next one, so arrival order is known.
        while lock.waiters() < i + 1 {
            tokio::task::yield_now().await;
        }
    }
    drop(held);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
    assert_eq!(lock.waiters(), 0);
}

#[test]
#[should_panic(expected = "max_readers")]
fn max_readers_zero_panics() {
    let _ = RwLock::with_max_readers((), 0);
}

/// new() admits readers without a practical limit, and a write still takes them all.
#[test]
fn new_is_unlimited() {
    let lock = RwLock::new(5u8);
    assert_eq!(lock.max_readers(), RwLock::<u8>::MAX_READERS);
    let readers: Vec<_> = (0..10_000).map(|_| lock.try_read().unwrap()).collect();
    assert!(readers.iter().all(|r| **r == 5));
    assert!(lock.try_write().is_none());
    let mut w = Polled::new(lock.write());
    assert!(w.is_pending());
    drop(readers);
    assert_eq!(w.wakes(), 1);
    let g = w.ready();
    assert!(lock.try_read().is_none());
    drop(g);
    let again: Vec<_> = (0..1000).map(|_| lock.try_read().unwrap()).collect();
    assert_eq!(again.len(), 1000);
}

/// The largest max_readers does not overflow the permit arithmetic.
#[test]
fn huge_max_readers_works() {
    let lock = RwLock::with_max_readers(0u64, RwLock::<u64>::MAX_READERS);
    *lock.try_write().unwrap() += 1;
    let r = lock.try_read().unwrap();
    assert!(lock.try_write().is_none());
    drop(r);
    assert_eq!(*lock.try_write().unwrap(), 1);
}

/// toro's `RWLock(max_readers)` takes any positive count: above the maximum means "as many as
/// you like", clamped to `MAX_READERS`, and the lock works as one with unlimited readers.
#[test]
fn max_readers_above_max_is_clamped() {
    for asked in [RwLock::<()>::MAX_READERS + 1, usize::MAX] {
        let lock = RwLock::with_max_readers(0u64, asked);
        assert_eq!(lock.max_readers(), RwLock::<u64>::MAX_READERS);
        let readers: Vec<_> = (0..1000).map(|_| lock.try_read().unwrap()).collect();
        assert!(lock.try_write().is_none());
        drop(readers);
        *lock.try_write().unwrap() += 1;
        assert_eq!(*lock.try_read().unwrap(), 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Writes are all-or-nothing on timeout and drop
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn writer_timeout_holds_no_slot() {
    let lock = RwLock::with_max_readers(0, 4);
    let r1 = lock.read().await;
    let start = tokio::time::Instant::now();
    let mut w = Polled::new(lock.write().deadline(Duration::from_secs(1)));
    assert!(w.is_pending());
    assert_eq!(lock.waiters(), 1);
    assert!(lock.try_read().is_none(), "write preference while W waits");

    assert_eq!(w.fut.as_mut().await.err(), Some(Timeout));
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(1) && waited < Duration::from_millis(1100));
    assert_eq!(lock.waiters(), 0);

    // Exactly the 3 slots R1 does not hold are free.
    let extra: Vec<_> = (0..3)
        .map(|i| {
            lock.try_read()
                .unwrap_or_else(|| panic!("read slot {i} is free"))
        })
        .collect();
    assert!(lock.try_read().is_none(), "only 3 slots were free");
    assert!(lock.read().deadline(Duration::ZERO).await.is_err());
    drop(extra);
    assert!(lock.try_write().is_none(), "R1 still holds one slot");

    drop(r1);
    let mut g = lock
        .write()
        .deadline(Duration::ZERO)
        .await
        .expect("a writer acquires at once");
    *g = 1;
    drop(g);
    drop(w);
    assert_eq!(lock.waiters(), 0);
    assert_eq!(lock.into_inner(), 1);
}

#[test]
fn writer_dropped_holds_no_slot() {
    let lock = RwLock::with_max_readers(0, 4);
    let r1 = lock.try_read().unwrap();
    let mut w = Polled::new(lock.write());
    assert!(w.is_pending());
    assert_eq!(lock.waiters(), 1);
    drop(w);
    assert_eq!(lock.waiters(), 0);
    let extra: Vec<_> = (0..3).map(|_| lock.try_read().unwrap()).collect();
    assert!(lock.try_read().is_none());
    drop(extra);
    assert!(lock.try_write().is_none());
    drop(r1);
    assert!(lock.try_write().is_some(), "a writer acquires at once");
    assert_eq!(lock.waiters(), 0);
}

/// R1 holds; W waits (with a deadline); R2, R3 queue behind W. W's timeout alone makes R2 and
/// R3 ready, with no release.
#[tokio::test(start_paused = true)]
async fn readers_behind_timed_out_writer_are_woken() {
    let lock = RwLock::with_max_readers(0, 4);
    let log = WakeLog::default();
    let r1 = lock.read().await;
    let mut w = Polled::new(lock.write().deadline(Duration::from_millis(50)));
    assert!(w.is_pending());
    let mut r2 = Polled::with_waker(lock.read(), log.waker(2));
    let mut r3 = Polled::with_waker(lock.read(), log.waker(3));
    assert!(r2.is_pending());
    assert!(r3.is_pending());
    assert_eq!(lock.waiters(), 3);

    assert_eq!(w.fut.as_mut().await.err(), Some(Timeout));
    assert_eq!(log.take(), [2, 3], "woken by the writer's withdrawal");
    assert_eq!(lock.waiters(), 0);
    let g2 = r2.ready();
    let g3 = r3.ready();
    // R1, R2, R3 hold three slots: one left.
    let r4 = lock.try_read().expect("one slot left");
    assert!(lock.try_read().is_none());
    drop((r1, g2, g3, r4));
    assert!(lock.try_write().is_some());
}

#[test]
fn readers_behind_dropped_writer_are_woken() {
    let lock = RwLock::new(0);
    let log = WakeLog::default();
    let r1 = lock.try_read().unwrap();
    let mut w = Polled::with_waker(lock.write(), log.waker(1));
    let mut r2 = Polled::with_waker(lock.read(), log.waker(2));
    let mut r3 = Polled::with_waker(lock.read(), log.waker(3));
    assert!(w.is_pending());
    assert!(r2.is_pending());
    assert!(r3.is_pending());
    drop(w);
    assert_eq!(log.take(), [2, 3]);
    assert_eq!(lock.waiters(), 0);
    let (g2, g3) = (r2.ready(), r3.ready());
    assert_eq!(*g2 + *g3 + *r1, 0);
}

/// A writer leaving the head lets in only as many of the reads behind it as there are free
/// slots, in order.
#[test]
fn dropped_writer_admits_only_the_reads_that_fit() {
    let lock = RwLock::with_max_readers((), 2);
    let log = WakeLog::default();
    let r1 = lock.try_read().unwrap();
    let mut w = Polled::with_waker(lock.write(), log.waker(1));
    let mut r2 = Polled::with_waker(lock.read(), log.waker(2));
    let mut r3 = Polled::with_waker(lock.read(), log.waker(3));
    let mut r4 = Polled::with_waker(lock.read(), log.waker(4));
    assert!(w.is_pending());
    assert!(r2.is_pending());
    assert!(r3.is_pending());
    assert!(r4.is_pending());
    drop(w);
    assert_eq!(log.take(), [2], "one slot was free");
    assert_eq!(lock.waiters(), 2);
    let g2 = r2.ready();
    drop(r1);
    assert_eq!(log.take(), [3]);
    drop(g2);
    assert_eq!(log.take(), [4]);
    drop((r3.ready(), r4.ready()));
    assert_eq!(lock.waiters(), 0);
}

/// A writer that is not at the head leaving changes nothing for those ahead and lets the
/// reads behind it join the reads ahead when those are granted.
#[test]
fn dropping_a_writer_in_the_middle_of_the_queue() {
    let lock = RwLock::with_max_readers((), 2);
    let log = WakeLog::default();
    let w0 = lock.try_write().unwrap();
    let mut r1 = Polled::with_waker(lock.read(), log.waker(1));
    let mut w2 = Polled::with_waker(lock.write(), log.waker(2));
    let mut r3 = Polled::with_waker(lock.read(), log.waker(3));
    assert!(r1.is_pending());
    assert!(w2.is_pending());
    assert!(r3.is_pending());
    drop(w2);
    assert!(log.take().is_empty(), "the writer still holds the lock");
    assert_eq!(lock.waiters(), 2);
    drop(w0);
    assert_eq!(log.take(), [1, 3]);
    drop((r1.ready(), r3.ready()));
}

// ---------------------------------------------------------------------------------------------
// try_* never barge
// ---------------------------------------------------------------------------------------------

#[test]
fn try_read_and_try_write_never_barge() {
    let lock = RwLock::with_max_readers(0, 4);
    let r1 = lock.try_read().unwrap();
    let mut w = Polled::new(lock.write());
    assert!(w.is_pending());
    // Three read slots are free, but a write is queued.
    assert!(lock.try_read().is_none());
    assert!(lock.try_write().is_none());
    drop(r1);
    // W was granted; it has not taken its grant yet, but it holds the lock.
    assert_eq!(w.wakes(), 1);
    assert!(lock.try_read().is_none());
    assert!(lock.try_write().is_none());
    let g = w.ready();

    // Now a read queued behind the held write, which then releases: the read is granted and
    // a try_write cannot take the lock from it.
    let mut r = Polled::new(lock.read());
    assert!(r.is_pending());
    drop(g);
    assert!(lock.try_write().is_none());
    let gr = r.ready();
    // A free slot and nobody queued: try_read succeeds again.
    assert!(lock.try_read().is_some());
    drop(gr);
    assert!(lock.try_write().is_some());
}

#[test]
fn try_write_does_not_barge_past_queued_read() {
    let lock = RwLock::with_max_readers((), 1);
    let r = lock.try_read().unwrap();
    let mut queued = Polled::new(lock.read());
    assert!(queued.is_pending());
    drop(r);
    // The queued read has been handed the only slot.
    assert!(lock.try_write().is_none());
    assert!(lock.try_read().is_none());
    drop(queued.ready());
    assert!(lock.try_write().is_some());
}

// ---------------------------------------------------------------------------------------------
// Recursive read under write preference
// ---------------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn recursive_read_with_queued_write_times_out() {
    let lock = RwLock::new(0);
    let first = lock.read().await;
    let mut w = Polled::new(lock.write());
    assert!(w.is_pending());
    let second = lock.read().deadline(Duration::from_secs(1)).await;
    assert_eq!(second.err(), Some(Timeout));
    // The writer was not let in while the first read is held.
    assert_eq!(w.wakes(), 0);
    assert!(w.is_pending());
    assert!(lock.try_write().is_none());
    assert_eq!(lock.waiters(), 1);
    assert_eq!(*first, 0);
    drop(first);
    assert_eq!(w.wakes(), 1);
    *w.ready() = 1;
    assert_eq!(*lock.read().await, 1);
}

// ---------------------------------------------------------------------------------------------
// Cancel safety: grants passed on
// ---------------------------------------------------------------------------------------------

/// A write granted and dropped before it is polled passes the lock to the reads behind it.
#[test]
fn granted_write_dropped_before_poll_passes_access_on() {
    let lock = RwLock::with_max_readers(0, 2);
    let log = WakeLog::default();
    let w0 = lock.try_write().unwrap();
    let mut w1 = Polled::with_waker(lock.write(), log.waker(1));
    let mut r2 = Polled::with_waker(lock.read(), log.waker(2));
    let mut r3 = Polled::with_waker(lock.read(), log.waker(3));
    assert!(w1.is_pending());
    assert!(r2.is_pending());
    assert!(r3.is_pending());
    drop(w0);
    assert_eq!(log.take(), [1]);
    drop(w1);
    assert_eq!(log.take(), [2, 3]);
    let (g2, g3) = (r2.ready(), r3.ready());
    drop((g2, g3));
    assert!(lock.try_write().is_some());
    assert_eq!(lock.waiters(), 0);
}

/// A read granted and dropped before it is polled gives its slot back, letting the writer
/// behind it in.
#[test]
fn granted_read_dropped_before_poll_passes_access_on() {
    let lock = RwLock::with_max_readers(0, 3);
    let log = WakeLog::default();
    let w0 = lock.try_write().unwrap();
    let mut r1 = Polled::with_waker(lock.read(), log.waker(1));
    let mut w2 = Polled::with_waker(lock.write(), log.waker(2));
    assert!(r1.is_pending());
    assert!(w2.is_pending());
    drop(w0);
    assert_eq!(log.take(), [1]);
    assert!(w2.is_pending());
    drop(r1);
    assert_eq!(log.take(), [2]);
    drop(w2.ready());
    let all: Vec<_> = (0..3).map(|_| lock.try_read().unwrap()).collect();
    assert!(lock.try_read().is_none(), "no slot leaked or duplicated");
    drop(all);
}

/// A write whose deadline passed after it was granted, but before it was polled, keeps the
/// grant or passes it on: either way exactly one outcome and nothing leaked.
#[tokio::test(start_paused = true)]
async fn grant_and_deadline_at_the_same_instant() {
    let lock = RwLock::with_max_readers(0, 2);
    let r = lock.read().await;
    let mut w = Polled::new(lock.write().deadline(Duration::from_secs(1)));
    assert!(w.is_pending());
    tokio::time::advance(Duration::from_secs(1)).await;
    drop(r); // W is granted after its deadline passed, before it is polled again.
    match w.fut.as_mut().await {
        Ok(mut g) => {
            assert!(lock.try_read().is_none());
            *g = 1;
        }
        Err(Timeout) => assert!(lock.try_write().is_some(), "nothing kept by a timeout"),
    }
    assert_eq!(lock.waiters(), 0);
    let both: Vec<_> = (0..2).map(|_| lock.try_read().unwrap()).collect();
    assert!(lock.try_read().is_none());
    drop(both);
}

/// A deadline on a plain thread, with `.block()` (no runtime).
#[test]
fn deadline_with_block_outside_a_runtime() {
    let lock = RwLock::new(3);
    let g = lock.read().block();
    assert_eq!(
        lock.write()
            .deadline(Duration::from_millis(10))
            .block()
            .err(),
        Some(Timeout)
    );
    assert_eq!(lock.waiters(), 0);
    drop(g);
    assert_eq!(*lock.write().block(), 3);
}

// ---------------------------------------------------------------------------------------------
// Panics: guards release during unwinding, nothing is poisoned
// ---------------------------------------------------------------------------------------------

#[test]
fn write_guard_released_during_unwinding() {
    let lock = RwLock::with_max_readers(0, 2);
    let log = WakeLog::default();
    let mut queued = Polled::with_waker(lock.read(), log.waker(1));
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut g = futures::executor::block_on(lock.write());
        *g = 7;
        assert!(queued.is_pending());
        panic!("boom while writing");
    }));
    assert!(result.is_err());
    assert_eq!(log.take(), [1], "the queued reader was handed the lock");
    assert_eq!(*queued.ready(), 7);
    let mut g = lock.try_write().expect("not poisoned");
    *g += 1;
    drop(g);
    assert_eq!(*futures::executor::block_on(lock.read()), 8);
}

#[test]
fn read_guard_released_during_unwinding() {
    let lock = RwLock::with_max_readers(1, 2);
    let mut w = Polled::new(lock.write());
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let _r = lock.try_read().unwrap();
        assert!(w.is_pending());
        panic!("boom while reading");
    }));
    assert!(result.is_err());
    assert_eq!(w.wakes(), 1);
    *w.ready() += 1;
    let both: Vec<_> = (0..2).map(|_| lock.try_read().unwrap()).collect();
    assert!(both.iter().all(|g| **g == 2));
}

// ---------------------------------------------------------------------------------------------
// Small API
// ---------------------------------------------------------------------------------------------

#[test]
fn get_mut_and_into_inner() {
    let mut lock = RwLock::with_max_readers(vec![1], 2);
    lock.get_mut().push(2);
    assert_eq!(*lock.try_read().unwrap(), [1, 2]);
    lock.try_write().unwrap().push(3);
    assert_eq!(lock.into_inner(), [1, 2, 3]);
}

#[test]
fn default_and_from() {
    let lock: RwLock<Vec<u8>> = RwLock::default();
    assert!(lock.try_read().unwrap().is_empty());
    assert_eq!(lock.max_readers(), RwLock::<Vec<u8>>::MAX_READERS);
    let lock = RwLock::from(4);
    assert_eq!(lock.into_inner(), 4);
}

#[test]
fn debug_shows_data_and_waiters() {
    let lock = RwLock::with_max_readers(5, 4);
    let s = format!("{lock:?}");
    assert!(s.contains("data: 5"), "{s}");
    assert!(s.contains("waiters: 0"), "{s}");
    assert!(s.contains("max_readers: 4"), "{s}");

    let r1 = lock.try_read().unwrap();
    let r2 = lock.try_read().unwrap();
    let s = format!("{lock:?}");
    assert!(s.contains("readers: 2"), "{s}");
    assert!(s.contains("writer: false"), "{s}");
    assert_eq!(format!("{r1:?}"), "5");
    drop((r1, r2));

    let w = lock.try_write().unwrap();
    assert_eq!(format!("{w:?}"), "5");
    let mut a = Polled::new(lock.read());
    let mut b = Polled::new(lock.write());
    assert!(a.is_pending());
    assert!(b.is_pending());
    let s = format!("{lock:?}");
    assert!(s.contains("<locked>"), "{s}");
    assert!(s.contains("writer: true"), "{s}");
    assert!(s.contains("waiters: 2"), "{s}");
    assert!(!s.contains("data: 5"), "{s}");
    drop((a, b, w));
    assert!(format!("{lock:?}").contains("waiters: 0"));
}

/// Every read slot taken by readers is not a writer: Debug must not report one.
#[test]
fn debug_full_of_readers_is_not_a_writer() {
    let lock = RwLock::with_max_readers(5, 3);
    let readers: Vec<_> = (0..3).map(|_| lock.try_read().unwrap()).collect();
    let s = format!("{lock:?}");
    assert!(s.contains("writer: false"), "{s}");
    assert!(s.contains("readers: 3"), "{s}");
    drop(readers);
}

#[test]
fn future_debug_and_registration_on_first_poll() {
    let lock = RwLock::new(0);
    let w = lock.try_write().unwrap();
    let fut = lock.read();
    assert!(format!("{fut:?}").contains("RwLockRead"));
    // Not polled: not registered.
    assert_eq!(lock.waiters(), 0);
    let mut fut = Polled::new(fut);
    assert!(fut.is_pending());
    assert_eq!(lock.waiters(), 1);
    // Polling again with another waker keeps one registration and uses the new waker.
    let (other, counter) = common::counting_waker();
    assert!(fut.poll_with(other).is_pending());
    assert_eq!(lock.waiters(), 1);
    drop(w);
    assert_eq!(counter.count(), 1);
    assert_eq!(fut.wakes(), 0, "the replaced waker is not woken");
    drop(fut.ready());
}
