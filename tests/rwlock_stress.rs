//! Stress: RwLock and Mutex under random cancellation on a 4-worker tokio runtime.
//!
//! 10^5 operations per test by default; `TORO_STRESS_SCALE` multiplies that (e.g. `10` for
//! 10^6, `0.1` for a quick run). Figures are printed (`--nocapture` to see them).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use toro_sync::{Mutex, RwLock, Timeout};

const SENTINEL: u64 = u64::MAX;
const WRITERS: usize = 8;
const READERS: usize = 56;
const MAX_READERS: usize = 16;
const MUTEX_TASKS: usize = 64;
const WATCHDOG: Duration = Duration::from_secs(120);

/// Seeds the per-task RNGs: `TORO_STRESS_SEED`, default 0 (the same run every time).
fn seed() -> u64 {
    std::env::var("TORO_STRESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn total_ops() -> usize {
    let scale: f64 = std::env::var("TORO_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    ((100_000.0 * scale) as usize).max(64)
}

/// xorshift64: enough randomness to pick how each wait ends.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// How one wait is run: 90% plain, 10% cancellable.
#[derive(Clone, Copy)]
enum How {
    Plain,
    /// Raced against `yield_now`: dropped if not granted by the second poll.
    SelectYield,
    /// Raced against a short sleep.
    SelectSleep(Duration),
    /// Polled once; if that does not complete it, dropped as soon as it is woken, without
    /// being polled again: the wake-up is almost always a grant, which must be passed on.
    AbandonOnWake,
    /// A small random deadline (0 means try once).
    Deadline(Duration),
}

/// Polls `fut` once; on the next poll (after a wake-up) gives up without polling it again.
struct AbandonOnWake<F> {
    fut: Pin<Box<F>>,
    polled: bool,
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

fn abandon_on_wake<F: Future>(fut: F) -> AbandonOnWake<F> {
    AbandonOnWake {
        fut: Box::pin(fut),
        polled: false,
    }
}

impl How {
    fn pick(rng: &mut Rng) -> How {
        match rng.below(40) {
            0 => How::SelectYield,
            1 => How::SelectSleep(Duration::from_micros(rng.below(200))),
            2 => How::AbandonOnWake,
            // One in three is try-once, the rest fire within a millisecond or so.
            3 => match rng.below(3) {
                0 => How::Deadline(Duration::ZERO),
                _ => How::Deadline(Duration::from_micros(rng.below(500))),
            },
            _ => How::Plain,
        }
    }
}

#[derive(Default)]
struct Stats {
    ops: AtomicUsize,
    acquired: AtomicUsize,
    cancelled: AtomicUsize,
    timeouts: AtomicUsize,
}

impl Stats {
    fn check_and_print(&self, name: &str, started: Instant) {
        let ops = self.ops.load(SeqCst);
        let acquired = self.acquired.load(SeqCst);
        let cancelled = self.cancelled.load(SeqCst);
        let timeouts = self.timeouts.load(SeqCst);
        println!(
            "{name}: {ops} ops, {acquired} acquired, {cancelled} cancelled, {timeouts} timed out, \
             {:.2?}",
            started.elapsed()
        );
        assert_eq!(
            acquired + cancelled + timeouts,
            ops,
            "every wait ends one way"
        );
        if ops >= 10_000 {
            assert!(cancelled + timeouts > 0, "cancellation was exercised");
        }
    }
}

/// Runs one wait the chosen way: `Some(guard)`, or `None` if it was cancelled or timed out.
macro_rules! acquire {
    ($fut:expr, $how:expr, $stats:expr) => {{
        $stats.ops.fetch_add(1, SeqCst);
        let got = match $how {
            How::Plain => Some($fut.await),
            How::SelectYield => tokio::select! {
                g = $fut => Some(g),
                _ = tokio::task::yield_now() => {
                    $stats.cancelled.fetch_add(1, SeqCst);
                    None
                }
            },
            How::SelectSleep(d) => tokio::select! {
                g = $fut => Some(g),
                _ = tokio::time::sleep(d) => {
                    $stats.cancelled.fetch_add(1, SeqCst);
                    None
                }
            },
            How::AbandonOnWake => match abandon_on_wake($fut).await {
                Some(g) => Some(g),
                None => {
                    $stats.cancelled.fetch_add(1, SeqCst);
                    None
                }
            },
            How::Deadline(d) => match $fut.deadline(d).await {
                Ok(g) => Some(g),
                Err(Timeout) => {
                    $stats.timeouts.fetch_add(1, SeqCst);
                    None
                }
            },
        };
        if got.is_some() {
            $stats.acquired.fetch_add(1, SeqCst);
        }
        got
    }};
}

/// Who is inside the lock right now.
#[derive(Default)]
struct Inside {
    readers: AtomicUsize,
    writers: AtomicUsize,
    max_readers_seen: AtomicUsize,
    commits: AtomicU64,
    reads_seen: AtomicUsize,
    max_write_wait_us: AtomicU64,
}

/// 8 writers and 56 readers, max_readers = 16, ~10% of waits cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rwlock_stress_with_cancellation() {
    let started = Instant::now();
    let lock = Arc::new(RwLock::with_max_readers(0u64, MAX_READERS));
    let stats = Arc::new(Stats::default());
    let inside = Arc::new(Inside::default());
    let per_task = total_ops() / (WRITERS + READERS);
    let seed = seed();
    println!("rwlock: seed {seed}, {per_task} ops per task");

    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (lock, stats, inside) = (lock.clone(), stats.clone(), inside.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(seed ^ w as u64);
            for _ in 0..per_task {
                let how = How::pick(&mut rng);
                let asked = Instant::now();
                let Some(mut g) = acquire!(lock.write(), how, stats) else {
                    continue;
                };
                if matches!(how, How::Plain) {
                    let waited = asked.elapsed().as_micros() as u64;
                    inside.max_write_wait_us.fetch_max(waited, SeqCst);
                }
                assert_eq!(inside.writers.fetch_add(1, SeqCst), 0, "two writers inside");
                assert_eq!(
                    inside.readers.load(SeqCst),
                    0,
                    "a reader inside with a writer"
                );
                let v = *g;
                assert_ne!(v, SENTINEL, "a writer saw another's sentinel");
                *g = SENTINEL;
                tokio::task::yield_now().await;
                assert_eq!(*g, SENTINEL);
                *g = v + 1;
                inside.commits.fetch_add(1, SeqCst);
                inside.writers.fetch_sub(1, SeqCst);
                drop(g);
                if rng.below(4) == 0 {
                    tokio::task::yield_now().await;
                }
            }
        }));
    }
    for r in 0..READERS {
        let (lock, stats, inside) = (lock.clone(), stats.clone(), inside.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(seed ^ (1000 + r as u64));
            for _ in 0..per_task {
                let how = How::pick(&mut rng);
                let Some(g) = acquire!(lock.read(), how, stats) else {
                    continue;
                };
                let n = inside.readers.fetch_add(1, SeqCst) + 1;
                inside.max_readers_seen.fetch_max(n, SeqCst);
                assert!(n <= MAX_READERS, "{n} readers inside");
                assert_eq!(
                    inside.writers.load(SeqCst),
                    0,
                    "a writer inside with a reader"
                );
                assert_ne!(*g, SENTINEL, "a reader saw the sentinel");
                if rng.below(4) == 0 {
                    tokio::task::yield_now().await;
                    assert_ne!(*g, SENTINEL, "a reader saw the sentinel after a yield");
                }
                inside.readers.fetch_sub(1, SeqCst);
                inside.reads_seen.fetch_add(1, SeqCst);
                drop(g);
            }
        }));
    }

    let joined = tokio::time::timeout(WATCHDOG, async {
        for t in tasks {
            t.await.expect("a stress task panicked");
        }
    })
    .await;
    if joined.is_err() {
        panic!("watchdog: stress hung; lock = {lock:?}");
    }

    stats.check_and_print("rwlock", started);
    let commits = inside.commits.load(SeqCst);
    println!(
        "rwlock: {commits} writes committed, {} reads, max {} readers inside at once, \
         longest uncancelled write wait {} µs",
        inside.reads_seen.load(SeqCst),
        inside.max_readers_seen.load(SeqCst),
        inside.max_write_wait_us.load(SeqCst),
    );
    assert_eq!(lock.waiters(), 0);
    assert_eq!(
        *lock.read().await,
        commits,
        "final value equals committed writes"
    );
    // Every read slot is back: exactly 16, and then a writer gets in at once.
    let slots: Vec<_> = (0..MAX_READERS)
        .map(|i| lock.try_read().unwrap_or_else(|| panic!("slot {i} leaked")))
        .collect();
    assert!(lock.try_read().is_none(), "more than max_readers slots");
    drop(slots);
    assert!(lock.try_write().is_some());
    assert_eq!(
        stats.acquired.load(SeqCst),
        commits as usize + inside.reads_seen.load(SeqCst)
    );
}

/// 64 tasks increment under a Mutex with ~10% of acquisitions cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mutex_stress_with_cancellation() {
    let started = Instant::now();
    let lock = Arc::new(Mutex::new(0u64));
    let stats = Arc::new(Stats::default());
    let holders = Arc::new(AtomicUsize::new(0));
    let per_task = total_ops() / MUTEX_TASKS;
    let seed = seed();
    println!("mutex: seed {seed}, {per_task} ops per task");

    let mut tasks = Vec::new();
    for t in 0..MUTEX_TASKS {
        let (lock, stats, holders) = (lock.clone(), stats.clone(), holders.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(seed ^ (5000 + t as u64));
            for _ in 0..per_task {
                let how = How::pick(&mut rng);
                let Some(mut g) = acquire!(lock.lock(), how, stats) else {
                    continue;
                };
                assert_eq!(holders.fetch_add(1, SeqCst), 0, "two holders at once");
                let v = *g;
                if rng.below(4) == 0 {
                    tokio::task::yield_now().await;
                }
                *g = v + 1;
                holders.fetch_sub(1, SeqCst);
                drop(g);
            }
        }));
    }

    let joined = tokio::time::timeout(WATCHDOG, async {
        for t in tasks {
            t.await.expect("a stress task panicked");
        }
    })
    .await;
    if joined.is_err() {
        panic!("watchdog: stress hung; mutex = {lock:?}");
    }

    stats.check_and_print("mutex", started);
    assert_eq!(lock.waiters(), 0);
    assert!(!lock.is_locked());
    assert_eq!(
        *lock.lock().await as usize,
        stats.acquired.load(SeqCst),
        "final count equals successful increments"
    );
}
