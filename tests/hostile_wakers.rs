//! Wakers that call back into the primitive from clone, wake or drop, and wakers that panic:
//! the crate never calls user waker code with its internal lock held, and a panicking waker
//! strands nobody.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

use common::Polled;
use toro_sync::{AsyncResult, Condition, Event, Queue, Semaphore};

/// A waker whose clone, wake and drop run a callback (which re-enters a primitive).
struct Hostile {
    on_event: Box<dyn Fn(&'static str) + Send + Sync>,
    events: AtomicUsize,
}

fn hostile(on_event: impl Fn(&'static str) + Send + Sync + 'static) -> Waker {
    let h = Arc::new(Hostile {
        on_event: Box::new(on_event),
        events: AtomicUsize::new(0),
    });
    raw(h)
}

fn raw(h: Arc<Hostile>) -> Waker {
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);
    unsafe fn clone(p: *const ()) -> RawWaker {
        // SAFETY: `p` came from `Arc::into_raw` below and the Arc is alive.
        let h = unsafe { Arc::from_raw(p as *const Hostile) };
        let c = h.clone();
        let _ = Arc::into_raw(h);
        c.events.fetch_add(1, Ordering::SeqCst);
        (c.on_event)("clone");
        RawWaker::new(Arc::into_raw(c) as *const (), &VTABLE)
    }
    unsafe fn wake(p: *const ()) {
        // SAFETY: as above; consumes this waker's reference.
        let h = unsafe { Arc::from_raw(p as *const Hostile) };
        (h.on_event)("wake");
        drop(h);
    }
    unsafe fn wake_by_ref(p: *const ()) {
        // SAFETY: as above; borrows.
        let h = unsafe { Arc::from_raw(p as *const Hostile) };
        (h.on_event)("wake");
        let _ = Arc::into_raw(h);
    }
    unsafe fn drop_waker(p: *const ()) {
        // SAFETY: as above; releases this waker's reference.
        let h = unsafe { Arc::from_raw(p as *const Hostile) };
        (h.on_event)("drop");
        drop(h);
    }
    // SAFETY: the vtable functions above uphold the RawWaker contract for an Arc pointer.
    unsafe { Waker::from_raw(RawWaker::new(Arc::into_raw(h) as *const (), &VTABLE)) }
}

#[test]
fn reentrant_semaphore_waker_does_not_deadlock() {
    let sem = Arc::new(Semaphore::new(0));
    let s = sem.clone();
    let waker = hostile(move |_| {
        // Every clone, wake and drop looks at and changes the semaphore.
        let _ = s.available();
        let _ = s.waiters();
        if let Some(p) = s.try_acquire() {
            drop(p);
        }
    });
    let mut fut = Box::pin(sem.acquire());
    let mut cx = Context::from_waker(&waker);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    // Replace the waker: the old one is dropped, outside the lock.
    let waker2 = {
        let s = sem.clone();
        hostile(move |_| {
            let _ = s.is_locked();
        })
    };
    assert!(
        fut.as_mut()
            .poll(&mut Context::from_waker(&waker2))
            .is_pending()
    );
    sem.release();
    assert!(
        fut.as_mut()
            .poll(&mut Context::from_waker(&waker2))
            .is_ready()
    );
}

#[test]
fn reentrant_wakers_on_every_primitive() {
    let e = Arc::new(Event::new());
    let c = Arc::new(Condition::new());
    let q = Arc::new(Queue::<u32>::unbounded());
    let r = Arc::new(AsyncResult::<u32>::new());
    let (e2, c2, q2, r2) = (e.clone(), c.clone(), q.clone(), r.clone());
    let waker = hostile(move |ev| {
        if ev == "wake" {
            e2.set();
            c2.notify_all();
            let _ = q2.try_put(1);
            let _ = r2.set(5);
        } else {
            let _ = (e2.is_set(), c2.waiters(), q2.len(), r2.is_ready());
        }
    });
    let mut cx = Context::from_waker(&waker);
    let mut ew = Box::pin(e.wait());
    let mut cw = Box::pin(c.wait());
    let mut qg = Box::pin(q.get());
    let mut rg = Box::pin(r.get());
    assert!(ew.as_mut().poll(&mut cx).is_pending());
    assert!(cw.as_mut().poll(&mut cx).is_pending());
    assert!(qg.as_mut().poll(&mut cx).is_pending());
    assert!(rg.as_mut().poll(&mut cx).is_pending());
    // One notify sets off the others from inside wake().
    c.notify_all();
    assert!(ew.as_mut().poll(&mut cx).is_ready());
    assert!(cw.as_mut().poll(&mut cx).is_ready());
    assert!(qg.as_mut().poll(&mut cx).is_ready());
    assert!(rg.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn panicking_waker_does_not_strand_the_others() {
    let sem = Semaphore::new(0);
    let e = Event::new();
    let woken = Arc::new(StdMutex::new(Vec::new()));
    let mut waiters = Vec::new();
    for i in 0..33 {
        let waker = if i == 7 {
            hostile(|ev| {
                if ev == "wake" {
                    panic!("waker 7 panics");
                }
            })
        } else {
            let woken = woken.clone();
            hostile(move |ev| {
                if ev == "wake" {
                    woken.lock().unwrap().push(i);
                }
            })
        };
        let mut p = Polled::with_waker(e.wait(), waker);
        assert!(p.is_pending());
        waiters.push(p);
    }
    assert!(catch_unwind(AssertUnwindSafe(|| e.set())).is_err());
    assert_eq!(woken.lock().unwrap().len(), 32, "everyone else was woken");
    for w in &mut waiters {
        assert!(w.poll().is_ready());
    }
    assert_eq!(e.waiters(), 0);

    // The same through a permit hand-off.
    let mut a = Polled::with_waker(
        sem.acquire(),
        hostile(|ev| {
            if ev == "wake" {
                panic!("boom")
            }
        }),
    );
    let mut b = Polled::new(sem.acquire());
    assert!(a.is_pending() && b.is_pending());
    assert!(catch_unwind(AssertUnwindSafe(|| sem.add_permits(2))).is_err());
    assert!(a.poll().is_ready());
    assert!(b.poll().is_ready());
}
