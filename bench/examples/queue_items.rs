//! Items through one queue, once, for instruction counts (`valgrind --tool=callgrind`) and for
//! the oversubscribed-threads check of the internal lock:
//!
//! ```text
//! cargo build -p toro-sync-bench --release --example queue_items
//! valgrind --tool=callgrind target/release/examples/queue_items toro b1 200000
//! queue_items <peer> <shape> [items]
//! ```
//!
//! Peers: `toro`, `kanal`, `flume`, `async-channel`, `tokio` (mpsc; one consumer only).
//! Shapes, as the `w11`–`w13` benchmarks run them (consumer tasks spawned first, each ending
//! when the queue is closed and drained; the producers close it when the last one is done):
//! `b1` bounded(128) 1 → 1, `b4` bounded(128) 4 → 4, `u1` unbounded 1 → 1. On a
//! current-thread runtime, or with `PROFILE_WORKERS=n` on a multi-thread one.
//!
//! Threads instead of tasks (`toro` and `kanal` only): `t4` is 4 producer and 4 consumer
//! threads on a bounded(128) queue, blocking (`.block()`, kanal's sync API); `m8` (`toro`
//! only) is 8 threads taking a `Mutex` with `.block()`, `items` times in all; `l8` (`toro`
//! only) is 8 threads each doing `try_put` then `try_get` on one unbounded queue, `items`
//! pairs in all: nothing but the internal lock, contended by more threads than cores. On two cores
//! these oversubscribe the machine: what a preempted holder of the internal lock costs shows.
//!
//! Prints the wall time and the time per item; fails if an item is lost or duplicated.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let peer = args
        .first()
        .map(String::as_str)
        .unwrap_or("toro")
        .to_string();
    let shape = args.get(1).map(String::as_str).unwrap_or("b1").to_string();
    let items: usize = args
        .get(2)
        .map(|n| n.parse().expect("items is a number"))
        .unwrap_or(200_000);
    let start = Instant::now();
    let sum = match shape.as_str() {
        "t4" => threads(&peer, items),
        "m8" => mutex_threads(items),
        "l8" => lock_threads(items),
        _ => {
            let (cap, producers, consumers) = match shape.as_str() {
                "b1" => (Some(128), 1, 1),
                "b4" => (Some(128), 4, 4),
                "u1" => (None, 1, 1),
                other => panic!("unknown shape {other:?}"),
            };
            let rt = match std::env::var("PROFILE_WORKERS")
                .ok()
                .and_then(|w| w.parse().ok())
            {
                Some(workers) => tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .build()
                    .unwrap(),
                None => tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap(),
            };
            rt.block_on(tasks(&peer, cap, producers, consumers, items))
        }
    };
    let elapsed = start.elapsed();
    if shape != "m8" && shape != "l8" {
        assert_eq!(
            sum,
            expected_sum(items),
            "{peer}: an item was lost or duplicated"
        );
    } else {
        assert_eq!(sum, items as u64, "an operation was lost");
    }
    println!(
        "{peer} {shape}: {items} items in {elapsed:?} ({:.1} ns/item)",
        elapsed.as_nanos() as f64 / items as f64
    );
}

/// The sum of 0..items, which is what the consumers receive between them.
fn expected_sum(items: usize) -> u64 {
    (items as u64) * (items as u64 - 1) / 2
}

/// Producer `p` of `producers` sends these values (all of 0..items between them).
fn share(p: usize, producers: usize, items: usize) -> std::ops::Range<u64> {
    let per = items / producers;
    let end = if p + 1 == producers {
        items
    } else {
        per * (p + 1)
    };
    (per * p) as u64..end as u64
}

/// Spawns `consumers` consumer tasks, then `producers` producer tasks; returns the sum received.
macro_rules! spawned {
    ($producers:expr, $consumers:expr, $items:expr,
     make: $make:expr, send: |$tx:ident, $v:ident| $send:expr, recv_all: |$rx:ident| $recv:expr,
     close: |$c:ident| $close:expr) => {{
        let (tx, rx) = $make;
        let consumers: Vec<_> = (0..$consumers)
            .map(|_| {
                let $rx = rx.clone();
                tokio::spawn(async move { $recv })
            })
            .collect();
        drop(rx);
        let left = Arc::new(AtomicUsize::new($producers));
        let producers: Vec<_> = (0..$producers)
            .map(|p| {
                let $tx = tx.clone();
                let left = left.clone();
                tokio::spawn(async move {
                    for $v in share(p, $producers, $items) {
                        $send;
                    }
                    if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                        let $c = &$tx;
                        // A channel's close is its last sender's drop: `()` here.
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
        let mut sum = 0;
        for c in consumers {
            sum += c.await.unwrap();
        }
        sum
    }};
}

async fn tasks(
    peer: &str,
    cap: Option<usize>,
    producers: usize,
    consumers: usize,
    items: usize,
) -> u64 {
    match peer {
        "toro" => spawned!(producers, consumers, items,
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
            close: |q| q.close()),
        "kanal" => spawned!(producers, consumers, items,
            make: match cap { Some(n) => kanal::bounded_async(n), None => kanal::unbounded_async() },
            send: |tx, v| tx.send(v).await.unwrap(),
            recv_all: |rx| {
                let mut sum = 0u64;
                while let Ok(v) = rx.recv().await {
                    sum += v;
                }
                sum
            },
            // Closed when the last sender is dropped.
            close: |_tx| ()),
        "flume" => spawned!(producers, consumers, items,
            make: match cap { Some(n) => flume::bounded(n), None => flume::unbounded() },
            send: |tx, v| tx.send_async(v).await.unwrap(),
            recv_all: |rx| {
                let mut sum = 0u64;
                while let Ok(v) = rx.recv_async().await {
                    sum += v;
                }
                sum
            },
            close: |_tx| ()),
        "async-channel" => spawned!(producers, consumers, items,
            make: match cap { Some(n) => async_channel::bounded(n), None => async_channel::unbounded() },
            send: |tx, v| tx.send(v).await.unwrap(),
            recv_all: |rx| {
                let mut sum = 0u64;
                while let Ok(v) = rx.recv().await {
                    sum += v;
                }
                sum
            },
            close: |_tx| ()),
        "tokio" => {
            assert_eq!(consumers, 1, "tokio's mpsc has one receiver");
            match cap {
                Some(n) => {
                    let (tx, mut rx) = tokio::sync::mpsc::channel(n);
                    let consumer = tokio::spawn(async move {
                        let mut sum = 0u64;
                        while let Some(v) = rx.recv().await {
                            sum += v;
                        }
                        sum
                    });
                    let ps: Vec<_> = (0..producers)
                        .map(|p| {
                            let tx = tx.clone();
                            tokio::spawn(async move {
                                for v in share(p, producers, items) {
                                    tx.send(v).await.unwrap();
                                }
                            })
                        })
                        .collect();
                    drop(tx);
                    for p in ps {
                        p.await.unwrap();
                    }
                    consumer.await.unwrap()
                }
                None => {
                    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                    let consumer = tokio::spawn(async move {
                        let mut sum = 0u64;
                        while let Some(v) = rx.recv().await {
                            sum += v;
                        }
                        sum
                    });
                    let ps: Vec<_> = (0..producers)
                        .map(|p| {
                            let tx = tx.clone();
                            tokio::spawn(async move {
                                for v in share(p, producers, items) {
                                    tx.send(v).unwrap();
                                }
                            })
                        })
                        .collect();
                    drop(tx);
                    for p in ps {
                        p.await.unwrap();
                    }
                    consumer.await.unwrap()
                }
            }
        }
        other => panic!("unknown peer {other:?}"),
    }
}

/// 4 producer and 4 consumer threads on a bounded(128) queue, blocking.
fn threads(peer: &str, items: usize) -> u64 {
    const SIDE: usize = 4;
    match peer {
        "toro" => {
            let q = Arc::new(toro_sync::Queue::<u64>::bounded(128));
            let left = Arc::new(AtomicUsize::new(SIDE));
            let consumers: Vec<_> = (0..SIDE)
                .map(|_| {
                    let q = q.clone();
                    std::thread::spawn(move || {
                        let mut sum = 0u64;
                        while let Ok(v) = q.get().block() {
                            sum += v;
                        }
                        sum
                    })
                })
                .collect();
            let producers: Vec<_> = (0..SIDE)
                .map(|p| {
                    let (q, left) = (q.clone(), left.clone());
                    std::thread::spawn(move || {
                        for v in share(p, SIDE, items) {
                            q.put(v).block().unwrap();
                        }
                        if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                            q.close();
                        }
                    })
                })
                .collect();
            join_all(producers, consumers)
        }
        "kanal" => {
            let (tx, rx) = kanal::bounded::<u64>(128);
            let consumers: Vec<_> = (0..SIDE)
                .map(|_| {
                    let rx = rx.clone();
                    std::thread::spawn(move || {
                        let mut sum = 0u64;
                        while let Ok(v) = rx.recv() {
                            sum += v;
                        }
                        sum
                    })
                })
                .collect();
            drop(rx);
            let producers: Vec<_> = (0..SIDE)
                .map(|p| {
                    let tx = tx.clone();
                    std::thread::spawn(move || {
                        for v in share(p, SIDE, items) {
                            tx.send(v).unwrap();
                        }
                    })
                })
                .collect();
            drop(tx);
            join_all(producers, consumers)
        }
        other => panic!("unknown peer {other:?} for threads"),
    }
}

fn join_all(
    producers: Vec<std::thread::JoinHandle<()>>,
    consumers: Vec<std::thread::JoinHandle<u64>>,
) -> u64 {
    for p in producers {
        p.join().unwrap();
    }
    consumers.into_iter().map(|c| c.join().unwrap()).sum()
}

/// 8 threads taking one `Mutex` with `.block()`; returns the count it reached.
fn mutex_threads(items: usize) -> u64 {
    const THREADS: usize = 8;
    let m = Arc::new(toro_sync::Mutex::new(0usize));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let m = m.clone();
            let n = items / THREADS + usize::from(t < items % THREADS);
            std::thread::spawn(move || {
                for _ in 0..n {
                    *m.lock().block() += 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let count = *m.lock().block();
    count as u64
}

/// 8 threads each doing `try_put` then `try_get` on one unbounded queue: every call takes the
/// queue's internal lock, and nothing ever waits. Returns the pairs done.
fn lock_threads(items: usize) -> u64 {
    const THREADS: usize = 8;
    let q = Arc::new(toro_sync::Queue::<usize>::unbounded());
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let q = q.clone();
            let n = items / THREADS + usize::from(t < items % THREADS);
            std::thread::spawn(move || {
                for i in 0..n {
                    q.try_put(i).unwrap();
                    // Another thread may have taken this item, but one is there for each put.
                    q.try_get().unwrap();
                }
                n as u64
            })
        })
        .collect();
    let pairs = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(q.is_empty(), "every item put was taken");
    pairs
}
