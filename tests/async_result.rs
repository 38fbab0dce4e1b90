//! AsyncResult: set once, get by every waiter, try_get, timeouts that leave nothing behind,
//! drop accounting, Debug, a `set` at a getter's deadline, and the multi-thread set-once race
//! (after toro 1.0.1's `test/test_async_result.py`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier as StdBarrier};
use std::task::Poll;
use std::time::Duration;

use common::{Polled, WakeLog};
use toro_sync::{AlreadySet, AsyncResult, NotReady, Timeout};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>() {}

#[test]
fn auto_traits() {
    assert_send_sync::<AsyncResult<Vec<u8>>>();
    assert_send::<toro_sync::future::AsyncResultGet<'static, Vec<u8>>>();
    assert_send::<toro_sync::future::WithDeadline<toro_sync::future::AsyncResultGet<'static, u8>>>(
    );
}

/// A value whose drops are counted.
struct Counted {
    id: usize,
    payload: Vec<u64>,
    drops: Arc<AtomicUsize>,
}

impl Counted {
    fn new(id: usize, drops: &Arc<AtomicUsize>) -> Self {
        Counted {
            id,
            payload: (0..64).map(|i| (id as u64) * 1000 + i).collect(),
            drops: drops.clone(),
        }
    }

    fn intact(&self) -> bool {
        self.payload.len() == 64
            && self
                .payload
                .iter()
                .enumerate()
                .all(|(i, &v)| v == (self.id as u64) * 1000 + i as u64)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn set_then_get() {
    let result = AsyncResult::new();
    assert!(!result.is_ready());
    assert_eq!(result.try_get(), Err(NotReady));
    assert_eq!(result.set(5), Ok(()));
    assert!(result.is_ready());
    assert_eq!(*result.get().await, 5);
    assert_eq!(*result.get().await, 5, "repeatable");
    assert_eq!(result.try_get(), Ok(&5));
    assert_eq!(result.get().deadline(Duration::ZERO).await, Ok(&5));
    assert_eq!(result.waiters(), 0);
}

#[test]
fn second_set_returns_already_set_with_its_value() {
    let result = AsyncResult::new();
    result.set(String::from("first")).unwrap();
    let err: AlreadySet<String> = result.set(String::from("second")).unwrap_err();
    assert_eq!(err.0, "second");
    let err = result.set(String::from("third")).unwrap_err();
    assert_eq!(err.into_inner(), "third");
    assert_eq!(result.try_get().unwrap(), "first");
    assert_eq!(result.into_inner().as_deref(), Some("first"));
}

#[test]
fn try_get_not_ready_before_set() {
    let result = AsyncResult::<u8>::default();
    assert_eq!(result.try_get(), Err(NotReady));
    assert!(!result.is_ready());
    result.set(1).unwrap();
    assert_eq!(result.try_get(), Ok(&1));
}

#[test]
fn into_inner_some_and_none() {
    assert_eq!(AsyncResult::<u8>::new().into_inner(), None);
    let result = AsyncResult::new();
    result.set(vec![1, 2]).unwrap();
    assert_eq!(result.into_inner(), Some(vec![1, 2]));
}

/// Every waiter gets a reference to the one stored value, woken in registration order, all in
/// the `set` call.
#[test]
fn every_waiter_gets_the_value_in_registration_order() {
    let result = AsyncResult::new();
    let log = WakeLog::default();
    let mut gets: Vec<_> = (0..10)
        .map(|i| Polled::with_waker(result.get(), log.waker(i)))
        .collect();
    for g in &mut gets {
        assert!(g.is_pending());
    }
    assert_eq!(result.waiters(), 10);
    result.set(String::from("value")).unwrap();
    assert_eq!(log.take(), (0..10).collect::<Vec<_>>());
    assert_eq!(result.waiters(), 0);
    let stored: *const String = result.try_get().unwrap();
    for g in &mut gets {
        let v = g.ready();
        assert_eq!(v, "value");
        assert!(std::ptr::eq(v, stored), "a reference to the stored value");
    }
}

/// Futures created before `set` but first polled after it complete at once; so do futures that
/// registered before the set and are polled after.
#[test]
fn futures_created_before_set_complete_after_it() {
    let result = AsyncResult::new();
    let unpolled: Vec<_> = (0..3).map(|_| result.get()).collect();
    let mut registered = Polled::new(result.get());
    assert!(registered.is_pending());
    assert_eq!(result.waiters(), 1, "unpolled futures are not registered");
    result.set(9).unwrap();
    assert_eq!(registered.wakes(), 1);
    assert_eq!(*registered.ready(), 9);
    for fut in unpolled {
        let (poll, _) = common::poll_once(fut);
        assert!(matches!(poll, Poll::Ready(&9)));
    }
}

/// A getter polled again with another waker is woken through the new one only.
#[test]
fn waker_replacement() {
    let result = AsyncResult::new();
    let mut get = Polled::new(result.get());
    assert!(get.is_pending());
    let (other, counter) = common::counting_waker();
    assert!(get.poll_with(other).is_pending());
    assert_eq!(result.waiters(), 1);
    result.set(1).unwrap();
    assert_eq!(counter.count(), 1);
    assert_eq!(get.wakes(), 0);
    assert_eq!(*get.ready(), 1);
}

#[tokio::test(start_paused = true)]
async fn get_timeout_does_not_disturb_later_set() {
    let result = AsyncResult::new();
    let start = tokio::time::Instant::now();
    assert_eq!(
        result.get().deadline(Duration::from_millis(100)).await,
        Err(Timeout)
    );
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(100) && waited < Duration::from_millis(200));
    assert_eq!(result.waiters(), 0);
    assert!(!result.is_ready());
    assert_eq!(result.try_get(), Err(NotReady));

    // A pending getter alongside a timed-out one.
    let mut patient = Polled::new(result.get());
    assert!(patient.is_pending());
    let mut impatient = Polled::new(result.get().deadline(Duration::from_millis(10)));
    assert!(impatient.is_pending());
    assert_eq!(result.waiters(), 2);
    assert_eq!(impatient.fut.as_mut().await, Err(Timeout));
    assert_eq!(result.waiters(), 1);

    result.set(3).unwrap();
    assert_eq!(patient.wakes(), 1);
    assert_eq!(*patient.ready(), 3);
    assert_eq!(result.get().deadline(Duration::from_secs(1)).await, Ok(&3));
    assert_eq!(result.waiters(), 0);
}

#[tokio::test(start_paused = true)]
async fn many_timeouts_leave_no_waiter() {
    let result = AsyncResult::<u32>::new();
    let gets = (0..200).map(|i| result.get().deadline(Duration::from_millis(1 + i % 7)));
    let outcomes = futures::future::join_all(gets).await;
    assert!(outcomes.iter().all(|o| *o == Err(Timeout)));
    assert_eq!(result.waiters(), 0);
    // Dropped while pending: also unregistered.
    let mut pending: Vec<_> = (0..50).map(|_| Polled::new(result.get())).collect();
    for p in &mut pending {
        assert!(p.is_pending());
    }
    assert_eq!(result.waiters(), 50);
    drop(pending);
    assert_eq!(result.waiters(), 0);
    result.set(1).unwrap();
    assert_eq!(*result.get().await, 1);
}

#[tokio::test(start_paused = true)]
async fn try_once_deadline() {
    let result = AsyncResult::new();
    assert_eq!(result.get().deadline(Duration::ZERO).await, Err(Timeout));
    let past = std::time::Instant::now();
    tokio::time::advance(Duration::from_millis(5)).await;
    assert_eq!(result.get().deadline(past).await, Err(Timeout));
    assert_eq!(result.waiters(), 0);
    result.set('x').unwrap();
    assert_eq!(result.get().deadline(Duration::ZERO).await, Ok(&'x'));
}

/// `set` lands at the getter's deadline. The getter returns the value or the timeout, and
/// either way a later get returns the value at once and no waiter remains.
#[tokio::test(start_paused = true)]
async fn set_at_the_deadline() {
    // Deadline already passed (timer fired) when the set comes, before the getter is polled.
    let result = AsyncResult::new();
    let mut get = Polled::new(result.get().deadline(Duration::from_secs(1)));
    assert!(get.is_pending());
    tokio::time::advance(Duration::from_secs(1)).await;
    result.set(11).unwrap();
    let got = get.fut.as_mut().await;
    assert!(matches!(got, Ok(&11) | Err(Timeout)), "{got:?}");
    assert_eq!(result.waiters(), 0);
    assert_eq!(result.get().deadline(Duration::ZERO).await, Ok(&11));

    // A setter task and the deadline at the same instant on the paused clock.
    let result = Arc::new(AsyncResult::new());
    let setter = tokio::spawn({
        let result = result.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            result.set(12).unwrap();
        }
    });
    let got = result.get().deadline(Duration::from_secs(1)).await.copied();
    assert!(matches!(got, Ok(12) | Err(Timeout)), "{got:?}");
    setter.await.unwrap();
    assert_eq!(result.waiters(), 0);
    assert_eq!(result.get().deadline(Duration::ZERO).await, Ok(&12));
}

#[test]
fn value_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let result = AsyncResult::new();
    result.set(Counted::new(1, &drops)).unwrap();
    let rejected = result.set(Counted::new(2, &drops)).unwrap_err();
    assert_eq!(rejected.0.id, 2);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "the rejected value came back alive"
    );
    drop(rejected);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(result.try_get().unwrap().id, 1);
    drop(result);
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    // into_inner moves it out: dropped once, by its new owner.
    let result = AsyncResult::new();
    result.set(Counted::new(3, &drops)).unwrap();
    let value = result.into_inner().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(value.id, 3);
    drop(value);
    assert_eq!(drops.load(Ordering::SeqCst), 3);

    // Unset: nothing to drop.
    drop(AsyncResult::<Counted>::new());
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn debug_shows_set_and_unset() {
    let result = AsyncResult::new();
    let s = format!("{result:?}");
    assert!(s.contains("<unset>"), "{s}");
    let mut get = Polled::new(result.get());
    assert!(get.is_pending());
    let s = format!("{result:?}");
    assert!(s.contains("waiters: 1"), "{s}");
    result.set("fizzle").unwrap();
    let s = format!("{result:?}");
    assert!(s.contains("fizzle"), "{s}");
    assert!(!s.contains("<unset>"), "{s}");
    assert!(s.contains("waiters: 0"), "{s}");
    assert_eq!(*get.ready(), "fizzle");
    assert!(format!("{:?}", result.get()).contains("AsyncResultGet"));
    // The error's Debug hides the payload.
    assert_eq!(
        format!("{:?}", result.set("x").unwrap_err()),
        "AlreadySet(..)"
    );
}

#[test]
fn block_on_plain_threads() {
    let result = Arc::new(AsyncResult::<Vec<u8>>::new());
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let result = result.clone();
            std::thread::spawn(move || result.get().block().clone())
        })
        .collect();
    result.set(vec![7u8; 3]).unwrap();
    for r in readers {
        assert_eq!(r.join().unwrap(), [7, 7, 7]);
    }
    assert_eq!(result.waiters(), 0);
}

// ---------------------------------------------------------------------------------------------
// Set-once race, multi-thread
// ---------------------------------------------------------------------------------------------

fn rounds() -> usize {
    let scale: f64 = std::env::var("TORO_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((100.0 * scale) as usize).max(1)
}

/// The deadline of getter `i`: none, try-once, or short to long.
fn getter_deadline(i: usize) -> Option<Duration> {
    match i % 4 {
        0 => None,
        1 => Some(Duration::ZERO),
        2 => Some(Duration::from_micros(20 * (i as u64 + 1))),
        _ => Some(Duration::from_secs(10)),
    }
}

/// 4 setters and 16 getters race on plain threads (blocking waits).
#[test]
fn set_once_race_threads() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut ok_gets = 0;
    let mut timeouts = 0;
    for round in 0..rounds() {
        let result = Arc::new(AsyncResult::<Counted>::new());
        let gate = Arc::new(StdBarrier::new(20));
        let setters: Vec<_> = (0..4)
            .map(|id| {
                let (result, gate, drops) = (result.clone(), gate.clone(), drops.clone());
                std::thread::spawn(move || {
                    let value = Counted::new(id, &drops);
                    gate.wait();
                    match result.set(value) {
                        Ok(()) => Some(id),
                        Err(AlreadySet(back)) => {
                            assert_eq!(back.id, id, "AlreadySet carries the setter's value");
                            None
                        }
                    }
                })
            })
            .collect();
        let getters: Vec<_> = (0..16)
            .map(|i| {
                let (result, gate) = (result.clone(), gate.clone());
                std::thread::spawn(move || {
                    gate.wait();
                    let got = match getter_deadline(i) {
                        None => Ok(result.get().block()),
                        Some(d) => result.get().deadline(d).block(),
                    };
                    got.map(|v| {
                        assert!(v.intact());
                        v.id
                    })
                })
            })
            .collect();
        let winners: Vec<usize> = setters
            .into_iter()
            .filter_map(|t| t.join().unwrap())
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one set succeeds");
        let winner = winners[0];
        for (i, g) in getters.into_iter().enumerate() {
            match g.join().unwrap() {
                Ok(id) => {
                    assert_eq!(id, winner, "round {round}: getter {i} saw the winner");
                    ok_gets += 1;
                }
                Err(Timeout) => {
                    assert!(
                        getter_deadline(i).is_some(),
                        "an unbounded get cannot time out"
                    );
                    timeouts += 1;
                }
            }
        }
        assert_eq!(result.waiters(), 0);
        assert_eq!(result.try_get().unwrap().id, winner);
        drop(result);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            4 * (round + 1),
            "each value dropped once"
        );
    }
    println!(
        "set_once_race_threads: {} rounds, {ok_gets} gets ok, {timeouts} timed out",
        rounds()
    );
}

/// The same race as tokio tasks on a multi-thread runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn set_once_race_tasks() {
    let drops = Arc::new(AtomicUsize::new(0));
    for round in 0..rounds() {
        let result = Arc::new(AsyncResult::<Counted>::new());
        let mut getters = Vec::new();
        for i in 0..16 {
            let result = result.clone();
            getters.push(tokio::spawn(async move {
                let got = match getter_deadline(i) {
                    None => Ok(result.get().await),
                    Some(d) => result.get().deadline(d).await,
                };
                got.map(|v| {
                    assert!(v.intact());
                    v.id
                })
            }));
        }
        let mut setters = Vec::new();
        for id in 0..4 {
            let (result, drops) = (result.clone(), drops.clone());
            setters.push(tokio::spawn(async move {
                let value = Counted::new(id, &drops);
                result.set(value).is_ok().then_some(id)
            }));
        }
        let mut winners = Vec::new();
        for s in setters {
            winners.extend(s.await.unwrap());
        }
        assert_eq!(winners.len(), 1, "round {round}");
        for (i, g) in getters.into_iter().enumerate() {
            match g.await.unwrap() {
                Ok(id) => assert_eq!(id, winners[0], "round {round}, getter {i}"),
                Err(Timeout) => assert!(getter_deadline(i).is_some()),
            }
        }
        assert_eq!(result.waiters(), 0);
        drop(result);
        assert_eq!(drops.load(Ordering::SeqCst), 4 * (round + 1));
    }
}
