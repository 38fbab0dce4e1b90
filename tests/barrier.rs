//! Barrier: trips on the n-th arrival with exactly one leader, reusable generation after
//! generation; new(0) acts as new(1); waiters dropped or timed out before the trip are
//! withdrawn; after the trip dropping changes nothing; try-once deadlines.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use common::{Polled, WakeLog};
use toro_sync::{Barrier, BarrierWaitResult, Timeout};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn auto_traits() {
    assert_send_sync::<Barrier>();
    assert_send_sync::<toro_sync::future::BarrierWait<'static>>();
    assert_send_sync::<BarrierWaitResult>();
}

#[test]
fn trips_on_nth_arrival_with_one_leader() {
    let barrier = Barrier::new(3);
    assert_eq!(barrier.parties(), 3);
    let log = WakeLog::default();
    let mut a = Polled::with_waker(barrier.wait(), log.waker(0));
    let mut b = Polled::with_waker(barrier.wait(), log.waker(1));
    assert!(a.is_pending());
    assert_eq!(barrier.arrived(), 1);
    assert!(b.is_pending());
    assert_eq!(barrier.arrived(), 2);
    assert_eq!(barrier.waiters(), 2);
    assert!(log.take().is_empty());

    let mut c = Polled::new(barrier.wait());
    let c = c.ready();
    assert!(c.is_leader(), "the arrival that trips it leads");
    assert_eq!(log.take(), [0, 1], "released in arrival order");
    assert_eq!(barrier.arrived(), 0);
    assert_eq!(barrier.waiters(), 0);
    assert!(!a.ready().is_leader());
    assert!(!b.ready().is_leader());
}

/// Several generations, hand-polled: each trips on its n-th arrival, with one leader.
#[test]
fn reusable_for_several_generations() {
    let barrier = Barrier::new(4);
    for generation in 0..6 {
        let mut waiting: Vec<_> = (0..3).map(|_| Polled::new(barrier.wait())).collect();
        for (i, w) in waiting.iter_mut().enumerate() {
            assert!(w.is_pending(), "generation {generation}");
            assert_eq!(barrier.arrived(), i + 1);
        }
        let leader = futures::executor::block_on(barrier.wait());
        assert!(leader.is_leader());
        assert_eq!(barrier.arrived(), 0);
        let leaders = waiting
            .iter_mut()
            .map(|w| {
                assert_eq!(w.wakes(), 1);
                w.ready().is_leader()
            })
            .filter(|&l| l)
            .count();
        assert_eq!(leaders, 0, "generation {generation}: one leader only");
        let s = format!("{barrier:?}");
        assert!(
            s.contains(&format!("generation: {}", generation + 1)),
            "{s}"
        );
    }
}

/// Tasks on a multi-thread runtime, many generations: exactly one leader per generation, and
/// what each task wrote before its wait is seen by all after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_leader_per_generation_across_tasks() {
    const TASKS: usize = 8;
    const GENERATIONS: usize = 200;
    let barrier = Arc::new(Barrier::new(TASKS));
    let leaders: Arc<Vec<AtomicUsize>> =
        Arc::new((0..GENERATIONS).map(|_| AtomicUsize::new(0)).collect());
    let slots: Arc<Vec<AtomicUsize>> = Arc::new((0..TASKS).map(|_| AtomicUsize::new(0)).collect());
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let (barrier, leaders, slots) = (barrier.clone(), leaders.clone(), slots.clone());
        tasks.push(tokio::spawn(async move {
            for g in 0..GENERATIONS {
                slots[t].store(g + 1, Ordering::Relaxed);
                let r = barrier.wait().await;
                if r.is_leader() {
                    leaders[g].fetch_add(1, Ordering::SeqCst);
                }
                for (other, slot) in slots.iter().enumerate() {
                    let seen = slot.load(Ordering::Relaxed);
                    assert_eq!(seen, g + 1, "task {t} gen {g}: task {other}");
                }
                // Nobody may start generation g + 2 before everyone left generation g + 1:
                // a second barrier round keeps the slots check exact.
                let _ = barrier.wait().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for (g, l) in leaders.iter().enumerate() {
        assert_eq!(l.load(Ordering::SeqCst), 1, "generation {g}");
    }
    assert_eq!(barrier.arrived(), 0);
    assert_eq!(barrier.waiters(), 0);
}

/// Plain threads with `.block()`.
#[test]
fn block_on_plain_threads() {
    let barrier = Arc::new(Barrier::new(4));
    let leaders = Arc::new(StdMutex::new(Vec::new()));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (barrier, leaders) = (barrier.clone(), leaders.clone());
            std::thread::spawn(move || {
                for g in 0..50 {
                    if barrier.wait().block().is_leader() {
                        leaders.lock().unwrap().push(g);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut leaders = leaders.lock().unwrap().clone();
    leaders.sort_unstable();
    assert_eq!(leaders, (0..50).collect::<Vec<_>>());
}

#[test]
fn zero_behaves_as_one() {
    for n in [0, 1] {
        let barrier = Barrier::new(n);
        assert_eq!(barrier.parties(), 1);
        for _ in 0..5 {
            let mut w = Polled::new(barrier.wait());
            assert!(w.ready().is_leader(), "Barrier::new({n}) trips at once");
            assert_eq!(barrier.arrived(), 0);
            assert_eq!(barrier.waiters(), 0);
        }
        let once = futures::executor::block_on(barrier.wait().deadline(Duration::ZERO));
        assert!(once.expect("trips at once").is_leader());
        assert!(futures::executor::block_on(barrier.wait()).is_leader());
    }
}

/// A waiter dropped before the trip is withdrawn: the barrier then needs another arrival.
#[test]
fn waiter_dropped_before_trip_is_withdrawn() {
    let barrier = Barrier::new(3);
    let mut a = Polled::new(barrier.wait());
    let mut b = Polled::new(barrier.wait());
    assert!(a.is_pending());
    assert!(b.is_pending());
    assert_eq!(barrier.arrived(), 2);
    drop(a);
    assert_eq!(barrier.arrived(), 1);
    assert_eq!(barrier.waiters(), 1);

    let mut c = Polled::new(barrier.wait());
    assert!(c.is_pending(), "A's arrival no longer counts");
    assert_eq!(barrier.arrived(), 2);
    assert_eq!(b.wakes(), 0);
    let mut d = Polled::new(barrier.wait());
    assert!(d.ready().is_leader());
    assert!(!b.ready().is_leader());
    assert!(!c.ready().is_leader());
    assert_eq!(barrier.arrived(), 0);
}

/// Dropping a future that was never polled changes nothing either.
#[test]
fn unpolled_waiter_never_arrives() {
    let barrier = Barrier::new(2);
    let unpolled = barrier.wait();
    assert_eq!(barrier.arrived(), 0);
    drop(unpolled);
    assert_eq!(barrier.arrived(), 0);
    let mut a = Polled::new(barrier.wait());
    assert!(a.is_pending());
    assert_eq!(barrier.arrived(), 1);
}

#[tokio::test(start_paused = true)]
async fn waiter_timed_out_before_trip_is_withdrawn() {
    let barrier = Barrier::new(3);
    let mut a = Polled::new(barrier.wait().deadline(Duration::from_secs(1)));
    let mut b = Polled::new(barrier.wait());
    assert!(a.is_pending());
    assert!(b.is_pending());
    assert_eq!(barrier.arrived(), 2);
    let start = tokio::time::Instant::now();
    assert_eq!(a.fut.as_mut().await, Err(Timeout));
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(barrier.arrived(), 1);
    assert_eq!(barrier.waiters(), 1);

    let mut c = Polled::new(barrier.wait());
    assert!(c.is_pending(), "the timed-out arrival no longer counts");
    assert_eq!(barrier.arrived(), 2);
    let d = barrier.wait().await;
    assert!(d.is_leader());
    assert!(!b.ready().is_leader());
    assert!(!c.ready().is_leader());
    assert_eq!(barrier.arrived(), 0);

    // Alone, it times out and leaves nothing.
    let alone = Barrier::new(2);
    assert_eq!(
        alone.wait().deadline(Duration::from_millis(5)).await,
        Err(Timeout)
    );
    assert_eq!(alone.arrived(), 0);
    assert_eq!(alone.waiters(), 0);
}

/// After the trip, dropping a released-but-unpolled waiter changes nothing for the next
/// generation.
#[test]
fn dropping_released_waiter_after_trip_changes_nothing() {
    let barrier = Barrier::new(3);
    let mut a = Polled::new(barrier.wait());
    let mut b = Polled::new(barrier.wait());
    assert!(a.is_pending());
    assert!(b.is_pending());
    let mut c = Polled::new(barrier.wait());
    assert!(c.ready().is_leader());
    assert_eq!(a.wakes(), 1);

    // Next generation: one arrival before and one after A is dropped, unpolled.
    let mut d = Polled::new(barrier.wait());
    assert!(d.is_pending());
    assert_eq!(barrier.arrived(), 1);
    drop(a);
    assert_eq!(
        barrier.arrived(),
        1,
        "A was released: its drop withdraws nothing"
    );
    assert_eq!(barrier.waiters(), 1);
    let mut e = Polled::new(barrier.wait());
    assert!(e.is_pending(), "the next generation still needs 3 arrivals");
    assert_eq!(barrier.arrived(), 2);
    let mut f = Polled::new(barrier.wait());
    assert!(f.ready().is_leader());
    assert!(!d.ready().is_leader());
    assert!(!e.ready().is_leader());
    assert!(
        !b.ready().is_leader(),
        "B, released a generation ago, still completes"
    );
    assert_eq!(barrier.arrived(), 0);
}

/// A deadline that passes after the trip released the waiter, before it is polled: the trip
/// already counted it, so it may not also be withdrawn.
#[tokio::test(start_paused = true)]
async fn trip_and_deadline_at_the_same_instant() {
    let barrier = Barrier::new(2);
    let mut a = Polled::new(barrier.wait().deadline(Duration::from_secs(1)));
    assert!(a.is_pending());
    tokio::time::advance(Duration::from_secs(1)).await;
    let mut b = Polled::new(barrier.wait());
    let b_result = b.poll();
    match a.fut.as_mut().await {
        Ok(r) => {
            assert!(!r.is_leader());
            assert!(matches!(b_result, std::task::Poll::Ready(r) if r.is_leader()));
            assert_eq!(barrier.arrived(), 0);
        }
        Err(Timeout) => {
            // Then A's arrival was withdrawn before B came: B waits alone.
            assert!(b_result.is_pending());
            assert_eq!(barrier.arrived(), 1);
        }
    }
    assert_eq!(barrier.waiters(), barrier.arrived());
}

/// Try once (Duration::ZERO) without tripping leaves `arrived()` unchanged; try once that
/// trips succeeds and leads.
#[tokio::test(start_paused = true)]
async fn try_once_deadline() {
    let barrier = Barrier::new(3);
    assert_eq!(barrier.wait().deadline(Duration::ZERO).await, Err(Timeout));
    assert_eq!(barrier.arrived(), 0);
    let mut a = Polled::new(barrier.wait());
    assert!(a.is_pending());
    assert_eq!(barrier.wait().deadline(Duration::ZERO).await, Err(Timeout));
    assert_eq!(barrier.arrived(), 1);
    assert_eq!(barrier.waiters(), 1);
    let mut b = Polled::new(barrier.wait());
    assert!(b.is_pending());
    assert_eq!(barrier.arrived(), 2);
    assert_eq!(a.wakes(), 0);

    let tripped = barrier
        .wait()
        .deadline(Duration::ZERO)
        .await
        .expect("the third arrival trips it at once");
    assert!(tripped.is_leader());
    assert!(!a.ready().is_leader());
    assert!(!b.ready().is_leader());
    assert_eq!(barrier.arrived(), 0);
}

#[test]
fn debug_output() {
    let barrier = Barrier::new(2);
    let mut a = Polled::new(barrier.wait());
    assert!(a.is_pending());
    let s = format!("{barrier:?}");
    assert!(s.contains("parties: 2"), "{s}");
    assert!(s.contains("arrived: 1"), "{s}");
    assert!(s.contains("generation: 0"), "{s}");
    assert!(format!("{:?}", barrier.wait()).contains("BarrierWait"));
}

/// A waiter polled again with another waker is woken through the new one only.
#[test]
fn waker_replacement() {
    let barrier = Barrier::new(2);
    let mut a = Polled::new(barrier.wait());
    assert!(a.is_pending());
    let (other, counter) = common::counting_waker();
    assert!(a.poll_with(other).is_pending());
    assert_eq!(
        barrier.arrived(),
        1,
        "a second poll is not a second arrival"
    );
    assert!(futures::executor::block_on(barrier.wait()).is_leader());
    assert_eq!(counter.count(), 1);
    assert_eq!(a.wakes(), 0);
    assert!(!a.ready().is_leader());
}

/// A writer that runs `on_write` inside its first `write_str`.
struct OnWrite<F: FnMut()>(Option<F>);

impl<F: FnMut()> std::fmt::Write for OnWrite<F> {
    fn write_str(&mut self, _: &str) -> std::fmt::Result {
        if let Some(mut f) = self.0.take() {
            f();
        }
        Ok(())
    }
}

/// Released waiters complete without the barrier's lock: after a trip with N registered
/// waiters, each is polled on another thread while this thread holds the lock — `Debug`
/// formats the barrier with its lock held, and the writer waits inside it. A pick-up that took
/// the lock would block until the formatting ends, and the writer's wait would run out.
/// (Expiring or dropping a released waiter still takes the lock: `Waiter::leave` does.)
#[test]
fn released_waiters_complete_while_the_lock_is_held() {
    use std::fmt::Write;
    use std::sync::mpsc;

    const N: usize = 8;
    let barrier = Barrier::new(N + 1);
    let mut polled: Vec<_> = (0..N).map(|_| Polled::new(barrier.wait())).collect();
    assert!(polled.iter_mut().all(|w| w.is_pending()));
    assert_eq!(barrier.arrived(), N);
    assert!(futures::executor::block_on(barrier.wait()).is_leader());
    assert!(polled.iter().all(|w| w.wakes() == 1));

    let followers = std::thread::scope(|s| {
        let (held_tx, held_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        s.spawn(move || {
            held_rx.recv().unwrap();
            let followers = polled
                .iter_mut()
                .map(|w| w.poll())
                .filter(|p| matches!(p, std::task::Poll::Ready(r) if !r.is_leader()))
                .count();
            // The writer may have given up waiting: then nobody listens.
            let _ = done_tx.send(followers);
        });
        let mut followers = None;
        let mut writer = OnWrite(Some(|| {
            held_tx.send(()).unwrap();
            followers = done_rx.recv_timeout(Duration::from_secs(10)).ok();
        }));
        write!(writer, "{barrier:?}").unwrap();
        followers
    });
    let followers = followers.expect("a released waiter waited for the lock");
    assert_eq!(followers, N);
    assert_eq!(barrier.arrived(), 0);
    assert_eq!(barrier.waiters(), 0);
}

/// Generation after generation, on a hand-polled barrier: a waiter dropped and one timed out
/// before the trip are withdrawn; after it, a released waiter whose deadline passes before it
/// is polled still completes, and one dropped unpolled changes nothing. Nothing stays queued.
#[test]
fn many_generations_with_drops_and_expiries() {
    use toro_sync::future::Waitable;

    let barrier = Barrier::new(4);
    for generation in 0..1000 {
        let mut a = Polled::new(barrier.wait());
        let mut b = Polled::new(barrier.wait());
        let mut c = Polled::new(barrier.wait());
        assert!(a.is_pending() && b.is_pending() && c.is_pending());
        drop(b);
        assert_eq!(Waitable::expire(&mut *c.fut), Err(Timeout));
        assert_eq!(barrier.arrived(), 1, "generation {generation}");
        let mut d = Polled::new(barrier.wait());
        let mut e = Polled::new(barrier.wait());
        assert!(d.is_pending() && e.is_pending());
        assert_eq!(barrier.arrived(), 3);
        assert!(Polled::new(barrier.wait()).ready().is_leader());
        assert_eq!((a.wakes(), d.wakes(), e.wakes()), (1, 1, 1));
        assert_eq!(barrier.waiters(), 0);
        let late = Waitable::expire(&mut *a.fut).expect("released before its deadline passed");
        assert!(!late.is_leader());
        drop(d);
        assert!(!e.ready().is_leader());
        assert_eq!(barrier.arrived(), 0, "generation {generation}");
        assert_eq!(barrier.waiters(), 0);
    }
    assert!(format!("{barrier:?}").contains("generation: 1000"));
}

/// Deadlines racing trips on a paused clock, many generations: two tasks wait with a 5 ms
/// deadline; at the instant it passes, a third arrives with a try-once deadline — before
/// their timers are handled (the trip wins: everyone succeeds, one leader) or after (they time
/// out and withdraw, and the third finds nobody). Never a mix, and nothing stays queued.
#[tokio::test(start_paused = true)]
async fn deadlines_racing_trips_over_many_generations() {
    let barrier = Arc::new(Barrier::new(3));
    for generation in 0..300 {
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let barrier = barrier.clone();
                tokio::spawn(async move { barrier.wait().deadline(Duration::from_millis(5)).await })
            })
            .collect();
        while barrier.arrived() < 2 {
            tokio::task::yield_now().await;
        }
        tokio::time::advance(Duration::from_millis(5)).await;
        let trip_first = generation % 2 == 0;
        if !trip_first {
            while barrier.arrived() > 0 {
                tokio::task::yield_now().await;
            }
        }
        let third = barrier.wait().deadline(Duration::ZERO).await;
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        if trip_first {
            assert!(third.expect("the trip came first").is_leader());
            assert!(results.iter().all(|r| matches!(r, Ok(r) if !r.is_leader())));
        } else {
            assert_eq!(third, Err(Timeout));
            assert_eq!(results, [Err(Timeout), Err(Timeout)]);
        }
        assert_eq!(barrier.arrived(), 0, "generation {generation}");
        assert_eq!(barrier.waiters(), 0);
    }
}
