//! One workload run once, for `valgrind --tool=callgrind` (instruction counts are stable on a
//! shared machine): `cargo build -p toro-sync-bench --release --example profile`, then
//! `valgrind --tool=callgrind target/release/examples/profile sem|lock|queue|ulock|pingpong|wake
//! [peer]`.

use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workload = args.first().map(String::as_str).unwrap_or("sem");
    let peer = args.get(1).map(String::as_str).unwrap_or("toro");
    // `PROFILE_WORKERS=2` runs it on a multi-thread runtime with that many workers.
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
    // `PROFILE_REPS` repeats the workload (for `perf record`, which samples).
    let reps: usize = std::env::var("PROFILE_REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    for _ in 0..reps {
        rt.block_on(one(workload, peer));
    }
}

async fn one(workload: &str, peer: &str) {
    {
        match (workload, peer) {
            ("sem", "toro") => {
                let s = Arc::new(toro_sync::Semaphore::new(8));
                run(64, 256, move |i| {
                    let s = s.clone();
                    async move {
                        let p = s.acquire().await;
                        if i % 8 == 7 {
                            tokio::task::yield_now().await;
                        }
                        drop(p);
                    }
                })
                .await
            }
            ("sem", "tokio") => {
                let s = Arc::new(tokio::sync::Semaphore::new(8));
                run(64, 256, move |i| {
                    let s = s.clone();
                    async move {
                        let p = s.acquire().await.unwrap();
                        if i % 8 == 7 {
                            tokio::task::yield_now().await;
                        }
                        drop(p);
                    }
                })
                .await
            }
            ("sem", "fi") => {
                let s = Arc::new(futures_intrusive::sync::Semaphore::new(true, 8));
                run(64, 256, move |i| {
                    let s = s.clone();
                    async move {
                        let p = s.acquire(1).await;
                        if i % 8 == 7 {
                            tokio::task::yield_now().await;
                        }
                        drop(p);
                    }
                })
                .await
            }
            ("lock", "toro") => {
                let m = Arc::new(toro_sync::Mutex::new(0u64));
                run(64, 256, move |i| {
                    let m = m.clone();
                    async move {
                        *m.lock().await += 1;
                        if i % 64 == 63 {
                            tokio::task::yield_now().await;
                        }
                    }
                })
                .await
            }
            ("queue", "toro") => {
                let q = Arc::new(toro_sync::Queue::bounded(128));
                let q2 = q.clone();
                let p = tokio::spawn(async move {
                    for i in 0..16384usize {
                        q2.put(i).await.unwrap();
                    }
                });
                let mut sum = 0;
                for _ in 0..16384 {
                    sum += q.get().await.unwrap();
                }
                p.await.unwrap();
                assert!(sum > 0);
            }
            ("queue", "flume") => {
                let (tx, rx) = flume::bounded(128);
                let p = tokio::spawn(async move {
                    for i in 0..16384usize {
                        tx.send_async(i).await.unwrap();
                    }
                });
                let mut sum = 0;
                for _ in 0..16384 {
                    sum += rx.recv_async().await.unwrap();
                }
                p.await.unwrap();
                assert!(sum > 0);
            }
            ("queue", "kanal") => {
                let (tx, rx) = kanal::bounded_async(128);
                let p = tokio::spawn(async move {
                    for i in 0..16384usize {
                        tx.send(i).await.unwrap();
                    }
                });
                let mut sum = 0;
                for _ in 0..16384 {
                    sum += rx.recv().await.unwrap();
                }
                p.await.unwrap();
                assert!(sum > 0);
            }
            ("ulock", "toro") => {
                let m = toro_sync::Mutex::new(0u64);
                for _ in 0..1_000_000 {
                    *m.lock().await += 1;
                }
                assert_eq!(*m.lock().await, 1_000_000);
            }
            ("ulock", "async-lock") => {
                let m = async_lock::Mutex::new(0u64);
                for _ in 0..1_000_000 {
                    *m.lock().await += 1;
                }
                assert_eq!(*m.lock().await, 1_000_000);
            }
            ("ulock", "std") => {
                let m = std::sync::Mutex::new(0u64);
                for _ in 0..1_000_000 {
                    *std::hint::black_box(&m).lock().unwrap() += 1;
                }
                assert_eq!(*m.lock().unwrap(), 1_000_000);
            }
            ("pingpong", peer) => ping_pong(peer).await,
            ("wake", peer) => {
                for _ in 0..100 {
                    wake_crowd(peer).await
                }
            }
            other => panic!("unknown workload {other:?}"),
        }
    }
}

/// 100,000 round trips between two tasks (the w07 benchmark): `toro` a `Semaphore(0)` pair,
/// `toro-queue` and `kanal` bounded(1) channel pairs, `tokio` a `Notify` pair.
async fn ping_pong(peer: &str) {
    const ROUNDS: usize = 100_000;
    macro_rules! pair {
        ($new:expr, |$x:ident| signal: $signal:expr, wait: $wait:expr) => {{
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
        }};
    }
    match peer {
        "toro" => pair!(toro_sync::Semaphore::new(0),
            |s| signal: s.release(), wait: s.acquire().await.forget()),
        "toro-queue" => pair!(toro_sync::Queue::bounded(1),
            |q| signal: q.put(1u64).await.unwrap(), wait: q.get().await.unwrap()),
        "kanal" => {
            let (atx, arx) = kanal::bounded_async(1);
            let (ztx, zrx) = kanal::bounded_async(1);
            let other = tokio::spawn(async move {
                for _ in 0..ROUNDS {
                    let v: usize = arx.recv().await.unwrap();
                    ztx.send(v).await.unwrap();
                }
            });
            for i in 0..ROUNDS {
                atx.send(i).await.unwrap();
                std::hint::black_box(zrx.recv().await.unwrap());
            }
            other.await.unwrap();
        }
        "tokio" => pair!(tokio::sync::Notify::new(),
            |n| signal: n.notify_one(), wait: n.notified().await),
        other => panic!("unknown peer {other:?}"),
    }
}

/// 1,000 tasks parked on one event, woken by one set (the w08 benchmark): `toro` an `Event`,
/// `toro-cond` a `Condition` (`notify_all`),
/// `fi` futures-intrusive's `ManualResetEvent`, `tokio` `Notify::notify_waiters`.
async fn wake_crowd(peer: &str) {
    const CROWD: usize = 1_000;
    let ready = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_>;
    match peer {
        "toro" => {
            let e = Arc::new(toro_sync::Event::new());
            tasks = (0..CROWD)
                .map(|_| {
                    let e = e.clone();
                    tokio::spawn(async move { e.wait().await })
                })
                .collect();
            while e.waiters() < CROWD {
                tokio::task::yield_now().await;
            }
            e.set();
        }
        "toro-cond" => {
            let c = Arc::new(toro_sync::Condition::new());
            tasks = (0..CROWD)
                .map(|_| {
                    let c = c.clone();
                    tokio::spawn(async move { c.wait().await })
                })
                .collect();
            while c.waiters() < CROWD {
                tokio::task::yield_now().await;
            }
            c.notify_all();
        }
        "fi" => {
            let e = Arc::new(futures_intrusive::sync::ManualResetEvent::new(false));
            tasks = (0..CROWD)
                .map(|_| {
                    let (e, ready) = (e.clone(), ready.clone());
                    tokio::spawn(async move {
                        let mut wait = std::pin::pin!(e.wait());
                        let first = std::future::poll_fn(|cx| {
                            std::task::Poll::Ready(wait.as_mut().poll(cx).is_pending())
                        })
                        .await;
                        assert!(first);
                        ready.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        wait.await
                    })
                })
                .collect();
            while ready.load(std::sync::atomic::Ordering::SeqCst) < CROWD {
                tokio::task::yield_now().await;
            }
            e.set();
        }
        "tokio" => {
            let n = Arc::new(tokio::sync::Notify::new());
            tasks = (0..CROWD)
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
            n.notify_waiters();
        }
        other => panic!("unknown peer {other:?}"),
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// `tasks` tasks, each running `op(i)` for i in 0..per_task.
async fn run<F, Fut>(tasks: usize, per_task: usize, op: F)
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let op = op.clone();
            tokio::spawn(async move {
                for i in 0..per_task {
                    op(i).await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
}
