//! Ported behaviour suites: `Semaphore` and `BoundedSemaphore`.
//!
//! Originals (every case is mapped in tests/PORTED.md):
//!
//! * toro 1.0.1 `test/test_semaphore.py` (24): `BaseSemaphoreTests` run twice, as
//!   `SemaphoreTests` and `BoundedSemaphoreTests` — test_constructor, test_str, test_acquire,
//!   test_acquire_contended, test_try_acquire, test_default_value, test_wait;
//!   `SemaphoreTests.test_release_unacquired`; `BoundedSemaphoreTests.test_release_unacquired`;
//!   `TestTimeoutAcquire` test_timeout_acquire, test_release_twice; `SemaphoreTests2`
//!   test_repr, test_acquire_callback; `SemaphoreContextManagerTest` (the
//!   `ContextManagerTestsMixin`) test_context_manager, test_context_manager_exception,
//!   test_context_manager_contended, test_context_manager_misuse.
//! * tornado `tornado/test/locks_test.py` (16): `SemaphoreTest` test_negative_value, test_repr,
//!   test_acquire, test_acquire_timeout, test_acquire_timeout_preempted, test_release_unacquired,
//!   test_garbage_collection; `SemaphoreContextManagerTest` test_context_manager,
//!   test_context_manager_async_await, test_context_manager_exception,
//!   test_context_manager_timeout, test_context_manager_timeout_error,
//!   test_context_manager_contended, test_yield_sem, test_context_manager_misuse;
//!   `BoundedSemaphoreTest.test_release_unacquired`.
//! * CPython `Lib/test/test_asyncio/test_locks.py`, `SemaphoreTests` (15):
//!   test_initial_value_zero, test_repr, test_semaphore, test_semaphore_value, test_acquire,
//!   test_acquire_cancel, test_acquire_cancel_before_awoken, test_acquire_hang,
//!   test_acquire_no_hang, test_release_not_acquired, test_release_no_waiters,
//!   test_acquire_fifo_order, test_acquire_fifo_order_2, test_acquire_fifo_order_3,
//!   test_acquire_fifo_order_4.
//!
//! How the Python idioms map here:
//! * A Python `acquire()` never paired with its own `release()` (the permit is simply kept, and
//!   some later `sem.release()` adds one) is `acquire().await.forget()`; `sem.release()` is
//!   `release()` (`release().unwrap()` on a BoundedSemaphore, which refuses to exceed its
//!   bound). `with (yield sem.acquire()):` / `async with sem:` is the permit's scope.
//! * toro's `counter` / `locked()` / `wait()` are `available()` / `is_locked()` /
//!   `wait_unlocked()`. Negative initial values do not exist (`usize`); the only invalid count,
//!   above `MAX_PERMITS`, panics.
//! * [SYNC] callbacks become "woken within the call, in FIFO order" (recording waker); dropping
//!   a future is asyncio's `cancel()`; timing runs on tokio's paused clock.

mod common;

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Polled, WakeLog};
use tokio::time::Instant;
use toro_sync::{BoundedSemaphore, ReleaseError, Semaphore, Timeout};

const MS: Duration = Duration::from_millis(1);

#[track_caller]
fn assert_elapsed(start: Instant, expected: Duration) {
    let elapsed = start.elapsed();
    assert!(
        elapsed >= expected && elapsed < expected + 2 * MS,
        "elapsed {elapsed:?}, expected about {expected:?}"
    );
}

async fn yield_until(mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the condition was never reached");
}

async fn join_all<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(tasks))
        .await
        .expect("the tasks deadlocked")
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// toro BaseSemaphoreTests, once per class
// ---------------------------------------------------------------------------------------------

macro_rules! base_semaphore_tests {
    ($module:ident, $Sem:ident, |$s:ident| $release:expr) => {
        mod $module {
            use super::*;

            type Sem = $Sem;

            /// toro's `sem.release()`.
            fn release($s: &Sem) {
                $release
            }

            /// Base.test_constructor (also tornado SemaphoreTest.test_negative_value, asyncio
            /// SemaphoreTests.test_semaphore_value). PINNED (differs): a negative value raises
            /// ValueError there; counts are `usize` here, so the only invalid one is above
            /// `MAX_PERMITS`, which panics. Zero is valid and locked.
            #[test]
            fn constructor() {
                let too_many = std::panic::catch_unwind(|| Sem::new(Semaphore::MAX_PERMITS + 1));
                assert!(too_many.is_err());
                let zero = Sem::new(0);
                assert!(zero.is_locked());
                assert_eq!(zero.available(), 0);
            }

            /// Base.test_str (also SemaphoreTests2.test_repr, tornado SemaphoreTest.test_repr,
            /// asyncio SemaphoreTests.test_repr). PINNED (differs): str/repr become `Debug`:
            /// the class name, the free count (toro 'counter=5', tornado/asyncio 'value:1'),
            /// and the waiter count, always shown (Python: only while someone waits).
            #[test]
            fn str() {
                let sem = Sem::new(5);
                let shown = format!("{sem:?}");
                assert!(
                    shown.starts_with(concat!(stringify!($Sem), " {")),
                    "{shown}"
                );
                assert!(shown.contains("available: 5"), "{shown}");
                assert!(shown.contains("waiters: 0"), "{shown}");
                let sem = Sem::new(1);
                let p = sem.try_acquire().unwrap();
                assert!(sem.is_locked());
                assert!(format!("{sem:?}").contains("available: 0"));
                let mut w = Polled::new(sem.acquire());
                assert!(w.is_pending());
                assert!(format!("{sem:?}").contains("waiters: 1"));
                drop(p);
                drop(w.ready());
            }

            /// Base.test_acquire: `Semaphore(1)`: an acquire locks it; `wait()` blocks until a
            /// release; afterwards `wait()` is instant. `Semaphore(2)` survives two acquires
            /// and two releases.
            #[test]
            fn acquire() {
                let sem = Sem::new(1);
                assert!(!sem.is_locked());
                Polled::new(sem.acquire()).ready().forget();
                assert!(sem.is_locked());
                let mut wait = Polled::new(sem.wait_unlocked());
                assert!(wait.is_pending());
                release(&sem);
                assert!(wait.poll().is_ready());
                assert!(
                    Polled::new(sem.wait_unlocked()).poll().is_ready(),
                    "now instant"
                );

                let sem = Sem::new(2);
                Polled::new(sem.acquire()).ready().forget();
                Polled::new(sem.acquire()).ready().forget();
                release(&sem);
                release(&sem);
                assert_eq!(sem.available(), 2);
            }

            /// Base.test_acquire_contended: value 7 with one taken; 10 tasks each acquire twice:
            /// 6 acquisitions in phase 0; 7 releases give 7 more; 6 releases give 6 more; still
            /// locked, and a timed acquire fails with Timeout.
            #[tokio::test(start_paused = true)]
            async fn acquire_contended() {
                let sem = Arc::new(Sem::new(7));
                sem.acquire().await.forget();
                let results1 = Arc::new(StdMutex::new(Vec::new()));
                let results2 = Arc::new(StdMutex::new(Vec::new()));
                let phase = Arc::new(AtomicUsize::new(0));
                let tasks = (0..10)
                    .map(|_| {
                        let (sem, r1, r2, phase) = (
                            sem.clone(),
                            results1.clone(),
                            results2.clone(),
                            phase.clone(),
                        );
                        tokio::spawn(async move {
                            sem.acquire().await.forget();
                            r1.lock().unwrap().push(phase.load(Ordering::SeqCst));
                            sem.acquire().await.forget();
                            r2.lock().unwrap().push(phase.load(Ordering::SeqCst));
                        })
                    })
                    .collect();
                let all = || {
                    let mut all = results1.lock().unwrap().clone();
                    all.extend(results2.lock().unwrap().iter().copied());
                    all.sort();
                    all
                };
                yield_until(|| all().len() == 6).await;
                yield_until(|| sem.waiters() == 7).await;
                assert_eq!(all(), [0; 6]);

                phase.store(1, Ordering::SeqCst);
                for _ in 0..7 {
                    release(&sem);
                }
                yield_until(|| all().len() == 13).await;
                yield_until(|| sem.waiters() == 7).await;
                assert_eq!(all(), [[0; 6].as_slice(), &[1; 7]].concat());

                phase.store(2, Ordering::SeqCst);
                for _ in 0..6 {
                    release(&sem);
                }
                yield_until(|| all().len() == 19).await;
                assert_eq!(all(), [[0; 6].as_slice(), &[1; 7], &[2; 6]].concat());

                assert!(sem.is_locked());
                assert_eq!(sem.acquire().deadline(100 * MS).await.err(), Some(Timeout));
                release(&sem); // let the last task finish
                join_all(tasks).await;
            }

            /// Base.test_try_acquire: value 2: two acquires, a third with a 0.1 s deadline
            /// times out; after a release an acquire succeeds.
            #[tokio::test(start_paused = true)]
            async fn try_acquire() {
                let sem = Sem::new(2);
                sem.acquire().await.forget();
                sem.acquire().await.forget();
                let start = Instant::now();
                assert_eq!(sem.acquire().deadline(100 * MS).await.err(), Some(Timeout));
                assert_elapsed(start, 100 * MS);
                release(&sem);
                sem.acquire().await.forget();
            }

            /// Base.test_default_value: the default value is 1; a second acquirer blocks until
            /// the release.
            #[tokio::test(start_paused = true)]
            async fn default_value() {
                let sem = Arc::new(Sem::default());
                sem.acquire().await.forget();
                let finished = Arc::new(AtomicUsize::new(0));
                let f = tokio::spawn({
                    let (sem, finished) = (sem.clone(), finished.clone());
                    async move {
                        sem.acquire().await.forget();
                        tokio::task::yield_now().await;
                        release(&sem);
                        finished.store(1, Ordering::SeqCst);
                    }
                });
                tokio::time::sleep(10 * MS).await;
                assert_eq!(finished.load(Ordering::SeqCst), 0, "f is blocked");
                release(&sem);
                f.await.unwrap();
                assert_eq!(finished.load(Ordering::SeqCst), 1);
            }

            /// Base.test_wait: while locked, `wait(deadline)` fails with Timeout.
            #[tokio::test(start_paused = true)]
            async fn wait() {
                let sem = Sem::new(1);
                sem.acquire().await.forget();
                let start = Instant::now();
                assert_eq!(sem.wait_unlocked().deadline(100 * MS).await, Err(Timeout));
                assert_elapsed(start, 100 * MS);
                assert_eq!(sem.waiters(), 0);
            }
        }
    };
}

base_semaphore_tests!(toro_semaphore, Semaphore, |s| s.release());
base_semaphore_tests!(toro_bounded_semaphore, BoundedSemaphore, |s| s
    .release()
    .unwrap());

// ---------------------------------------------------------------------------------------------
// toro SemaphoreTests / BoundedSemaphoreTests / TestTimeoutAcquire / SemaphoreTests2
// ---------------------------------------------------------------------------------------------

/// toro SemaphoreTests.test_release_unacquired: an unbounded release raises the count.
#[test]
fn toro_semaphore_release_unacquired() {
    let sem = Semaphore::new(1);
    sem.release();
    assert_eq!(sem.available(), 2);
    Polled::new(sem.acquire()).ready().forget();
    Polled::new(sem.acquire()).ready().forget();
    sem.release();
    assert_eq!(sem.available(), 1);
}

/// toro BoundedSemaphoreTests.test_release_unacquired: a release on a fresh BoundedSemaphore
/// fails (ValueError → `Err(ReleaseError)`); after an acquire and a release, another release
/// fails.
#[test]
fn toro_bounded_semaphore_release_unacquired() {
    let sem = BoundedSemaphore::default();
    assert_eq!(sem.release(), Err(ReleaseError));
    Polled::new(sem.acquire()).ready().forget();
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.release(), Err(ReleaseError));
    assert_eq!(sem.available(), 1);
}

/// toro TestTimeoutAcquire.test_timeout_acquire: `Semaphore(0)`, acquire with a 10 ms deadline
/// fails with Timeout.
#[tokio::test(start_paused = true)]
async fn toro_timeout_acquire() {
    let sem = Semaphore::new(0);
    let start = Instant::now();
    assert_eq!(sem.acquire().deadline(10 * MS).await.err(), Some(Timeout));
    assert_elapsed(start, 10 * MS);
}

/// toro TestTimeoutAcquire.test_release_twice: acquire-a, release, acquire-b, release: a then b.
#[test]
fn toro_release_twice() {
    let sem = Semaphore::default();
    let mut result = Vec::new();
    Polled::new(sem.acquire()).ready().forget();
    result.push('a');
    sem.release();
    Polled::new(sem.acquire()).ready().forget();
    result.push('b');
    sem.release();
    assert_eq!(result, ['a', 'b']);
    assert_eq!(sem.available(), 1);
}

/// toro SemaphoreTests2.test_acquire_callback [SYNC]. PINNED: `Semaphore(0)` with acquire1,
/// acquire2, wait1, wait2 pending: release #1 wakes only acquire1, #2 only acquire2, #3 wakes
/// wait1 and wait2 in order with the semaphore unlocked — each inside the release call
/// (recording waker) instead of toro's callbacks run inside it.
#[test]
fn toro_acquire_callback_woken_within_release() {
    let sem = Semaphore::new(0);
    let log = WakeLog::default();
    let mut a1 = Polled::with_waker(sem.acquire(), log.waker(1));
    let mut a2 = Polled::with_waker(sem.acquire(), log.waker(2));
    let mut w1 = Polled::with_waker(sem.wait_unlocked(), log.waker(3));
    let mut w2 = Polled::with_waker(sem.wait_unlocked(), log.waker(4));
    for pending in [
        a1.is_pending(),
        a2.is_pending(),
        w1.is_pending(),
        w2.is_pending(),
    ] {
        assert!(pending);
    }
    sem.release();
    assert_eq!(log.take(), [1], "release1 wakes acquire1 only");
    sem.release();
    assert_eq!(log.take(), [2], "release2 wakes acquire2 only");
    sem.release();
    assert_eq!(log.take(), [3, 4], "release3 wakes wait1 then wait2");
    assert!(!sem.is_locked());
    a1.ready().forget();
    a2.ready().forget();
    assert!(w1.poll().is_ready() && w2.poll().is_ready());
    assert_eq!(sem.available(), 1, "the waits took nothing");
}

// ---------------------------------------------------------------------------------------------
// Context managers: toro SemaphoreContextManagerTest (mixin), tornado SemaphoreContextManagerTest
// ---------------------------------------------------------------------------------------------

/// toro mixin test_context_manager; tornado test_context_manager and
/// test_context_manager_async_await: the permit's scope; after it the semaphore can be
/// acquired again at once.
#[tokio::test(start_paused = true)]
async fn context_manager_is_the_permit_scope() {
    let sem = Semaphore::default();
    {
        let _yielded = sem.acquire().await;
        assert!(sem.is_locked());
    }
    assert!(!sem.is_locked());
    assert!(Polled::new(sem.acquire()).poll().is_ready());
}

/// toro mixin / tornado test_context_manager_exception: a panic in the block propagates and
/// the permit is released while unwinding.
#[test]
fn context_manager_exception_releases() {
    let sem = Semaphore::default();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let _p = Polled::new(sem.acquire()).ready();
        assert!(sem.is_locked());
        panic!("ZeroDivisionError");
    }));
    assert!(outcome.is_err());
    assert!(!sem.is_locked());
    assert!(Polled::new(sem.acquire()).poll().is_ready());
}

/// toro mixin test_context_manager_contended (10 tasks), tornado
/// test_context_manager_contended (2 tasks): tasks holding a `Semaphore()` ~10 ms each
/// serialize in index order: "acquired i, releasing i".
#[tokio::test(start_paused = true)]
async fn context_manager_contended() {
    for n in [10, 2] {
        let sem = Arc::new(Semaphore::default());
        let history = Arc::new(StdMutex::new(Vec::new()));
        let tasks = (0..n)
            .map(|i| {
                let (sem, history) = (sem.clone(), history.clone());
                tokio::spawn(async move {
                    let _p = sem.acquire().await;
                    history.lock().unwrap().push(format!("acquired {i}"));
                    tokio::time::sleep(10 * MS).await;
                    history.lock().unwrap().push(format!("releasing {i}"));
                })
            })
            .collect();
        join_all(tasks).await;
        let expected: Vec<_> = (0..n)
            .flat_map(|i| [format!("acquired {i}"), format!("releasing {i}")])
            .collect();
        assert_eq!(*history.lock().unwrap(), expected);
    }
}

/// tornado SemaphoreContextManagerTest.test_context_manager_timeout: an acquire with a deadline
/// that succeeds scopes the permit like any other.
#[tokio::test(start_paused = true)]
async fn tornado_context_manager_timeout() {
    let sem = Semaphore::default();
    {
        let _p = sem.acquire().deadline(10 * MS).await.unwrap();
        assert!(sem.is_locked());
    }
    assert!(Polled::new(sem.acquire()).poll().is_ready());
}

/// tornado SemaphoreContextManagerTest.test_context_manager_timeout_error: `Semaphore(0)`, a
/// timed acquire fails with Timeout and the count is still 0.
#[tokio::test(start_paused = true)]
async fn tornado_context_manager_timeout_error() {
    let sem = Semaphore::new(0);
    assert_eq!(sem.acquire().deadline(10 * MS).await.err(), Some(Timeout));
    assert_eq!(sem.available(), 0);
    assert!(Polled::new(sem.acquire()).is_pending());
}

// ---------------------------------------------------------------------------------------------
// tornado SemaphoreTest / BoundedSemaphoreTest
// ---------------------------------------------------------------------------------------------

/// tornado SemaphoreTest.test_acquire: the first acquire is instant; f1 and f2 wait; each
/// release wakes exactly the next one in FIFO order; then acquire is instant, no waiters left.
#[test]
fn tornado_acquire() {
    let sem = Semaphore::default();
    Polled::new(sem.acquire()).ready().forget();
    let mut f1 = Polled::new(sem.acquire());
    assert!(f1.is_pending());
    let mut f2 = Polled::new(sem.acquire());
    assert!(f2.is_pending());
    sem.release();
    assert_eq!((f1.wakes(), f2.wakes()), (1, 0));
    f1.ready().forget();
    assert!(f2.is_pending());
    sem.release();
    f2.ready().forget();
    sem.release();
    Polled::new(sem.acquire()).ready().forget();
    assert_eq!(sem.waiters(), 0);
}

/// tornado SemaphoreTest.test_acquire_timeout: a timed acquire fails even though a release
/// comes later; that late permit is not taken by the dead waiter but by the next acquirer.
#[tokio::test(start_paused = true)]
async fn tornado_acquire_timeout() {
    let sem = Arc::new(Semaphore::new(2));
    sem.acquire().await.forget();
    sem.acquire().await.forget();
    let late = tokio::spawn({
        let sem = sem.clone();
        async move {
            tokio::time::sleep(20 * MS).await;
            sem.release(); // too late
        }
    });
    let start = Instant::now();
    assert_eq!(sem.acquire().deadline(10 * MS).await.err(), Some(Timeout));
    assert_elapsed(start, 10 * MS);
    tokio::time::sleep(290 * MS).await;
    late.await.unwrap();
    assert_eq!(sem.available(), 1, "the late permit is free, not lost");
    Polled::new(sem.acquire()).ready().forget();
    let mut f = Polled::new(sem.acquire());
    assert!(f.is_pending());
    sem.release();
    assert!(f.poll().is_ready());
}

/// tornado SemaphoreTest.test_acquire_timeout_preempted: a release before the deadline lets
/// the timed acquire succeed.
#[tokio::test(start_paused = true)]
async fn tornado_acquire_timeout_preempted() {
    let sem = Arc::new(Semaphore::new(1));
    sem.acquire().await.forget();
    let releaser = tokio::spawn({
        let sem = sem.clone();
        async move {
            tokio::time::sleep(10 * MS).await;
            sem.release();
        }
    });
    let start = Instant::now();
    assert!(sem.acquire().deadline(20 * MS).await.is_ok());
    assert_elapsed(start, 10 * MS);
    releaser.await.unwrap();
}

/// tornado SemaphoreTest.test_release_unacquired: unbounded releases raise the value: after 2
/// extra releases, 3 acquires are instant and the 4th waits.
#[test]
fn tornado_release_unacquired() {
    let sem = Semaphore::default();
    sem.release();
    sem.release();
    for _ in 0..3 {
        Polled::new(sem.acquire()).ready().forget();
    }
    assert!(Polled::new(sem.acquire()).is_pending());
}

/// tornado SemaphoreTest.test_garbage_collection: 101 timed-out acquires are gone once they
/// time out (tornado prunes them lazily; here each leaves at its timeout), and the live waiter
/// still gets the release.
#[tokio::test(start_paused = true)]
async fn tornado_garbage_collection() {
    let sem = Arc::new(Semaphore::new(0));
    let timed: Vec<_> = (0..101)
        .map(|_| {
            let sem = sem.clone();
            tokio::spawn(async move { sem.acquire().deadline(10 * MS).await.err() })
        })
        .collect();
    yield_until(|| sem.waiters() == 101).await;
    let mut live = Polled::new(sem.acquire());
    assert!(live.is_pending());
    assert_eq!(sem.waiters(), 102);
    tokio::time::sleep(20 * MS).await;
    assert_eq!(sem.waiters(), 1);
    assert!(live.is_pending(), "the final waiter is still active");
    sem.release();
    assert!(live.poll().is_ready());
    for t in timed {
        assert_eq!(t.await.unwrap(), Some(Timeout));
    }
}

/// tornado BoundedSemaphoreTest.test_release_unacquired: an over-release fails; a release with
/// a waiter hands it the permit; a final over-release fails.
#[test]
fn tornado_bounded_release_unacquired() {
    let sem = BoundedSemaphore::default();
    assert_eq!(sem.release(), Err(ReleaseError));
    Polled::new(sem.acquire()).ready().forget(); // value 0
    let mut future = Polled::new(sem.acquire());
    assert!(future.is_pending());
    assert_eq!(sem.release(), Ok(()));
    future.ready().forget();
    assert_eq!(sem.release(), Ok(())); // value 1
    assert_eq!(sem.release(), Err(ReleaseError));
}

// ---------------------------------------------------------------------------------------------
// asyncio SemaphoreTests
// ---------------------------------------------------------------------------------------------

/// asyncio test_initial_value_zero.
#[test]
fn asyncio_initial_value_zero() {
    assert!(Semaphore::new(0).is_locked());
    assert!(BoundedSemaphore::new(0).is_locked());
}

/// asyncio test_acquire: `Semaphore(3)`, two acquires; c1..c3 start: only c1 gets through,
/// locked, 2 waiters, value 0. c4 is created; two releases go to the two *oldest* waiters
/// (asyncio only asserts "2 of c2, c3, c4"; FIFO here makes it exactly c2 and c3); c4 waits.
#[test]
fn asyncio_acquire() {
    let sem = Semaphore::new(3);
    let result = RefCell::new(Vec::new());
    let (s, r) = (&sem, &result);
    let c = move |i: i32| async move {
        s.acquire().await.forget();
        r.borrow_mut().push(i);
        true
    };
    Polled::new(sem.acquire()).ready().forget();
    Polled::new(sem.acquire()).ready().forget();
    assert!(!sem.is_locked());
    let mut t1 = Polled::new(c(1));
    let mut t2 = Polled::new(c(2));
    let mut t3 = Polled::new(c(3));
    assert!(t1.ready());
    assert!(t2.is_pending() && t3.is_pending());
    assert_eq!(*result.borrow(), [1]);
    assert!(sem.is_locked());
    assert_eq!(sem.waiters(), 2);
    assert_eq!(sem.available(), 0);

    let mut t4 = Polled::new(c(4));
    sem.release();
    sem.release();
    assert_eq!(sem.available(), 0);
    assert!(t4.is_pending());
    assert!(t2.ready() && t3.ready());
    assert_eq!(result.borrow().len(), 3);
    assert!(sem.is_locked());
    assert_eq!(sem.waiters(), 1);
    assert_eq!(sem.available(), 0);

    sem.release(); // cleanup
    assert!(t4.ready());
    assert_eq!(*result.borrow(), [1, 2, 3, 4]);
}

/// asyncio test_acquire_cancel: a cancelled acquire leaves no waiter.
#[test]
fn asyncio_acquire_cancel() {
    let sem = Semaphore::default();
    Polled::new(sem.acquire()).ready().forget();
    let mut acquire = Polled::new(sem.acquire());
    assert!(acquire.is_pending());
    drop(acquire);
    assert_eq!(sem.waiters(), 0);
}

/// asyncio test_acquire_cancel_before_awoken: four waiters on `Semaphore(0)`; the first two are
/// cancelled, then one release: exactly t3 gets it, t4 still waits.
#[test]
fn asyncio_acquire_cancel_before_awoken() {
    let sem = Semaphore::new(0);
    let mut ts: Vec<_> = (0..4).map(|_| Polled::new(sem.acquire())).collect();
    for t in &mut ts {
        assert!(t.is_pending());
    }
    let mut t4 = ts.pop().unwrap();
    let mut t3 = ts.pop().unwrap();
    drop(ts); // t1.cancel(); t2.cancel()
    sem.release();
    assert_eq!((t3.wakes(), t4.wakes()), (1, 0));
    let p3 = t3.ready();
    assert!(t4.is_pending());
    drop(t4);
    drop(p3);
    assert_eq!(sem.waiters(), 0);
}

/// asyncio test_acquire_hang: t1 and t2 wait on `Semaphore(0)`; t1 is cancelled; a release
/// reaches t2 (no hang), and the semaphore is locked again.
#[test]
fn asyncio_acquire_hang() {
    let sem = Semaphore::new(0);
    let mut t1 = Polled::new(sem.acquire());
    let mut t2 = Polled::new(sem.acquire());
    assert!(t1.is_pending() && t2.is_pending());
    drop(t1);
    sem.release();
    assert!(sem.is_locked());
    assert!(t2.poll().is_ready());
}

/// asyncio test_acquire_no_hang: c1 holds the permit; c2 waits; c1 releases (handing it to c2)
/// and then c2 is cancelled before it runs: the permit comes back, and a bounded acquire
/// succeeds at once.
#[tokio::test(start_paused = true)]
async fn asyncio_acquire_no_hang() {
    let sem = Semaphore::new(1);
    let p1 = sem.acquire().await;
    let mut t2 = Polled::new(sem.acquire());
    assert!(t2.is_pending());
    drop(p1);
    assert_eq!(t2.wakes(), 1, "handed to c2");
    drop(t2); // cancelled after the hand-off
    let start = Instant::now();
    assert!(sem.acquire().deadline(Duration::from_secs(1)).await.is_ok());
    assert_eq!(start.elapsed(), Duration::ZERO);
}

/// asyncio test_release_not_acquired: BoundedSemaphore's release past its value fails.
#[test]
fn asyncio_release_not_acquired() {
    assert_eq!(BoundedSemaphore::default().release(), Err(ReleaseError));
}

/// asyncio test_release_no_waiters.
#[tokio::test(start_paused = true)]
async fn asyncio_release_no_waiters() {
    let sem = Semaphore::default();
    sem.acquire().await.forget();
    assert!(sem.is_locked());
    sem.release();
    assert!(!sem.is_locked());
}

/// asyncio test_acquire_fifo_order: three tasks each acquire, hold 10 ms, release, re-acquire:
/// c1_1, c2_1, c3_1, c1_2, c2_2, c3_2 (a re-acquirer queues behind the others).
#[tokio::test(start_paused = true)]
async fn asyncio_acquire_fifo_order() {
    let sem = Arc::new(Semaphore::new(1));
    let result = Arc::new(StdMutex::new(Vec::new()));
    let tasks = ["c1", "c2", "c3"]
        .into_iter()
        .map(|tag| {
            let (sem, result) = (sem.clone(), result.clone());
            tokio::spawn(async move {
                for round in 1..=2 {
                    let p = sem.acquire().await;
                    result.lock().unwrap().push(format!("{tag}_{round}"));
                    tokio::time::sleep(10 * MS).await;
                    drop(p);
                }
            })
        })
        .collect();
    join_all(tasks).await;
    assert_eq!(
        *result.lock().unwrap(),
        ["c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"]
    );
}

/// asyncio test_acquire_fifo_order_2. PINNED (differs): asyncio expects [1, 2, 3, 4] because
/// c2's re-acquire must queue behind c3, which was woken but has not run yet. Here each
/// `release()` hands its permit to a waiter at once: c2 and c3 both hold one before either runs,
/// so c2's re-acquire takes the permit it just freed — never c3's — and the order of 3 and 4 is
/// only the order the futures are polled.
#[test]
fn asyncio_acquire_fifo_order_2() {
    let sem = Semaphore::new(1);
    let result = RefCell::new(Vec::new());
    let (s, r) = (&sem, &result);
    let mut t1 = Polled::new(async move {
        s.acquire().await.forget();
        r.borrow_mut().push(1);
        true
    });
    let mut t2 = Polled::new(async move {
        let p = s.acquire().await;
        r.borrow_mut().push(2);
        drop(p);
        s.acquire().await.forget();
        r.borrow_mut().push(4);
        true
    });
    let mut t3 = Polled::new(async move {
        s.acquire().await.forget();
        r.borrow_mut().push(3);
        true
    });
    assert!(t1.ready());
    assert!(t2.is_pending() && t3.is_pending());
    sem.release();
    sem.release();
    assert_eq!(sem.available(), 0, "both permits were handed over");
    assert_eq!((t2.wakes(), t3.wakes()), (1, 1));
    assert!(t2.ready(), "c2 releases and re-acquires without waiting");
    assert_eq!(sem.available(), 0);
    assert!(t3.ready(), "c3 kept its own permit");
    assert_eq!(*result.borrow(), [1, 2, 4, 3]);
}

/// asyncio test_acquire_fifo_order_3: t1 is cancelled; two releases go to t2 and t3.
#[test]
fn asyncio_acquire_fifo_order_3() {
    let sem = Semaphore::new(0);
    let result = RefCell::new(Vec::new());
    let (s, r) = (&sem, &result);
    let c = move |i: i32| async move {
        s.acquire().await.forget();
        r.borrow_mut().push(i);
    };
    let mut t1 = Polled::new(c(1));
    let mut t2 = Polled::new(c(2));
    let mut t3 = Polled::new(c(3));
    assert!(t1.is_pending() && t2.is_pending() && t3.is_pending());
    drop(t1);
    sem.release();
    sem.release();
    assert!(t2.poll().is_ready() && t3.poll().is_ready());
    assert_eq!(*result.borrow(), [2, 3]);
}

/// asyncio test_acquire_fifo_order_4. PINNED (differs): c1 waits on `Semaphore(0)`; c2 releases
/// three times. asyncio: value 2 but still `locked()` (c1 was woken but has not run), so c2 and
/// c3 queue. Here the first release hands c1 its permit at once, the other two are free, nobody
/// is queued, so the semaphore is not locked and c2 and c3 acquire without waiting.
#[test]
fn asyncio_acquire_fifo_order_4() {
    let sem = Semaphore::new(0);
    let mut c1 = Polled::new(sem.acquire());
    assert!(c1.is_pending());
    assert_eq!(sem.available(), 0);
    // c2:
    sem.release();
    sem.release();
    sem.release();
    assert_eq!(
        sem.available(),
        2,
        "one went to c1 (asyncio: _value == 2 too)"
    );
    assert_eq!(c1.wakes(), 1);
    assert!(!sem.is_locked(), "asyncio: locked() until c1 runs");
    Polled::new(sem.acquire()).ready().forget(); // c2's acquire: no wait
    Polled::new(sem.acquire()).ready().forget(); // c3's acquire: no wait
    assert!(sem.is_locked());
    c1.ready().forget();
    assert_eq!(sem.available(), 0);
    assert_eq!(sem.waiters(), 0);
}
