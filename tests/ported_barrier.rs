//! Ported behaviour suites: `Barrier`.
//!
//! toro, tornado and asyncio before 3.11 have no barrier. Original (every case is mapped in
//! tests/PORTED.md):
//!
//! * CPython `Lib/test/test_asyncio/test_locks.py`, `BarrierTests` (22): test_barrier,
//!   test_repr, test_barrier_parties, test_context_manager, test_filling_one_task,
//!   test_filling_one_task_twice, test_filling_task_by_task, test_filling_tasks_wait_twice,
//!   test_filling_tasks_check_return_value, test_draining_state,
//!   test_blocking_tasks_while_draining, test_filling_tasks_cancel_one, test_reset_barrier,
//!   test_reset_barrier_while_tasks_waiting, test_reset_barrier_when_tasks_half_draining,
//!   test_reset_barrier_when_tasks_half_draining_half_blocking,
//!   test_reset_barrier_while_tasks_waiting_and_waiting_again,
//!   test_reset_barrier_while_tasks_draining, test_abort_barrier,
//!   test_abort_barrier_when_tasks_half_draining_half_blocking, test_abort_barrier_when_exception,
//!   test_abort_barrier_when_exception_then_resetting.
//!
//! Differences: this Barrier has no reset/abort/broken state (those 10 cases do not apply);
//! `wait()` resolves to `is_leader()` (exactly one per trip) instead of asyncio's arrival index
//! 0..n-1; a trip releases everyone at once and the next generation starts at once (no
//! "draining" phase); `Barrier::new(0)` acts as `new(1)` instead of raising ValueError.
//! Dropping a future is asyncio's `cancel()`. `n_waiting` is `arrived()`.

mod common;

use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::Polled;
use toro_sync::Barrier;

/// Awaits every task, failing (instead of hanging) if they deadlock: on the paused clock the
/// timeout fires as soon as nothing else can run.
async fn join_all<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(tasks))
        .await
        .expect("the tasks deadlocked")
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

/// asyncio BarrierTests.test_repr. PINNED (differs): repr shows filling/draining/resetting/
/// broken and 'waiters:2/5'; our `Debug` shows parties, arrivals and the generation (there is
/// no draining, resetting or broken state).
#[test]
fn asyncio_repr_becomes_debug() {
    let b = Barrier::new(5);
    assert_eq!(
        format!("{b:?}"),
        "Barrier { parties: 5, arrived: 0, generation: 0 }"
    );
    let mut ws: Vec<_> = (0..2).map(|_| Polled::new(b.wait())).collect();
    for w in &mut ws {
        assert!(w.is_pending());
    }
    assert_eq!(
        format!("{b:?}"),
        "Barrier { parties: 5, arrived: 2, generation: 0 }"
    );
    let mut more: Vec<_> = (0..3).map(|_| Polled::new(b.wait())).collect();
    assert!(more[0].is_pending() && more[1].is_pending());
    assert!(more[2].ready().is_leader(), "the fifth arrival trips it");
    for w in ws.iter_mut().chain(&mut more[..2]) {
        assert!(w.poll().is_ready());
    }
    assert_eq!(
        format!("{b:?}"),
        "Barrier { parties: 5, arrived: 0, generation: 1 }"
    );
}

/// asyncio BarrierTests.test_barrier_parties. PINNED (differs): `Barrier(0)` raises ValueError
/// there (negative counts do not exist for `usize`); here `new(0)` behaves as `new(1)`.
#[test]
fn asyncio_barrier_parties_zero_acts_as_one() {
    let b = Barrier::new(0);
    assert_eq!(b.parties(), 1);
    assert!(Polled::new(b.wait()).ready().is_leader());
    assert_eq!(Barrier::new(5).parties(), 5);
}

/// asyncio BarrierTests.test_context_manager. PINNED (differs): three `async with barrier as i`
/// get the indices 0, 1, 2; here exactly one of the three is the leader.
#[tokio::test(start_paused = true)]
async fn asyncio_context_manager_exactly_one_leader() {
    let b = Arc::new(Barrier::new(3));
    let tasks = (0..3)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { b.wait().await.is_leader() })
        })
        .collect();
    let leaders = join_all(tasks).await;
    assert_eq!(leaders.iter().filter(|&&l| l).count(), 1);
    assert_eq!(b.arrived(), 0);
}

/// asyncio BarrierTests.test_filling_one_task: `Barrier(1)` passes at once.
#[test]
fn asyncio_filling_one_task() {
    let b = Barrier::new(1);
    assert!(Polled::new(b.wait()).ready().is_leader());
    assert_eq!(b.arrived(), 0);
}

/// asyncio BarrierTests.test_filling_one_task_twice: two waits on `Barrier(1)` each pass alone
/// with the same result.
#[test]
fn asyncio_filling_one_task_twice() {
    let b = Barrier::new(1);
    let r1 = Polled::new(b.wait()).ready();
    assert_eq!(b.arrived(), 0);
    let r2 = Polled::new(b.wait()).ready();
    assert_eq!(r1, r2);
    assert!(r1.is_leader());
    assert_eq!(b.arrived(), 0);
}

/// asyncio BarrierTests.test_filling_task_by_task: arrivals 1, 2, then the third trips it.
#[test]
fn asyncio_filling_task_by_task() {
    let b = Barrier::new(3);
    let mut t1 = Polled::new(b.wait());
    assert!(t1.is_pending());
    assert_eq!(b.arrived(), 1);
    let mut t2 = Polled::new(b.wait());
    assert!(t2.is_pending());
    assert_eq!(b.arrived(), 2);
    let r3 = Polled::new(b.wait()).ready();
    assert!(r3.is_leader());
    assert!(!t1.ready().is_leader() && !t2.ready().is_leader());
    assert_eq!(b.arrived(), 0);
}

/// asyncio BarrierTests.test_filling_tasks_wait_twice: N tasks pass the barrier twice.
#[tokio::test(start_paused = true)]
async fn asyncio_filling_tasks_wait_twice() {
    const N: usize = 5;
    let b = Arc::new(Barrier::new(N));
    let results = Arc::new(StdMutex::new(Vec::new()));
    let tasks = (0..N)
        .map(|_| {
            let (b, results) = (b.clone(), results.clone());
            tokio::spawn(async move {
                b.wait().await;
                results.lock().unwrap().push(true);
                b.wait().await;
                results.lock().unwrap().push(false);
            })
        })
        .collect();
    join_all(tasks).await;
    let results = results.lock().unwrap();
    assert_eq!(results.len(), 2 * N);
    assert_eq!(results.iter().filter(|&&r| r).count(), N);
    assert_eq!(results.iter().filter(|&&r| !r).count(), N);
    assert_eq!(b.arrived(), 0);
}

/// asyncio BarrierTests.test_filling_tasks_check_return_value. PINNED (differs): the second
/// pass's indices sort to 0..N there; here each of the two generations has exactly one leader.
#[tokio::test(start_paused = true)]
async fn asyncio_filling_tasks_check_return_value() {
    const N: usize = 5;
    let b = Arc::new(Barrier::new(N));
    let tasks = (0..N)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move {
                let first = b.wait().await.is_leader();
                let second = b.wait().await.is_leader();
                (first, second)
            })
        })
        .collect();
    let res = join_all(tasks).await;
    assert_eq!(res.iter().filter(|r| r.0).count(), 1);
    assert_eq!(res.iter().filter(|r| r.1).count(), 1);
    assert_eq!(b.arrived(), 0);
}

/// asyncio BarrierTests.test_draining_state. PINNED (differs): asyncio stays "draining" until
/// every released task has left, blocking new arrivals meanwhile. Here a trip starts the next
/// generation at once: while the released waiters have not even run, a new arrival already
/// counts in the next generation.
#[test]
fn asyncio_draining_state_does_not_exist() {
    let b = Barrier::new(3);
    let mut w1 = Polled::new(b.wait());
    let mut w2 = Polled::new(b.wait());
    assert!(w1.is_pending() && w2.is_pending());
    assert!(Polled::new(b.wait()).ready().is_leader());
    // w1 and w2 are released but not yet polled: no draining phase holds newcomers back.
    let mut next = Polled::new(b.wait());
    assert!(next.is_pending());
    assert_eq!(b.arrived(), 1);
    assert!(!w1.ready().is_leader() && !w2.ready().is_leader());
    assert!(next.is_pending(), "waits for its own generation");
    assert_eq!(
        format!("{b:?}"),
        "Barrier { parties: 3, arrived: 1, generation: 1 }"
    );
}

/// asyncio BarrierTests.test_blocking_tasks_while_draining: N tasks pass once; two wait again
/// at once, the other N-2 first pass a second barrier of N-2 parties, then wait again. All
/// finish (nobody deadlocks).
#[tokio::test(start_paused = true)]
async fn asyncio_blocking_tasks_while_draining() {
    const N: usize = 5;
    const REWAIT: usize = 2;
    let barrier = Arc::new(Barrier::new(N));
    let barrier_nowaiting = Arc::new(Barrier::new(N - REWAIT));
    let rewait_n = Arc::new(AtomicUsize::new(REWAIT));
    let tasks = (0..N)
        .map(|_| {
            let (b, nw, rewait_n) = (barrier.clone(), barrier_nowaiting.clone(), rewait_n.clone());
            tokio::spawn(async move {
                b.wait().await;
                let rewait = rewait_n
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if rewait {
                    b.wait().await;
                } else {
                    nw.wait().await;
                    b.wait().await;
                }
            })
        })
        .collect();
    join_all(tasks).await;
    assert_eq!(barrier.arrived(), 0);
    assert_eq!(barrier_nowaiting.arrived(), 0);
}

/// asyncio BarrierTests.test_filling_tasks_cancel_one: of N=3, one waiter is cancelled
/// (dropped) after arriving; its arrival is withdrawn, and two newcomers complete the trip.
#[test]
fn asyncio_filling_tasks_cancel_one() {
    let b = Barrier::new(3);
    let mut t1 = Polled::new(b.wait());
    assert!(t1.is_pending());
    assert_eq!(b.arrived(), 1);
    let mut t2 = Polled::new(b.wait());
    assert!(t2.is_pending());
    assert_eq!(b.arrived(), 2);
    drop(t1);
    assert_eq!(b.arrived(), 1);
    let mut t3 = Polled::new(b.wait());
    assert!(t3.is_pending());
    assert_eq!(b.arrived(), 2);
    let r4 = Polled::new(b.wait()).ready();
    let results = [t2.ready(), t3.ready(), r4];
    assert_eq!(results.iter().filter(|r| r.is_leader()).count(), 1);
    assert_eq!(b.arrived(), 0);
    assert_eq!(b.waiters(), 0);
}
