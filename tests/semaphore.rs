//! Semaphore and BoundedSemaphore: FIFO hand-off, cancel safety, deadlines, bounds.

mod common;

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::{Polled, WakeLog};
use toro_sync::{BoundedSemaphore, ReleaseError, Semaphore, Timeout};

#[test]
fn acquire_and_release_on_drop() {
    let sem = Semaphore::new(2);
    let a = Polled::new(sem.acquire()).ready();
    let b = Polled::new(sem.acquire()).ready();
    assert_eq!(sem.available(), 0);
    assert!(sem.is_locked());
    drop(a);
    assert_eq!(sem.available(), 1);
    drop(b);
    assert_eq!(sem.available(), 2);
    assert!(!sem.is_locked());
}

#[test]
fn waiters_are_granted_in_fifo_order_and_woken_once() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let log = WakeLog::default();
    let mut waiters: Vec<_> = (0..5)
        .map(|i| Polled::with_waker(sem.acquire(), log.waker(i)))
        .collect();
    for w in &mut waiters {
        assert!(w.is_pending());
    }
    assert_eq!(sem.waiters(), 5);
    drop(held);
    assert_eq!(log.take(), vec![0]);
    for i in 0..5 {
        let permit = waiters[i].ready();
        assert_eq!(sem.available(), 0, "the permit was handed over, not freed");
        for w in waiters.iter_mut().skip(i + 1) {
            assert!(w.is_pending());
        }
        drop(permit);
        if i + 1 < 5 {
            assert_eq!(log.take(), vec![i + 1], "exactly the next waiter is woken");
        }
    }
    assert_eq!(sem.available(), 1);
    assert_eq!(sem.waiters(), 0);
}

#[test]
fn try_acquire_does_not_barge_past_a_granted_waiter() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut w = Polled::new(sem.acquire());
    assert!(w.is_pending());
    drop(held);
    // The permit belongs to `w` now, although it has not run yet.
    assert!(sem.try_acquire().is_none());
    assert_eq!(sem.available(), 0);
    let mut late = Polled::new(sem.acquire());
    assert!(late.is_pending());
    drop(w.ready());
    assert!(late.poll().is_ready());
}

#[test]
fn try_acquire_does_not_barge_past_a_queued_request() {
    let sem = Semaphore::new(1);
    let mut big = Polled::new(sem.acquire_many(2));
    assert!(big.is_pending());
    // One permit is free, but a request is queued ahead.
    assert_eq!(sem.available(), 1);
    assert!(sem.try_acquire().is_none());
    assert!(sem.is_locked());
    sem.release();
    assert_eq!(big.ready().num_permits(), 2);
}

#[test]
fn granted_then_dropped_before_polled_passes_the_permit_on() {
    let sem = Semaphore::new(0);
    let mut a = Polled::new(sem.acquire());
    let mut b = Polled::new(sem.acquire());
    let mut c = Polled::new(sem.acquire());
    assert!(a.is_pending() && b.is_pending() && c.is_pending());
    sem.release();
    assert_eq!(a.wakes(), 1);
    drop(a);
    assert_eq!(b.wakes(), 1, "B is woken by the forwarded permit");
    assert_eq!(c.wakes(), 0);
    assert!(c.is_pending());
    assert_eq!(sem.available(), 0);
    assert_eq!(sem.waiters(), 1);
    drop(b.ready());
    drop(c.ready());
    assert_eq!(sem.available(), 1);
    assert_eq!(sem.waiters(), 0);
}

#[test]
fn dropping_a_queued_waiter_unregisters_it() {
    let sem = Semaphore::new(0);
    let mut waiters: Vec<_> = (0..10).map(|_| Polled::new(sem.acquire())).collect();
    for w in &mut waiters {
        assert!(w.is_pending());
    }
    assert_eq!(sem.waiters(), 10);
    waiters.truncate(3);
    assert_eq!(sem.waiters(), 3);
    drop(waiters);
    assert_eq!(sem.waiters(), 0);
    sem.release();
    assert_eq!(sem.available(), 1);
}

#[test]
fn acquire_many_is_fifo_and_atomic() {
    let sem = Semaphore::new(3);
    let mut big = Polled::new(sem.acquire_many(5));
    let mut small = Polled::new(sem.acquire());
    assert!(big.is_pending());
    assert!(
        small.is_pending(),
        "a large request at the head makes later small ones wait"
    );
    assert_eq!(sem.available(), 3, "no partial grant");
    sem.release();
    assert!(big.is_pending());
    sem.release();
    let five = big.ready();
    assert_eq!(five.num_permits(), 5);
    assert!(small.is_pending());
    drop(five);
    assert_eq!(small.ready().num_permits(), 1);
}

#[test]
fn cancelled_head_request_unblocks_those_behind() {
    let sem = Semaphore::new(3);
    let mut head = Polled::new(sem.acquire_many(5));
    let mut next = Polled::new(sem.acquire());
    assert!(head.is_pending() && next.is_pending());
    drop(head);
    assert_eq!(next.wakes(), 1);
    assert_eq!(next.ready().num_permits(), 1);
    // Dropping that permit gives back 1: 3 again.
    assert_eq!(sem.available(), 3);
}

#[test]
fn acquire_many_zero_succeeds_at_once() {
    let sem = Semaphore::new(0);
    let permit = Polled::new(sem.acquire_many(0)).ready();
    assert_eq!(permit.num_permits(), 0);
    let bsem = BoundedSemaphore::new(0);
    assert_eq!(Polled::new(bsem.acquire_many(0)).ready().num_permits(), 0);
}

#[test]
fn release_may_exceed_the_initial_count() {
    let sem = Semaphore::new(1);
    sem.release();
    sem.add_permits(3);
    assert_eq!(sem.available(), 5);
}

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn new_past_max_permits_panics() {
    let _ = Semaphore::new(Semaphore::MAX_PERMITS + 1);
}

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn acquire_many_past_max_permits_panics() {
    let sem = Semaphore::new(1);
    drop(sem.acquire_many(usize::MAX));
}

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn release_past_max_permits_panics() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    sem.release();
}

#[test]
fn forget_keeps_permits_out() {
    let sem = Semaphore::new(2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available(), 1);
    let owned = Arc::new(Semaphore::new(1));
    owned.clone().try_acquire_owned().unwrap().forget();
    assert_eq!(owned.available(), 0);
}

#[test]
fn owned_permits_release_on_drop() {
    let sem = Arc::new(Semaphore::new(1));
    let p = Polled::new(sem.clone().acquire_owned()).ready();
    assert_eq!(p.num_permits(), 1);
    let mut w = Polled::new(sem.clone().acquire_many_owned(1));
    assert!(w.is_pending());
    drop(p);
    let p2 = w.ready();
    drop(p2);
    assert_eq!(sem.available(), 1);
}

#[test]
fn wait_unlocked_waits_without_taking() {
    let sem = Semaphore::new(1);
    assert!(Polled::new(sem.wait_unlocked()).poll().is_ready());
    let held = sem.try_acquire().unwrap();
    let mut w = Polled::new(sem.wait_unlocked());
    assert!(w.is_pending());
    assert_eq!(sem.waiters(), 1);
    drop(held);
    assert_eq!(w.wakes(), 1);
    assert!(w.poll().is_ready());
    assert_eq!(sem.available(), 1, "wait_unlocked takes nothing");
}

#[test]
fn wait_unlocked_yields_to_queued_acquirers() {
    let sem = Semaphore::new(0);
    let mut acq = Polled::new(sem.acquire());
    let mut idle = Polled::new(sem.wait_unlocked());
    assert!(acq.is_pending() && idle.is_pending());
    sem.release();
    // The acquirer takes the permit: the semaphore is still locked.
    assert_eq!(idle.wakes(), 0);
    assert!(idle.is_pending());
    drop(acq.ready());
    assert_eq!(idle.wakes(), 1);
    assert!(idle.poll().is_ready());
}

#[test]
fn debug_shows_permits_and_waiters() {
    let sem = Semaphore::new(2);
    let _p = sem.try_acquire().unwrap();
    let mut w = Polled::new(sem.acquire_many(2));
    assert!(w.is_pending());
    let s = format!("{sem:?}");
    assert!(s.contains("available: 1"), "{s}");
    assert!(s.contains("waiters: 1"), "{s}");
}

#[tokio::test(start_paused = true)]
async fn deadline_times_out_and_leaves_nothing() {
    let sem = Semaphore::new(1);
    let held = sem.acquire().await;
    let start = tokio::time::Instant::now();
    let r = sem.acquire().deadline(Duration::from_millis(100)).await;
    assert_eq!(r.err(), Some(Timeout));
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert_eq!(sem.waiters(), 0);
    drop(held);
    assert_eq!(sem.available(), 1);
}

#[tokio::test(start_paused = true)]
async fn release_before_deadline_wins() {
    let sem = Arc::new(Semaphore::new(0));
    let s2 = sem.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        s2.release();
    });
    let p = sem.acquire().deadline(Duration::from_millis(100)).await;
    assert!(p.is_ok());
}

#[test]
fn expired_deadline_tries_once() {
    let sem = Semaphore::new(1);
    let p = sem.acquire().deadline(Duration::ZERO).block();
    assert!(p.is_ok(), "free: succeeds without waiting");
    let r = sem.acquire().deadline(Duration::ZERO).block();
    assert_eq!(r.err(), Some(Timeout));
    assert_eq!(sem.waiters(), 0);
}

// ----- BoundedSemaphore -----

#[test]
fn bounded_release_past_bound_errors() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.release(), Err(ReleaseError));
    let p = sem.try_acquire().unwrap();
    // One held by a live permit: available 1 + held 1 = 2 = bound.
    assert_eq!(sem.release(), Err(ReleaseError));
    drop(p);
    assert_eq!(sem.available(), 2);
}

#[test]
fn bounded_forgotten_permit_can_be_released() {
    let sem = BoundedSemaphore::new(1);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.available(), 0);
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.available(), 1);
    assert_eq!(sem.release(), Err(ReleaseError));
}

#[test]
fn bounded_release_hands_to_waiter() {
    let sem = BoundedSemaphore::new(1);
    sem.try_acquire().unwrap().forget();
    let mut w = Polled::new(sem.acquire());
    assert!(w.is_pending());
    assert_eq!(sem.release(), Ok(()));
    // Promised to the waiter: another release would exceed the bound.
    assert_eq!(sem.release(), Err(ReleaseError));
    let p = w.ready();
    assert_eq!(sem.available(), 0);
    drop(p);
    assert_eq!(sem.available(), 1);
}

#[test]
#[should_panic(expected = "BoundedSemaphore of 2")]
fn bounded_acquire_many_past_bound_panics() {
    let sem = BoundedSemaphore::new(2);
    drop(sem.acquire_many(3));
}

#[test]
fn bounded_over_release_race_never_exceeds_bound() {
    for _ in 0..200 {
        let sem = Arc::new(BoundedSemaphore::new(4));
        for _ in 0..4 {
            sem.try_acquire().unwrap().forget();
        }
        let ok = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..7)
            .map(|_| {
                let sem = sem.clone();
                let ok = ok.clone();
                std::thread::spawn(move || {
                    if sem.release().is_ok() {
                        ok.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(ok.load(std::sync::atomic::Ordering::SeqCst), 4);
        assert_eq!(sem.available(), 4);
    }
}

#[test]
fn bounded_owned_and_wait_unlocked() {
    let sem = Arc::new(BoundedSemaphore::new(1));
    let p = Polled::new(sem.clone().acquire_owned()).ready();
    let mut idle = Polled::new(sem.wait_unlocked());
    assert!(idle.is_pending());
    let mut next = Polled::new(sem.clone().acquire_many_owned(1));
    assert!(next.is_pending());
    drop(p);
    assert_eq!(idle.wakes(), 0, "the queued acquirer takes precedence");
    let p2 = next.ready();
    drop(p2);
    assert!(matches!(idle.poll(), Poll::Ready(())));
    assert_eq!(sem.bound(), 1);
    assert!(format!("{sem:?}").contains("bound: 1"));
}

// ---------------------------------------------------------------------------------------------
// forget_permits, num_permits, split, merge.
// ---------------------------------------------------------------------------------------------

#[test]
fn forget_permits_removes_only_free_permits() {
    let sem = Semaphore::new(5);
    assert_eq!(sem.forget_permits(0), 0);
    let held = sem.try_acquire_many(2).unwrap();
    assert_eq!(sem.forget_permits(10), 3, "only the free ones");
    assert_eq!(sem.available(), 0);
    assert_eq!(sem.forget_permits(1), 0);
    drop(held);
    assert_eq!(sem.available(), 2, "held permits come back");
}

/// With requests queued (the locked path), forgetting takes free permits that the head request
/// cannot use yet, serves nobody, and keeps the queue's order.
#[test]
fn forget_permits_with_queued_requests() {
    let sem = Semaphore::new(2);
    let log = WakeLog::default();
    let mut big = Polled::with_waker(sem.acquire_many(3), log.waker(0));
    let mut small = Polled::with_waker(sem.acquire(), log.waker(1));
    assert!(big.is_pending());
    assert!(small.is_pending());
    assert_eq!(sem.forget_permits(1), 1);
    assert_eq!(sem.available(), 1);
    assert!(log.take().is_empty(), "forgetting serves nobody");
    sem.add_permits(1);
    assert!(log.take().is_empty(), "2 free, the head needs 3");
    sem.add_permits(1);
    assert_eq!(log.take(), vec![0]);
    let three = big.ready();
    assert_eq!(three.num_permits(), 3);
    assert!(small.is_pending());
    assert_eq!(sem.forget_permits(usize::MAX), 0);
    assert_eq!(sem.waiters(), 1);
    drop(three);
    assert_eq!(log.take(), vec![1]);
    drop(small.ready());
    assert_eq!(sem.available(), 3);
}

/// A waiter granted its permits (not yet polled) holds them: forgetting does not take them.
#[test]
fn forget_permits_does_not_take_promised_permits() {
    let sem = Semaphore::new(0);
    let mut w = Polled::new(sem.acquire_many(2));
    assert!(w.is_pending());
    sem.add_permits(3);
    assert_eq!(sem.forget_permits(3), 1);
    assert_eq!(w.ready().num_permits(), 2);
}

#[test]
fn bounded_forget_permits_lowers_circulation_until_released() {
    let sem = BoundedSemaphore::new(4);
    let held = sem.try_acquire().unwrap();
    assert_eq!(sem.forget_permits(10), 3);
    assert_eq!(sem.available(), 0);
    drop(held);
    assert_eq!(sem.available(), 1, "the held permit still circulates");
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.release(), Err(ReleaseError), "back at the bound");
    assert_eq!(sem.available(), 4);
}

/// forget_permits racing permit drops and releases on other threads: the bound holds and
/// every permit is accounted for.
#[test]
fn bounded_forget_permits_races_releases() {
    for _ in 0..200 {
        let sem = Arc::new(BoundedSemaphore::new(4));
        let held = Polled::new(sem.clone().acquire_many_owned(2)).ready();
        let forgetter = std::thread::spawn({
            let sem = sem.clone();
            move || sem.forget_permits(3)
        });
        let dropper = std::thread::spawn(move || drop(held));
        let forgotten = forgetter.join().unwrap();
        dropper.join().unwrap();
        assert!(forgotten <= 3);
        assert_eq!(sem.available(), 4 - forgotten);
        let released = (0..8).filter(|_| sem.release().is_ok()).count();
        assert_eq!(released, forgotten);
        assert_eq!(sem.available(), 4);
    }
}

#[test]
fn split_and_merge_permits() {
    let sem = Semaphore::new(5);
    let mut p = sem.try_acquire_many(4).unwrap();
    assert_eq!(p.num_permits(), 4);
    assert!(p.split(5).is_none(), "more than it holds");
    assert_eq!(p.num_permits(), 4);
    let q = p.split(3).unwrap();
    assert_eq!((p.num_permits(), q.num_permits()), (1, 3));
    let empty = p.split(0).unwrap();
    assert_eq!(empty.num_permits(), 0);
    drop(empty);
    assert_eq!(sem.available(), 1);
    drop(q);
    assert_eq!(sem.available(), 4, "each part returns its own permits");
    let r = sem.try_acquire_many(2).unwrap();
    p.merge(r);
    assert_eq!(p.num_permits(), 3);
    assert_eq!(sem.available(), 2);
    drop(p);
    assert_eq!(sem.available(), 5);
}

/// Split parts of one permit go to waiters one by one, FIFO.
#[test]
fn split_parts_serve_waiters_in_order() {
    let sem = Semaphore::new(2);
    let mut both = sem.try_acquire_many(2).unwrap();
    let log = WakeLog::default();
    let mut a = Polled::with_waker(sem.acquire(), log.waker(0));
    let mut b = Polled::with_waker(sem.acquire(), log.waker(1));
    assert!(a.is_pending());
    assert!(b.is_pending());
    let one = both.split(1).unwrap();
    drop(one);
    assert_eq!(log.take(), vec![0]);
    drop(both);
    assert_eq!(log.take(), vec![1]);
    drop((a.ready(), b.ready()));
    assert_eq!(sem.available(), 2);
}

#[test]
fn split_and_merge_owned_permits() {
    let sem = Arc::new(Semaphore::new(3));
    let mut p = Polled::new(sem.clone().acquire_many_owned(3)).ready();
    let q = p.split(2).unwrap();
    drop(p);
    assert_eq!(sem.available(), 1);
    let mut r = sem.clone().try_acquire_owned().unwrap();
    r.merge(q);
    assert_eq!(r.num_permits(), 3);
    drop(r);
    assert_eq!(sem.available(), 3);
}

#[test]
#[should_panic(expected = "merging permits from different semaphores")]
fn merge_from_another_semaphore_panics() {
    let (a, b) = (Semaphore::new(1), Semaphore::new(1));
    let mut p = a.try_acquire().unwrap();
    p.merge(b.try_acquire().unwrap());
}

#[test]
#[should_panic(expected = "merging permits from different semaphores")]
fn merge_owned_from_another_bounded_semaphore_panics() {
    let (a, b) = (
        Arc::new(BoundedSemaphore::new(1)),
        Arc::new(BoundedSemaphore::new(1)),
    );
    let mut p = a.try_acquire_owned().unwrap();
    p.merge(b.try_acquire_owned().unwrap());
}

/// Bounded: split and merge move held permits between permit objects; forgetting one part
/// takes only its permits out of circulation.
#[test]
fn bounded_split_merge_forget() {
    let sem = BoundedSemaphore::new(3);
    let mut p = sem.try_acquire_many(3).unwrap();
    let q = p.split(1).unwrap();
    assert_eq!(
        sem.release(),
        Err(ReleaseError),
        "split moves, it adds nothing"
    );
    q.forget();
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.release(), Err(ReleaseError));
    let r = sem.try_acquire().unwrap();
    p.merge(r);
    assert_eq!(p.num_permits(), 3);
    drop(p);
    assert_eq!(sem.available(), 3);
    assert!(format!("{:?}", sem.try_acquire().unwrap()).contains("num_permits: 1"));
}
