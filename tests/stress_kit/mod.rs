//! Kit shared by `tests/stress.rs` and `tests/executor_matrix.rs`: executors behind one small
//! interface (tokio multi-thread, optionally with an aborter task; `futures`' `ThreadPool`),
//! the ways a wait ends (plain, dropped mid-way, timed out), the RNG, the statistics, and the
//! stress bodies that run on more than one executor (Semaphore, Mutex, Condition + Mutex).
//!
//! Sizes: 10^5 operations per primitive by default; `TORO_STRESS_SCALE` multiplies that (e.g.
//! `10` for 10^6, `0.1` for a quick run); `TORO_STRESS_SEED` picks the RNG seeds (default 0).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::executor::ThreadPool;
use futures::future::{Either, select};
use futures::task::SpawnExt;
use toro_sync::{Condition, Event, Mutex, Semaphore};

/// Every stress body gives up (printing the primitive) after this long.
pub const WATCHDOG: Duration = Duration::from_secs(120);

/// Operations per primitive: 10^5 times `TORO_STRESS_SCALE`.
pub fn total_ops() -> usize {
    let scale: f64 = std::env::var("TORO_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((100_000.0 * scale) as usize).max(64)
}

/// `TORO_STRESS_SEED`, default 0 (the same run every time, as far as scheduling allows).
pub fn seed() -> u64 {
    std::env::var("TORO_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// xorshift64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A deadline of 0 to 500 µs; one in three is zero (try once).
    pub fn deadline(&mut self) -> Duration {
        match self.below(3) {
            0 => Duration::ZERO,
            _ => Duration::from_micros(self.below(501)),
        }
    }
}

pub type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An executor the stress bodies run on.
pub trait Exec: Clone + Send + Sync + 'static {
    fn name(&self) -> String;
    /// Spawns a task; the future resolves when it ends: `true` if it ran to completion,
    /// `false` if it was aborted. A panic in the task is resumed.
    fn spawn(&self, task: BoxFut<()>) -> BoxFut<bool>;
    fn sleep(&self, d: Duration) -> BoxFut<()>;
    /// Spawns a task that the aborter never picks.
    fn spawn_safe(&self, task: BoxFut<()>) -> BoxFut<bool> {
        self.spawn(task)
    }
    /// Runs `fut` for at most `d`; `false` if it did not finish in time.
    fn timeout(&self, d: Duration, fut: BoxFut<()>) -> BoxFut<bool>;
    /// Tasks aborted so far by this executor's aborter, if it has one.
    fn aborted(&self) -> usize {
        0
    }
}

/// Tokio (the current multi-thread runtime), optionally with a task that aborts random tasks
/// spawned through it with `JoinHandle::abort()`.
#[derive(Clone)]
pub struct Tokio {
    aborter: Option<Arc<Aborter>>,
}

pub struct Aborter {
    handles: StdMutex<Vec<tokio::task::AbortHandle>>,
    stop: AtomicBool,
    aborted: AtomicUsize,
}

impl Tokio {
    pub fn plain() -> Self {
        Tokio { aborter: None }
    }

    /// With an aborter task, which runs until [`stop_aborting`](Self::stop_aborting): after
    /// 0 to 999 yields at a time it aborts one random live task spawned through this executor
    /// (from a separate task, so the abort lands on whichever worker runs the victim).
    pub fn aborting(seed: u64) -> Self {
        let aborter = Arc::new(Aborter {
            handles: StdMutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            aborted: AtomicUsize::new(0),
        });
        let a = aborter.clone();
        tokio::spawn(async move {
            let mut rng = Rng::new(seed ^ 0xAB08_7ABC);
            while !a.stop.load(SeqCst) {
                // Yields rather than a sleep: tokio's timer has a millisecond's granularity,
                // far coarser than the rounds' lifetimes.
                for _ in 0..rng.below(1000) {
                    tokio::task::yield_now().await;
                }
                let victim = {
                    let mut handles = a.handles.lock().unwrap();
                    handles.retain(|h| !h.is_finished());
                    if handles.is_empty() {
                        continue;
                    }
                    let i = rng.below(handles.len() as u64) as usize;
                    handles.swap_remove(i)
                };
                victim.abort();
            }
        });
        Tokio {
            aborter: Some(aborter),
        }
    }

    pub fn stop_aborting(&self) {
        if let Some(a) = &self.aborter {
            a.stop.store(true, SeqCst);
        }
    }
}

impl Exec for Tokio {
    fn name(&self) -> String {
        match self.aborter {
            Some(_) => "tokio+abort".into(),
            None => "tokio".into(),
        }
    }

    fn spawn_safe(&self, task: BoxFut<()>) -> BoxFut<bool> {
        Tokio { aborter: None }.spawn(task)
    }

    fn spawn(&self, task: BoxFut<()>) -> BoxFut<bool> {
        let handle = tokio::spawn(task);
        let aborter = self.aborter.clone();
        if let Some(a) = &aborter {
            a.handles.lock().unwrap().push(handle.abort_handle());
        }
        Box::pin(async move {
            match handle.await {
                Ok(()) => true,
                Err(e) if e.is_cancelled() => {
                    if let Some(a) = aborter {
                        a.aborted.fetch_add(1, SeqCst);
                    }
                    false
                }
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        })
    }

    fn sleep(&self, d: Duration) -> BoxFut<()> {
        Box::pin(tokio::time::sleep(d))
    }

    fn timeout(&self, d: Duration, fut: BoxFut<()>) -> BoxFut<bool> {
        Box::pin(async move { tokio::time::timeout(d, fut).await.is_ok() })
    }

    fn aborted(&self) -> usize {
        self.aborter.as_ref().map_or(0, |a| a.aborted.load(SeqCst))
    }
}

/// `futures`' `ThreadPool`: no tokio anywhere, so deadlines fire on the crate's async-io
/// timer.
#[derive(Clone)]
pub struct Pool(pub ThreadPool);

impl Pool {
    pub fn new(threads: usize) -> Self {
        Pool(
            ThreadPool::builder()
                .pool_size(threads)
                .name_prefix("toro-pool-")
                .create()
                .expect("a thread pool"),
        )
    }
}

impl Exec for Pool {
    fn name(&self) -> String {
        "futures ThreadPool".into()
    }

    fn spawn(&self, task: BoxFut<()>) -> BoxFut<bool> {
        let handle = self.0.spawn_with_handle(task).expect("spawn on the pool");
        Box::pin(async move {
            handle.await;
            true
        })
    }

    fn sleep(&self, d: Duration) -> BoxFut<()> {
        // A deadline on a wait that nothing completes: the crate's own (async-io) timer.
        Box::pin(async move {
            let never = Event::new();
            let _ = never.wait().deadline(d).await;
        })
    }

    fn timeout(&self, d: Duration, fut: BoxFut<()>) -> BoxFut<bool> {
        // A plain thread is the clock, so the watchdog does not depend on the crate's timer.
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        std::thread::spawn(move || {
            std::thread::sleep(d);
            let _ = tx.send(());
        });
        Box::pin(async move {
            match select(fut, rx).await {
                Either::Left(_) => true,
                Either::Right(_) => false,
            }
        })
    }
}

/// Returns `Pending` once (waking itself), then `Ready`.
pub struct YieldNow(bool);

pub fn yield_now() -> YieldNow {
    YieldNow(false)
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Polls `fut` once; if that does not complete it, gives up on the next poll (after a
/// wake-up) without polling it again, and drops it: the wake-up is almost always a grant,
/// which must be passed on.
pub struct AbandonOnWake<F> {
    fut: Pin<Box<F>>,
    polled: bool,
}

pub fn abandon_on_wake<F: Future>(fut: F) -> AbandonOnWake<F> {
    AbandonOnWake {
        fut: Box::pin(fut),
        polled: false,
    }
}

impl<F: Future> Future for AbandonOnWake<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        if self.polled {
            return Poll::Ready(None);
        }
        self.polled = true;
        self.fut.as_mut().poll(cx).map(Some)
    }
}

/// How one wait ends: 80% plain, 10% with a random deadline (0 to 500 µs), 10% dropped
/// mid-way.
#[derive(Clone, Copy, Debug)]
pub enum How {
    Plain,
    /// Raced against a yield: dropped if not granted by its second poll.
    SelectYield,
    /// Raced against a short sleep.
    SelectSleep(Duration),
    /// Polled once, then dropped on the next wake-up.
    AbandonOnWake,
    Deadline(Duration),
}

impl How {
    pub fn pick(rng: &mut Rng) -> How {
        match rng.below(30) {
            0 => How::SelectYield,
            1 => How::SelectSleep(Duration::from_micros(rng.below(200))),
            2 => How::AbandonOnWake,
            3..=5 => How::Deadline(rng.deadline()),
            _ => How::Plain,
        }
    }
}

#[derive(Default)]
pub struct Stats {
    pub ops: AtomicUsize,
    pub completed: AtomicUsize,
    pub cancelled: AtomicUsize,
    pub timeouts: AtomicUsize,
}

impl Stats {
    pub fn get(&self) -> (usize, usize, usize, usize) {
        (
            self.ops.load(SeqCst),
            self.completed.load(SeqCst),
            self.cancelled.load(SeqCst),
            self.timeouts.load(SeqCst),
        )
    }

    /// Prints the figures and checks that every wait ended one way (not counting waits whose
    /// task was aborted mid-way) and that cancellation was exercised.
    pub fn report(&self, name: &str, exec: &dyn ExecName, started: Instant, lost: usize) {
        let (ops, completed, cancelled, timeouts) = self.get();
        let aborted = exec.aborted_tasks();
        println!(
            "{name} on {}: {ops} ops, {completed} completed, {cancelled} cancelled, \
             {timeouts} timed out, {aborted} tasks aborted, lost = {lost}, {:.2?}",
            exec.exec_name(),
            started.elapsed()
        );
        assert_eq!(lost, 0, "{name}: lost");
        if aborted == 0 {
            assert_eq!(
                completed + cancelled + timeouts,
                ops,
                "every wait ends one way"
            );
        } else {
            assert!(completed + cancelled + timeouts <= ops);
        }
        if ops >= 10_000 {
            assert!(cancelled > 0 && timeouts > 0, "cancellation was exercised");
        }
    }
}

/// Object-safe view of an executor for reports.
pub trait ExecName {
    fn exec_name(&self) -> String;
    fn aborted_tasks(&self) -> usize;
}

impl<E: Exec> ExecName for E {
    fn exec_name(&self) -> String {
        self.name()
    }
    fn aborted_tasks(&self) -> usize {
        self.aborted()
    }
}

/// Runs one wait the chosen way: `Some(output)`, or `None` if it was dropped or timed out.
/// `$fut` is a crate wait future (it has `.deadline()`).
macro_rules! wait_how {
    ($exec:expr, $fut:expr, $how:expr, $stats:expr) => {{
        use futures::future::{Either, select};
        use std::pin::pin;
        use std::sync::atomic::Ordering::SeqCst;
        use $crate::stress_kit::{How, abandon_on_wake, yield_now};
        $stats.ops.fetch_add(1, SeqCst);
        let got = match $how {
            How::Plain => Some($fut.await),
            How::SelectYield => match select(pin!($fut), yield_now()).await {
                Either::Left((out, _)) => Some(out),
                Either::Right(_) => {
                    $stats.cancelled.fetch_add(1, SeqCst);
                    None
                }
            },
            How::SelectSleep(d) => match select(pin!($fut), $exec.sleep(d)).await {
                Either::Left((out, _)) => Some(out),
                Either::Right(_) => {
                    $stats.cancelled.fetch_add(1, SeqCst);
                    None
                }
            },
            How::AbandonOnWake => match abandon_on_wake($fut).await {
                Some(out) => Some(out),
                None => {
                    $stats.cancelled.fetch_add(1, SeqCst);
                    None
                }
            },
            How::Deadline(d) => match $fut.deadline(d).await {
                Ok(out) => Some(out),
                Err(_) => {
                    $stats.timeouts.fetch_add(1, SeqCst);
                    None
                }
            },
        };
        if got.is_some() {
            $stats.completed.fetch_add(1, SeqCst);
        }
        got
    }};
}

#[allow(unused_imports)]
pub(crate) use wait_how;

/// A count that goes up while held and down on drop (also when the task holding it is
/// aborted).
pub struct Held<'a> {
    count: &'a AtomicUsize,
    n: usize,
}

impl<'a> Held<'a> {
    /// Adds `n`; returns the guard and the new total.
    pub fn enter(count: &'a AtomicUsize, n: usize) -> (Self, usize) {
        let now = count.fetch_add(n, SeqCst) + n;
        (Held { count, n }, now)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(self.n, SeqCst);
    }
}

/// Work split into rounds, each round its own task (so an aborted round loses only itself):
/// `tasks` workers each run `per_task` operations in rounds of at most `ROUND`.
pub const ROUND: usize = 32;

pub async fn run_workers<E, W>(exec: &E, tasks: usize, per_task: usize, round: W) -> usize
where
    E: Exec,
    W: Fn(usize, u64, usize) -> BoxFut<()> + Send + Sync + 'static,
{
    let round = Arc::new(round);
    let aborted = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for t in 0..tasks {
        let (exec2, round, aborted) = (exec.clone(), round.clone(), aborted.clone());
        workers.push(exec.spawn_safe(Box::pin(async move {
            let mut done = 0;
            let mut r = 0u64;
            while done < per_task {
                let n = ROUND.min(per_task - done);
                let seed = seed() ^ ((t as u64) << 32) ^ r;
                if !exec2.spawn(round(t, seed, n)).await {
                    aborted.fetch_add(1, SeqCst);
                }
                done += n;
                r += 1;
            }
        })));
    }
    for w in workers {
        assert!(w.await, "a worker (not a round) was aborted");
    }
    aborted.load(SeqCst)
}

/// `tasks` workers run rounds (each its own task, see [`run_workers`]) until `stop` is set.
pub async fn run_until<E, W>(exec: &E, tasks: usize, stop: Arc<AtomicBool>, round: W)
where
    E: Exec,
    W: Fn(usize, u64) -> BoxFut<()> + Send + Sync + 'static,
{
    let round = Arc::new(round);
    let mut workers = Vec::new();
    for t in 0..tasks {
        let (exec2, round, stop) = (exec.clone(), round.clone(), stop.clone());
        workers.push(exec.spawn_safe(Box::pin(async move {
            let mut r = 0u64;
            while !stop.load(SeqCst) {
                let seed = seed() ^ ((t as u64) << 32) ^ r ^ 0x5EED;
                exec2.spawn(round(t, seed)).await;
                r += 1;
            }
        })));
    }
    for w in workers {
        assert!(w.await, "a worker (not a round) was aborted");
    }
}

/// Holds what was acquired for a while: 0 to 3 yields, or (one time in sixteen) a sleep of
/// up to 100 µs — a real suspension on every executor (futures' `ThreadPool` re-polls a task
/// that wakes itself at once, so a yield does not let others in there).
pub async fn hold<E: Exec>(exec: &E, rng: &mut Rng) {
    if rng.below(16) == 0 {
        exec.sleep(Duration::from_micros(rng.below(101))).await;
    } else {
        for _ in 0..rng.below(4) {
            yield_now().await;
        }
    }
}

/// Runs `fut` under the watchdog; on expiry, panics with `state()`.
pub async fn watchdog<E: Exec>(exec: &E, fut: BoxFut<()>, state: impl Fn() -> String) {
    if !exec.timeout(WATCHDOG, fut).await {
        panic!("watchdog: no progress in {WATCHDOG:?}; state: {}", state());
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies run on more than one executor.

pub const SEM_PERMITS: usize = 8;
pub const SEM_TASKS: usize = 64;

/// `Semaphore(8)`, 64 tasks acquiring 1 to 3 permits (some by `try_acquire`, some
/// `wait_unlocked`, some forgotten and given back with `add_permits`); an `inside` count of
/// permits held, raised after acquiring and lowered before releasing, never exceeds 8; at the
/// end all 8 are free and nobody waits.
pub async fn semaphore_body<E: Exec>(exec: E) {
    let started = Instant::now();
    let sem = Arc::new(Semaphore::new(SEM_PERMITS));
    let inside = Arc::new(AtomicUsize::new(0));
    let stats = Arc::new(Stats::default());
    let per_task = total_ops() / SEM_TASKS;
    let (s, i, st, ex) = (sem.clone(), inside.clone(), stats.clone(), exec.clone());
    let work = async move {
        run_workers(&ex.clone(), SEM_TASKS, per_task, move |_, seed, n| {
            let (sem, inside, stats, exec) = (s.clone(), i.clone(), st.clone(), ex.clone());
            Box::pin(async move {
                let mut rng = Rng::new(seed);
                for _ in 0..n {
                    let k = match rng.below(10) {
                        0 => 2,
                        1 => 3,
                        _ => 1,
                    };
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
                    assert!(now <= SEM_PERMITS, "{now} permits held at once");
                    hold(&exec, &mut rng).await;
                    drop(held);
                    if rng.below(20) == 0 {
                        permit.forget();
                        sem.add_permits(k);
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
    let lost = SEM_PERMITS.abs_diff(sem.available());
    stats.report("semaphore", &exec, started, lost);
    assert_eq!(sem.available(), SEM_PERMITS, "{sem:?}");
    assert_eq!(sem.waiters(), 0, "{sem:?}");
    assert_eq!(inside.load(SeqCst), 0);
    assert!(sem.try_acquire_many(SEM_PERMITS).is_some());
}

pub const MUTEX_TASKS: usize = 64;

/// 64 tasks increment a counter under the Mutex, reading it, sometimes yielding, then writing
/// it back; never two holders; the final value equals the increments committed.
pub async fn mutex_body<E: Exec>(exec: E) {
    let started = Instant::now();
    let lock = Arc::new(Mutex::new(0u64));
    let holders = Arc::new(AtomicUsize::new(0));
    let commits = Arc::new(AtomicUsize::new(0));
    let stats = Arc::new(Stats::default());
    let per_task = total_ops() / MUTEX_TASKS;
    let (l, h, c, st, ex) = (
        lock.clone(),
        holders.clone(),
        commits.clone(),
        stats.clone(),
        exec.clone(),
    );
    let work = async move {
        run_workers(&ex.clone(), MUTEX_TASKS, per_task, move |_, seed, n| {
            let (lock, holders, commits, stats, exec) =
                (l.clone(), h.clone(), c.clone(), st.clone(), ex.clone());
            Box::pin(async move {
                let mut rng = Rng::new(seed);
                for _ in 0..n {
                    let guard = if rng.below(20) == 0 {
                        stats.ops.fetch_add(1, SeqCst);
                        let g = lock.try_lock();
                        stats.completed.fetch_add(1, SeqCst);
                        g
                    } else {
                        let how = How::pick(&mut rng);
                        wait_how!(exec, lock.lock(), how, stats)
                    };
                    let Some(mut guard) = guard else {
                        continue;
                    };
                    let (held, now) = Held::enter(&holders, 1);
                    assert_eq!(now, 1, "two holders at once");
                    let v = *guard;
                    if rng.below(4) == 0 {
                        hold(&exec, &mut rng).await;
                    }
                    *guard = v + 1;
                    commits.fetch_add(1, SeqCst);
                    drop(held);
                    drop(guard);
                }
            })
        })
        .await;
    };
    let l = lock.clone();
    watchdog(&exec, Box::pin(work), move || format!("{l:?}")).await;
    let value = *lock.try_lock().expect("the mutex is free at the end") as usize;
    let lost = commits.load(SeqCst).abs_diff(value);
    stats.report("mutex", &exec, started, lost);
    assert_eq!(lock.waiters(), 0, "{lock:?}");
    assert!(!lock.is_locked());
    assert_eq!(holders.load(SeqCst), 0);
}

pub const PRODUCERS: usize = 32;
pub const CONSUMERS: usize = 32;

pub struct Shared {
    pub items: VecDeque<usize>,
    pub done: bool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("len", &self.items.len())
            .field("done", &self.done)
            .finish()
    }
}

/// A deque guarded by the Mutex and a Condition; 32 producers push items and `notify_one`; 32
/// consumers pop, waiting with `wait_with` (registered before the lock is released, then
/// re-checking), 10% of their waits and lock acquisitions dropped or timed out. Every item
/// pushed is consumed exactly once; after the producers finish and `notify_all` is called, no
/// consumer stays blocked; nobody is left registered.
pub async fn condition_body<E: Exec>(exec: E) {
    let started = Instant::now();
    let items = total_ops() / 2;
    let pair = Arc::new((
        Mutex::new(Shared {
            items: VecDeque::new(),
            done: false,
        }),
        Condition::new(),
    ));
    let next = Arc::new(AtomicUsize::new(0));
    let produced: Arc<Vec<AtomicU8>> = Arc::new((0..items).map(|_| AtomicU8::new(0)).collect());
    let consumed: Arc<Vec<AtomicU8>> = Arc::new((0..items).map(|_| AtomicU8::new(0)).collect());
    let stats = Arc::new(Stats::default());

    let (p, nx, pr, st, ex) = (
        pair.clone(),
        next.clone(),
        produced.clone(),
        stats.clone(),
        exec.clone(),
    );
    let producers = async move {
        run_workers(
            &ex.clone(),
            PRODUCERS,
            items / PRODUCERS + 1,
            move |_, seed, n| {
                let (pair, next, produced, stats, exec) =
                    (p.clone(), nx.clone(), pr.clone(), st.clone(), ex.clone());
                Box::pin(async move {
                    let (lock, cond) = &*pair;
                    let mut rng = Rng::new(seed);
                    for _ in 0..n {
                        let id = next.fetch_add(1, SeqCst);
                        if id >= produced.len() {
                            return;
                        }
                        let mut guard = loop {
                            let how = How::pick(&mut rng);
                            if let Some(g) = wait_how!(exec, lock.lock(), how, stats) {
                                break g;
                            }
                        };
                        guard.items.push_back(id);
                        produced[id].fetch_add(1, SeqCst);
                        drop(guard);
                        cond.notify_one();
                        if rng.below(16) == 0 {
                            // Let the consumers run dry and wait.
                            exec.sleep(Duration::from_micros(rng.below(200))).await;
                        }
                    }
                })
            },
        )
        .await;
    };

    let finished = Arc::new(AtomicBool::new(false));
    let (p, co, fin, st, ex) = (
        pair.clone(),
        consumed.clone(),
        finished.clone(),
        stats.clone(),
        exec.clone(),
    );
    let consumers = async move {
        // Consumers run in rounds of up to ROUND items until one sees the producers done and
        // the deque empty.
        run_until(&ex.clone(), CONSUMERS, fin.clone(), move |_, seed| {
            let (pair, consumed, finished, stats, exec) =
                (p.clone(), co.clone(), fin.clone(), st.clone(), ex.clone());
            Box::pin(async move {
                let (lock, cond) = &*pair;
                let mut rng = Rng::new(seed);
                let mut got = 0;
                'relock: while got < ROUND {
                    let how = How::pick(&mut rng);
                    let Some(mut guard) = wait_how!(exec, lock.lock(), how, stats) else {
                        continue;
                    };
                    loop {
                        if let Some(id) = guard.items.pop_front() {
                            assert_eq!(consumed[id].fetch_add(1, SeqCst), 0, "item {id} twice");
                            got += 1;
                            continue 'relock;
                        }
                        if guard.done {
                            finished.store(true, SeqCst);
                            return;
                        }
                        // Registers, then releases the lock: a push after this is notified.
                        let how = How::pick(&mut rng);
                        match wait_how!(exec, cond.wait_with(guard), how, stats) {
                            Some(g) => guard = g,
                            // Timed out or dropped: the lock is not held; re-lock, re-check.
                            None => continue 'relock,
                        }
                    }
                }
            })
        })
        .await;
    };

    let (p, ex) = (pair.clone(), exec.clone());
    let work = async move {
        let producers = ex.spawn_safe(Box::pin(producers));
        let consumers = ex.spawn_safe(Box::pin(consumers));
        assert!(producers.await);
        let (lock, cond) = &*p;
        lock.lock().await.done = true;
        cond.notify_all();
        assert!(consumers.await);
    };
    let p = pair.clone();
    watchdog(&exec, Box::pin(work), move || {
        let (lock, cond) = &*p;
        let deque = lock.try_lock().map(|g| (g.items.len(), g.done));
        format!("{lock:?} {cond:?}, (deque len, done) = {deque:?}")
    })
    .await;

    let (lock, cond) = &*pair;
    let mut produced_n = 0;
    let mut lost = 0;
    for (id, (p, c)) in produced.iter().zip(consumed.iter()).enumerate() {
        let (p, c) = (p.load(SeqCst), c.load(SeqCst));
        assert!(p <= 1 && c <= 1, "item {id}: produced {p}, consumed {c}");
        assert!(c <= p, "item {id} consumed but never produced");
        produced_n += p as usize;
        lost += (p - c) as usize;
    }
    println!("condition: {produced_n} of {items} items produced and consumed");
    stats.report("condition+mutex", &exec, started, lost);
    if exec.aborted() == 0 {
        assert_eq!(produced_n, items, "every item was produced");
    }
    assert!(lock.try_lock().expect("free at the end").items.is_empty());
    assert_eq!(cond.waiters(), 0, "{cond:?}");
    assert_eq!(lock.waiters(), 0, "{lock:?}");
    assert!(!lock.is_locked());
}
