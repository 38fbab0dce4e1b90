#![cfg(loom)]
//! Queues: an item handed to a getter that is dropped, a putter's deadline racing the get that
//! admits it, `close` racing waiting getters and putters (the queue docs' cancel safety); the
//! batched paths (`get_many` racing a put, a dropped getter and its own deadline; `put_many`
//! waiting for room), and `closed()` racing `close()`.

mod support;

use std::task::Poll;

use loom::future::block_on;
use loom::thread;
use support::{Probe, leak};
use toro_sync::future::Waitable;
use toro_sync::{GetError, LifoQueue, PriorityQueue, PutError, Queue};

/// #25: getters G1 then G2 wait; a put races the drop of G1. Whether G1 is dropped while
/// waiting or after the item was handed to it, G2 gets the item (through `block_on`: a lost item
/// is a deadlock), exactly once: the queue is empty afterwards.
#[test]
fn put_vs_drop_of_getter_forwards_to_next_getter() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::unbounded());
        let (p1, p2) = (Probe::new(), Probe::new());
        let (mut g1, mut g2) = (queue.get(), queue.get());
        p1.pending(&mut g1);
        p2.pending(&mut g2);
        assert_eq!(queue.waiters(), 2);

        let putter = thread::spawn(move || queue.try_put(1).is_ok());
        let dropper = thread::spawn(move || drop(g1));
        let got = block_on(&mut g2);
        assert!(putter.join().unwrap());
        dropper.join().unwrap();

        assert_eq!(got, Ok(1));
        assert_eq!(queue.len(), 0, "the item was duplicated");
        assert_eq!(queue.try_get(), Err(GetError::Empty));
        assert_eq!(queue.waiters(), 0);
        assert_eq!(queue.unfinished_tasks(), 1);
    });
}

/// #25, no second getter: two puts race the drop of the only getter G1. An item handed to G1
/// goes back to the front, so the queue then yields 1 before 2; nothing lost or duplicated.
#[test]
fn puts_vs_drop_of_only_getter_returns_item_to_front() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::unbounded());
        let p1 = Probe::new();
        let mut g1 = queue.get();
        p1.pending(&mut g1);

        let putter = thread::spawn(move || {
            queue.try_put(1).unwrap();
            queue.try_put(2).unwrap();
        });
        let dropper = thread::spawn(move || drop(g1));
        putter.join().unwrap();
        dropper.join().unwrap();

        assert_eq!(queue.len(), 2);
        assert_eq!(queue.try_get(), Ok(1), "the returned item is not first");
        assert_eq!(queue.try_get(), Ok(2));
        assert_eq!(queue.try_get(), Err(GetError::Empty));
        assert_eq!(queue.waiters(), 0);
        assert_eq!(queue.unfinished_tasks(), 2);
    });
}

/// An item ordered by `key` only, so equal items can be told apart by `tag`.
#[derive(Debug, PartialEq, Eq)]
struct Keyed {
    key: u8,
    tag: char,
}

impl PartialOrd for Keyed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Keyed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// #25 for the other orders: puts of two items race the drop of the only getter. An item handed
/// to the getter goes back to where the next get takes it first: for LIFO that is the top; for
/// priority its original place, FIFO among equals (always `a` then `b`, whichever way the race
/// went). Nothing is lost or duplicated.
#[test]
fn lifo_and_priority_getter_drop_vs_puts_restore_place() {
    loom::model(|| {
        let lifo = leak(LifoQueue::<usize>::unbounded());
        let prio = leak(PriorityQueue::<Keyed>::unbounded());
        let (pl, pp) = (Probe::new(), Probe::new());
        let (mut gl, mut gp) = (lifo.get(), prio.get());
        pl.pending(&mut gl);
        pp.pending(&mut gp);

        let putter = thread::spawn(move || {
            lifo.try_put(1).unwrap();
            prio.try_put(Keyed { key: 1, tag: 'a' }).unwrap();
            lifo.try_put(2).unwrap();
            prio.try_put(Keyed { key: 1, tag: 'b' }).unwrap();
        });
        let dropper = thread::spawn(move || {
            drop(gl);
            drop(gp);
        });
        putter.join().unwrap();
        dropper.join().unwrap();

        assert_eq!(lifo.len(), 2);
        // Both orders happen: 1 given back on top of 2 (drop after the second put), or 2 put
        // on top of 1 (drop before it, whether 1 had been handed over or not).
        let lifo_drain = (lifo.try_get(), lifo.try_get());
        assert!(
            matches!(lifo_drain, (Ok(1), Ok(2)) | (Ok(2), Ok(1))),
            "LIFO lost or duplicated an item: {lifo_drain:?}"
        );
        assert!(pl.wakes() <= 1);
        assert_eq!(prio.len(), 2);
        let first = prio.try_get().expect("an item").tag;
        let second = prio.try_get().expect("an item").tag;
        assert_eq!(
            (first, second),
            ('a', 'b'),
            "FIFO among equal priorities broken"
        );
        assert_eq!(lifo.waiters() + prio.waiters(), 0);
        assert_eq!(lifo.try_get(), Err(GetError::Empty));
    });
}

/// #26: `bounded(1)` holding 0; putters P(1) then P2(2) wait. A get (which admits the oldest
/// putter) races P's deadline. Exactly one of: P admitted (`Ok`), the queue holds 1 and P2 still
/// waits; or P timed out with its item back (`Timeout(1)`), and the get admitted P2 instead, so
/// the queue holds 2. Never delivered and returned, never a free slot with P2 waiting.
#[test]
fn get_vs_expire_of_putter_on_bounded() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::bounded(1));
        queue.try_put(0).unwrap();
        let (pp, p2) = (Probe::new(), Probe::new());
        let mut p = queue.put(1);
        let mut q2 = queue.put(2);
        pp.pending(&mut p);
        p2.pending(&mut q2);
        assert_eq!(queue.waiters(), 2);

        let getter = thread::spawn(move || queue.try_get());
        let timer = thread::spawn(move || p.expire());
        assert_eq!(getter.join().unwrap(), Ok(0));
        let p_out = timer.join().unwrap();

        let q2_out = p2.poll(&mut q2);
        match p_out {
            Ok(()) => {
                assert!(q2_out.is_pending(), "both putters admitted into one slot");
                assert_eq!(queue.len(), 1);
                assert_eq!(queue.waiters(), 1);
                assert_eq!(queue.try_get(), Ok(1));
                // The get admitted P2.
                assert_eq!(p2.wakes(), 1);
                assert_eq!(p2.poll(&mut q2), Poll::Ready(Ok(())));
                assert_eq!(queue.try_get(), Ok(2));
            }
            Err(PutError::Timeout(item)) => {
                assert_eq!(item, 1, "the timeout returned another item");
                assert_eq!(
                    q2_out,
                    Poll::Ready(Ok(())),
                    "a free slot and P2 still waiting"
                );
                assert_eq!(queue.len(), 1);
                assert_eq!(queue.try_get(), Ok(2), "a timed-out put delivered its item");
            }
            Err(other) => panic!("unexpected put outcome {other:?}"),
        }
        assert_eq!(queue.try_get(), Err(GetError::Empty));
        assert_eq!(queue.waiters(), 0);
    });
}

/// `close` racing a get on a full `bounded(1)` with a waiting putter P (through `block_on`).
/// Either the get admitted P first (P `Ok`, its item stays to be drained) or the close reached
/// P first (`Closed(1)`, item back). The get always takes 0; the item is never both returned
/// and queued; after draining, gets fail with `Closed`.
#[test]
fn close_vs_get_with_waiting_putter() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::bounded(1));
        queue.try_put(0).unwrap();
        let pp = Probe::new();
        let mut p = queue.put(1);
        pp.pending(&mut p);

        let closer = thread::spawn(move || queue.close());
        let getter = thread::spawn(move || queue.try_get());
        let p_out = block_on(&mut p);
        closer.join().unwrap();
        assert_eq!(getter.join().unwrap(), Ok(0));

        match p_out {
            Ok(()) => assert_eq!(queue.try_get(), Ok(1)),
            Err(PutError::Closed(item)) => assert_eq!(item, 1),
            Err(other) => panic!("unexpected put outcome {other:?}"),
        }
        assert_eq!(queue.try_get(), Err(GetError::Closed));
        assert_eq!(queue.waiters(), 0);
        assert!(matches!(queue.try_put(9), Err(PutError::Closed(9))));
    });
}

/// `close` racing a put on an empty queue with a waiting getter G (through `block_on`). The put
/// succeeds exactly when G receives its item; if the close came first the put gets its item
/// back and G gets `Closed`. Never a successful put with G closed (item lost).
#[test]
fn close_vs_put_with_waiting_getter() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::bounded(1));
        let pg = Probe::new();
        let mut g = queue.get();
        pg.pending(&mut g);

        let closer = thread::spawn(move || queue.close());
        let putter = thread::spawn(move || queue.try_put(5));
        let g_out = block_on(&mut g);
        closer.join().unwrap();
        let put_out = putter.join().unwrap();

        match put_out {
            Ok(()) => assert_eq!(g_out, Ok(5), "a successful put's item was lost"),
            Err(PutError::Closed(item)) => {
                assert_eq!(item, 5);
                assert_eq!(g_out, Err(GetError::Closed));
            }
            Err(other) => panic!("unexpected put outcome {other:?}"),
        }
        assert_eq!(queue.try_get(), Err(GetError::Closed));
        assert_eq!(queue.waiters(), 0);
    });
}

/// Capacity with reservations (`reserve()`, what a sink's `poll_ready` does): `bounded(1)` with
/// its one slot reserved by permit S1 and a second reservation R2 waiting. A getter G then
/// waits on the empty queue; its deadline fires as S1 puts. If S1's item reached G, R2's item
/// is the only one stored. If G timed out first, it took nothing, so nothing made room for R2:
/// from puts alone the queue never holds more than its capacity (only an item given back by a
/// getter may exceed it: the queue docs' cancel safety puts it back). R2 puts whenever it is
/// granted its slot.
///
/// Regression model: before 8d2ade8, `QueueState::take` admitted the oldest putter whenever
/// `items + reserved <= capacity`, also when the queue was empty and the get took nothing; the
/// admitted reservation bumped `reserved` to 2 on `bounded(1)` while G registered, and if G
/// left (timeout or drop) before S1 put, both S1 and R2 stored their items: `len() == 2`.
#[test]
fn get_on_empty_queue_with_waiting_reservation_respects_capacity() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::bounded(1));
        let mut s1 = queue.reserve();
        let Poll::Ready(Ok(s1)) = support::try_once(&mut s1) else {
            panic!("the slot is free")
        };
        let (pr, pg) = (Probe::new(), Probe::new());
        let mut r2 = queue.reserve();
        pr.pending(&mut r2);
        let mut g = queue.get();
        assert!(pg.poll(&mut g).is_pending(), "the queue is empty");

        let timer = thread::spawn(move || g.expire());
        let filler = thread::spawn(move || s1.put(1));
        let g_out = timer.join().unwrap();
        assert!(filler.join().unwrap().is_ok());

        match g_out {
            Ok(item) => assert_eq!(item, 1),
            Err(GetError::Timeout) => {}
            Err(other) => panic!("unexpected get outcome {other:?}"),
        }
        if let Poll::Ready(Ok(r2_permit)) = pr.poll(&mut r2) {
            r2_permit.put(2).expect("the queue is open");
        }
        assert!(
            queue.len() <= 1,
            "bounded(1) holds {} items (G: {g_out:?}): a get that took nothing admitted a \
             waiting reservation",
            queue.len()
        );
        drop(r2);
        assert_eq!(queue.waiters(), 0);
    });
}

/// The same capacity rule with no waiting getter at all: `bounded(1)`, slot reserved by S1, R2
/// waiting. A `try_get` races S1's put. If the put came first the get takes 1 and makes room
/// for R2 (one item stored in the end); if the get came first it returns `Empty` and must leave
/// R2 waiting — it made no room. Either way the queue ends with at most one item.
///
/// Regression model for the same fix as the model above: `take` used to admit R2 before
/// finding the queue empty, so `try_get` returned `Empty` and S1 and R2 both stored an item.
#[test]
fn try_get_on_empty_queue_vs_reserved_put_respects_capacity() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::bounded(1));
        let mut s1 = queue.reserve();
        let Poll::Ready(Ok(s1)) = support::try_once(&mut s1) else {
            panic!("the slot is free")
        };
        let pr = Probe::new();
        let mut r2 = queue.reserve();
        pr.pending(&mut r2);

        let getter = thread::spawn(move || queue.try_get());
        let filler = thread::spawn(move || s1.put(1));
        let got = getter.join().unwrap();
        assert!(filler.join().unwrap().is_ok());

        assert!(
            matches!(got, Ok(1) | Err(GetError::Empty)),
            "try_get: {got:?}"
        );
        if let Poll::Ready(Ok(r2_permit)) = pr.poll(&mut r2) {
            r2_permit.put(2).expect("the queue is open");
        }
        assert!(
            queue.len() <= 1,
            "bounded(1) holds {} items (try_get: {got:?}): a get that took nothing admitted a \
             waiting reservation",
            queue.len()
        );
        drop(r2);
        assert_eq!(queue.waiters(), 0);
    });
}

/// #25, deadline variant: getters G1 then G2 wait; G1's deadline fires as an item is put.
/// Exactly one of: G1 returns the item (G2 still waits), or G1 times out and G2 was handed the
/// item. Never both, never neither; the queue stays empty.
#[test]
fn put_vs_expire_of_getter_exactly_once() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::unbounded());
        let (p1, p2) = (Probe::new(), Probe::new());
        let (mut g1, mut g2) = (queue.get(), queue.get());
        p1.pending(&mut g1);
        p2.pending(&mut g2);

        let putter = thread::spawn(move || queue.try_put(1).is_ok());
        let timer = thread::spawn(move || g1.expire());
        assert!(putter.join().unwrap());
        let g1_out = timer.join().unwrap();

        let g2_out = p2.poll(&mut g2);
        match g1_out {
            Ok(item) => {
                assert_eq!(item, 1);
                assert!(g2_out.is_pending(), "the item was delivered twice");
                assert_eq!(queue.waiters(), 1);
            }
            Err(GetError::Timeout) => {
                assert_eq!(
                    g2_out,
                    Poll::Ready(Ok(1)),
                    "G1 timed out and the item was lost"
                );
                assert_eq!(queue.waiters(), 0);
            }
            Err(other) => panic!("unexpected get outcome {other:?}"),
        }
        assert_eq!(queue.len(), 0);
        drop(g2);
        assert_eq!(queue.waiters(), 0);
        assert_eq!(queue.unfinished_tasks(), 1);
    });
}

/// `join` waits for `task_done` on another thread (a lost wake-up is a loom deadlock); a joiner
/// whose deadline fires concurrently returns `Ok` or `Timeout` and leaves nothing registered.
#[test]
fn join_vs_task_done_and_expire() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::unbounded());
        queue.try_put(1).unwrap();
        let pt = Probe::new();
        let mut timed = queue.join();
        pt.pending(&mut timed);
        let mut joiner = queue.join();

        let worker = thread::spawn(move || {
            assert_eq!(queue.try_get(), Ok(1));
            queue.task_done().expect("one item was put");
        });
        let timer = thread::spawn(move || timed.expire());
        block_on(&mut joiner);
        worker.join().unwrap();
        let _ = timer.join().unwrap();

        assert_eq!(queue.unfinished_tasks(), 0);
        assert_eq!(queue.waiters(), 0);
        assert!(queue.task_done().is_err());
    });
}

/// `get_many` racing a put and a dropped getter: G1 (a plain get) then GM (`get_many`, limit 3)
/// wait; one thread puts 1 then 2, another drops G1. Whatever the interleaving (G1 dropped
/// before or after an item was handed to it, GM granted before or after), GM gets at least one
/// item (through `block_on`: a lost item or wake-up is a deadlock), and between GM's buffer
/// and the queue each item is there exactly once: none lost, none duplicated.
#[test]
fn get_many_vs_put_and_dropped_getter() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::unbounded());
        let (p1, pm) = (Probe::new(), Probe::new());
        let mut g1 = queue.get();
        p1.pending(&mut g1);
        let mut buf = Vec::new();
        let mut gm = queue.get_many(&mut buf, 3);
        pm.pending(&mut gm);
        assert_eq!(queue.waiters(), 2);

        let putter = thread::spawn(move || {
            queue.try_put(1).unwrap();
            queue.try_put(2).unwrap();
        });
        let dropper = thread::spawn(move || drop(g1));
        let n = block_on(&mut gm).expect("the queue is open");
        drop(gm);
        putter.join().unwrap();
        dropper.join().unwrap();

        assert_eq!(n, buf.len());
        assert!(n >= 1);
        let mut all = buf.clone();
        while let Ok(item) = queue.try_get() {
            all.push(item);
        }
        all.sort();
        assert_eq!(all, [1, 2], "GM took {buf:?}");
        assert_eq!(queue.waiters(), 0);
        assert_eq!(queue.unfinished_tasks(), 2);
    });
}

/// The dropped getter is the `get_many`: GM (limit 3) then G2 (a plain get) wait; one thread
/// puts 1 then 2, another drops GM. An item handed to GM passes to G2 or back to the front of
/// the queue: G2 gets an item (through `block_on`), and between G2 and the queue each item is
/// there exactly once.
#[test]
fn put_vs_drop_of_get_many_forwards_its_item() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::unbounded());
        let (pm, p2) = (Probe::new(), Probe::new());
        // A `'static` buffer, so that GM can move to the dropper thread.
        let buf: &'static mut Vec<usize> = Box::leak(Box::new(Vec::new()));
        let mut gm = queue.get_many(buf, 3);
        pm.pending(&mut gm);
        let mut g2 = queue.get();
        p2.pending(&mut g2);

        let putter = thread::spawn(move || {
            queue.try_put(1).unwrap();
            queue.try_put(2).unwrap();
        });
        let dropper = thread::spawn(move || drop(gm));
        let got = block_on(&mut g2).expect("the queue is open");
        putter.join().unwrap();
        dropper.join().unwrap();

        let mut all = vec![got];
        while let Ok(item) = queue.try_get() {
            all.push(item);
        }
        all.sort();
        assert_eq!(all, [1, 2], "lost or duplicated");
        assert_eq!(queue.waiters(), 0);
        assert_eq!(queue.unfinished_tasks(), 2);
    });
}

/// A `get_many`'s deadline racing a batch put: GM (limit 2) waits; one thread puts 1 and 2
/// with `try_put_many` while GM's deadline fires. Exactly one of: GM returns the items it was
/// handed and took (1 first), or it times out having taken nothing, its buffer untouched.
/// Either way each item is in GM's buffer or the queue exactly once.
#[test]
fn get_many_expire_vs_put_many() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::unbounded());
        let pm = Probe::new();
        let mut buf = vec![0];
        let mut gm = queue.get_many(&mut buf, 2);
        pm.pending(&mut gm);

        let putter = thread::spawn(move || queue.try_put_many([1, 2]));
        let out = gm.expire();
        drop(gm);
        assert_eq!(putter.join().unwrap(), Ok(2));

        match out {
            Ok(n) => {
                assert_eq!(buf.len(), 1 + n);
                assert_eq!(buf[1], 1, "the handed item comes first");
            }
            Err(GetError::Timeout) => assert_eq!(buf, [0], "a timed-out get_many appended"),
            Err(other) => panic!("unexpected outcome {other:?}"),
        }
        let mut all = buf[1..].to_vec();
        while let Ok(item) = queue.try_get() {
            all.push(item);
        }
        assert_eq!(all, [1, 2], "lost, duplicated or reordered: {all:?}");
        assert_eq!(queue.waiters(), 0);
    });
}

/// `put_many` on `bounded(1)` against a consumer thread's `get_many`s: the batch waits for
/// room one item at a time (through `block_on`: a lost wake-up is a deadlock), the consumer
/// gets every item once, in order.
#[test]
fn put_many_vs_get_many_on_bounded() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::bounded(1));
        let consumer = thread::spawn(move || {
            let mut got = Vec::new();
            while got.len() < 2 {
                block_on(queue.get_many(&mut got, 2)).expect("the queue is open");
            }
            got
        });
        assert_eq!(block_on(queue.put_many([1, 2])), Ok(2));
        assert_eq!(consumer.join().unwrap(), [1, 2]);
        assert_eq!(queue.waiters(), 0);
        assert!(queue.is_empty());
    });
}

/// `closed()` against `close()`: C1 registered before the close; a fresh `closed()` polled
/// first on this thread as another thread closes (registration against close: through
/// `block_on`, a lost wake-up is a deadlock); C3 created but never polled before. C1 is woken
/// exactly once, C3 is ready at its first poll, nothing stays registered.
#[test]
fn closed_vs_close() {
    loom::model(|| {
        let queue = leak(Queue::<usize>::unbounded());
        let p1 = Probe::new();
        let mut c1 = queue.closed();
        p1.pending(&mut c1);
        let mut c3 = queue.closed();

        let closer = thread::spawn(move || queue.close());
        block_on(queue.closed());
        closer.join().unwrap();

        assert_eq!(p1.wakes(), 1);
        p1.ready(&mut c1);
        assert!(Probe::new().poll(&mut c3).is_ready());
        assert!(queue.is_closed());
        assert_eq!(queue.waiters(), 0);
    });
}
