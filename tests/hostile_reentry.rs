//! Hostile wakers, beyond `hostile_wakers.rs`:
//!
//! * (a) a waker whose `clone` and `drop` call back into the *same* primitive with the call
//!   that releases waiters (`notify_all`, `set`, `try_put`/`try_get`, dropping a read guard),
//!   during the waker replacement of a re-poll: the new waker is cloned and the old one
//!   dropped by the crate, which must do both with its internal lock released. Each test runs
//!   on a thread with a 10 s watchdog, so a deadlock fails instead of hanging;
//! * (b) one panicking waker among 33 waiters for `Condition::notify_all`,
//!   `Semaphore::add_permits(33)` and `AsyncResult::set`: the panic reaches the caller once
//!   every other waiter has been woken, every waiter completes, nothing stays registered.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex, mpsc};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Duration;

use toro_sync::{AsyncResult, Condition, Event, Queue, RwLock, RwLockReadGuard, Semaphore};

/// A waker whose clone, wake and drop each run a callback with the event's name.
struct Hostile {
    on_event: Box<dyn Fn(&'static str) + Send + Sync>,
    wakes: AtomicUsize,
}

fn hostile(on_event: impl Fn(&'static str) + Send + Sync + 'static) -> (Waker, Arc<Hostile>) {
    let h = Arc::new(Hostile {
        on_event: Box::new(on_event),
        wakes: AtomicUsize::new(0),
    });
    (raw(h.clone()), h)
}

fn raw(h: Arc<Hostile>) -> Waker {
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);
    unsafe fn clone(p: *const ()) -> RawWaker {
        // SAFETY: `p` came from `Arc::into_raw` below and this waker's reference keeps the Arc
        // alive.
        let h = unsafe { Arc::from_raw(p as *const Hostile) };
        let c = h.clone();
        let _ = Arc::into_raw(h);
        (c.on_event)("clone");
        RawWaker::new(Arc::into_raw(c) as *const (), &VTABLE)
    }
    unsafe fn wake(p: *const ()) {
        // SAFETY: as above; consumes this waker's reference.
        let h = unsafe { Arc::from_raw(p as *const Hostile) };
        h.wakes.fetch_add(1, Ordering::SeqCst);
        (h.on_event)("wake");
    }
    unsafe fn wake_by_ref(p: *const ()) {
        // SAFETY: as above; borrows this waker's reference.
        let h = unsafe { Arc::from_raw(p as *const Hostile) };
        h.wakes.fetch_add(1, Ordering::SeqCst);
        (h.on_event)("wake");
        let _ = Arc::into_raw(h);
    }
    unsafe fn drop_waker(p: *const ()) {
        // SAFETY: as above; releases this waker's reference.
        let h = unsafe { Arc::from_raw(p as *const Hostile) };
        (h.on_event)("drop");
    }
    // SAFETY: the functions above keep the RawWaker contract for a pointer from
    // `Arc::into_raw`.
    unsafe { Waker::from_raw(RawWaker::new(Arc::into_raw(h) as *const (), &VTABLE)) }
}

/// A waker that does nothing but count.
fn quiet() -> (Waker, Arc<Hostile>) {
    hostile(|_| {})
}

fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// Runs `body` on its own thread; fails if it has not finished within 10 s (a deadlock).
fn within_watchdog(name: &str, body: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        body();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(()) => thread.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name}: deadlock (no progress in 10 s)"),
    }
}

// ---------------------------------------------------------------------------------------------
// (a) Re-entry from clone and drop during waker replacement.

/// A waker whose `drop` runs `f` once armed (so that dropping the test's own copy does not).
fn drops_into(f: impl Fn() + Send + Sync + 'static) -> (Waker, Arc<AtomicBool>) {
    let armed = Arc::new(AtomicBool::new(false));
    let a = armed.clone();
    let (waker, _) = hostile(move |event| {
        if event == "drop" && a.load(Ordering::SeqCst) {
            f();
        }
    });
    (waker, armed)
}

/// A waker whose `clone` runs `f`.
fn clones_into(f: impl Fn() + Send + Sync + 'static) -> (Waker, Arc<Hostile>) {
    hostile(move |event| {
        if event == "clone" {
            f();
        }
    })
}

/// Polls `fut` (registered with an armed `drops_into` waker, whose own copy the test has
/// dropped) with a fresh quiet waker: the crate replaces the stored waker and drops the old
/// one after unlocking, whose `drop` then releases this very waiter. The poll itself returns
/// `Pending` (the release came after it stored the new waker), the new waker is woken once,
/// and the next poll is ready.
fn replace_with_releasing_drop<F: Future + Unpin>(fut: &mut F, armed: &AtomicBool) -> F::Output {
    armed.store(true, Ordering::SeqCst);
    let (w, h) = quiet();
    assert!(poll_with(fut, &w).is_pending());
    assert_eq!(
        h.wakes.load(Ordering::SeqCst),
        1,
        "the replaced waker's drop released it"
    );
    match poll_with(fut, &w) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("released, but not ready"),
    }
}

#[test]
fn condition_waker_clone_and_drop_notify_all_on_the_same_condition() {
    within_watchdog("condition", || {
        let cond = Arc::new(Condition::new());
        // Clone: the new waker is cloned outside the lock, before it is stored, so this very
        // poll finds itself notified; the stored waker was woken.
        let (w1, h1) = quiet();
        let mut wait = cond.wait();
        assert!(poll_with(&mut wait, &w1).is_pending());
        let (w_other, h_other) = quiet();
        let mut other = cond.wait();
        assert!(poll_with(&mut other, &w_other).is_pending());
        let c = cond.clone();
        let (w2, h2) = clones_into(move || {
            c.notify_all();
        });
        assert_eq!(poll_with(&mut wait, &w2), Poll::Ready(()));
        assert_eq!(h1.wakes.load(Ordering::SeqCst), 1);
        assert_eq!(h2.wakes.load(Ordering::SeqCst), 0);
        assert_eq!(h_other.wakes.load(Ordering::SeqCst), 1);
        assert_eq!(poll_with(&mut other, &w_other), Poll::Ready(()));
        assert_eq!(cond.waiters(), 0);

        // Drop: the replaced waker notifies everyone, the waiter that just re-registered too.
        let c = cond.clone();
        let (w3, armed) = drops_into(move || {
            c.notify_all();
        });
        let mut wait = cond.wait();
        assert!(poll_with(&mut wait, &w3).is_pending());
        drop(w3);
        replace_with_releasing_drop(&mut wait, &armed);
        assert_eq!(cond.waiters(), 0);
    });
}

#[test]
fn event_waker_clone_and_drop_set_the_same_event() {
    within_watchdog("event", || {
        let event = Arc::new(Event::new());
        let (w1, h1) = quiet();
        let mut wait = event.wait();
        assert!(poll_with(&mut wait, &w1).is_pending());
        let e = event.clone();
        let (w2, _) = clones_into(move || e.set());
        assert_eq!(poll_with(&mut wait, &w2), Poll::Ready(()));
        assert_eq!(h1.wakes.load(Ordering::SeqCst), 1);
        assert!(event.is_set());
        assert_eq!(event.waiters(), 0);

        // The replaced waker's drop does `set(); clear();`: the waiter re-registered with the
        // new waker is released by it, although the event ends clear.
        event.clear();
        let e = event.clone();
        let (w3, armed) = drops_into(move || {
            e.set();
            e.clear();
        });
        let mut wait = event.wait();
        assert!(poll_with(&mut wait, &w3).is_pending());
        drop(w3);
        replace_with_releasing_drop(&mut wait, &armed);
        assert!(!event.is_set());
        assert_eq!(event.waiters(), 0);
    });
}

#[test]
fn queue_get_waker_clone_and_drop_put_into_the_same_queue() {
    within_watchdog("queue get", || {
        let queue = Arc::new(Queue::<u32>::bounded(4));
        let (w1, _) = quiet();
        let mut get = queue.get();
        assert!(poll_with(&mut get, &w1).is_pending());
        let q = queue.clone();
        let (w2, _) = clones_into(move || {
            let _ = q.try_put(7);
        });
        // The clone's put hands 7 straight to this getter.
        assert_eq!(poll_with(&mut get, &w2), Poll::Ready(Ok(7)));
        assert!(queue.is_empty());

        let q = queue.clone();
        let (w3, armed) = drops_into(move || {
            let _ = q.try_put(8);
        });
        let mut get = queue.get();
        assert!(poll_with(&mut get, &w3).is_pending());
        drop(w3);
        assert_eq!(replace_with_releasing_drop(&mut get, &armed), Ok(8));
        assert!(queue.is_empty());
        assert_eq!(queue.waiters(), 0);
        assert_eq!(queue.unfinished_tasks(), 2);
    });
}

#[test]
fn queue_put_waker_clone_and_drop_get_from_the_same_queue() {
    within_watchdog("queue put", || {
        let queue = Arc::new(Queue::<u32>::bounded(1));
        let got = Arc::new(StdMutex::new(Vec::new()));
        let take = {
            let (q, g) = (queue.clone(), got.clone());
            move || {
                if let Ok(item) = q.try_get() {
                    g.lock().unwrap().push(item);
                }
            }
        };
        queue.try_put(1).unwrap();
        let (w1, _) = quiet();
        let mut put = queue.put(2);
        assert!(poll_with(&mut put, &w1).is_pending(), "the queue is full");
        let (w2, _) = clones_into(take.clone());
        // The clone's get takes 1 and lets this put's 2 in.
        assert!(matches!(poll_with(&mut put, &w2), Poll::Ready(Ok(()))));
        assert_eq!(*got.lock().unwrap(), [1]);

        let (w3, armed) = drops_into(take);
        let mut put = queue.put(3);
        assert!(poll_with(&mut put, &w3).is_pending(), "the queue is full");
        drop(w3);
        assert!(replace_with_releasing_drop(&mut put, &armed).is_ok());
        assert_eq!(*got.lock().unwrap(), [1, 2]);
        assert_eq!(queue.try_get(), Ok(3));
        assert_eq!(queue.waiters(), 0);
    });
}

#[test]
fn rwlock_waker_clone_and_drop_release_the_same_lock() {
    within_watchdog("rwlock", || {
        let lock: &'static RwLock<u32> = Box::leak(Box::new(RwLock::new(0)));
        let reader: Arc<StdMutex<Option<RwLockReadGuard<'static, u32>>>> =
            Arc::new(StdMutex::new(lock.try_read()));
        let release = {
            let r = reader.clone();
            move || drop(r.lock().unwrap().take())
        };
        let (w1, h1) = quiet();
        let mut write = lock.write();
        assert!(
            poll_with(&mut write, &w1).is_pending(),
            "a reader holds the lock"
        );
        // The clone drops the reader: the write is granted while its waker is replaced.
        let (w2, _) = clones_into(release.clone());
        match poll_with(&mut write, &w2) {
            Poll::Ready(mut guard) => *guard += 1,
            Poll::Pending => panic!("the write was granted during the re-poll"),
        }
        assert_eq!(h1.wakes.load(Ordering::SeqCst), 1);
        assert_eq!(lock.waiters(), 0);

        *reader.lock().unwrap() = lock.try_read();
        let (w3, armed) = drops_into(release);
        let mut write = lock.write();
        assert!(
            poll_with(&mut write, &w3).is_pending(),
            "a reader holds the lock"
        );
        drop(w3);
        *replace_with_releasing_drop(&mut write, &armed) += 1;
        assert_eq!(lock.waiters(), 0);
        assert_eq!(*lock.try_read().expect("free again"), 2);
    });
}

// ---------------------------------------------------------------------------------------------
// (b) One panicking waker among 33.

const WAITERS: usize = 33;
const PANICKER: usize = 7;

/// 33 wakers; the 8th panics when woken. Returns them and the counters of the others.
fn wakers_with_one_panicking() -> Vec<(Waker, Arc<Hostile>)> {
    (0..WAITERS)
        .map(|i| {
            if i == PANICKER {
                hostile(|ev| {
                    if ev == "wake" {
                        panic!("waker {PANICKER} panics");
                    }
                })
            } else {
                quiet()
            }
        })
        .collect()
}

fn all_but_the_panicker_woken_once(wakers: &[(Waker, Arc<Hostile>)]) {
    for (i, (_, h)) in wakers.iter().enumerate() {
        if i != PANICKER {
            assert_eq!(h.wakes.load(Ordering::SeqCst), 1, "waker {i}");
        }
    }
}

#[test]
fn condition_notify_all_survives_a_panicking_waker() {
    let cond = Condition::new();
    let wakers = wakers_with_one_panicking();
    let mut waits: Vec<_> = wakers
        .iter()
        .map(|(w, _)| {
            let mut wait = cond.wait();
            assert!(poll_with(&mut wait, w).is_pending());
            wait
        })
        .collect();
    assert_eq!(cond.waiters(), WAITERS);
    assert!(catch_unwind(AssertUnwindSafe(|| cond.notify_all())).is_err());
    all_but_the_panicker_woken_once(&wakers);
    assert_eq!(cond.waiters(), 0);
    for (wait, (w, _)) in waits.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(wait, w), Poll::Ready(()));
    }
    // Nothing stored: a later waiter waits.
    let (w, _) = quiet();
    assert!(poll_with(&mut cond.wait(), &w).is_pending());
    assert_eq!(cond.waiters(), 0);
}

#[test]
fn semaphore_add_permits_survives_a_panicking_waker() {
    let sem = Semaphore::new(0);
    let wakers = wakers_with_one_panicking();
    let mut acquires: Vec<_> = wakers
        .iter()
        .map(|(w, _)| {
            let mut acquire = sem.acquire();
            assert!(poll_with(&mut acquire, w).is_pending());
            acquire
        })
        .collect();
    assert!(catch_unwind(AssertUnwindSafe(|| sem.add_permits(WAITERS))).is_err());
    all_but_the_panicker_woken_once(&wakers);
    assert_eq!(sem.waiters(), 0);
    assert_eq!(sem.available(), 0, "every permit was handed to a waiter");
    let permits: Vec<_> = acquires
        .iter_mut()
        .zip(&wakers)
        .map(|(acquire, (w, _))| match poll_with(acquire, w) {
            Poll::Ready(permit) => permit,
            Poll::Pending => panic!("a waiter was stranded"),
        })
        .collect();
    drop(permits);
    assert_eq!(sem.available(), WAITERS);
}

#[test]
fn async_result_set_survives_a_panicking_waker() {
    let result = AsyncResult::<u32>::new();
    let wakers = wakers_with_one_panicking();
    let mut gets: Vec<_> = wakers
        .iter()
        .map(|(w, _)| {
            let mut get = result.get();
            assert!(poll_with(&mut get, w).is_pending());
            get
        })
        .collect();
    assert!(catch_unwind(AssertUnwindSafe(|| result.set(5))).is_err());
    all_but_the_panicker_woken_once(&wakers);
    assert!(result.is_ready(), "the value was set before the wake-ups");
    assert_eq!(result.waiters(), 0);
    for (get, (w, _)) in gets.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(get, w), Poll::Ready(&5));
    }
    assert!(result.set(6).is_err(), "set once");
}
