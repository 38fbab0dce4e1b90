//! toro-sync against the crates its users would otherwise pick. Every group measures the same
//! workload for each peer in one run, on a current-thread (`ct`) and, where tasks contend, a
//! two-worker (`mt2`) tokio runtime. `cargo run -p toro-sync-bench --release --bin report`
//! turns the results into BENCHMARKS.md.
//!
//! Bench ids are `<workload>/<runtime>/<peer>`; the report relies on that shape.

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use tokio::runtime::{Builder, Runtime};

fn rt(kind: &str) -> Runtime {
    match kind {
        "ct" => Builder::new_current_thread().enable_time().build().unwrap(),
        _ => Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap(),
    }
}

const RUNTIMES: [&str; 2] = ["ct", "mt2"];

// ---------------------------------------------------------------------------------------------
// (1) uncontended lock/unlock

fn uncontended_lock(c: &mut Criterion) {
    for kind in RUNTIMES {
        uncontended_lock_on(c, kind);
    }
}

/// Lock and unlock with nobody else around, in a task `block_on` runs on `kind`'s runtime.
fn uncontended_lock_on(c: &mut Criterion, kind: &str) {
    let mut g = c.benchmark_group(format!("w01_uncontended_lock/{kind}"));
    g.throughput(Throughput::Elements(1));
    let rt = rt(kind);
    macro_rules! async_peer {
        ($name:literal, $m:expr, $lock:ident) => {{
            let m = $m;
            g.bench_function($name, |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let mut guard = m.$lock().await;
                            *guard += 1;
                            black_box(&*guard);
                        }
                        start.elapsed()
                    })
                })
            });
        }};
    }
    async_peer!("toro-sync", toro_sync::Mutex::new(0u64), lock);
    async_peer!("tokio", tokio::sync::Mutex::new(0u64), lock);
    async_peer!("async-lock", async_lock::Mutex::new(0u64), lock);
    async_peer!(
        "futures-intrusive",
        futures_intrusive::sync::Mutex::new(0u64, true),
        lock
    );
    let m = std::sync::Mutex::new(0u64);
    g.bench_function("std (floor)", |b| {
        b.iter(|| {
            let mut guard = m.lock().unwrap();
            *guard += 1;
            black_box(&*guard);
        })
    });
    let m = parking_lot::Mutex::new(0u64);
    g.bench_function("parking_lot (floor)", |b| {
        b.iter(|| {
            let mut guard = m.lock();
            *guard += 1;
            black_box(&*guard);
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// (2) contended lock: 64 tasks, a yield every 64 iterations

const TASKS: usize = 64;
const PER_TASK: usize = 256;

fn contended_lock(c: &mut Criterion) {
    for kind in RUNTIMES {
        let mut g = c.benchmark_group(format!("w02_contended_lock/{kind}"));
        g.throughput(Throughput::Elements((TASKS * PER_TASK) as u64));
        g.sample_size(20);
        let rt = rt(kind);
        macro_rules! peer {
            ($name:literal, $new:expr, $lock:ident) => {{
                g.bench_function($name, |b| {
                    b.iter(|| {
                        rt.block_on(async {
                            let m = Arc::new($new);
                            let tasks: Vec<_> = (0..TASKS)
                                .map(|_| {
                                    let m = m.clone();
                                    tokio::spawn(async move {
                                        for i in 0..PER_TASK {
                                            *m.$lock().await += 1;
                                            if i % 64 == 63 {
                                                tokio::task::yield_now().await;
                                            }
                                        }
                                    })
                                })
                                .collect();
                            for t in tasks {
                                t.await.unwrap();
                            }
                        })
                    })
                });
            }};
        }
        peer!("toro-sync", toro_sync::Mutex::new(0u64), lock);
        peer!("tokio", tokio::sync::Mutex::new(0u64), lock);
        peer!("async-lock", async_lock::Mutex::new(0u64), lock);
        peer!(
            "futures-intrusive",
            futures_intrusive::sync::Mutex::new(0u64, true),
            lock
        );
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// (3) semaphore: 64 tasks, 8 permits

fn semaphore(c: &mut Criterion) {
    semaphore_64x8(c, "w03_semaphore_64x8", 8);
}

/// 64 tasks share 8 permits, each acquiring `PER_TASK` times and holding the permit across a
/// `yield_now()` on one acquisition in `yield_every`.
fn semaphore_64x8(c: &mut Criterion, group: &str, yield_every: usize) {
    for kind in RUNTIMES {
        let mut g = c.benchmark_group(format!("{group}/{kind}"));
        g.throughput(Throughput::Elements((TASKS * PER_TASK) as u64));
        g.sample_size(20);
        let rt = rt(kind);
        macro_rules! peer {
            ($name:literal, $new:expr, |$s:ident| $acquire:expr) => {{
                g.bench_function($name, |b| {
                    b.iter(|| {
                        rt.block_on(async {
                            let sem = Arc::new($new);
                            let tasks: Vec<_> = (0..TASKS)
                                .map(|_| {
                                    let $s = sem.clone();
                                    tokio::spawn(async move {
                                        for i in 0..PER_TASK {
                                            let permit = $acquire;
                                            if i % yield_every == yield_every - 1 {
                                                tokio::task::yield_now().await;
                                            }
                                            drop(permit);
                                        }
                                    })
                                })
                                .collect();
                            for t in tasks {
                                t.await.unwrap();
                            }
                        })
                    })
                });
            }};
        }
        peer!("toro-sync", toro_sync::Semaphore::new(8), |s| s
            .acquire()
            .await);
        peer!("tokio", tokio::sync::Semaphore::new(8), |s| s
            .acquire()
            .await
            .unwrap());
        peer!("async-lock", async_lock::Semaphore::new(8), |s| s
            .acquire()
            .await);
        peer!(
            "futures-intrusive",
            futures_intrusive::sync::Semaphore::new(true, 8),
            |s| s.acquire(1).await
        );
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// (4)–(6) queues: producers → consumers

const ITEMS: usize = 16_384;

/// One queue under test: how to make it and how producers and consumers use it.
macro_rules! channel_bench {
    ($g:ident, $rt:ident, $name:literal, $producers:expr, $consumers:expr,
     make: $make:expr, send: |$tx:ident, $v:ident| $send:expr, recv: |$rx:ident| $recv:expr) => {{
        $g.bench_function($name, |b| {
            b.iter(|| {
                $rt.block_on(watchdog($name, async {
                    let (tx, rx) = $make;
                    let per_producer = ITEMS / $producers;
                    let mut tasks = Vec::new();
                    for _ in 0..$producers {
                        let $tx = tx.clone();
                        tasks.push(tokio::spawn(async move {
                            for $v in 0..per_producer {
                                $send;
                            }
                        }));
                    }
                    let per_consumer = ITEMS / $consumers;
                    for _ in 0..$consumers {
                        let $rx = rx.clone();
                        tasks.push(tokio::spawn(async move {
                            let mut sum = 0usize;
                            for _ in 0..per_consumer {
                                sum += $recv;
                            }
                            black_box(sum);
                        }));
                    }
                    drop((tx, rx));
                    for t in tasks {
                        t.await.unwrap();
                    }
                }))
            })
        });
    }};
}

/// Fails the run instead of hanging it if a peer deadlocks (flume's MPMC once did here).
async fn watchdog<F: std::future::Future>(peer: &str, run: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(30), run).await {
        Ok(out) => out,
        Err(_) => panic!("{peer}: one iteration took over 30 s: deadlock"),
    }
}

fn queues(c: &mut Criterion) {
    for (group, cap, producers, consumers) in [
        ("w04_bounded128_1to1", Some(128), 1, 1),
        ("w05_bounded128_4to4", Some(128), 4, 4),
        ("w06_unbounded_1to1", None, 1, 1),
    ] {
        for kind in RUNTIMES {
            let mut g = c.benchmark_group(format!("{group}/{kind}"));
            g.throughput(Throughput::Elements(ITEMS as u64));
            g.sample_size(20);
            let rt = rt(kind);
            channel_bench!(g, rt, "toro-sync", producers, consumers,
                make: {
                    let q = Arc::new(match cap {
                        Some(n) => toro_sync::Queue::bounded(n),
                        None => toro_sync::Queue::unbounded(),
                    });
                    (q.clone(), q)
                },
                send: |q, v| q.put(v).await.unwrap(),
                recv: |q| q.get().await.unwrap());
            // flume 0.11's async MPMC deadlocked here twice (4 → 4 on two workers, every task
            // parked, load 0; see BENCHMARKS.md), which would stop the whole run.
            let flume_hangs = consumers > 1 && kind == "mt2";
            if !flume_hangs {
                channel_bench!(g, rt, "flume", producers, consumers,
                make: match cap { Some(n) => flume::bounded(n), None => flume::unbounded() },
                send: |tx, v| tx.send_async(v).await.unwrap(),
                recv: |rx| rx.recv_async().await.unwrap());
            }
            channel_bench!(g, rt, "kanal", producers, consumers,
                make: {
                    let (tx, rx) = match cap { Some(n) => kanal::bounded_async(n), None => kanal::unbounded_async() };
                    (tx, rx)
                },
                send: |tx, v| tx.send(v).await.unwrap(),
                recv: |rx| rx.recv().await.unwrap());
            channel_bench!(g, rt, "async-channel", producers, consumers,
                make: match cap { Some(n) => async_channel::bounded(n), None => async_channel::unbounded() },
                send: |tx, v| tx.send(v).await.unwrap(),
                recv: |rx| rx.recv().await.unwrap());
            if consumers == 1 {
                // tokio's mpsc has one receiver.
                g.bench_function("tokio", |b| {
                    b.iter(|| {
                        rt.block_on(async {
                            let per_producer = ITEMS / producers;
                            let mut tasks = Vec::new();
                            match cap {
                                Some(n) => {
                                    let (tx, mut rx) = tokio::sync::mpsc::channel(n);
                                    for _ in 0..producers {
                                        let tx = tx.clone();
                                        tasks.push(tokio::spawn(async move {
                                            for v in 0..per_producer {
                                                tx.send(v).await.unwrap();
                                            }
                                        }));
                                    }
                                    drop(tx);
                                    let mut sum = 0usize;
                                    while let Some(v) = rx.recv().await {
                                        sum += v;
                                    }
                                    black_box(sum);
                                }
                                None => {
                                    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                                    for _ in 0..producers {
                                        let tx = tx.clone();
                                        tasks.push(tokio::spawn(async move {
                                            for v in 0..per_producer {
                                                tx.send(v).unwrap();
                                            }
                                        }));
                                    }
                                    drop(tx);
                                    let mut sum = 0usize;
                                    while let Some(v) = rx.recv().await {
                                        sum += v;
                                    }
                                    black_box(sum);
                                }
                            }
                            for t in tasks {
                                t.await.unwrap();
                            }
                        })
                    })
                });
            }
            g.finish();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (11)–(13) queues between spawned tasks: 2,000,000 items, consumers spawned first

/// Items through one queue per iteration of `w11`–`w13`.
const TASK_ITEMS: usize = 2_000_000;

/// The values producer `p` of `producers` sends: all of `0..TASK_ITEMS` between them.
fn share(p: usize, producers: usize) -> std::ops::Range<u64> {
    let per = TASK_ITEMS / producers;
    let end = if p + 1 == producers {
        TASK_ITEMS
    } else {
        per * (p + 1)
    };
    (per * p) as u64..end as u64
}

/// What the consumers of one iteration receive between them.
const TASK_SUM: u64 = (TASK_ITEMS as u64) * (TASK_ITEMS as u64 - 1) / 2;

/// One queue between tasks: the consumer tasks are spawned first, each receiving until the
/// queue is closed and drained; then the producers, the last of which to finish closes the
/// queue (for a channel: drops its last sender). Timed from the first spawn to the last join;
/// the received items are checked after.
macro_rules! task_channel_bench {
    ($g:ident, $rt:ident, $name:literal, $producers:expr, $consumers:expr,
     make: $make:expr, send: |$tx:ident, $v:ident| $send:expr,
     recv_all: |$rx:ident| $recv_all:expr, close: |$c:ident| $close:expr) => {{
        $g.bench_function($name, |b| {
            b.iter_custom(|iters| {
                $rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (tx, rx) = $make;
                        let (elapsed, sum) = watchdog($name, async {
                            let start = Instant::now();
                            let consumers: Vec<_> = (0..$consumers)
                                .map(|_| {
                                    let $rx = rx.clone();
                                    tokio::spawn(async move { $recv_all })
                                })
                                .collect();
                            drop(rx);
                            let left = Arc::new(AtomicUsize::new($producers));
                            let producers: Vec<_> = (0..$producers)
                                .map(|p| {
                                    let $tx = tx.clone();
                                    let left = left.clone();
                                    tokio::spawn(async move {
                                        for $v in share(p, $producers) {
                                            $send;
                                        }
                                        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                                            let $c = &$tx;
                                            // A channel's close is its last sender's drop:
                                            // `()` here.
                                            #[allow(clippy::no_effect, clippy::unused_unit)]
                                            {
                                                $close;
                                            }
                                        }
                                    })
                                })
                                .collect();
                            drop(tx);
                            for p in producers {
                                p.await.unwrap();
                            }
                            let mut sum = 0u64;
                            for c in consumers {
                                sum += c.await.unwrap();
                            }
                            (start.elapsed(), sum)
                        })
                        .await;
                        assert_eq!(sum, TASK_SUM, "{}: an item was lost or duplicated", $name);
                        total += elapsed;
                    }
                    total
                })
            })
        });
    }};
}

fn task_queues(c: &mut Criterion) {
    for (group, cap, producers, consumers) in [
        ("w11_tasks_bounded128_1to1", Some(128), 1, 1),
        ("w12_tasks_bounded128_4to4", Some(128), 4, 4),
        ("w13_tasks_unbounded_1to1", None, 1, 1),
    ] {
        for kind in RUNTIMES {
            let mut g = c.benchmark_group(format!("{group}/{kind}"));
            g.throughput(Throughput::Elements(TASK_ITEMS as u64));
            // An iteration takes 0.05–0.5 s: ten of them, one per sample.
            g.sample_size(10);
            g.sampling_mode(SamplingMode::Flat);
            g.warm_up_time(Duration::from_millis(200));
            g.measurement_time(Duration::from_secs(2));
            let rt = rt(kind);
            task_channel_bench!(g, rt, "toro-sync", producers, consumers,
                make: {
                    let q = Arc::new(match cap {
                        Some(n) => toro_sync::Queue::bounded(n),
                        None => toro_sync::Queue::unbounded(),
                    });
                    (q.clone(), q)
                },
                send: |q, v| q.put(v).await.unwrap(),
                recv_all: |q| {
                    let mut sum = 0u64;
                    while let Ok(v) = q.get().await {
                        sum += v;
                    }
                    sum
                },
                close: |q| q.close());
            task_channel_bench!(g, rt, "kanal", producers, consumers,
                make: match cap { Some(n) => kanal::bounded_async(n), None => kanal::unbounded_async() },
                send: |tx, v| tx.send(v).await.unwrap(),
                recv_all: |rx| {
                    let mut sum = 0u64;
                    while let Ok(v) = rx.recv().await {
                        sum += v;
                    }
                    sum
                },
                // The last sender's drop closes it.
                close: |_tx| ());
            // As in w05: flume's async MPMC deadlocked on 4 → 4 with two workers.
            if !(consumers > 1 && kind == "mt2") {
                task_channel_bench!(g, rt, "flume", producers, consumers,
                    make: match cap { Some(n) => flume::bounded(n), None => flume::unbounded() },
                    send: |tx, v| tx.send_async(v).await.unwrap(),
                    recv_all: |rx| {
                        let mut sum = 0u64;
                        while let Ok(v) = rx.recv_async().await {
                            sum += v;
                        }
                        sum
                    },
                    close: |_tx| ());
            }
            task_channel_bench!(g, rt, "async-channel", producers, consumers,
                make: match cap { Some(n) => async_channel::bounded(n), None => async_channel::unbounded() },
                send: |tx, v| tx.send(v).await.unwrap(),
                recv_all: |rx| {
                    let mut sum = 0u64;
                    while let Ok(v) = rx.recv().await {
                        sum += v;
                    }
                    sum
                },
                close: |_tx| ());
            // tokio's mpsc has one receiver: 1 → 1 only. Its receiver is not `Clone`, so it
            // is handed to the one consumer through a slot the macro's `clone` takes it from.
            if consumers == 1 {
                match cap {
                    Some(n) => task_channel_bench!(g, rt, "tokio", producers, consumers,
                        make: {
                            let (tx, rx) = tokio::sync::mpsc::channel(n);
                            (tx, OneReceiver::new(rx))
                        },
                        send: |tx, v| tx.send(v).await.unwrap(),
                        recv_all: |rx| {
                            let mut rx = rx.take();
                            let mut sum = 0u64;
                            while let Some(v) = rx.recv().await {
                                sum += v;
                            }
                            sum
                        },
                        close: |_tx| ()),
                    None => task_channel_bench!(g, rt, "tokio", producers, consumers,
                        make: {
                            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                            (tx, OneReceiver::new(rx))
                        },
                        send: |tx, v| tx.send(v).unwrap(),
                        recv_all: |rx| {
                            let mut rx = rx.take();
                            let mut sum = 0u64;
                            while let Some(v) = rx.recv().await {
                                sum += v;
                            }
                            sum
                        },
                        close: |_tx| ()),
                }
            }
            g.finish();
        }
    }
}

/// tokio's one receiver, shared so that `clone` gives the one consumer a handle to take it.
struct OneReceiver<R>(Arc<std::sync::Mutex<Option<R>>>);

impl<R> OneReceiver<R> {
    fn new(rx: R) -> Self {
        OneReceiver(Arc::new(std::sync::Mutex::new(Some(rx))))
    }

    fn take(&self) -> R {
        self.0
            .lock()
            .unwrap()
            .take()
            .expect("one consumer takes the receiver")
    }
}

impl<R> Clone for OneReceiver<R> {
    fn clone(&self) -> Self {
        OneReceiver(self.0.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// (14) semaphore: 64 tasks, 8 permits, each permit held across a yield

fn semaphore_hold_yield(c: &mut Criterion) {
    semaphore_64x8(c, "w14_semaphore_hold_yield_64x8", 1);
}

// ---------------------------------------------------------------------------------------------
// (7) ping-pong between two tasks

const ROUNDS: usize = 4_096;

fn ping_pong(c: &mut Criterion) {
    for kind in RUNTIMES {
        let mut g = c.benchmark_group(format!("w07_ping_pong/{kind}"));
        g.throughput(Throughput::Elements(ROUNDS as u64));
        g.sample_size(20);
        let rt = rt(kind);
        macro_rules! pair {
            ($name:literal, $new:expr, |$x:ident| signal: $signal:expr, wait: $wait:expr) => {{
                g.bench_function($name, |b| {
                    b.iter(|| {
                        rt.block_on(async {
                            let ping = Arc::new($new);
                            let pong = Arc::new($new);
                            let (ping2, pong2) = (ping.clone(), pong.clone());
                            let other = tokio::spawn(async move {
                                for _ in 0..ROUNDS {
                                    {
                                        let $x = &ping2;
                                        $wait;
                                    }
                                    let $x = &pong2;
                                    $signal;
                                }
                            });
                            for _ in 0..ROUNDS {
                                {
                                    let $x = &ping;
                                    $signal;
                                }
                                let $x = &pong;
                                $wait;
                            }
                            other.await.unwrap();
                        })
                    })
                });
            }};
        }
        pair!("toro-sync Semaphore", toro_sync::Semaphore::new(0),
            |s| signal: s.release(), wait: s.acquire().await.forget());
        pair!("tokio Notify", tokio::sync::Notify::new(),
            |n| signal: n.notify_one(), wait: n.notified().await);
        pair!("async-lock Semaphore", async_lock::Semaphore::new(0),
            |s| signal: s.add_permits(1), wait: s.acquire().await.forget());
        // Channel pairs: bounded(1) queues carrying the round number.
        macro_rules! channel_pair {
            ($name:literal, make: $make:expr,
             send: |$tx:ident, $v:ident| $send:expr, recv: |$rx:ident| $recv:expr) => {{
                g.bench_function($name, |b| {
                    b.iter(|| {
                        rt.block_on(async {
                            let (atx, arx) = $make;
                            let (ztx, zrx) = $make;
                            let other = tokio::spawn(async move {
                                for _ in 0..ROUNDS {
                                    let $v: usize = {
                                        let $rx = &arx;
                                        $recv
                                    };
                                    let $tx = &ztx;
                                    $send;
                                }
                            });
                            for $v in 0..ROUNDS {
                                {
                                    let $tx = &atx;
                                    $send;
                                }
                                let $rx = &zrx;
                                black_box($recv);
                            }
                            other.await.unwrap();
                        })
                    })
                });
            }};
        }
        channel_pair!("toro-sync Queue",
            make: {
                let q = Arc::new(toro_sync::Queue::bounded(1));
                (q.clone(), q)
            },
            send: |q, v| q.put(v).await.unwrap(), recv: |q| q.get().await.unwrap());
        channel_pair!("flume", make: flume::bounded(1),
            send: |tx, v| tx.send_async(v).await.unwrap(), recv: |rx| rx.recv_async().await.unwrap());
        channel_pair!("kanal", make: kanal::bounded_async(1),
            send: |tx, v| tx.send(v).await.unwrap(), recv: |rx| rx.recv().await.unwrap());
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// (8) waking 1,000 waiters at once

const CROWD: usize = 1_000;

fn wake_crowd(c: &mut Criterion) {
    for kind in RUNTIMES {
        let mut g = c.benchmark_group(format!("w08_wake_1000/{kind}"));
        g.throughput(Throughput::Elements(CROWD as u64));
        g.sample_size(20);
        let rt = rt(kind);
        g.bench_function("toro-sync Event::set", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let e = Arc::new(toro_sync::Event::new());
                        let tasks: Vec<_> = (0..CROWD)
                            .map(|_| {
                                let e = e.clone();
                                tokio::spawn(async move { e.wait().await })
                            })
                            .collect();
                        while e.waiters() < CROWD {
                            tokio::task::yield_now().await;
                        }
                        let start = Instant::now();
                        e.set();
                        for t in tasks {
                            t.await.unwrap();
                        }
                        total += start.elapsed();
                    }
                    total
                })
            })
        });
        g.bench_function("tokio Notify::notify_waiters", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let n = Arc::new(tokio::sync::Notify::new());
                        let ready = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                        let tasks: Vec<_> = (0..CROWD)
                            .map(|_| {
                                let (n, ready) = (n.clone(), ready.clone());
                                tokio::spawn(async move {
                                    let notified = n.notified();
                                    tokio::pin!(notified);
                                    notified.as_mut().enable();
                                    ready.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                    notified.await
                                })
                            })
                            .collect();
                        while ready.load(std::sync::atomic::Ordering::SeqCst) < CROWD {
                            tokio::task::yield_now().await;
                        }
                        let start = Instant::now();
                        n.notify_waiters();
                        for t in tasks {
                            t.await.unwrap();
                        }
                        total += start.elapsed();
                    }
                    total
                })
            })
        });
        g.bench_function("futures-intrusive ManualResetEvent::set", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let e = Arc::new(futures_intrusive::sync::ManualResetEvent::new(false));
                        let ready = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                        let tasks: Vec<_> = (0..CROWD)
                            .map(|_| {
                                let (e, ready) = (e.clone(), ready.clone());
                                tokio::spawn(async move {
                                    let mut wait = std::pin::pin!(e.wait());
                                    // Registered by its first poll (pending: the event is
                                    // set only once every task is ready).
                                    let first = std::future::poll_fn(|cx| {
                                        Poll::Ready(wait.as_mut().poll(cx).is_pending())
                                    })
                                    .await;
                                    assert!(first, "the event is not set yet");
                                    ready.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                    wait.await
                                })
                            })
                            .collect();
                        while ready.load(std::sync::atomic::Ordering::SeqCst) < CROWD {
                            tokio::task::yield_now().await;
                        }
                        let start = Instant::now();
                        e.set();
                        for t in tasks {
                            t.await.unwrap();
                        }
                        total += start.elapsed();
                    }
                    total
                })
            })
        });
        g.bench_function("event-listener Event::notify", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let e = Arc::new(event_listener::Event::new());
                        let tasks: Vec<_> = (0..CROWD)
                            .map(|_| {
                                let e = e.clone();
                                // `listen` registers the listener at once.
                                tokio::spawn(async move { e.listen().await })
                            })
                            .collect();
                        while e.total_listeners() < CROWD {
                            tokio::task::yield_now().await;
                        }
                        let start = Instant::now();
                        e.notify(usize::MAX);
                        for t in tasks {
                            t.await.unwrap();
                        }
                        total += start.elapsed();
                    }
                    total
                })
            })
        });
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// (10) toro-only: priority and LIFO throughput, join/task_done, deadline overhead

fn toro_only(c: &mut Criterion) {
    let rt = rt("ct");
    let mut g = c.benchmark_group("w10_toro_only/ct");
    g.throughput(Throughput::Elements(ITEMS as u64));
    g.sample_size(20);
    macro_rules! fill_drain {
        ($name:literal, $q:expr, |$x:ident| $after_get:expr) => {{
            g.bench_function($name, |b| {
                b.iter(|| {
                    rt.block_on(async {
                        let q = $q;
                        for i in 0..ITEMS {
                            q.put((i * 7919) % ITEMS).await.unwrap();
                        }
                        for _ in 0..ITEMS {
                            let $x = &q;
                            black_box(q.get().await.unwrap());
                            #[allow(clippy::no_effect, clippy::unused_unit)]
                            {
                                $after_get;
                            }
                        }
                    })
                })
            });
        }};
    }
    fill_drain!("Queue put+get", toro_sync::Queue::unbounded(), |_q| ());
    fill_drain!(
        "LifoQueue put+get",
        toro_sync::LifoQueue::unbounded(),
        |_q| ()
    );
    fill_drain!(
        "PriorityQueue put+get",
        toro_sync::PriorityQueue::unbounded(),
        |_q| ()
    );
    fill_drain!(
        "Queue put+get+task_done",
        toro_sync::Queue::unbounded(),
        |q| q.task_done().unwrap()
    );
    g.finish();

    let mut g = c.benchmark_group("w10_deadline_overhead/ct");
    g.throughput(Throughput::Elements(1));
    let m = toro_sync::Mutex::new(0u64);
    g.bench_function("lock (no deadline)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    *m.lock().await += 1;
                }
                start.elapsed()
            })
        })
    });
    g.bench_function("lock with far deadline", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    *m.lock().deadline(Duration::from_secs(60)).await.unwrap() += 1;
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
}

criterion_group! {
    name = benches;
    config = config();
    targets = uncontended_lock, contended_lock, semaphore, queues, ping_pong, wake_crowd, toro_only,
        task_queues, semaphore_hold_yield
}
criterion_main!(benches);
