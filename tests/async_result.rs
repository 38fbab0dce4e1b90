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

// ---------------------------------------------------------------------------------------------
// get_or_init / get_or_try_init / take: the once-cell side.
// ---------------------------------------------------------------------------------------------

use toro_sync::Event;

/// An initializer that counts its calls and completes with `value` once `gate` is set.
fn gated<'a>(
    gate: &'a Event,
    calls: &'a AtomicUsize,
    value: usize,
) -> impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + 'a>> {
    move || {
        calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            gate.wait().await;
            value
        })
    }
}

/// An initializer that must never run.
fn never_runs<T>() -> std::future::Ready<T> {
    panic!("this initializer must not run")
}

#[test]
fn get_or_init_runs_the_initializer_once() {
    let result = AsyncResult::new();
    let calls = AtomicUsize::new(0);
    let first = Polled::new(result.get_or_init(|| {
        calls.fetch_add(1, Ordering::SeqCst);
        async { 1 }
    }))
    .ready();
    assert_eq!(*first, 1);
    assert_eq!(*Polled::new(result.get_or_init(never_runs)).ready(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(result.try_get(), Ok(&1));
    assert_eq!(result.set(2), Err(AlreadySet(2)));
    assert_eq!(result.waiters(), 0);
}

/// Callers that find an initializer running queue (counted by `waiters()`), in FIFO order, and
/// all get its value, woken oldest first in the call that stores it; their own initializers
/// never run.
#[test]
fn concurrent_callers_wait_for_the_running_initializer() {
    let result = AsyncResult::new();
    let (gate, calls) = (Event::new(), AtomicUsize::new(0));
    let log = WakeLog::default();
    let mut runner = Polled::new(result.get_or_init(gated(&gate, &calls, 5)));
    assert!(runner.is_pending());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        result.waiters(),
        0,
        "the running initializer is not a waiter"
    );
    let mut queued: Vec<_> = (0..3)
        .map(|i| Polled::with_waker(result.get_or_init(never_runs), log.waker(i)))
        .collect();
    let mut getter = Polled::with_waker(result.get(), log.waker(9));
    for q in &mut queued {
        assert!(q.is_pending());
    }
    assert!(getter.is_pending());
    assert_eq!(result.waiters(), 4);
    gate.set();
    assert_eq!(*runner.ready(), 5);
    let mut woken = log.take();
    woken.sort_unstable();
    assert_eq!(woken, vec![0, 1, 2, 9]);
    for q in &mut queued {
        assert_eq!(*q.ready(), 5);
    }
    assert_eq!(*getter.ready(), 5);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(result.waiters(), 0);
}

/// The running initializer's call is dropped: its turn is handed to the oldest queued caller
/// alone (only it is woken), which runs its own initializer; the others keep waiting and get
/// that value.
#[test]
fn cancelled_initializer_hands_the_turn_to_the_oldest_caller() {
    let result = AsyncResult::new();
    let (gate_a, gate_b) = (Event::new(), Event::new());
    let (calls_a, calls_b, calls_c) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let log = WakeLog::default();
    let mut a = Polled::new(result.get_or_init(gated(&gate_a, &calls_a, 1)));
    assert!(a.is_pending());
    let mut b = Polled::with_waker(
        result.get_or_init(gated(&gate_b, &calls_b, 2)),
        log.waker(1),
    );
    let mut c = Polled::with_waker(
        result.get_or_init(gated(&gate_b, &calls_c, 3)),
        log.waker(2),
    );
    assert!(b.is_pending());
    assert!(c.is_pending());
    drop(a);
    assert_eq!(
        log.take(),
        vec![1],
        "exactly the oldest caller is handed the turn"
    );
    assert_eq!(result.waiters(), 1, "b holds the turn, c waits");
    assert!(b.is_pending(), "b runs its own initializer");
    assert_eq!(calls_b.load(Ordering::SeqCst), 1);
    assert!(c.is_pending());
    gate_a.set(); // a's initializer is gone: no effect
    assert!(!result.is_ready());
    gate_b.set();
    assert_eq!(*b.ready(), 2);
    // 1: b's initializer woken by its gate; 2: c, released with the value b stored.
    assert_eq!(log.take(), vec![1, 2]);
    assert_eq!(*c.ready(), 2);
    assert_eq!(calls_a.load(Ordering::SeqCst), 1);
    assert_eq!(calls_c.load(Ordering::SeqCst), 0);
}

/// A turn handed to a caller that is dropped before it runs passes on to the next one.
#[test]
fn a_turn_handed_to_a_dropped_caller_passes_on() {
    let result = AsyncResult::new();
    let gate = Event::new();
    let calls = AtomicUsize::new(0);
    let log = WakeLog::default();
    let mut a = Polled::new(result.get_or_init(gated(&gate, &calls, 1)));
    assert!(a.is_pending());
    let mut b = Polled::with_waker(result.get_or_init(never_runs), log.waker(1));
    let mut c = Polled::with_waker(result.get_or_init(|| async { 3 }), log.waker(2));
    assert!(b.is_pending());
    assert!(c.is_pending());
    drop(a);
    assert_eq!(log.take(), vec![1]);
    drop(b); // granted the turn, never ran
    assert_eq!(log.take(), vec![2]);
    assert_eq!(*c.ready(), 3);
    assert_eq!(result.waiters(), 0);
}

/// A newcomer does not barge past queued callers while the turn is being handed over.
#[test]
fn a_newcomer_queues_behind_a_handed_over_turn() {
    let result = AsyncResult::new();
    let gate = Event::new();
    let calls = AtomicUsize::new(0);
    let mut a = Polled::new(result.get_or_init(gated(&gate, &calls, 1)));
    assert!(a.is_pending());
    let mut b = Polled::new(result.get_or_init(|| async { 2 }));
    assert!(b.is_pending());
    drop(a);
    let mut late = Polled::new(result.get_or_init(never_runs));
    assert!(late.is_pending(), "the turn is b's");
    assert_eq!(*b.ready(), 2);
    assert_eq!(*late.ready(), 2);
}

/// A failed `get_or_try_init` returns its error and stores nothing; the next queued caller runs
/// its own initializer.
#[test]
fn failed_initializer_returns_its_error_and_hands_the_turn_on() {
    let result = AsyncResult::new();
    let gate = Event::new();
    let log = WakeLog::default();
    let mut a = Polled::new(result.get_or_try_init(|| async {
        gate.wait().await;
        Err::<usize, &str>("boom")
    }));
    assert!(a.is_pending());
    let mut b = Polled::with_waker(
        result.get_or_try_init(|| async { Ok::<_, &str>(2) }),
        log.waker(1),
    );
    let mut c = Polled::with_waker(
        result.get_or_try_init(|| async { Err::<usize, &str>("unused") }),
        log.waker(2),
    );
    assert!(b.is_pending());
    assert!(c.is_pending());
    gate.set();
    assert_eq!(a.ready(), Err("boom"));
    assert_eq!(log.take(), vec![1]);
    assert!(!result.is_ready());
    assert_eq!(b.ready(), Ok(&2));
    assert_eq!(
        c.ready(),
        Ok(&2),
        "c got the value; its own initializer never ran"
    );
    assert_eq!(
        Polled::new(result.get_or_try_init(|| async { Err::<usize, &str>("late") })).ready(),
        Ok(&2)
    );
}

/// `set` while an initializer runs completes every queued caller with the value set; the
/// initializer runs on, its value is dropped, and its call returns the value set.
#[test]
fn set_while_initializing_completes_everyone_and_drops_the_initializers_value() {
    let drops = Arc::new(AtomicUsize::new(0));
    let result = AsyncResult::new();
    let gate = Event::new();
    let mut runner = Polled::new(result.get_or_init(|| {
        let drops = drops.clone();
        let gate = &gate;
        async move {
            gate.wait().await;
            Counted::new(1, &drops)
        }
    }));
    assert!(runner.is_pending());
    let mut queued = Polled::new(result.get_or_init(|| async { unreachable!() }));
    assert!(queued.is_pending());
    result.set(Counted::new(7, &drops)).ok().unwrap();
    assert_eq!(queued.wakes(), 1);
    assert_eq!(queued.ready().id, 7);
    assert!(runner.is_pending(), "the initializer runs on");
    gate.set();
    let got = runner.ready();
    assert_eq!(got.id, 7);
    assert!(got.intact());
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the initializer's value was dropped"
    );
    // A failing initializer overtaken by `set` returns the value set too.
    let result = AsyncResult::new();
    let mut failing = Polled::new(result.get_or_try_init(|| async {
        gate.wait().await; // already set: completes on this poll
        Err::<u8, ()>(())
    }));
    result.set(3).unwrap();
    assert_eq!(failing.ready(), Ok(&3));
}

/// A panicking initializer passes the turn on (its call is dropped while unwinding).
#[tokio::test(start_paused = true)]
async fn panicking_initializer_passes_the_turn_on() {
    let result = Arc::new(AsyncResult::new());
    let panicking = tokio::spawn({
        let result = result.clone();
        async move {
            *result
                .get_or_init(|| async {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    panic!("initializer panics");
                })
                .await
        }
    });
    tokio::task::yield_now().await;
    let next = tokio::spawn({
        let result = result.clone();
        async move { *result.get_or_init(|| async { 8u32 }).await }
    });
    assert!(panicking.await.unwrap_err().is_panic());
    assert_eq!(next.await.unwrap(), 8);
    assert_eq!(result.waiters(), 0);
}

/// `.deadline(d)` bounds the wait and the initializer; expiry passes the turn on.
#[tokio::test(start_paused = true)]
async fn deadline_bounds_the_initializer_and_passes_the_turn_on() {
    let result = Arc::new(AsyncResult::new());
    let start = tokio::time::Instant::now();
    let slow = result
        .get_or_init(std::future::pending::<u8>)
        .deadline(Duration::from_secs(2));
    let waiting = tokio::spawn({
        let result = result.clone();
        async move {
            let value = *result.get_or_init(|| async { 4 }).await;
            (value, start.elapsed())
        }
    });
    assert_eq!(slow.await, Err(Timeout));
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(waiting.await.unwrap(), (4, Duration::from_secs(2)));
    // With the value set, a deadline call returns it at once.
    assert_eq!(
        result
            .get_or_init(never_runs)
            .deadline(Duration::ZERO)
            .await,
        Ok(&4)
    );
}

/// A deadline already passed never starts the initializer; a waiting caller's deadline leaves
/// the line and leaves nothing behind.
#[tokio::test(start_paused = true)]
async fn passed_deadline_and_waiting_caller_deadline() {
    let result = AsyncResult::new();
    assert_eq!(
        result
            .get_or_init(never_runs)
            .deadline(Duration::ZERO)
            .await,
        Err(Timeout)
    );
    assert_eq!(
        result
            .get_or_try_init(|| async { Ok::<usize, ()>(1) })
            .deadline(Duration::ZERO)
            .await,
        Err(Timeout)
    );
    let gate = Event::new();
    let calls = AtomicUsize::new(0);
    let (running, waiting) = tokio::join!(result.get_or_init(gated(&gate, &calls, 3)), async {
        let late = result
            .get_or_init(|| async { 9 })
            .deadline(Duration::from_secs(1))
            .await;
        assert_eq!(result.waiters(), 0, "the timed-out caller left the line");
        gate.set();
        late
    },);
    assert_eq!(*running, 3);
    assert_eq!(waiting, Err(Timeout));
}

/// `tokio::time::timeout` around the call is cancel safe: the turn passes on.
#[tokio::test(start_paused = true)]
async fn tokio_timeout_around_get_or_init_passes_the_turn_on() {
    let result = AsyncResult::new();
    let (timed, next) = tokio::join!(
        tokio::time::timeout(
            Duration::from_secs(1),
            result.get_or_try_init(std::future::pending::<Result<u8, ()>>)
        ),
        result.get_or_try_init(|| async { Ok::<_, ()>(6) }),
    );
    assert!(timed.is_err());
    assert_eq!(next, Ok(&6));
}

#[test]
fn get_or_init_blocks_on_plain_threads() {
    let result = Arc::new(AsyncResult::new());
    let gate = Arc::new(Event::new());
    let started = Arc::new(AtomicUsize::new(0));
    let runner = std::thread::spawn({
        let (result, gate, started) = (result.clone(), gate.clone(), started.clone());
        move || {
            *result
                .get_or_init(|| {
                    started.fetch_add(1, Ordering::SeqCst);
                    async move {
                        gate.wait().await;
                        10
                    }
                })
                .block()
        }
    });
    while started.load(Ordering::SeqCst) == 0 {
        std::thread::yield_now();
    }
    let waiter = std::thread::spawn({
        let result = result.clone();
        move || *result.get_or_init(never_runs).block()
    });
    while result.waiters() == 0 {
        std::thread::yield_now();
    }
    gate.set();
    assert_eq!(runner.join().unwrap(), 10);
    assert_eq!(waiter.join().unwrap(), 10);
    assert_eq!(*result.get_or_init(never_runs).block(), 10);
    assert_eq!(
        result
            .get_or_init(never_runs)
            .deadline(Duration::ZERO)
            .block(),
        Ok(&10)
    );
}

#[test]
fn take_resets_to_unset() {
    let mut result = AsyncResult::new();
    assert_eq!(result.take(), None);
    result.set(String::from("a")).unwrap();
    assert_eq!(result.take().as_deref(), Some("a"));
    assert!(!result.is_ready());
    assert_eq!(result.try_get(), Err(NotReady));
    assert_eq!(
        *Polled::new(result.get_or_init(|| async { String::from("b") })).ready(),
        "b"
    );
    assert_eq!(result.take().as_deref(), Some("b"));
    result.set(String::from("c")).unwrap();
    assert_eq!(result.into_inner().as_deref(), Some("c"));
}

#[test]
fn get_or_init_futures_are_send_and_debug() {
    fn assert_send_val<T: Send>(_: &T) {}
    let result = AsyncResult::<u8>::new();
    let fut = result.get_or_init(|| async { 1 });
    assert_send_val(&fut);
    assert_eq!(
        format!("{fut:?}"),
        "AsyncResultGetOrInit { initializing: false, .. }"
    );
    let fut = result.get_or_try_init(|| async { Ok::<u8, ()>(1) });
    assert_send_val(&fut);
    assert!(format!("{fut:?}").starts_with("AsyncResultGetOrTryInit"));
}
