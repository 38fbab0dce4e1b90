//! Heap use of the batched paths and `closed()`: once the waiter slabs have grown, a waiting
//! `get_many` into a buffer allocated for its `limit`, a `put_many` of a `Vec` that waits for
//! room (the `Vec` is taken over, not copied) and a waiting `closed()` allocate nothing.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::Context;

use toro_sync::Queue;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counter is a const-initialised thread-local
// without a destructor, so counting never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while running `f`.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCS.with(Cell::get);
    let out = f();
    (ALLOCS.with(Cell::get) - before, out)
}

fn poll<F: Future + Unpin>(fut: &mut F, cx: &mut Context<'_>) -> std::task::Poll<F::Output> {
    Pin::new(fut).poll(cx)
}

#[test]
fn batched_waits_allocate_nothing_in_steady_state() {
    let q = Queue::<u32>::bounded(4);
    let (waker, _) = common::counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut buf = Vec::with_capacity(8);
    let mut batch = Vec::with_capacity(8);
    for round in 0..3 {
        let (allocs, ()) = allocations(|| {
            // A get_many that waits, is handed an item, and takes more at its poll.
            buf.clear();
            let mut get = q.get_many(&mut buf, 8);
            assert!(poll(&mut get, &mut cx).is_pending());
            q.try_put(1).unwrap();
            q.try_put(2).unwrap();
            assert_eq!(poll(&mut get, &mut cx), std::task::Poll::Ready(Ok(2)));
            drop(get);

            // A put_many of a Vec that waits for room twice.
            batch.clear();
            batch.extend(0..6);
            let mut put = q.put_many(std::mem::take(&mut batch));
            assert!(poll(&mut put, &mut cx).is_pending());
            assert_eq!(q.try_get_many(&mut buf, 1), Ok(1));
            assert!(poll(&mut put, &mut cx).is_pending());
            assert_eq!(q.try_get_many(&mut buf, 1), Ok(1));
            assert_eq!(poll(&mut put, &mut cx), std::task::Poll::Ready(Ok(6)));
            drop(put);
            buf.clear();
            assert_eq!(q.try_get_many(&mut buf, 8), Ok(4));

            // A closed() that waits and is dropped.
            let mut closed = q.closed();
            assert!(poll(&mut closed, &mut cx).is_pending());
            drop(closed);
        });
        // `batch` was moved into the put: a new one is made for the next round, outside.
        batch = Vec::with_capacity(8);
        if round > 0 {
            assert_eq!(allocs, 0, "round {round}");
        }
    }
    assert_eq!(q.waiters(), 0);
}
