//! The Redis tier (toro-sync-redis) against the round-trip floor — the same work done with raw
//! `redis` crate commands on the same kind of connection (a multiplexed connection to the same
//! server, in the same run) — and against the crates.io peers that build here: `rslock`
//! (Redlock) for locks, `distributed-lock-redis` (its own client, `fred`) for semaphores,
//! `rsmq_async` (RSMQ) for queues.
//!
//! One private `redis-server` is started on a free 127.0.0.1 port for the whole run (temporary
//! directory, `--save '' --appendonly no`) and killed at the end. Everything runs on a
//! current-thread tokio runtime; the server has the other core.
//!
//! Bench ids are `<workload>/<peer>`; a floor's name ends in `(floor)`.
//!
//! `cargo bench -p toro-sync-bench --bench redis` (add `-- --test` to run each once, untimed).

#[path = "common/ops.rs"]
mod ops;
#[path = "common/server.rs"]
mod server;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use distributed_lock_core::traits::{DistributedSemaphore, LockHandle, SemaphoreProvider};
use distributed_lock_redis::RedisLockProvider;
use ops::{RawLock, RawPermits, RawQueue};
use redis::aio::MultiplexedConnection;
use rsmq_async::{Rsmq, RsmqConnection};
use tokio::runtime::{Builder, Runtime};

const LEASE: Duration = Duration::from_secs(30);
/// Contended lock: tasks, and lock/unlock per task per run.
const LOCK_TASKS: u64 = 8;
const LOCK_ROUNDS: u64 = 16;
/// Semaphore: tasks, permits, and acquire/release per task per run.
const SEM_TASKS: u64 = 64;
const SEM_PERMITS: u64 = 8;
const SEM_ROUNDS: u64 = 4;
/// Queue: items per run.
const QUEUE_ITEMS: u64 = 64;

struct Env {
    rt: Runtime,
    url: String,
    client: toro_sync_redis::Client,
    conn: MultiplexedConnection,
    dlock: RedisLockProvider,
    next: AtomicU64,
}

impl Env {
    /// A fresh name, so no run sees another's keys.
    fn name(&self, what: &str) -> String {
        format!("{what}-{}", self.next.fetch_add(1, Ordering::Relaxed))
    }

    fn rslock(&self) -> rslock::LockManager {
        let mut lm = rslock::LockManager::from_clients(vec![
            redis::Client::open(self.url.as_str()).expect("url"),
        ]);
        // Retry quickly rather than rslock's default 200 ms: its best case for contention.
        lm.set_retry(3, Duration::from_millis(2));
        lm
    }

    async fn rsmq(&self) -> Rsmq {
        Rsmq::new_with_connection(self.conn.clone(), false, None)
            .await
            .expect("rsmq")
    }
}

// ---------------------------------------------------------------------------------------------
// Locks

fn uncontended_lock(c: &mut Criterion, env: &Env) {
    let mut g = c.benchmark_group("r01_uncontended_lock");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    let rt = &env.rt;

    let mutex = env.client.mutex(&env.name("r01"));
    g.bench_function("toro-sync-redis", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let guard = mutex.lock().await.expect("lock");
                    guard.release().await.expect("release");
                }
                start.elapsed()
            })
        })
    });

    let mut raw = RawLock::new(env.conn.clone(), &env.name("r01-raw"));
    g.bench_function("SET NX PX + EVALSHA (floor)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for i in 0..iters {
                    let token = i.to_string();
                    assert!(raw.try_lock(&token).await, "uncontended");
                    raw.unlock(&token).await;
                }
                start.elapsed()
            })
        })
    });

    let lm = env.rslock();
    let key = env.name("r01-rslock");
    g.bench_function("rslock", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let lock = lm.lock(key.as_bytes(), LEASE).await.expect("rslock");
                    lm.unlock(&lock).await;
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

fn contended_lock(c: &mut Criterion, env: &Env) {
    let mut g = c.benchmark_group("r02_contended_lock_8_tasks");
    g.throughput(Throughput::Elements(LOCK_TASKS * LOCK_ROUNDS));
    g.sample_size(10);
    let rt = &env.rt;

    let mutex = env.client.mutex(&env.name("r02"));
    g.bench_function("toro-sync-redis", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let tasks: Vec<_> = (0..LOCK_TASKS)
                        .map(|_| {
                            let mutex = mutex.clone();
                            tokio::spawn(async move {
                                for _ in 0..LOCK_ROUNDS {
                                    let guard = mutex.lock().await.expect("lock");
                                    guard.release().await.expect("release");
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                }
                start.elapsed()
            })
        })
    });

    let raw = RawLock::new(env.conn.clone(), &env.name("r02-raw"));
    g.bench_function("SET NX spin + EVALSHA (floor)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let tasks: Vec<_> = (0..LOCK_TASKS)
                        .map(|t| {
                            let mut raw = raw.clone();
                            tokio::spawn(async move {
                                for i in 0..LOCK_ROUNDS {
                                    let token = format!("{t}-{i}");
                                    raw.lock(&token).await;
                                    raw.unlock(&token).await;
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                }
                start.elapsed()
            })
        })
    });

    let lm = env.rslock();
    let key = env.name("r02-rslock");
    g.bench_function("rslock", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let tasks: Vec<_> = (0..LOCK_TASKS)
                        .map(|_| {
                            let lm = lm.clone();
                            let key = key.clone();
                            tokio::spawn(async move {
                                for _ in 0..LOCK_ROUNDS {
                                    let lock = lm
                                        .acquire_no_guard(key.as_bytes(), LEASE)
                                        .await
                                        .expect("rslock");
                                    lm.unlock(&lock).await;
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Semaphores

fn uncontended_permit(c: &mut Criterion, env: &Env) {
    let mut g = c.benchmark_group("r03_uncontended_permit");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    let rt = &env.rt;

    let sem = env.client.semaphore(&env.name("r03"), SEM_PERMITS);
    g.bench_function("toro-sync-redis", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let permit = sem.acquire().await.expect("acquire");
                    permit.release().await.expect("release");
                }
                start.elapsed()
            })
        })
    });

    let mut raw = RawPermits::new(env.conn.clone(), &env.name("r03-raw"), SEM_PERMITS);
    g.bench_function("script each way (floor)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    assert!(raw.try_acquire().await, "uncontended");
                    raw.release().await;
                }
                start.elapsed()
            })
        })
    });

    let dsem = env
        .dlock
        .create_semaphore(&env.name("r03-dl"), SEM_PERMITS as u32);
    g.bench_function("distributed-lock-redis", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let permit = dsem.acquire(None).await.expect("acquire");
                    permit.release().await.expect("release");
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

fn contended_semaphore(c: &mut Criterion, env: &Env) {
    let mut g = c.benchmark_group("r04_semaphore_64_tasks_8_permits");
    g.throughput(Throughput::Elements(SEM_TASKS * SEM_ROUNDS));
    g.sample_size(10);
    let rt = &env.rt;

    let sem = env.client.semaphore(&env.name("r04"), SEM_PERMITS);
    g.bench_function("toro-sync-redis", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let tasks: Vec<_> = (0..SEM_TASKS)
                        .map(|_| {
                            let sem = sem.clone();
                            tokio::spawn(async move {
                                for _ in 0..SEM_ROUNDS {
                                    let permit = sem.acquire().await.expect("acquire");
                                    permit.release().await.expect("release");
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                }
                start.elapsed()
            })
        })
    });

    let raw = RawPermits::new(env.conn.clone(), &env.name("r04-raw"), SEM_PERMITS);
    g.bench_function("script spin + script (floor)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let tasks: Vec<_> = (0..SEM_TASKS)
                        .map(|_| {
                            let mut raw = raw.clone();
                            tokio::spawn(async move {
                                for _ in 0..SEM_ROUNDS {
                                    raw.acquire().await;
                                    raw.release().await;
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                }
                start.elapsed()
            })
        })
    });

    // Its futures are not `Send`: the 64 tasks are joined in one task instead of spawned
    // (same thread either way on this runtime).
    let dsem = env
        .dlock
        .create_semaphore(&env.name("r04-dl"), SEM_PERMITS as u32);
    g.bench_function("distributed-lock-redis", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    futures::future::join_all((0..SEM_TASKS).map(|_| async {
                        for _ in 0..SEM_ROUNDS {
                            let permit = dsem.acquire(None).await.expect("acquire");
                            permit.release().await.expect("release");
                        }
                    }))
                    .await;
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Queues: a producer puts QUEUE_ITEMS items, then `consumers` tasks take them
// (get → task_done) until all are done. Every get finds an item: a consumer claims one from a
// shared count first.

fn queue(c: &mut Criterion, env: &Env, id: &str, consumers: u64) {
    let mut g = c.benchmark_group(id);
    g.throughput(Throughput::Elements(QUEUE_ITEMS));
    g.sample_size(10);
    let rt = &env.rt;

    let q = env.client.queue::<u64>(&env.name("r05"));
    g.bench_function("toro-sync-redis", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    for i in 0..QUEUE_ITEMS {
                        q.put(i).await.expect("put");
                    }
                    let left = Arc::new(AtomicU64::new(QUEUE_ITEMS));
                    let tasks: Vec<_> = (0..consumers)
                        .map(|_| {
                            let q = q.clone();
                            let left = left.clone();
                            tokio::spawn(async move {
                                while claim(&left) {
                                    let d = q.get().await.expect("get");
                                    d.task_done().await.expect("task_done");
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                }
                start.elapsed()
            })
        })
    });

    let raw = RawQueue::new(env.conn.clone(), &env.name("r05-raw"));
    g.bench_function("LPUSH + LMOVE + LREM (floor)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let mut producer = raw.clone();
                    for i in 0..QUEUE_ITEMS {
                        producer.put(&i.to_le_bytes()).await;
                    }
                    let left = Arc::new(AtomicU64::new(QUEUE_ITEMS));
                    let tasks: Vec<_> = (0..consumers)
                        .map(|_| {
                            let mut raw = raw.clone();
                            let left = left.clone();
                            tokio::spawn(async move {
                                while claim(&left) {
                                    let item = raw.get().await.expect("an item");
                                    raw.task_done(&item).await;
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                }
                start.elapsed()
            })
        })
    });

    let qname = env.name("r05rsmq");
    let mut producer = rt.block_on(async {
        let mut rsmq = env.rsmq().await;
        rsmq.create_queue(&qname, Some(LEASE), None, None)
            .await
            .expect("rsmq create_queue");
        rsmq
    });
    let consumer_rsmqs: Vec<Rsmq> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..consumers {
            v.push(env.rsmq().await);
        }
        v
    });
    g.bench_function("rsmq_async", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    for i in 0..QUEUE_ITEMS {
                        producer
                            .send_message(&qname, i.to_le_bytes().to_vec(), None)
                            .await
                            .expect("send");
                    }
                    let left = Arc::new(AtomicU64::new(QUEUE_ITEMS));
                    let tasks: Vec<_> = consumer_rsmqs
                        .iter()
                        .map(|rsmq| {
                            let mut rsmq = rsmq.clone();
                            let left = left.clone();
                            let qname = qname.clone();
                            tokio::spawn(async move {
                                while claim(&left) {
                                    let msg = loop {
                                        match rsmq
                                            .receive_message::<Vec<u8>>(&qname, None)
                                            .await
                                            .expect("receive")
                                        {
                                            Some(msg) => break msg,
                                            None => tokio::task::yield_now().await,
                                        }
                                    };
                                    rsmq.delete_message(&qname, &msg.id).await.expect("delete");
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

fn claim(left: &AtomicU64) -> bool {
    left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

fn main() {
    let server = server::Server::start();
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let (client, conn, dlock) = rt.block_on(async {
        let client = toro_sync_redis::Client::builder(&server.url)
            .lease(LEASE)
            .connect()
            .await
            .expect("toro-sync-redis connects");
        let conn = redis::Client::open(server.url.as_str())
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis connects");
        let dlock = RedisLockProvider::new(server.url.trim_end_matches('/'))
            .await
            .expect("distributed-lock-redis connects");
        (client, conn, dlock)
    });
    let env = Env {
        rt,
        url: server.url.clone(),
        client,
        conn,
        dlock,
        next: AtomicU64::new(0),
    };
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500))
        .configure_from_args();
    uncontended_lock(&mut c, &env);
    contended_lock(&mut c, &env);
    uncontended_permit(&mut c, &env);
    contended_semaphore(&mut c, &env);
    queue(&mut c, &env, "r05_queue_1_consumer", 1);
    queue(&mut c, &env, "r06_queue_4_consumers", 4);
    c.final_summary();
    drop(env);
    drop(server);
}
