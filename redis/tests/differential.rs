//! Differential test: one sequential driver runs the same random operations against the
//! in-process `toro_sync::Semaphore` and the Redis `Semaphore`, and the outcomes must match —
//! which tries succeed, which queued waiters are granted after each step and in which order,
//! `available()` and `waiters()`.
//!
//! Waiting futures of both sides are polled by hand with a no-op waker, in the order they were
//! started. After each step the driver lets Redis settle: it polls the Redis futures (sleeping
//! a few milliseconds between rounds) until the same ones as in-process are granted and the
//! counts agree, with a time limit. Grants inside one step must come in FIFO order on both
//! sides: in-process by the queue, in Redis by the fencing tokens (they increase in grant
//! order).

mod support;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

type Local = toro_sync::SemaphorePermit<'static>;
type LocalWait = Pin<Box<dyn Future<Output = Local>>>;
type Remote = toro_sync_redis::SemaphorePermit;

#[derive(Clone, Debug)]
enum Op {
    /// Take `n` permits if free and nobody waits (`Duration::ZERO` deadline in Redis).
    Try(u64),
    /// Start waiting for `n` permits (polled once, then kept pending).
    Start(u64),
    /// Start two waits back to back, first-polled in this order without settling between
    /// them: their places in line follow the order of the first polls.
    StartTwo(u64, u64),
    /// Release one held permit.
    Release(Index),
    /// Drop one waiting future.
    Drop(Index),
    /// Add a permit without a guard.
    Add,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1..=3u64).prop_map(Op::Try),
        3 => (1..=3u64).prop_map(Op::Start),
        2 => (1..=3u64, 1..=3u64).prop_map(|(a, b)| Op::StartTwo(a, b)),
        4 => any::<Index>().prop_map(Op::Release),
        2 => any::<Index>().prop_map(Op::Drop),
        1 => Just(Op::Add),
    ]
}

struct Waiter {
    id: usize,
    local: LocalWait,
    remote: Pin<Box<toro_sync_redis::AcquireFuture>>,
    /// Granted in-process, waiting for the Redis side to be seen granted.
    local_permit: Option<Local>,
}

struct Held {
    local: Local,
    remote: Remote,
}

fn cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

struct Case {
    local: &'static toro_sync::Semaphore,
    remote: toro_sync_redis::Semaphore,
    waiting: Vec<Waiter>,
    held: Vec<Held>,
    next_id: usize,
    /// Ids in the order they were granted, in-process.
    granted: Vec<usize>,
    /// Where the polling of the waiting futures starts this step (the order of polls must not
    /// matter on either side).
    rotation: usize,
}

impl Case {
    /// Polls the in-process futures in start order; returns the ids newly granted.
    fn poll_local(&mut self) -> Vec<usize> {
        let mut newly = Vec::new();
        let len = self.waiting.len();
        for k in 0..len {
            let w = &mut self.waiting[(k + self.rotation) % len];
            if w.local_permit.is_none()
                && let Poll::Ready(permit) = w.local.as_mut().poll(&mut cx())
            {
                w.local_permit = Some(permit);
                newly.push(w.id);
            }
        }
        // Ids follow the order of the first polls, which is the FIFO order on both sides.
        newly.sort_unstable();
        self.granted.extend(&newly);
        newly
    }

    /// Polls the Redis futures until those granted in-process are granted in Redis too (and no
    /// other), and the counts agree. Returns the tokens of the newly granted, by id.
    async fn settle(&mut self, newly: &[usize]) -> Result<(), TestCaseError> {
        let limit = Instant::now() + Duration::from_secs(5);
        let mut tokens: Vec<(usize, u64)> = Vec::new();
        loop {
            // Rotate the waiters, then poll them in that order.
            if !self.waiting.is_empty() {
                let r = self.rotation % self.waiting.len();
                self.waiting.rotate_left(r);
            }
            let mut i = 0;
            while i < self.waiting.len() {
                let w = &mut self.waiting[i];
                match w.remote.as_mut().poll(&mut cx()) {
                    Poll::Pending => i += 1,
                    Poll::Ready(Err(err)) => {
                        return Err(TestCaseError::fail(format!("redis wait failed: {err:?}")));
                    }
                    Poll::Ready(Ok(remote)) => {
                        let w = self.waiting.remove(i);
                        let Some(local) = w.local_permit else {
                            return Err(TestCaseError::fail(format!(
                                "waiter {} granted in Redis, still waiting in-process",
                                w.id
                            )));
                        };
                        tokens.push((w.id, remote.fencing_token()));
                        self.held.push(Held { local, remote });
                    }
                }
            }
            let all_seen = self.waiting.iter().all(|w| w.local_permit.is_none());
            if all_seen {
                let waiters = self.remote.waiters().await.map_err(fail)?;
                let available = self.remote.available().await.map_err(fail)?;
                if waiters == self.local.waiters() as u64
                    && available == self.local.available() as u64
                {
                    break;
                }
            }
            if Instant::now() > limit {
                return Err(TestCaseError::fail(format!(
                    "redis did not settle: in-process waiters {} available {}, redis waiters {:?} \
                     available {:?}, granted in-process but not in redis: {:?}",
                    self.local.waiters(),
                    self.local.available(),
                    self.remote.waiters().await,
                    self.remote.available().await,
                    self.waiting
                        .iter()
                        .filter(|w| w.local_permit.is_some())
                        .map(|w| w.id)
                        .collect::<Vec<_>>()
                )));
            }
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        // Grant order: the ids granted in this step, sorted by fencing token, are the FIFO order
        // in which the in-process queue granted them.
        tokens.sort_by_key(|&(_, token)| token);
        let order: Vec<usize> = tokens.iter().map(|&(id, _)| id).collect();
        prop_assert_eq!(order, newly.to_vec(), "grant order");
        Ok(())
    }

    /// Creates a wait on both sides and polls each once (in-process first); returns its id if
    /// the in-process one is granted at once.
    fn start(&mut self, n: u64) -> Vec<usize> {
        let id = self.next_id;
        self.next_id += 1;
        let mut local: LocalWait = Box::pin(self.local.acquire_many(n as usize));
        let local_permit = match local.as_mut().poll(&mut cx()) {
            Poll::Ready(p) => {
                self.granted.push(id);
                Some(p)
            }
            Poll::Pending => None,
        };
        let mut remote = Box::pin(self.remote.acquire_many(n));
        let _ = remote.as_mut().poll(&mut cx()).map(|_| ());
        let ready = local_permit.is_some();
        self.waiting.push(Waiter {
            id,
            local,
            remote,
            local_permit,
        });
        if ready { vec![id] } else { Vec::new() }
    }

    async fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Try(n) => {
                let local = self.local.try_acquire_many(*n as usize);
                let remote = self.remote.acquire_many(*n).deadline(Duration::ZERO).await;
                match (local, remote) {
                    (Some(local), Ok(remote)) => self.held.push(Held { local, remote }),
                    (None, Err(err)) if err.is_timeout() => {}
                    (local, remote) => {
                        return Err(TestCaseError::fail(format!(
                            "try_acquire_many({n}): in-process {}, redis {remote:?}",
                            local.is_some()
                        )));
                    }
                }
            }
            Op::Start(n) => {
                let newly = self.start(*n);
                return self.settle(&newly).await;
            }
            Op::StartTwo(a, b) => {
                let mut newly = self.start(*a);
                newly.extend(self.start(*b));
                return self.settle(&newly).await;
            }
            Op::Release(i) => {
                if self.held.is_empty() {
                    return Ok(());
                }
                let held = self.held.remove(i.index(self.held.len()));
                drop(held.local);
                held.remote.release().await.map_err(fail)?;
            }
            Op::Drop(i) => {
                if self.waiting.is_empty() {
                    return Ok(());
                }
                // After a settle, every waiter is pending on both sides.
                let w = self.waiting.remove(i.index(self.waiting.len()));
                drop(w);
            }
            Op::Add => {
                self.local.release();
                self.remote.release().await.map_err(fail)?;
            }
        }
        let newly = self.poll_local();
        self.settle(&newly).await
    }
}

fn fail(err: toro_sync_redis::Error) -> TestCaseError {
    TestCaseError::fail(format!("redis error: {err:?}"))
}

#[test]
fn redis_semaphore_matches_the_in_process_one() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = runtime.block_on(support::client());
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let case_no = std::sync::atomic::AtomicU32::new(0);
    runner
        .run(
            &(
                1..=4u64,
                proptest::collection::vec((op(), any::<Index>()), 1..40),
            ),
            |(permits, ops)| {
                let n = case_no.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let name = format!("diff-{n}");
                let local: &'static toro_sync::Semaphore =
                    Box::leak(Box::new(toro_sync::Semaphore::new(permits as usize)));
                let remote = client.semaphore(&name, permits);
                runtime.block_on(async {
                    let mut case = Case {
                        local,
                        remote,
                        waiting: Vec::new(),
                        held: Vec::new(),
                        next_id: 0,
                        granted: Vec::new(),
                        rotation: 0,
                    };
                    for (op, rotation) in &ops {
                        case.rotation = rotation.index(64);
                        case.step(op).await?;
                    }
                    // Wind down: drop the waiters, release the permits; both sides end full.
                    case.waiting.clear();
                    for held in std::mem::take(&mut case.held) {
                        drop(held.local);
                        held.remote.release().await.map_err(fail)?;
                    }
                    let limit = Instant::now() + Duration::from_secs(5);
                    loop {
                        let waiters = case.remote.waiters().await.map_err(fail)?;
                        let available = case.remote.available().await.map_err(fail)?;
                        if waiters == 0 && available == case.local.available() as u64 {
                            break;
                        }
                        prop_assert!(Instant::now() < limit, "redis did not wind down");
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                    Ok(())
                })
            },
        )
        .unwrap();
}
