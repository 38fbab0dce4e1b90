//! Heap use: zero allocations per parked waiter in steady state; a million timed-out or
//! dropped waits leave `waiters() == 0` and allocations flat; a burst of 100,000 waiters gives
//! its memory back once they have left. Also checks and prints the sizes of the primitives and
//! of their wait futures (`cargo test --test alloc -- --nocapture`).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::task::Context;

use toro_sync::future::*;
use toro_sync::*;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
    /// Bytes allocated and not yet freed by this thread (frees of other threads' blocks make
    /// it drift; the tests that read it allocate and free on one thread).
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counters are const-initialised thread-locals
// without destructors, so counting never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        BYTES.with(|c| c.set(c.get() + layout.size()));
        LIVE.with(|c| c.set(c.get() + layout.size() as isize));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.with(|c| c.set(c.get() - layout.size() as isize));
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while running `f`.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, usize, R) {
    let (a0, b0) = (ALLOCS.with(Cell::get), BYTES.with(Cell::get));
    let r = f();
    (ALLOCS.with(Cell::get) - a0, BYTES.with(Cell::get) - b0, r)
}

/// Bytes this thread holds on the heap now.
fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

/// Parks `n` waiters of `make`, lets `release` grant them, and drops everything.
fn park_and_release<F: std::future::Future + Unpin>(
    n: usize,
    mut make: impl FnMut() -> F,
    release: impl FnOnce(),
) {
    let (waker, _) = common::counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut futs: Vec<F> = Vec::with_capacity(n);
    for _ in 0..n {
        let mut f = make();
        assert!(std::pin::Pin::new(&mut f).poll(&mut cx).is_pending());
        futs.push(f);
    }
    release();
    for f in &mut futs {
        assert!(std::pin::Pin::new(f).poll(&mut cx).is_ready());
    }
}

#[test]
fn zero_allocations_per_parked_waiter_in_steady_state() {
    let sem = Semaphore::new(0);
    let m = Mutex::new(0u32);
    let e = Event::new();
    let c = Condition::new();
    let q = Queue::<u32>::bounded(1);
    let rw = RwLock::new(0u32);
    let n = 64;
    // Warm up: the slabs grow to 64 waiters once.
    for round in 0..2 {
        let (sem_allocs, _, ()) =
            allocations(|| park_and_release(n, || sem.acquire(), || sem.add_permits(n)));
        sem.try_acquire_many(n).unwrap().forget();
        let g = m.try_lock().unwrap();
        let (mutex_allocs, _, ()) = allocations(|| park_and_release(n, || m.lock(), || drop(g)));
        let (event_allocs, _, ()) = allocations(|| {
            park_and_release(n, || e.wait(), || e.set());
            e.clear();
        });
        let (cond_allocs, _, ()) = allocations(|| {
            park_and_release(
                n,
                || c.wait(),
                || {
                    c.notify_all();
                },
            )
        });
        let (get_allocs, _, ()) = allocations(|| {
            park_and_release(
                n,
                || q.get(),
                || {
                    for i in 0..n as u32 {
                        q.try_put(i).unwrap();
                    }
                },
            )
        });
        let w = rw.try_write().unwrap();
        let (rw_allocs, _, ()) = allocations(|| park_and_release(n, || rw.read(), || drop(w)));
        // The test's own Vec of futures and its waker are the two allocations per round.
        let all = [
            sem_allocs,
            mutex_allocs,
            event_allocs,
            cond_allocs,
            get_allocs,
            rw_allocs,
        ];
        if round == 1 {
            println!(
                "allocations for {n} parked waiters (steady state, incl. the test's Vec): {all:?}"
            );
            assert!(all.iter().all(|&a| a == 2), "{all:?}");
        }
    }
}

/// `get_or_init` callers waiting for a running initializer park without allocating, as `get`
/// waiters do; `take` resets the result between rounds.
#[test]
fn zero_allocations_per_get_or_init_waiter_in_steady_state() {
    let mut result = AsyncResult::<()>::new();
    let gate = Event::new();
    let n = 64;
    let (waker, _) = common::counting_waker();
    let mut cx = Context::from_waker(&waker);
    for round in 0..2 {
        let (allocs, _, ()) = {
            let mut runner = result.get_or_init(|| gate.wait());
            assert!(std::pin::Pin::new(&mut runner).poll(&mut cx).is_pending());
            allocations(|| {
                park_and_release(
                    n,
                    || result.get_or_init(|| gate.wait()),
                    || {
                        gate.set();
                        assert!(std::pin::Pin::new(&mut runner).poll(&mut cx).is_ready());
                    },
                )
            })
        };
        gate.clear();
        assert_eq!(result.take(), Some(()));
        if round == 1 {
            // The test's own Vec of futures and its waker.
            assert_eq!(allocs, 2);
        }
    }
}

#[test]
fn a_million_timeouts_and_drops_leave_nothing() {
    let sem = Semaphore::new(0);
    let q = Queue::<u32>::bounded(1);
    q.try_put(0).unwrap();
    let c = Condition::new();
    let (waker, _) = common::counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut run = |rounds: usize| {
        for i in 0..rounds {
            // A deadline firing: register, then expire.
            let mut a = sem.acquire();
            assert!(Waitable::poll_wait(&mut a, Some(&mut cx)).is_pending());
            assert!(Waitable::expire(&mut a).is_err());
            // A dropped wait.
            let mut w = c.wait();
            assert!(Waitable::poll_wait(&mut w, Some(&mut cx)).is_pending());
            drop(w);
            // A timed-out put returns its item.
            let mut p = q.put(i as u32);
            assert!(Waitable::poll_wait(&mut p, Some(&mut cx)).is_pending());
            assert_eq!(Waitable::expire(&mut p).unwrap_err().into_inner(), i as u32);
        }
    };
    run(1000);
    let (allocs, bytes, ()) = allocations(|| run(1_000_000));
    println!(
        "1e6 x (timed-out acquire + dropped wait + timed-out put): {allocs} allocations, {bytes} bytes"
    );
    assert_eq!(allocs, 0);
    assert_eq!(sem.waiters() + c.waiters() + q.waiters(), 0);
    assert_eq!(q.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn real_deadlines_leave_nothing() {
    let sem = Semaphore::new(0);
    for _ in 0..10_000 {
        assert!(
            sem.acquire()
                .deadline(std::time::Duration::from_millis(1))
                .await
                .is_err()
        );
    }
    assert_eq!(sem.waiters(), 0);
}

#[test]
fn sizes() {
    use std::mem::size_of;
    let rows: &[(&str, usize)] = &[
        ("Semaphore", size_of::<Semaphore>()),
        ("BoundedSemaphore", size_of::<BoundedSemaphore>()),
        ("Mutex<()>", size_of::<Mutex<()>>()),
        ("RwLock<()>", size_of::<RwLock<()>>()),
        ("Event", size_of::<Event>()),
        ("Condition", size_of::<Condition>()),
        ("AsyncResult<u64>", size_of::<AsyncResult<u64>>()),
        ("Barrier", size_of::<Barrier>()),
        ("Queue<u64>", size_of::<Queue<u64>>()),
        ("PriorityQueue<u64>", size_of::<PriorityQueue<u64>>()),
        ("SemaphoreAcquire", size_of::<SemaphoreAcquire<'static>>()),
        ("SemaphoreAcquireOwned", size_of::<SemaphoreAcquireOwned>()),
        ("MutexLock<()>", size_of::<MutexLock<'static, ()>>()),
        ("RwLockWrite<()>", size_of::<RwLockWrite<'static, ()>>()),
        ("EventWait", size_of::<EventWait<'static>>()),
        ("ConditionWait", size_of::<ConditionWait<'static>>()),
        (
            "ConditionWaitWith<()>",
            size_of::<ConditionWaitWith<'static, ()>>(),
        ),
        (
            "AsyncResultGet<u64>",
            size_of::<AsyncResultGet<'static, u64>>(),
        ),
        ("BarrierWait", size_of::<BarrierWait<'static>>()),
        ("QueuePut<u64>", size_of::<QueuePut<'static, u64>>()),
        ("QueueGet<u64>", size_of::<QueueGet<'static, u64>>()),
        (
            "WithDeadline<SemaphoreAcquire>",
            size_of::<WithDeadline<SemaphoreAcquire<'static>>>(),
        ),
    ];
    for (name, size) in rows {
        println!("size_of {name:<24} {size:>4} bytes");
    }
    for (name, size) in &rows[10..21] {
        assert!(*size <= 64, "{name} is {size} bytes");
    }
    // The primitives users keep many of are a cache line at most, and a deadline costs less
    // than tokio's `timeout` around an acquire.
    assert!(size_of::<Mutex<u64>>() <= 64, "{}", size_of::<Mutex<u64>>());
    assert!(size_of::<Semaphore>() <= 64, "{}", size_of::<Semaphore>());
    assert!(size_of::<Event>() <= 64, "{}", size_of::<Event>());
    let deadline = size_of::<WithDeadline<SemaphoreAcquire<'static>>>();
    assert!(deadline <= 200, "{deadline}");
}

/// After a burst of 100,000 waiters that all left (granted or dropped), a primitive holds a
/// few KiB at most: the waiter slab gives back what the burst made it grow.
#[test]
fn a_burst_of_waiters_gives_its_memory_back() {
    const BURST: usize = 100_000;
    /// Heap the primitive may keep after the burst (its slabs keep 4 KiB of slots each).
    const KEPT: isize = 8 * 1024;
    let (waker, _) = common::counting_waker();
    let mut cx = Context::from_waker(&waker);

    // Runs `burst` and checks the heap before and after, and that the burst did grow it.
    let mut check = |name: &str, burst: &mut dyn FnMut(&mut Context<'_>) -> isize| {
        let before = live_bytes();
        let peak = burst(&mut cx);
        let after = live_bytes() - before;
        println!("{name}: {BURST} waiters grew the heap by {peak} bytes; {after} bytes kept");
        assert!(
            peak > 20 * BURST as isize,
            "{name}: the burst did not park ({peak})"
        );
        assert!(after <= KEPT, "{name} kept {after} bytes after the burst");
    };
    // Parks the waiters made by `make`, reads the heap, lets `release` go and completes them
    // all, dropping the futures; returns the heap growth while they were parked.
    fn burst<F: std::future::Future + Unpin>(
        cx: &mut Context<'_>,
        mut make: impl FnMut() -> F,
        release: impl FnOnce(),
    ) -> isize {
        let before = live_bytes();
        let mut futs: Vec<F> = (0..BURST).map(|_| make()).collect();
        for f in &mut futs {
            assert!(std::pin::Pin::new(f).poll(cx).is_pending());
        }
        let peak = live_bytes() - before - (futs.capacity() * size_of::<F>()) as isize;
        release();
        for f in &mut futs {
            assert!(std::pin::Pin::new(f).poll(cx).is_ready());
        }
        peak
    }
    use std::mem::size_of;

    let sem = Semaphore::new(0);
    check("Semaphore", &mut |cx| {
        burst(cx, || sem.acquire(), || sem.add_permits(BURST))
    });
    let mutex = Mutex::new(0u64);
    check("Mutex", &mut |cx| {
        let held = mutex.try_lock().unwrap();
        burst(cx, || mutex.lock(), || drop(held))
    });
    let event = Event::new();
    check("Event", &mut |cx| {
        burst(cx, || event.wait(), || event.set())
    });
    let rw = RwLock::new(0u64);
    check("RwLock", &mut |cx| {
        let held = rw.try_write().unwrap();
        burst(cx, || rw.read(), || drop(held))
    });
    let cond = Condition::new();
    check("Condition", &mut |cx| {
        burst(
            cx,
            || cond.wait(),
            || {
                cond.notify_all();
            },
        )
    });
    let queue = Queue::<u64>::unbounded();
    check("Queue (getters)", &mut |cx| {
        burst(
            cx,
            || queue.get(),
            || {
                for i in 0..BURST as u64 {
                    queue.try_put(i).unwrap();
                }
            },
        )
    });
    // Dropped rather than granted: the same.
    let sem = Semaphore::new(0);
    check("Semaphore (dropped)", &mut |cx| {
        let before = live_bytes();
        let mut futs: Vec<_> = (0..BURST).map(|_| sem.acquire()).collect();
        for f in &mut futs {
            assert!(std::pin::Pin::new(f).poll(cx).is_pending());
        }
        let peak =
            live_bytes() - before - (futs.capacity() * size_of::<SemaphoreAcquire<'_>>()) as isize;
        drop(futs);
        assert_eq!(sem.waiters(), 0);
        peak
    });
}

/// After a burst of 100,000 items put and all taken, a queue of each order holds a few KiB at
/// most: its item buffer gives back what the burst made it grow. A steady load (100 items put
/// and taken, again and again) stays within what it keeps and never reallocates.
#[test]
fn a_burst_of_items_gives_its_memory_back() {
    const BURST: u64 = 100_000;
    /// Heap a queue may keep after the burst, above its empty baseline (its item buffer keeps
    /// 4 KiB worth of items).
    const KEPT: isize = 8 * 1024;

    fn check(name: &str, put: &dyn Fn(u64), get: &dyn Fn() -> Option<u64>) {
        let before = live_bytes();
        for i in 0..BURST {
            put(i);
        }
        let peak = live_bytes() - before;
        let taken = std::iter::from_fn(get).count();
        let after = live_bytes() - before;
        println!("{name}: {BURST} items grew the heap by {peak} bytes; {after} bytes kept");
        assert_eq!(taken as u64, BURST, "{name}");
        assert!(
            peak >= 8 * BURST as isize,
            "{name}: the burst did not grow the buffer ({peak})"
        );
        assert!(after <= KEPT, "{name} kept {after} bytes after the burst");

        // A steady load within what is kept: warm up, then no allocation at all.
        let round = || {
            for i in 0..100 {
                put(i);
            }
            assert_eq!(std::iter::from_fn(get).count(), 100, "{name}");
        };
        round();
        let (allocs, bytes, ()) = allocations(|| {
            for _ in 0..1000 {
                round();
            }
        });
        assert_eq!((allocs, bytes), (0, 0), "{name}: a steady load reallocated");
    }

    let fifo = Queue::<u64>::unbounded();
    check("Queue", &|i| fifo.try_put(i).unwrap(), &|| {
        fifo.try_get().ok()
    });
    let lifo = LifoQueue::<u64>::unbounded();
    check("LifoQueue", &|i| lifo.try_put(i).unwrap(), &|| {
        lifo.try_get().ok()
    });
    let priority = PriorityQueue::<u64>::unbounded();
    check("PriorityQueue", &|i| priority.try_put(i).unwrap(), &|| {
        priority.try_get().ok()
    });
    // The queues are still whole: the next burst grows and shrinks the same way.
    check("Queue, again", &|i| fifo.try_put(i).unwrap(), &|| {
        fifo.try_get().ok()
    });
}
