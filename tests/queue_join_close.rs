//! `task_done`/`join` accounting, `close`, and slot reservation (`reserve`, permits), for
//! `Queue`, `LifoQueue` and `PriorityQueue` alike.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Polled;
use common::queue_kit::{Kind, for_each_order, pick, watchdog};
use toro_sync::{GetError, PutError, TaskDoneError, Timeout};

for_each_order! {
    // ---- join ---------------------------------------------------------------------------

    /// gevent/toro issue 45: join on a fresh queue resolves at once, repeatedly.
    #[test]
    fn join_fresh_queue_is_immediate() {
        let q: Q<u32> = Q::unbounded();
        for _ in 0..3 {
            let (first, _) = common::poll_once(q.join());
            assert!(first.is_ready());
        }
        assert_eq!(q.join().deadline(Duration::ZERO).block(), Ok(()));
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.waiters(), 0);
    }

    #[test]
    fn task_done_on_fresh_queue_errors() {
        let q: Q<u32> = Q::bounded(3);
        assert_eq!(q.task_done(), Err(TaskDoneError));
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(!TaskDoneError.to_string().is_empty());
    }

    /// put n, get n, task_done n-1: join pending; the nth releases it; one more errors.
    #[test]
    fn join_waits_for_every_task_done() {
        const N: u32 = 10;
        let q = Q::bounded(N as usize);
        for i in 0..N {
            q.try_put(i).unwrap();
            assert_eq!(q.unfinished_tasks(), i as usize + 1);
        }
        for _ in 0..N {
            q.try_get().unwrap();
        }
        assert_eq!(q.unfinished_tasks(), N as usize, "getting does not finish a task");
        let mut join = Polled::new(q.join());
        let mut join2 = Polled::new(q.join());
        assert!(join.is_pending());
        assert!(join2.is_pending());
        assert_eq!(q.waiters(), 2, "joiners count as waiters");
        for left in (1..N).rev() {
            q.task_done().unwrap();
            assert_eq!(q.unfinished_tasks(), left as usize);
            assert!(join.is_pending());
            assert_eq!(join.wakes(), 0);
        }
        q.task_done().unwrap();
        assert_eq!(join.wakes(), 1);
        assert_eq!(join2.wakes(), 1);
        assert!(join.poll().is_ready());
        assert!(join2.poll().is_ready());
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.task_done(), Err(TaskDoneError));
        assert_eq!(q.unfinished_tasks(), 0);
        // Join blocks again after a new put (toro's test_queue_join_clear).
        q.try_put(99).unwrap();
        let mut again = Polled::new(q.join());
        assert!(again.is_pending());
        q.task_done().unwrap();
        assert!(again.poll().is_ready());
    }

    /// Items handed straight to a waiting getter count like stored ones.
    #[test]
    fn hand_off_counts_as_a_task() {
        let q = Q::unbounded();
        let mut g = Polled::new(q.get());
        assert!(g.is_pending());
        q.try_put(5u32).unwrap();
        assert_eq!(q.unfinished_tasks(), 1);
        let mut join = Polled::new(q.join());
        assert!(join.is_pending());
        assert_eq!(g.ready(), Ok(5));
        assert!(join.is_pending());
        q.task_done().unwrap();
        assert!(join.poll().is_ready());
    }

    /// A put that timed out, was dropped, or was refused does not count.
    #[tokio::test(start_paused = true)]
    async fn failed_puts_do_not_count() {
        let q = Q::bounded(1);
        q.put(1u32).await.unwrap();
        assert_eq!(q.put(2).deadline(Duration::from_millis(10)).await.map_err(|e| e.into_inner()), Err(2));
        assert_eq!(q.unfinished_tasks(), 1);
        let mut dropped = Polled::new(q.put(3));
        assert!(dropped.is_pending());
        drop(dropped);
        assert!(q.try_put(4).is_err());
        assert_eq!(q.unfinished_tasks(), 1);
        q.close();
        assert!(q.try_put(5).is_err());
        assert_eq!(q.unfinished_tasks(), 1);
        assert_eq!(q.try_get(), Ok(1));
        q.task_done().unwrap();
        q.join().await;
        assert_eq!(q.task_done(), Err(TaskDoneError));
    }

    /// A getter cancelled after the hand-off leaves the count unchanged: the item is back.
    #[test]
    fn getter_cancelled_after_hand_off_keeps_count() {
        let q = Q::unbounded();
        let mut g = Polled::new(q.get());
        assert!(g.is_pending());
        q.try_put(7u32).unwrap();
        assert_eq!(q.unfinished_tasks(), 1);
        drop(g);
        assert_eq!(q.unfinished_tasks(), 1);
        assert_eq!(q.try_get(), Ok(7));
        assert_eq!(q.unfinished_tasks(), 1);
        q.task_done().unwrap();
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.task_done(), Err(TaskDoneError));
    }

    #[tokio::test(start_paused = true)]
    async fn join_deadline_times_out_and_keeps_count() {
        let q = Q::unbounded();
        q.put(1u32).await.unwrap();
        let start = tokio::time::Instant::now();
        assert_eq!(q.join().deadline(Duration::from_millis(100)).await, Err(Timeout));
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        assert_eq!(q.unfinished_tasks(), 1);
        assert_eq!(q.waiters(), 0);
        q.task_done().unwrap();
        assert_eq!(q.join().deadline(Duration::from_millis(100)).await, Ok(()));
        assert_eq!(start.elapsed(), Duration::from_millis(100));
    }

    /// A dropped joiner is unregistered and does not disturb the others.
    #[test]
    fn dropped_joiner_is_unregistered() {
        let q = Q::unbounded();
        q.try_put(1u32).unwrap();
        let mut j1 = Polled::new(q.join());
        let mut j2 = Polled::new(q.join());
        assert!(j1.is_pending());
        assert!(j2.is_pending());
        drop(j1);
        assert_eq!(q.waiters(), 1);
        q.try_get().unwrap();
        q.task_done().unwrap();
        assert!(j2.poll().is_ready());
        assert_eq!(q.waiters(), 0);
    }

    /// toro's test_queue_join: two workers sum 100 items; join returns only after every
    /// task_done; run twice.
    #[tokio::test]
    async fn workers_and_join() {
        watchdog(workers_and_join_body()).await;
    }

    async fn workers_and_join_body() {
        let q = Arc::new(Q::bounded(5));
        let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
        for _round in 0..2 {
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    let q = q.clone();
                    let done = done.clone();
                    tokio::spawn(async move {
                        let mut sum = 0u64;
                        while let Some(n) = q.get().await.unwrap() {
                            sum += n;
                            tokio::task::yield_now().await;
                            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            q.task_done().unwrap();
                        }
                        q.task_done().unwrap();
                        sum
                    })
                })
                .collect();
            done.store(0, std::sync::atomic::Ordering::SeqCst);
            for n in 0..100u64 {
                q.put(Some(n)).await.unwrap();
            }
            q.join().await;
            assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 100);
            assert_eq!(q.unfinished_tasks(), 0);
            // `None` sorts lowest in a priority queue, so send the sentinels only now.
            q.put(None).await.unwrap();
            q.put(None).await.unwrap();
            let mut total = 0;
            for w in workers {
                total += w.await.unwrap();
            }
            assert_eq!(total, 4950);
            q.join().await;
        }
        assert_eq!(q.task_done(), Err(TaskDoneError));
        assert_eq!(q.waiters(), 0);
    }

    // ---- close --------------------------------------------------------------------------

    /// Waiting putters fail with Closed(item); the queue keeps what it holds.
    #[test]
    fn close_fails_waiting_putters() {
        let q = Q::bounded(1);
        q.try_put(String::from("a")).unwrap();
        let mut p1 = Polled::new(q.put(String::from("b")));
        let mut p2 = Polled::new(q.put(String::from("c")));
        assert!(p1.is_pending());
        assert!(p2.is_pending());
        assert!(!q.is_closed());
        q.close();
        assert!(q.is_closed());
        assert_eq!(p1.wakes(), 1);
        assert_eq!(p2.wakes(), 1);
        assert_eq!(q.waiters(), 0);
        match p1.ready() {
            Err(PutError::Closed(item)) => assert_eq!(item, "b"),
            other => panic!("expected Closed, got {other:?}"),
        }
        assert_eq!(p2.ready().unwrap_err().into_inner(), "c");
        assert_eq!(q.len(), 1);
        assert_eq!(q.unfinished_tasks(), 1);
        assert_eq!(q.try_get().as_deref(), Ok("a"));
        assert_eq!(q.try_get(), Err(GetError::Closed));
    }

    /// A putter that the close failed, dropped before it is polled, drops its item once.
    #[test]
    fn closed_putter_dropped_unpolled_drops_item_once() {
        let token = Arc::new(());
        let q = Q::bounded(1);
        q.try_put(token.clone()).unwrap();
        let mut p = Polled::new(q.put(token.clone()));
        assert!(p.is_pending());
        q.close();
        assert_eq!(Arc::strong_count(&token), 3, "the item waits in the putter's grant");
        drop(p);
        assert_eq!(Arc::strong_count(&token), 2);
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.len(), 1);
        drop(q);
        assert_eq!(Arc::strong_count(&token), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn later_puts_fail_closed() {
        let q = Q::unbounded();
        q.close();
        assert!(matches!(q.try_put(1u32), Err(PutError::Closed(1))));
        assert!(matches!(q.put(2).await, Err(PutError::Closed(2))));
        assert!(matches!(q.put(3).deadline(Duration::from_secs(1)).await, Err(PutError::Closed(3))));
        assert!(matches!(q.put(4).deadline(Duration::ZERO).await, Err(PutError::Closed(4))));
        // `.block()` from a plain thread (inside the runtime it panics).
        let blocked = std::thread::scope(|s| s.spawn(|| q.put(5).block()).join().unwrap());
        assert!(matches!(blocked, Err(PutError::Closed(5))));
        assert_eq!(q.len(), 0);
        assert_eq!(q.unfinished_tasks(), 0);
        q.close(); // twice: nothing
        assert!(q.is_closed());
    }

    /// Gets drain what is left in the queue's order, then fail with Closed.
    #[tokio::test(start_paused = true)]
    async fn gets_drain_then_closed() {
        let q = Q::bounded(4);
        for n in [2u32, 3, 1] {
            q.put(n).await.unwrap();
        }
        q.close();
        let mut got = vec![q.get().await.unwrap(), q.try_get().unwrap()];
        got.push(q.get().deadline(Duration::from_secs(1)).await.unwrap());
        assert_eq!(got, pick(KIND, [2, 3, 1], [1, 3, 2], [1, 2, 3]));
        assert_eq!(q.try_get(), Err(GetError::Closed));
        assert_eq!(q.get().await, Err(GetError::Closed));
        let start = tokio::time::Instant::now();
        assert_eq!(q.get().deadline(Duration::from_secs(1)).await, Err(GetError::Closed));
        assert_eq!(start.elapsed(), Duration::ZERO, "Closed at once, not at the deadline");
        let blocked = std::thread::scope(|s| s.spawn(|| q.get().block()).join().unwrap());
        assert_eq!(blocked, Err(GetError::Closed));
        assert_eq!(q.waiters(), 0);
    }

    /// Getters waiting on an empty queue wake with Closed.
    #[tokio::test(start_paused = true)]
    async fn close_wakes_waiting_getters() {
        let q: Q<u32> = Q::unbounded();
        let mut g1 = Polled::new(q.get());
        let mut g2 = Polled::new(q.get().deadline(Duration::from_secs(10)));
        assert!(g1.is_pending());
        assert!(g2.is_pending());
        assert_eq!(q.waiters(), 2);
        q.close();
        assert_eq!(g1.wakes(), 1);
        assert_eq!(q.waiters(), 0);
        assert_eq!(g1.ready(), Err(GetError::Closed));
        assert_eq!(g2.ready(), Err(GetError::Closed));
    }

    /// Close wakes getters spawned on a runtime.
    #[tokio::test]
    async fn close_ends_spawned_getters() {
        let q: Arc<Q<u32>> = Arc::new(Q::unbounded());
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let q = q.clone();
                tokio::spawn(async move { q.get().await })
            })
            .collect();
        while q.waiters() < 4 {
            tokio::task::yield_now().await;
        }
        q.close();
        for t in tasks {
            assert_eq!(watchdog(t).await.unwrap(), Err(GetError::Closed));
        }
    }

    /// join still waits for the task_done of the drained items.
    #[tokio::test(start_paused = true)]
    async fn join_after_close_waits_for_task_done() {
        let q = Q::unbounded();
        q.put(1u32).await.unwrap();
        q.put(2).await.unwrap();
        q.close();
        q.get().await.unwrap();
        q.get().await.unwrap();
        assert_eq!(q.get().await, Err(GetError::Closed));
        let mut join = Polled::new(q.join());
        assert!(join.is_pending());
        assert_eq!(q.join().deadline(Duration::from_millis(1)).await, Err(Timeout));
        q.task_done().unwrap();
        assert!(join.is_pending());
        q.task_done().unwrap();
        assert!(join.poll().is_ready());
        assert_eq!(q.task_done(), Err(TaskDoneError));
    }

    /// An item handed to a getter before the close, given back after it, is still drained.
    #[test]
    fn item_returned_after_close_is_drained() {
        let q = Q::unbounded();
        let mut g1 = Polled::new(q.get());
        let mut g2 = Polled::new(q.get());
        assert!(g1.is_pending());
        assert!(g2.is_pending());
        q.try_put(9u32).unwrap(); // to g1
        q.close();
        drop(g1);
        // The item is not lost: g2 takes it, or it is left for the next get.
        let mut got = Vec::new();
        if let std::task::Poll::Ready(Ok(n)) = g2.poll() {
            got.push(n);
        }
        while let Ok(n) = q.try_get() {
            got.push(n);
        }
        assert_eq!(got, [9]);
        assert_eq!(q.try_get(), Err(GetError::Closed));
        assert_eq!(q.waiters(), 0);
    }

    // ---- reserve ------------------------------------------------------------------------

    /// A permit's put never waits; the slot counts against capacity while reserved.
    #[tokio::test]
    async fn permit_put_never_waits() {
        let q = Q::bounded(2);
        let p1 = q.reserve().await.unwrap();
        let p2 = q.reserve().await.unwrap();
        assert!(q.is_full());
        assert_eq!(q.len(), 0);
        assert!(matches!(q.try_put(0u32), Err(PutError::Full(0))));
        assert!(matches!(q.reserve().deadline(Duration::ZERO).await, Err(PutError::Timeout(()))));
        p1.put(1).unwrap();
        p2.put(2).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q.unfinished_tasks(), 2);
        assert!(q.is_full());
        assert_eq!(q.waiters(), 0);
    }

    /// A permit's put hands its item to a waiting getter.
    #[test]
    fn permit_put_hands_off_to_getter() {
        let q = Q::bounded(1);
        let mut g = Polled::new(q.get());
        assert!(g.is_pending());
        let permit = q.reserve().deadline(Duration::ZERO).block().unwrap();
        assert!(q.is_full());
        permit.put(5u32).unwrap();
        assert_eq!(g.ready(), Ok(5));
        assert!(!q.is_full());
        assert!(q.is_empty());
    }

    /// A dropped permit releases its slot to the next waiting putter.
    #[test]
    fn dropped_permit_releases_slot_to_waiting_putter() {
        let q = Q::bounded(1);
        let permit = q.reserve().deadline(Duration::ZERO).block().unwrap();
        let mut p = Polled::new(q.put(3u32));
        let mut r = Polled::new(q.reserve());
        assert!(p.is_pending());
        assert!(r.is_pending());
        assert_eq!(q.waiters(), 2);
        drop(permit);
        assert_eq!(p.wakes(), 1);
        assert_eq!(p.ready(), Ok(()));
        assert!(r.is_pending());
        assert_eq!(q.len(), 1);
        assert_eq!(q.try_get(), Ok(3));
        // The get freed the slot for the waiting reservation.
        let permit = match r.poll() {
            std::task::Poll::Ready(Ok(permit)) => permit,
            other => panic!("expected a permit, got {other:?}"),
        };
        assert!(q.is_full());
        drop(permit);
        assert!(!q.is_full());
        assert_eq!(q.waiters(), 0);
        assert!(q.try_put(4).is_ok());
    }

    /// A reservation granted a slot but dropped before it was polled passes the slot on.
    #[test]
    fn dropped_granted_reservation_passes_slot_on() {
        let q = Q::bounded(1);
        q.try_put(0u32).unwrap();
        let mut r = Polled::new(q.reserve());
        let mut p = Polled::new(q.put(1));
        assert!(r.is_pending());
        assert!(p.is_pending());
        assert_eq!(q.try_get(), Ok(0));
        assert_eq!(r.wakes(), 1);
        assert!(p.is_pending());
        drop(r);
        assert_eq!(p.ready(), Ok(()));
        assert_eq!(q.try_get(), Ok(1));
        assert_eq!(q.waiters(), 0);
        assert!(!q.is_full());
    }

    /// Reservations queue FIFO with blocked puts.
    #[test]
    fn reservations_queue_fifo_with_puts() {
        let q = Q::bounded(1);
        q.try_put(0u32).unwrap();
        let mut p1 = Polled::new(q.put(1));
        let mut r = Polled::new(q.reserve());
        let mut p2 = Polled::new(q.put(2));
        assert!(p1.is_pending() && r.is_pending() && p2.is_pending());
        let first = q.try_get().unwrap();
        assert_eq!(first, pick(KIND, 0, 1, 0));
        assert_eq!(p1.ready(), Ok(()));
        assert!(r.is_pending());
        assert!(p2.is_pending());
        let second = q.try_get().unwrap();
        let permit = match r.poll() {
            std::task::Poll::Ready(Ok(permit)) => permit,
            other => panic!("expected a permit, got {other:?}"),
        };
        assert!(p2.is_pending(), "the reserved slot is not the putter's");
        permit.put(7).unwrap();
        let third = q.try_get().unwrap();
        assert_eq!(p2.ready(), Ok(()));
        let fourth = q.try_get().unwrap();
        let mut all = vec![first, second, third, fourth];
        all.sort_unstable();
        assert_eq!(all, [0, 1, 2, 7]);
        assert_eq!(q.waiters(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn reserve_on_closed_queue_fails() {
        let q: Q<u32> = Q::bounded(1);
        q.close();
        assert!(matches!(q.reserve().await, Err(PutError::Closed(()))));
        assert!(matches!(q.reserve().deadline(Duration::from_secs(1)).await, Err(PutError::Closed(()))));
        let q: Arc<Q<u32>> = Arc::new(Q::unbounded());
        q.close();
        assert!(matches!(q.clone().reserve_owned().await, Err(PutError::Closed(()))));
    }

    /// A waiting reservation fails with Closed on close; a held permit's put fails too and
    /// gives its item back.
    #[test]
    fn close_fails_reservations_and_permits() {
        let q = Q::bounded(1);
        let permit = q.reserve().deadline(Duration::ZERO).block().unwrap();
        let mut r = Polled::new(q.reserve());
        assert!(r.is_pending());
        q.close();
        assert!(matches!(r.ready(), Err(PutError::Closed(()))));
        assert!(matches!(permit.put(1u32), Err(PutError::Closed(1))));
        assert!(q.is_empty());
        assert!(!q.is_full(), "the slot was given up");
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.waiters(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn reserve_deadline_times_out() {
        let q = Q::bounded(1);
        q.put(0u32).await.unwrap();
        assert!(matches!(q.reserve().deadline(Duration::from_millis(5)).await, Err(PutError::Timeout(()))));
        assert_eq!(q.waiters(), 0);
        assert_eq!(q.try_get(), Ok(0));
        // The timed-out reservation holds no slot.
        assert!(!q.is_full());
        q.try_put(1).unwrap();
    }

    #[tokio::test]
    async fn reserve_owned_permit_is_static() {
        let q: Arc<Q<u32>> = Arc::new(Q::bounded(1));
        let permit = q.clone().reserve_owned().await.unwrap();
        tokio::spawn(async move { permit.put(11).unwrap() }).await.unwrap();
        assert_eq!(q.try_get(), Ok(11));
        let permit = q.clone().reserve_owned().await.unwrap();
        drop(permit);
        assert!(!q.is_full());
    }

    /// A get on a queue whose only slot is reserved (and empty) frees no slot: it must not
    /// grant a waiting reservation, or the queue would hold more than its capacity.
    #[test]
    fn get_on_empty_reserved_queue_grants_no_extra_slot() {
        let q = Q::bounded(1);
        let p1 = q.reserve().deadline(Duration::ZERO).block().unwrap();
        let mut r = Polled::new(q.reserve());
        assert!(r.is_pending());
        assert_eq!(q.waiters(), 1);
        assert_eq!(q.try_get(), Err(GetError::Empty));
        // No slot was freed: the reservation must still wait.
        let granted = r.poll();
        if let std::task::Poll::Ready(Ok(p2)) = granted {
            p1.put(1u32).unwrap();
            p2.put(2).unwrap();
            panic!(
                "try_get on an empty bounded(1) queue whose slot was reserved granted a second \
                 reservation: both permits filled, len() = {}",
                q.len()
            );
        }
        assert!(granted.is_pending());
        assert_eq!(q.waiters(), 1);
        p1.put(1u32).unwrap();
        assert!(r.is_pending());
        assert_eq!(q.try_get(), Ok(1));
        assert!(r.poll().is_ready());
        assert_eq!(q.waiters(), 0);
    }

    /// The same with an item putter behind the held permit: the get takes the putter's item
    /// (a rendezvous), which is fine, and the capacity is kept.
    #[test]
    fn get_on_empty_reserved_queue_takes_putter_item() {
        let q = Q::bounded(1);
        let permit = q.reserve().deadline(Duration::ZERO).block().unwrap();
        let mut p = Polled::new(q.put(5u32));
        assert!(p.is_pending());
        let got = q.try_get();
        if got.is_ok() {
            assert_eq!(got, Ok(5));
            assert_eq!(p.ready(), Ok(()));
        } else {
            assert!(p.is_pending());
        }
        assert!(q.is_full(), "the permit still holds the only slot");
        permit.put(6).unwrap();
        assert!(q.len() <= 1, "len {} on bounded(1)", q.len());
    }
}
