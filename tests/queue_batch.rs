//! The batched paths: `get_many` / `try_get_many` and `put_many` / `try_put_many`.
//!
//! * a batched get waits in the getters' line like `get`, then takes what many `try_get`s
//!   would, under one lock, never an item an older getter is owed;
//! * a batched put puts each item as a `put` would, in order, FIFO with the other putters
//!   (a batch does not hold the line), and gives back every item it did not put;
//! * cancel safety (drop mid-wait, deadline), closed and drained, `waiters()` accounting;
//! * every test in the `for_each_order!` block runs over `Queue`, `LifoQueue` and
//!   `PriorityQueue`; deadlines run on tokio's paused clock (no sleeping).

mod common;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::Poll;
use std::time::Duration;

use common::queue_kit::{Kind, for_each_order, pick};
use common::{Polled, WakeLog};
use tokio::time::advance;
use toro_sync::{GetError, PutError, PutManyError, Queue};

/// The order in which a queue of `kind` returns `items` put in this order.
fn drained(kind: Kind, items: &[u32]) -> Vec<u32> {
    let mut out = items.to_vec();
    match kind {
        Kind::Fifo => {}
        Kind::Lifo => out.reverse(),
        Kind::Priority => out.sort(),
    }
    out
}

/// A value that counts its drops.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Counted(u32, #[allow(dead_code)] Dropped);

#[derive(Debug, Clone, Default)]
struct Dropped(Arc<AtomicUsize>);

impl PartialEq for Dropped {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Dropped {}
impl PartialOrd for Dropped {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Dropped {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        (self.1).0.fetch_add(1, SeqCst);
    }
}

impl Dropped {
    fn item(&self, n: u32) -> Counted {
        Counted(n, self.clone())
    }
    fn count(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// A future under test that is polled until it completes, and never after.
struct Driven<F: Future> {
    polled: Polled<F>,
    out: Option<F::Output>,
}

impl<F: Future> Driven<F> {
    fn new(fut: F) -> Self {
        Driven {
            polled: Polled::new(fut),
            out: None,
        }
    }

    /// Polls it if it has not completed; whether it has now.
    fn drive(&mut self) -> bool {
        if self.out.is_none() {
            if let Poll::Ready(out) = self.polled.poll() {
                self.out = Some(out);
            }
        }
        self.out.is_some()
    }

    #[track_caller]
    fn output(mut self) -> F::Output {
        assert!(self.drive(), "expected the future to have completed");
        self.out.take().unwrap()
    }
}

fn ids(items: &[Counted]) -> Vec<u32> {
    items.iter().map(|c| c.0).collect()
}

for_each_order! {
    fn filled(items: &[u32]) -> Q<u32> {
        let q = Q::unbounded();
        assert_eq!(q.try_put_many(items.iter().copied()), Ok(items.len()));
        q
    }

    // ---- get_many -----------------------------------------------------------------------

    /// Up to `limit`, in the queue's order, appended after what `buf` held.
    #[tokio::test]
    async fn get_many_takes_up_to_limit_in_order() {
        let q = filled(&[3, 1, 4, 5, 2]);
        let mut buf = vec![99];
        assert_eq!(q.get_many(&mut buf, 3).await, Ok(3));
        assert_eq!(q.get_many(&mut buf, 10).await, Ok(2));
        let mut expected = vec![99];
        expected.extend(drained(KIND, &[3, 1, 4, 5, 2]));
        assert_eq!(buf, expected);
        assert_eq!(q.try_get_many(&mut buf, 10), Err(GetError::Empty));
        assert_eq!(buf.len(), 6, "a failed get appends nothing");
        assert_eq!(q.unfinished_tasks(), 5);
    }

    /// `try_get_many` takes exactly what that many `try_get`s would, on a full bounded queue
    /// with waiting putters too (each get admits the oldest putter: toro's rule).
    #[tokio::test]
    async fn try_get_many_equals_successive_try_gets() {
        for limit in 1..=6 {
            let (a, b): (Q<u32>, Q<u32>) = (Q::bounded(2), Q::bounded(2));
            let mut puts = Vec::new();
            for q in [&a, &b] {
                q.try_put_many([5, 2]).unwrap();
                for item in [4, 1, 3] {
                    let mut put = Polled::new(q.put(item));
                    assert!(put.is_pending());
                    puts.push(put);
                }
            }
            let mut buf = Vec::new();
            let n = b.try_get_many(&mut buf, limit).unwrap();
            let one_by_one: Vec<u32> =
                (0..limit).map_while(|_| a.try_get().ok()).collect();
            assert_eq!(buf, one_by_one, "limit {limit}");
            assert_eq!(n, one_by_one.len());
            assert_eq!(a.len(), b.len());
            assert_eq!(a.waiters(), b.waiters());
            drop(puts);
        }
    }

    /// A waiting `get_many` is handed the first item put; at its poll it takes, under the same
    /// lock, what was put meanwhile (no other getter waits), by the queue's order.
    #[tokio::test]
    async fn waiting_get_many_takes_first_item_then_what_is_there() {
        let q: Q<u32> = Q::unbounded();
        let mut buf = Vec::new();
        let mut gm = Polled::new(q.get_many(&mut buf, 3));
        assert!(gm.is_pending());
        assert_eq!(q.waiters(), 1);
        q.try_put(7).unwrap(); // handed to gm
        assert_eq!(gm.wakes(), 1);
        assert_eq!(q.waiters(), 0, "a granted getter no longer counts");
        q.try_put_many([1, 9, 4]).unwrap(); // stored
        assert_eq!(gm.ready(), Ok(3));
        drop(gm);
        let rest = pick(KIND, [1, 9], [4, 9], [1, 4]);
        assert_eq!(buf, [7, rest[0], rest[1]], "the handed item first");
        assert_eq!(q.len(), 1);
        assert_eq!(q.unfinished_tasks(), 4);
    }

    /// FIFO with getters: GM waits behind G1 and before G3; a batch of puts is handed one item
    /// per getter, oldest first; GM then takes what is left over, not G3's item.
    #[tokio::test]
    async fn get_many_keeps_its_place_among_getters() {
        let q: Q<u32> = Q::unbounded();
        let log = WakeLog::default();
        let mut buf = Vec::new();
        let mut g1 = Polled::with_waker(q.get(), log.waker(1));
        let mut gm = Polled::with_waker(q.get_many(&mut buf, 10), log.waker(2));
        let mut g3 = Polled::with_waker(q.get(), log.waker(3));
        assert!(g1.is_pending() && gm.is_pending() && g3.is_pending());
        assert_eq!(q.waiters(), 3);
        assert_eq!(q.try_put_many([10, 20, 30, 40, 50]), Ok(5));
        assert_eq!(log.take(), [1, 2, 3]);
        assert_eq!(q.waiters(), 0);
        assert_eq!(g3.ready(), Ok(30));
        assert_eq!(g1.ready(), Ok(10));
        assert_eq!(gm.ready(), Ok(3));
        drop(gm);
        assert_eq!(&buf[..1], [20]);
        assert_eq!(&buf[1..], drained(KIND, &[40, 50]));
        assert!(q.is_empty());
    }

    /// A new `get_many` does not barge past a waiting getter, nor take more while one waits.
    #[tokio::test]
    async fn get_many_never_barges() {
        let q: Q<u32> = Q::unbounded();
        let mut g1 = Polled::new(q.get());
        assert!(g1.is_pending());
        let mut buf = Vec::new();
        let mut gm = Polled::new(q.get_many(&mut buf, 10));
        assert!(gm.is_pending(), "registers behind g1");
        let mut g3 = Polled::new(q.get());
        assert!(g3.is_pending());
        q.try_put(1).unwrap();
        assert!(gm.is_pending(), "the item went to g1");
        q.try_put(2).unwrap(); // to gm
        // gm is granted but not polled; g3 waits: the next item is g3's, not gm's.
        q.try_put(3).unwrap();
        assert_eq!(gm.ready(), Ok(1));
        drop(gm);
        assert_eq!(buf, [2]);
        assert_eq!(g1.ready(), Ok(1));
        assert_eq!(g3.ready(), Ok(3));
    }

    /// Cancel safety: an item handed to a dropped `get_many` goes to the next getter, or back
    /// to the front (priority: its place); nothing is appended to the buffer.
    #[tokio::test]
    async fn dropped_get_many_passes_its_item_on() {
        let d = Dropped::default();
        let q: Q<Counted> = Q::unbounded();
        let mut buf = Vec::new();
        let mut gm = Polled::new(q.get_many(&mut buf, 4));
        let mut g2 = Polled::new(q.get());
        assert!(gm.is_pending() && g2.is_pending());
        q.try_put(d.item(1)).unwrap();
        drop(gm);
        assert!(buf.is_empty());
        assert_eq!(g2.ready().unwrap().0, 1);
        assert_eq!(q.waiters(), 0);

        let mut gm = Polled::new(q.get_many(&mut buf, 4));
        assert!(gm.is_pending());
        q.try_put(d.item(5)).unwrap(); // handed over
        q.try_put_many([d.item(6), d.item(4)]).unwrap(); // stored
        drop(gm);
        assert!(buf.is_empty());
        assert_eq!(q.len(), 3);
        assert_eq!(d.count(), 1, "only g2's item was dropped");
        let mut all = Vec::new();
        assert_eq!(q.try_get_many(&mut all, 10), Ok(3));
        assert_eq!(ids(&all), pick(KIND, vec![5, 6, 4], vec![5, 4, 6], vec![4, 5, 6]));
        drop(all);
        assert_eq!(d.count(), 4);
        assert_eq!(q.unfinished_tasks(), 4);
    }

    /// A deadline: nothing taken, nothing appended, withdrawn; a hand-off before it wins.
    #[tokio::test(start_paused = true)]
    async fn get_many_deadline() {
        let q: Q<u32> = Q::unbounded();
        let mut buf = vec![0];
        let late = q.get_many(&mut buf, 2).deadline(Duration::from_millis(10)).await;
        assert_eq!(late, Err(GetError::Timeout));
        assert_eq!(buf, [0]);
        assert_eq!(q.waiters(), 0);
        // Zero: try once.
        q.try_put_many([8, 6]).unwrap();
        assert_eq!(q.get_many(&mut buf, 5).deadline(Duration::ZERO).await, Ok(2));
        assert_eq!(&buf[1..], drained(KIND, &[8, 6]));

        let mut gm = Polled::new(q.get_many(&mut buf, 2).deadline(Duration::from_millis(10)));
        let mut g2 = Polled::new(q.get());
        assert!(gm.is_pending() && g2.is_pending());
        advance(Duration::from_millis(5)).await;
        q.try_put(3).unwrap();
        advance(Duration::from_millis(10)).await;
        assert_eq!(gm.ready(), Ok(1), "the hand-off came first");
        assert!(g2.is_pending());
        drop((gm, g2));
        assert_eq!(buf.last(), Some(&3));
        assert_eq!(q.waiters(), 0);
    }

    /// Closed and drained: what is left is taken, then `Closed`, nothing appended; a waiting
    /// `get_many` fails when the queue closes empty.
    #[tokio::test]
    async fn get_many_closed_and_drained() {
        let q = filled(&[1, 2, 3]);
        let mut buf = Vec::new();
        let mut waiting_buf = Vec::new();
        q.close();
        assert_eq!(q.get_many(&mut buf, 2).await, Ok(2));
        assert_eq!(q.get_many(&mut buf, 2).await, Ok(1));
        assert_eq!(q.get_many(&mut buf, 2).await, Err(GetError::Closed));
        assert_eq!(q.try_get_many(&mut buf, 2), Err(GetError::Closed));
        assert_eq!(buf, drained(KIND, &[1, 2, 3]));

        let q: Q<u32> = Q::unbounded();
        let mut gm = Polled::new(q.get_many(&mut waiting_buf, 2));
        assert!(gm.is_pending());
        q.close();
        assert_eq!(gm.wakes(), 1);
        assert_eq!(gm.ready(), Err(GetError::Closed));
        drop(gm);
        assert!(waiting_buf.is_empty());
        assert_eq!(q.waiters(), 0);
    }

    /// `limit == 0`: `Ok(0)` at once, whatever the state, without registering.
    #[tokio::test]
    async fn get_many_limit_zero() {
        let q: Q<u32> = Q::unbounded();
        let mut buf = Vec::new();
        assert_eq!(q.get_many(&mut buf, 0).await, Ok(0));
        assert_eq!(q.try_get_many(&mut buf, 0), Ok(0));
        q.try_put(1).unwrap();
        assert_eq!(q.get_many(&mut buf, 0).await, Ok(0));
        q.close();
        assert_eq!(q.get_many(&mut buf, 0).await, Ok(0));
        assert_eq!(q.try_get_many(&mut buf, 0), Ok(0));
        assert!(buf.is_empty());
        assert_eq!(q.len(), 1);
        assert_eq!(q.waiters(), 0);
    }

    /// Taking many from a full queue admits the waiting putters as slots free.
    #[tokio::test]
    async fn get_many_frees_slots_for_putters() {
        let q: Q<u32> = Q::bounded(2);
        q.try_put_many([1, 2]).unwrap();
        let mut p = Polled::new(q.put_many([3, 4, 5]));
        assert!(p.is_pending());
        assert_eq!(q.waiters(), 1, "one item of the batch waits at a time");
        let mut buf = Vec::new();
        // The first take admits the waiting 3 (toro's rule); the second frees a slot.
        assert_eq!(q.get_many(&mut buf, 2).await, Ok(2));
        assert!(p.is_pending(), "4 went in, 5 waits");
        assert_eq!(q.len(), 2);
        assert_eq!(q.waiters(), 1);
        assert_eq!(q.get_many(&mut buf, 10).await, Ok(3), "5 is admitted as a slot frees");
        assert_eq!(p.ready(), Ok(3));
        buf.sort();
        assert_eq!(buf, [1, 2, 3, 4, 5]);
        assert_eq!(q.waiters(), 0);
    }

    // ---- put_many -----------------------------------------------------------------------

    /// Everything fits: in one go, in order, as the queue orders it.
    #[tokio::test]
    async fn put_many_all_fit() {
        let q: Q<u32> = Q::bounded(4);
        assert_eq!(q.put_many([2, 4, 1]).await, Ok(3));
        assert_eq!(q.put_many(Vec::new()).await, Ok(0));
        assert_eq!(q.remaining(), Some(1));
        let mut buf = Vec::new();
        q.try_get_many(&mut buf, 10).unwrap();
        assert_eq!(buf, drained(KIND, &[2, 4, 1]));
        assert_eq!(q.unfinished_tasks(), 3);
    }

    /// Waiting getters are handed the items, oldest first; the rest is stored.
    #[tokio::test]
    async fn put_many_hands_items_to_waiting_getters() {
        let q: Q<u32> = Q::bounded(1);
        let log = WakeLog::default();
        let mut g1 = Polled::with_waker(q.get(), log.waker(1));
        let mut g2 = Polled::with_waker(q.get(), log.waker(2));
        assert!(g1.is_pending() && g2.is_pending());
        assert_eq!(q.put_many([1, 2, 3]).await, Ok(3));
        assert_eq!(log.take(), [1, 2]);
        assert_eq!((g1.ready(), g2.ready()), (Ok(1), Ok(2)));
        assert_eq!(q.try_get(), Ok(3));
    }

    /// Waiting for room: one item waits at a time; each get lets the batch go on.
    #[tokio::test]
    async fn put_many_waits_for_room() {
        let q: Q<u32> = Q::bounded(2);
        let mut p = Driven::new(q.put_many([1, 2, 3, 4, 5]));
        assert!(!p.drive());
        assert_eq!(q.len(), 2);
        assert_eq!(q.waiters(), 1);
        let mut got = Vec::new();
        while got.len() < 5 {
            p.drive();
            q.try_get_many(&mut got, 1).unwrap();
        }
        assert_eq!(p.output(), Ok(5));
        let expected = pick(
            KIND,
            vec![1, 2, 3, 4, 5],
            // LIFO: each get first admits the waiting item (toro's rule), then takes the top.
            vec![3, 4, 5, 2, 1],
            vec![1, 2, 3, 4, 5],
        );
        assert_eq!(got, expected);
        assert_eq!(q.waiters(), 0);
    }

    /// A deadline gives back every item not put, in order; those put stay put.
    #[tokio::test(start_paused = true)]
    async fn put_many_deadline_gives_back_the_rest() {
        let q: Q<u32> = Q::bounded(3);
        q.try_put(0).unwrap();
        let err = q.put_many([1, 2, 3, 4]).deadline(Duration::from_secs(1)).await.unwrap_err();
        assert_eq!(err.put, 2);
        assert_eq!(err.rest, PutError::Timeout(vec![3, 4]));
        assert_eq!(q.len(), 3);
        assert_eq!(q.waiters(), 0);
        // Zero: try once, no waiting.
        let err = q.put_many([7]).deadline(Duration::ZERO).await.unwrap_err();
        assert_eq!((err.put, err.into_rest()), (0, vec![7]));
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.unfinished_tasks(), 3, "no item given back was counted");
    }

    /// Closing gives back every item not put, whether the batch waits or starts closed.
    #[tokio::test]
    async fn put_many_closed_gives_back_the_rest() {
        let d = Dropped::default();
        let q: Q<Counted> = Q::bounded(2);
        let mut p = Polled::new(q.put_many((1..=5).map(|n| d.item(n))));
        assert!(p.is_pending());
        q.close();
        assert_eq!(p.wakes(), 1);
        let err: PutManyError<Counted> = p.ready().unwrap_err();
        drop(p);
        assert_eq!(err.put, 2);
        assert!(matches!(err.rest, PutError::Closed(_)));
        assert_eq!(ids(&err.into_rest()), [3, 4, 5]);
        assert_eq!(d.count(), 3);
        let err = q.put_many([d.item(6)]).await.unwrap_err();
        assert_eq!(err.put, 0);
        assert!(matches!(err.rest, PutError::Closed(ref rest) if rest.len() == 1));
        drop(err);
        assert_eq!(d.count(), 4);
        assert_eq!(q.len(), 2);
        assert_eq!(q.waiters(), 0);
    }

    /// Dropping a waiting batch: its waiter leaves, the items not put are dropped (as a
    /// dropped `put` drops its item), those put stay.
    #[tokio::test]
    async fn dropped_put_many_unregisters() {
        let d = Dropped::default();
        let q: Q<Counted> = Q::bounded(2);
        let mut p = Polled::new(q.put_many((1..=4).map(|n| d.item(n))));
        assert!(p.is_pending());
        assert_eq!(q.waiters(), 1);
        drop(p);
        assert_eq!(q.waiters(), 0);
        assert_eq!(d.count(), 2);
        assert_eq!(q.len(), 2);
        assert_eq!(q.unfinished_tasks(), 2);
    }

    /// `try_put_many`: as many as fit now; `Full` with the rest; `Closed` with all of them.
    #[tokio::test]
    async fn try_put_many_puts_what_fits() {
        let q: Q<u32> = Q::bounded(3);
        assert_eq!(q.try_put_many([1]), Ok(1));
        let err = q.try_put_many([2, 3, 4, 5]).unwrap_err();
        assert_eq!((err.put, err.rest), (2, PutError::Full(vec![4, 5])));
        let err = q.try_put_many([6]).unwrap_err();
        assert_eq!((err.put, err.rest), (0, PutError::Full(vec![6])));
        assert_eq!(q.try_put_many(None), Ok(0));
        q.close();
        let err = q.try_put_many([7, 8]).unwrap_err();
        assert_eq!((err.put, err.rest), (0, PutError::Closed(vec![7, 8])));
        assert_eq!(q.len(), 3);
    }

    /// Neither batch overtakes a waiting putter.
    #[tokio::test]
    async fn put_many_does_not_overtake_a_waiting_putter() {
        let q: Q<u32> = Q::bounded(1);
        q.try_put(0).unwrap();
        let mut p1 = Polled::new(q.put(1));
        assert!(p1.is_pending());
        let err = q.try_put_many([2]).unwrap_err();
        assert_eq!(err.rest, PutError::Full(vec![2]));
        let mut pm = Driven::new(q.put_many([2, 3]));
        assert!(!pm.drive());
        assert_eq!(q.waiters(), 2);
        assert_eq!(q.try_get(), Ok(pick(KIND, 0, 1, 0)));
        assert_eq!(p1.ready(), Ok(()));
        assert!(!pm.drive());
        let mut rest = Vec::new();
        while rest.len() < 3 {
            q.try_get_many(&mut rest, 1).unwrap();
            pm.drive();
        }
        assert_eq!(pm.output(), Ok(2));
        rest.sort();
        assert_eq!(rest, pick(KIND, [1, 2, 3], [0, 2, 3], [1, 2, 3]));
    }
}

/// FIFO with other putters: a batch's waiting item queues behind the putters already waiting,
/// and its next item behind those that came meanwhile: a batch does not hold the line.
#[tokio::test]
async fn put_many_is_fifo_with_other_putters() {
    let q: Queue<u32> = Queue::bounded(2);
    q.try_put_many([1, 2]).unwrap();
    let mut p1 = Driven::new(q.put(10));
    let mut pm = Driven::new(q.put_many([20, 21, 22]));
    let mut p3 = Driven::new(q.put(30));
    assert!(!p1.drive() && !pm.drive() && !p3.drive());
    assert_eq!(q.waiters(), 3);
    let mut got = Vec::new();
    while got.len() < 7 {
        p1.drive();
        pm.drive();
        p3.drive();
        q.try_get_many(&mut got, 1).unwrap();
    }
    assert_eq!(got, [1, 2, 10, 20, 30, 21, 22]);
    assert_eq!(
        (p1.output(), pm.output(), p3.output()),
        (Ok(()), Ok(3), Ok(()))
    );
    assert_eq!(q.waiters(), 0);
}

/// Many producers and consumers on threads, with `.block()`: every item exactly once, each
/// producer's items in its order.
#[test]
fn batches_across_threads_lose_nothing() {
    let q = Arc::new(Queue::<(u32, u32)>::bounded(3));
    let producers: Vec<_> = (0..3)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                for chunk in (0..200).collect::<Vec<u32>>().chunks(7) {
                    let items: Vec<_> = chunk.iter().map(|&n| (p, n)).collect();
                    assert_eq!(q.put_many(items).block(), Ok(chunk.len()));
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while q.get_many(&mut got, 5).block().is_ok() {}
                got
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    q.close();
    let mut per_producer = vec![Vec::new(); 3];
    for c in consumers {
        let got = c.join().unwrap();
        let mut last = [None; 3];
        for (p, n) in got {
            assert!(
                last[p as usize] < Some(n),
                "a producer's items out of order"
            );
            last[p as usize] = Some(n);
            per_producer[p as usize].push(n);
        }
    }
    for mut items in per_producer {
        items.sort();
        assert_eq!(items, (0..200).collect::<Vec<_>>());
    }
    assert_eq!(q.waiters(), 0);
}

/// A priority queue whose items' `Ord` panics while a granted `get_many` takes more at its
/// poll (user code under the queue's lock): the panic reaches the poller, the item handed
/// over is in the buffer, and the future, dropped after, unwinds cleanly (no abort).
#[test]
fn panicking_ord_while_taking_more_unwinds_cleanly() {
    use std::sync::atomic::AtomicBool;
    static TOUCHY: AtomicBool = AtomicBool::new(false);

    #[derive(Debug, PartialEq, Eq)]
    struct Touchy(u32);
    impl Ord for Touchy {
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            assert!(!TOUCHY.load(SeqCst), "touchy");
            self.0.cmp(&other.0)
        }
    }
    impl PartialOrd for Touchy {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }

    let q = toro_sync::PriorityQueue::unbounded();
    let mut buf = Vec::new();
    let mut gm = Polled::new(q.get_many(&mut buf, 3));
    assert!(gm.is_pending());
    q.try_put(Touchy(5)).unwrap(); // handed to gm
    q.try_put_many([Touchy(2), Touchy(1), Touchy(3)]).unwrap();
    TOUCHY.store(true, SeqCst);
    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| gm.poll()));
    TOUCHY.store(false, SeqCst);
    assert!(polled.is_err(), "the panic reaches the poller");
    drop(gm);
    assert_eq!(buf.first(), Some(&Touchy(5)));
    assert_eq!(q.waiters(), 0);
}
