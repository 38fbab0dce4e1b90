//! Stress on a 4-worker tokio runtime, with random deadlines (0 to 500 µs) and about 10% of
//! waits dropped mid-way (raced against a yield or a short sleep, or polled once and dropped):
//! Semaphore, BoundedSemaphore (permit conservation), Condition + Mutex producer/consumer,
//! Event toggled while 63 tasks wait, Barrier generations with withdrawals.
//!
//! 10^5 operations per primitive by default; `TORO_STRESS_SCALE` multiplies that,
//! `TORO_STRESS_SEED` picks the seeds. Each test prints its figures (`--nocapture`) and runs
//! under a 120 s watchdog that prints the primitive's `Debug` if it fires. RwLock, Mutex and
//! queue stress live in `rwlock_stress.rs` and `queue_stress.rs`; the same Semaphore, Mutex and
//! Condition bodies on another executor and under `abort()` in `executor_matrix.rs`.

mod stress_kit;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use stress_kit::{
    Exec, Held, How, ROUND, Rng, Stats, Tokio, abandon_on_wake, hold, run_until, run_workers,
    total_ops, wait_how, watchdog, yield_now,
};
use toro_sync::future::{EventWait, WithDeadline};
use toro_sync::{Barrier, BoundedSemaphore, Event, Timeout};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn semaphore_stress() {
    stress_kit::semaphore_body(Tokio::plain()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn condition_mutex_producer_consumer_stress() {
    stress_kit::condition_body(Tokio::plain()).await;
}

const BOUND: usize = 8;
const BOUNDED_TASKS: usize = 64;

/// BoundedSemaphore(8), 64 tasks: permits held never exceed 8; a permit is sometimes
/// forgotten and given back by `release()` (toro's `acquire()` … `release()`), which must then
/// succeed; at the end all 8 are free, nobody waits, and one more `release()` fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bounded_semaphore_stress() {
    let started = Instant::now();
    let exec = Tokio::plain();
    let sem = Arc::new(BoundedSemaphore::new(BOUND));
    let inside = Arc::new(AtomicUsize::new(0));
    let given_back = Arc::new(AtomicUsize::new(0));
    let stats = Arc::new(Stats::default());
    let per_task = total_ops() / BOUNDED_TASKS;
    let (s, i, g, st, ex) = (
        sem.clone(),
        inside.clone(),
        given_back.clone(),
        stats.clone(),
        exec.clone(),
    );
    let work = async move {
        run_workers(&ex.clone(), BOUNDED_TASKS, per_task, move |_, seed, n| {
            let (sem, inside, given_back, stats, exec) =
                (s.clone(), i.clone(), g.clone(), st.clone(), ex.clone());
            Box::pin(async move {
                let mut rng = Rng::new(seed);
                for _ in 0..n {
                    let k = [1, 1, 1, 1, 1, 1, 1, 2, 3, 8][rng.below(10) as usize];
                    let permit = match rng.below(20) {
                        0 => {
                            stats.ops.fetch_add(1, SeqCst);
                            let p = sem.try_acquire_many(k);
                            stats.completed.fetch_add(1, SeqCst);
                            p
                        }
                        1 => {
                            let how = How::pick(&mut rng);
                            let _ = wait_how!(exec, sem.wait_unlocked(), how, stats);
                            None
                        }
                        _ => {
                            let how = How::pick(&mut rng);
                            wait_how!(exec, sem.acquire_many(k), how, stats)
                        }
                    };
                    let Some(permit) = permit else {
                        continue;
                    };
                    assert_eq!(permit.num_permits(), k);
                    let (held, now) = Held::enter(&inside, k);
                    assert!(now <= BOUND, "{now} permits held at once");
                    hold(&exec, &mut rng).await;
                    drop(held);
                    if rng.below(10) == 0 {
                        permit.forget();
                        for _ in 0..k {
                            assert!(
                                sem.release().is_ok(),
                                "release() of a forgotten permit refused: {sem:?}"
                            );
                        }
                        given_back.fetch_add(k, SeqCst);
                    } else {
                        drop(permit);
                    }
                }
            })
        })
        .await;
    };
    let s = sem.clone();
    watchdog(&exec, Box::pin(work), move || format!("{s:?}")).await;
    stats.report(
        "bounded semaphore",
        &exec,
        started,
        BOUND.abs_diff(sem.available()),
    );
    println!(
        "bounded semaphore: {} permits forgotten and released again",
        given_back.load(SeqCst)
    );
    assert_eq!(sem.available(), BOUND, "{sem:?}");
    assert_eq!(sem.waiters(), 0, "{sem:?}");
    assert!(sem.release().is_err(), "over-release accepted: {sem:?}");
    let all = sem.try_acquire_many(BOUND).expect("all permits are back");
    all.forget();
    for _ in 0..BOUND {
        assert!(sem.release().is_ok());
    }
    assert!(sem.release().is_err());
    assert_eq!(sem.available(), BOUND);
}

const EVENT_WAITERS: usize = 63;

/// An `event.wait().deadline(d)` that checks, when it times out, that no `set` which started
/// after it registered had already returned before the poll that timed out (such a `set` must
/// have released it, and a release wins over the deadline).
struct Checked<'a> {
    wait: Pin<Box<WithDeadline<EventWait<'a>>>>,
    polled: bool,
    /// `set` calls started when this wait was known to be registered.
    registered_after: Option<usize>,
    sets_started: &'a AtomicUsize,
    sets_done: &'a AtomicUsize,
}

impl Future for Checked<'_> {
    /// The outcome, and whether it broke the rule.
    type Output = (Result<(), Timeout>, bool);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let done_before = self.sets_done.load(SeqCst);
        let polled = self.wait.as_mut().poll(cx);
        if !self.polled {
            self.polled = true;
            if polled.is_pending() {
                self.registered_after = Some(self.sets_started.load(SeqCst));
            }
        }
        polled.map(|r| {
            let broken = r.is_err() && self.registered_after.is_some_and(|reg| done_before > reg);
            (r, broken)
        })
    }
}

/// One task toggles `set`/`clear` while 63 tasks loop `wait().deadline(d)` (and ~10% plain
/// waits dropped mid-way): every waiter registered before a `set` is not pending after it
/// (epoch counters); at the end nobody is registered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_toggle_stress() {
    let started = Instant::now();
    let exec = Tokio::plain();
    let event = Arc::new(Event::new());
    let sets_started = Arc::new(AtomicUsize::new(0));
    let sets_done = Arc::new(AtomicUsize::new(0));
    let broken = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Stats::default());
    let per_task = total_ops() / EVENT_WAITERS;

    let setter = {
        let (event, sets_started, sets_done, stop) = (
            event.clone(),
            sets_started.clone(),
            sets_done.clone(),
            stop.clone(),
        );
        exec.spawn_safe(Box::pin(async move {
            let mut rng = Rng::new(stress_kit::seed() ^ 0xE7E);
            while !stop.load(SeqCst) {
                sets_started.fetch_add(1, SeqCst);
                event.set();
                sets_done.fetch_add(1, SeqCst);
                // Mostly `set(); clear();` back to back: only the waiters registered before
                // the set are released by it.
                if rng.below(4) == 0 {
                    yield_now().await;
                }
                event.clear();
                yield_now().await;
            }
            event.set();
        }))
    };

    let (e, ss, sd, b, st, ex) = (
        event.clone(),
        sets_started.clone(),
        sets_done.clone(),
        broken.clone(),
        stats.clone(),
        exec.clone(),
    );
    let waiters = async move {
        run_workers(&ex.clone(), EVENT_WAITERS, per_task, move |_, seed, n| {
            let (event, sets_started, sets_done, broken, stats, exec) = (
                e.clone(),
                ss.clone(),
                sd.clone(),
                b.clone(),
                st.clone(),
                ex.clone(),
            );
            Box::pin(async move {
                let mut rng = Rng::new(seed);
                for _ in 0..n {
                    match How::pick(&mut rng) {
                        how @ (How::SelectYield | How::SelectSleep(_) | How::AbandonOnWake) => {
                            let _ = wait_how!(exec, event.wait(), how, stats);
                        }
                        How::Plain | How::Deadline(_) => {
                            stats.ops.fetch_add(1, SeqCst);
                            let checked = Checked {
                                wait: Box::pin(event.wait().deadline(rng.deadline())),
                                polled: false,
                                registered_after: None,
                                sets_started: &sets_started,
                                sets_done: &sets_done,
                            };
                            let (r, bad) = checked.await;
                            if bad {
                                broken.fetch_add(1, SeqCst);
                            }
                            match r {
                                Ok(()) => stats.completed.fetch_add(1, SeqCst),
                                Err(Timeout) => stats.timeouts.fetch_add(1, SeqCst),
                            };
                        }
                    }
                }
            })
        })
        .await;
    };
    let (ex, stop2) = (exec.clone(), stop.clone());
    let work = async move {
        let waiters = ex.spawn_safe(Box::pin(waiters));
        assert!(waiters.await);
        stop2.store(true, SeqCst);
        assert!(setter.await);
    };
    let e = event.clone();
    watchdog(&exec, Box::pin(work), move || format!("{e:?}")).await;
    let broken = broken.load(SeqCst);
    println!(
        "event: {} sets; {broken} waiters registered before a set that returned were still \
         pending after it",
        sets_done.load(SeqCst)
    );
    stats.report("event", &exec, started, broken);
    assert_eq!(event.waiters(), 0, "{event:?}");
    assert!(event.is_set());
}

const PARTIES: usize = 8;
const BARRIER_TASKS: usize = 32;
/// The deadline of the barrier's otherwise plain waits: at the end, fewer than 8 tasks may be
/// left in a generation, and they give up.
const STRAGGLER: Duration = Duration::from_millis(200);

/// The `generation` a barrier's `Debug` shows (trips so far).
fn generation(barrier: &Barrier) -> usize {
    let debug = format!("{barrier:?}");
    let at = debug
        .find("generation: ")
        .expect("Barrier's Debug shows its generation")
        + 12;
    let digits: String = debug[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// Barrier(8), 32 tasks looping `wait()` (10^5 waits in all), ~10% withdrawn before the trip (dropped mid-way or
/// timed out): exactly one leader per trip (leaders == generations); a wait returns only after
/// a trip that follows its arrival; every trip releases 8 arrivals (those that returned, plus
/// at most the dropped ones a trip had already released); at the end nobody is counted as
/// arrived and nobody waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn barrier_generations_stress() {
    let started = Instant::now();
    let exec = Tokio::plain();
    let barrier = Arc::new(Barrier::new(PARTIES));
    let leaders = Arc::new(AtomicUsize::new(0));
    let followers = Arc::new(AtomicUsize::new(0));
    let stats = Arc::new(Stats::default());
    // Tasks stop together once the total is reached (fixed counts per task would leave the
    // last few, fewer than 8, waiting out a deadline for each of their remaining waits).
    let total = total_ops();
    let started_waits = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (b, l, f, sw, sp, st, ex) = (
        barrier.clone(),
        leaders.clone(),
        followers.clone(),
        started_waits.clone(),
        stop.clone(),
        stats.clone(),
        exec.clone(),
    );
    let work = async move {
        run_until(&ex.clone(), BARRIER_TASKS, sp.clone(), move |_, seed| {
            let (barrier, leaders, followers, started_waits, stop, stats, exec) = (
                b.clone(),
                l.clone(),
                f.clone(),
                sw.clone(),
                sp.clone(),
                st.clone(),
                ex.clone(),
            );
            Box::pin(async move {
                let mut rng = Rng::new(seed);
                for _ in 0..ROUND {
                    if started_waits.fetch_add(1, SeqCst) >= total {
                        stop.store(true, SeqCst);
                        return;
                    }
                    let before = generation(&barrier);
                    let result = match How::pick(&mut rng) {
                        How::Plain => {
                            let how = How::Deadline(STRAGGLER);
                            wait_how!(exec, barrier.wait(), how, stats)
                        }
                        // Abandoned on its first wake-up, which only a trip (or the long
                        // deadline, for a straggler) gives.
                        How::AbandonOnWake => {
                            stats.ops.fetch_add(1, SeqCst);
                            match abandon_on_wake(barrier.wait().deadline(STRAGGLER)).await {
                                Some(Ok(r)) => {
                                    stats.completed.fetch_add(1, SeqCst);
                                    Some(r)
                                }
                                Some(Err(Timeout)) => {
                                    stats.timeouts.fetch_add(1, SeqCst);
                                    None
                                }
                                None => {
                                    stats.cancelled.fetch_add(1, SeqCst);
                                    None
                                }
                            }
                        }
                        how => wait_how!(exec, barrier.wait(), how, stats),
                    };
                    let Some(result) = result else {
                        continue;
                    };
                    let after = generation(&barrier);
                    assert!(
                        after > before,
                        "released without a trip ({before} → {after})"
                    );
                    if result.is_leader() {
                        leaders.fetch_add(1, SeqCst);
                    } else {
                        followers.fetch_add(1, SeqCst);
                    }
                }
            })
        })
        .await;
    };
    let b = barrier.clone();
    watchdog(&exec, Box::pin(work), move || format!("{b:?}")).await;
    let trips = generation(&barrier);
    let (leaders, followers) = (leaders.load(SeqCst), followers.load(SeqCst));
    let dropped = stats.cancelled.load(SeqCst);
    println!(
        "barrier: {trips} trips, {leaders} leaders, {followers} followers, {dropped} waits \
         dropped mid-way"
    );
    assert_eq!(leaders, trips, "exactly one leader per trip");
    let released = PARTIES * trips;
    assert!(
        leaders + followers <= released && released <= leaders + followers + dropped,
        "{released} arrivals released by {trips} trips, {} returned, {dropped} dropped",
        leaders + followers
    );
    stats.report(
        "barrier",
        &exec,
        started,
        released.saturating_sub(leaders + followers + dropped),
    );
    assert_eq!(barrier.waiters(), 0, "{barrier:?}");
    assert_eq!(barrier.arrived(), 0, "{barrier:?}");
    assert!(trips > 0);
}
