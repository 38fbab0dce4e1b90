//! Queue<T> on a real server: order, bounds, hand-off, deadlines, cancellation, redelivery,
//! dead letters, join, close, streams, foreign values.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::{client, client_with_lease, eventually, raw};
use tokio::sync::Mutex as TokioMutex;
use toro_sync_redis::{DeadReason, Error, Queue};

fn unique(name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn drain<T>(q: &Queue<T>) -> Vec<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
{
    let mut out = Vec::new();
    while let Some(d) = q.try_get().await.unwrap() {
        out.push(d.task_done().await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_lifo_priority_order() {
    let c = client().await;
    let fifo = c.queue::<u32>(&unique("fifo"));
    for i in 0..5 {
        fifo.put(i).await.unwrap();
    }
    assert_eq!(fifo.len().await.unwrap(), 5);
    assert_eq!(drain(&fifo).await, vec![0, 1, 2, 3, 4]);

    let lifo = c.queue::<u32>(&unique("lifo")).lifo();
    for i in 0..5 {
        lifo.put(i).await.unwrap();
    }
    assert_eq!(drain(&lifo).await, vec![4, 3, 2, 1, 0]);

    let prio = c.queue::<String>(&unique("prio")).priority();
    let puts = [
        (5, "e1"),
        (-3, "a"),
        (5, "e2"),
        (0, "c1"),
        (7, "z"),
        (0, "c2"),
        (5, "e3"),
    ];
    for (p, item) in puts {
        prio.put_with_priority(p, item.to_string()).await.unwrap();
    }
    prio.put("c3".to_string()).await.unwrap();
    assert_eq!(
        drain(&prio).await,
        vec!["a", "c1", "c2", "c3", "e1", "e2", "e3", "z"]
    );
    let big = prio
        .put_with_priority(1 << 53, "x".into())
        .await
        .unwrap_err();
    assert!(matches!(big.error, Error::Protocol { .. }));
    assert_eq!(big.item, "x");
    prio.put_with_priority(-(1 << 53) + 1, "min".into())
        .await
        .unwrap();
    assert!(fifo.put_with_priority(1, 9).await.is_err());
    // Given back: at the head again (LIFO: before older items; priority: first of its
    // priority).
    for i in 0..3 {
        lifo.put(i).await.unwrap();
    }
    let d = lifo.get().await.unwrap();
    assert_eq!(*d, 2);
    d.retry().await.unwrap();
    let d = lifo.get().await.unwrap();
    assert_eq!((*d, d.attempt()), (2, 2));
    d.task_done().await.unwrap();
    assert_eq!(drain(&lifo).await, vec![1, 0]);
    drain(&prio).await;
    for item in ["p1", "p2"] {
        prio.put_with_priority(5, item.into()).await.unwrap();
    }
    prio.put_with_priority(9, "late".into()).await.unwrap();
    let d = prio.get().await.unwrap();
    assert_eq!(d.as_str(), "p1");
    d.retry().await.unwrap();
    let d = prio.get().await.unwrap();
    assert_eq!((d.as_str(), d.attempt()), ("p1", 2));
    d.task_done().await.unwrap();
    assert_eq!(drain(&prio).await, vec!["p2", "late"]);
    // A large item goes through the hex transport intact.
    let big = c.queue::<Vec<u8>>(&unique("big"));
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    big.put(payload.clone()).await.unwrap();
    assert_eq!(big.get().await.unwrap().task_done().await.unwrap(), payload);
    assert_eq!(fifo.unfinished_tasks().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_putters_fifo_and_len_within_bound() {
    let c = client().await;
    let name = unique("bounded");
    let q = c.queue::<u32>(&name).bounded(2).await.unwrap();
    q.put(0).await.unwrap();
    q.put(1).await.unwrap();
    let full = q.try_put(99).await.unwrap_err();
    assert!(full.is_timeout());
    assert_eq!(full.into_inner(), 99);
    let mut putters = Vec::new();
    for i in 2..6 {
        let qp = q.clone();
        putters.push(tokio::spawn(async move { qp.put(i).await.unwrap() }));
        let want = (i - 1) as u64;
        assert!(
            eventually(Duration::from_secs(5), || async {
                q.waiters().await.unwrap() == want
            })
            .await
        );
    }
    let mut got = Vec::new();
    for _ in 0..6 {
        assert!(q.len().await.unwrap() <= 2);
        let d = q.get().deadline(Duration::from_secs(5)).await.unwrap();
        got.push(d.task_done().await.unwrap());
        assert!(q.len().await.unwrap() <= 2);
    }
    assert_eq!(got, vec![0, 1, 2, 3, 4, 5]);
    for p in putters {
        p.await.unwrap();
    }
    // A mismatching bound is an error from the first operation.
    let other = c.queue::<u32>(&name).bounded(3);
    match other.len().await {
        Err(Error::Mismatch {
            expected, found, ..
        }) => {
            assert!(expected.contains("bound=3"), "{expected}");
            assert!(found.contains("bound=2"), "{found}");
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    assert!(matches!(
        c.queue::<u32>(&name).bounded(2).lifo().await,
        Err(Error::Mismatch { .. })
    ));
    assert!(matches!(
        c.queue::<u32>(&name).bounded(2).max_attempts(3).await,
        Err(Error::Mismatch { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn getters_are_served_in_order() {
    let c = client().await;
    let q = c.queue::<u32>(&unique("handoff"));
    let order = Arc::new(TokioMutex::new(Vec::new()));
    let mut getters = Vec::new();
    for g in 0..4u32 {
        let qg = q.clone();
        let order = order.clone();
        getters.push(tokio::spawn(async move {
            let d = qg.get().deadline(Duration::from_secs(10)).await.unwrap();
            order.lock().await.push((g, *d));
            d.task_done().await.unwrap();
        }));
        let want = u64::from(g) + 1;
        assert!(
            eventually(Duration::from_secs(5), || async {
                q.waiters().await.unwrap() == want
            })
            .await
        );
    }
    for i in 0..4 {
        q.put(100 + i).await.unwrap();
    }
    for g in getters {
        g.await.unwrap();
    }
    let mut got = order.lock().await.clone();
    got.sort();
    assert_eq!(got, vec![(0, 100), (1, 101), (2, 102), (3, 103)]);
    q.join().deadline(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_and_zero_deadline_register_nothing() {
    let c = client().await;
    let name = unique("try");
    let q = c.queue::<u32>(&name).bounded(1);
    assert!(q.try_get().await.unwrap().is_none());
    assert!(
        q.get()
            .deadline(Duration::ZERO)
            .await
            .unwrap_err()
            .is_timeout()
    );
    q.try_put(1).await.unwrap();
    let e = q.put(2).deadline(Duration::ZERO).await.unwrap_err();
    assert!(e.is_timeout());
    assert_eq!(e.item, 2);
    assert_eq!(q.waiters().await.unwrap(), 0);
    assert_eq!(support::ticket_keys(&name).await, (0, 0, 0));
    let d = q.try_get().await.unwrap().unwrap();
    assert_eq!((*d, d.attempt()), (1, 1));
    d.task_done().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_get_and_put_withdraw() {
    let c = client().await;
    let name = unique("deadline");
    let q = c.queue::<u32>(&name).bounded(1);
    let e = q
        .get()
        .deadline(Duration::from_millis(150))
        .await
        .unwrap_err();
    assert!(e.is_timeout());
    q.put(1).await.unwrap();
    let e = q
        .put(2)
        .deadline(Duration::from_millis(150))
        .await
        .unwrap_err();
    assert!(e.is_timeout());
    assert_eq!(e.item, 2);
    assert!(
        eventually(Duration::from_secs(2), || async {
            q.waiters().await.unwrap() == 0
        })
        .await
    );
    assert_eq!(q.len().await.unwrap(), 1);
    assert_eq!(drain(&q).await, vec![1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_get_after_grant_puts_the_item_back_first() {
    let c = client().await;
    let name = unique("dropget");
    let q = c.queue::<u32>(&name);
    // A get that waits, then is granted by a put while nobody polls it, then is dropped.
    let mut get = Box::pin(q.get());
    assert!(
        tokio::time::timeout(Duration::from_millis(100), &mut get)
            .await
            .is_err()
    );
    q.put(1).await.unwrap();
    q.put(2).await.unwrap();
    // The first item went to the waiting getter in Redis.
    assert_eq!(q.len().await.unwrap(), 1);
    drop(get);
    assert!(
        eventually(Duration::from_secs(2), || async {
            q.len().await.unwrap() == 2
        })
        .await
    );
    let d = q.get().await.unwrap();
    assert_eq!(
        (*d, d.attempt()),
        (1, 1),
        "back at the head, attempt given back"
    );
    d.task_done().await.unwrap();
    assert_eq!(drain(&q).await, vec![2]);
    assert_eq!(q.unfinished_tasks().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_and_drop_redeliver() {
    let c = client().await;
    let q = c.queue::<String>(&unique("retry"));
    q.put("a".into()).await.unwrap();
    q.put("b".into()).await.unwrap();
    let d = q.get().await.unwrap();
    assert_eq!((d.as_str(), d.attempt()), ("a", 1));
    d.retry().await.unwrap();
    let d = q.get().await.unwrap();
    assert_eq!((d.as_str(), d.attempt()), ("a", 2));
    drop(d);
    // The give-back of a dropped delivery runs in the background.
    assert!(
        eventually(Duration::from_secs(2), || async {
            q.len().await.unwrap() == 2
        })
        .await
    );
    let d = q.get().deadline(Duration::from_secs(5)).await.unwrap();
    assert_eq!((d.as_str(), d.attempt()), ("a", 3));
    assert_eq!(q.in_flight().await.unwrap(), 1);
    d.task_done().await.unwrap();
    let d = q.get().await.unwrap();
    assert_eq!((d.as_str(), d.attempt()), ("b", 1));
    d.task_done().await.unwrap();
    q.join().deadline(Duration::ZERO).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_delivery_is_redelivered_and_stale_done_is_lease_lost() {
    let c = client_with_lease(Duration::from_millis(400)).await;
    let name = unique("expire");
    let q = c.queue::<u32>(&name);
    q.put(7).await.unwrap();
    let d = q.get().await.unwrap();
    // A consumer that stalls past its lease: its delivery's expiry is moved to the past.
    let mut conn = raw().await;
    // Expire every delivery now.
    let holders: Vec<String> = redis::cmd("ZRANGE")
        .arg(format!("toro:{{{name}}}:h"))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(holders.len(), 1);
    let _: () = redis::cmd("ZADD")
        .arg(format!("toro:{{{name}}}:h"))
        .arg(1)
        .arg(&holders[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    let again = q.get().deadline(Duration::from_secs(5)).await.unwrap();
    assert_eq!((*again, again.attempt()), (7, 2));
    d.lost().await;
    assert!(matches!(d.task_done().await, Err(Error::LeaseLost)));
    assert_eq!(q.unfinished_tasks().await.unwrap(), 1);
    again.task_done().await.unwrap();
    q.join().deadline(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_after_max_attempts() {
    let c = client().await;
    let q = c.queue::<u32>(&unique("dead")).max_attempts(3);
    q.put(1).await.unwrap();
    q.put(2).await.unwrap();
    for attempt in 1..=3 {
        let d = q.get().await.unwrap();
        assert_eq!((*d, d.attempt()), (1, attempt));
        d.retry().await.unwrap();
    }
    let d = q.get().await.unwrap();
    assert_eq!((*d, d.attempt()), (2, 1));
    d.task_done().await.unwrap();
    assert!(q.try_get().await.unwrap().is_none());
    let dead = q.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].reason, DeadReason::Attempts);
    assert_eq!(dead[0].attempts, 3);
    assert_eq!(dead[0].item, Ok(1));
    q.join().deadline(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_across_two_clients() {
    let a = client().await;
    let b = client().await;
    let name = unique("join");
    let qa = a.queue::<u32>(&name);
    let qb = b.queue::<u32>(&name);
    qa.join().deadline(Duration::ZERO).await.unwrap();
    for i in 0..10 {
        qa.put(i).await.unwrap();
    }
    let joiner = {
        let qa = qa.clone();
        tokio::spawn(async move { qa.join().deadline(Duration::from_secs(10)).await })
    };
    assert!(
        qa.join()
            .deadline(Duration::from_millis(100))
            .await
            .unwrap_err()
            .is_timeout()
    );
    let mut seen = Vec::new();
    for _ in 0..10 {
        let d = qb.get().await.unwrap();
        seen.push(*d);
        d.task_done().await.unwrap();
    }
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    joiner.await.unwrap().unwrap();
    assert_eq!(qa.unfinished_tasks().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_fails_puts_and_drains_gets() {
    let c = client().await;
    let q = c.queue::<u32>(&unique("close")).bounded(1);
    q.put(1).await.unwrap();
    let waiting_put = {
        let q = q.clone();
        tokio::spawn(async move { q.put(2).deadline(Duration::from_secs(10)).await })
    };
    assert!(
        eventually(Duration::from_secs(2), || async {
            q.waiters().await.unwrap() == 1
        })
        .await
    );
    q.close().await.unwrap();
    let e = waiting_put.await.unwrap().unwrap_err();
    assert!(e.is_closed(), "{e:?}");
    assert_eq!(e.item, 2);
    let e = q.put(3).await.unwrap_err();
    assert!(e.is_closed());
    assert_eq!(e.into_inner(), 3);
    // One delivery in flight: a waiting get waits for it to come back, then takes it.
    let d = q.get().await.unwrap();
    assert_eq!(*d, 1);
    let waiting_get = {
        let q = q.clone();
        tokio::spawn(async move { q.get().deadline(Duration::from_secs(10)).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    d.retry().await.unwrap();
    let d = waiting_get.await.unwrap().unwrap();
    assert_eq!((*d, d.attempt()), (1, 2));
    let last_get = {
        let q = q.clone();
        tokio::spawn(async move { q.get().deadline(Duration::from_secs(10)).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    d.task_done().await.unwrap();
    assert!(matches!(last_get.await.unwrap(), Err(Error::Closed)));
    assert!(matches!(q.get().await, Err(Error::Closed)));
    assert!(matches!(q.try_get().await, Err(Error::Closed)));
    assert!(q.is_closed().await.unwrap());
    q.join().deadline(Duration::ZERO).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_ends_when_closed_and_drained() {
    use std::future::poll_fn;
    use std::pin::Pin;
    let c = client().await;
    let q = c.queue::<u32>(&unique("stream"));
    for i in 0..3 {
        q.put(i).await.unwrap();
    }
    q.close().await.unwrap();
    let mut stream = q.stream();
    let mut got = Vec::new();
    loop {
        let next = poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut stream), cx)).await;
        match next {
            Some(d) => got.push(d.unwrap().task_done().await.unwrap()),
            None => break,
        }
    }
    assert_eq!(got, vec![0, 1, 2]);
    assert!(futures_core::FusedStream::is_terminated(&stream));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_values_are_errors() {
    let c = client().await;
    let mut conn = raw().await;
    // Garbage under the meta key.
    let name = unique("foreign");
    let _: () = redis::cmd("SET")
        .arg(format!("toro:{{{name}}}:m"))
        .arg("garbage")
        .query_async(&mut conn)
        .await
        .unwrap();
    let q = c.queue::<u32>(&name);
    assert!(matches!(q.len().await, Err(Error::Protocol { .. })));
    assert!(q.put(1).await.is_err());
    assert!(q.get().deadline(Duration::ZERO).await.is_err());
    // A mutex of the same name is another kind.
    let name = unique("kind");
    c.mutex(&name).await.unwrap();
    assert!(matches!(
        c.queue::<u32>(&name).await,
        Err(Error::Mismatch { .. })
    ));
    // Garbage in the ready set and a wrong type for the dead letters.
    let name = unique("foreign2");
    let q = c.queue::<u32>(&name);
    q.put(1).await.unwrap();
    let _: () = redis::cmd("HSET")
        .arg(format!("toro:{{{name}}}:t"))
        .arg("x")
        .arg("not a ticket")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("ZADD")
        .arg(format!("toro:{{{name}}}:q"))
        .arg(1)
        .arg("x")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(matches!(q.len().await, Err(Error::Protocol { .. })));
    let name = unique("foreign3");
    let q = c.queue::<u32>(&name);
    let _: () = redis::cmd("SET")
        .arg(format!("toro:{{{name}}}:d"))
        .arg("x")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(matches!(
        q.dead_letters().await,
        Err(Error::Protocol { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_item_is_an_error_and_a_dead_letter() {
    let c = client().await;
    let name = unique("undecodable");
    // Written as a String, read as a u8: decoding fails.
    let writer = c.queue::<String>(&name);
    writer.put("not a number".into()).await.unwrap();
    writer.put("x".repeat(3)).await.unwrap();
    let reader = c.queue::<bool>(&name);
    match reader.get().await {
        Err(Error::Encoding { .. }) => {}
        Err(other) => panic!("expected an encoding error, got {other:?}"),
        Ok(d) => panic!("expected an encoding error, got {:?}", *d),
    }
    let dead = writer.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].reason, DeadReason::Undecodable);
    assert_eq!(dead[0].item.as_deref(), Ok("not a number"));
    assert_eq!(writer.unfinished_tasks().await.unwrap(), 1);
    let d = writer.get().await.unwrap();
    assert_eq!(d.as_str(), "xxx");
    d.task_done().await.unwrap();
    writer.join().deadline(Duration::ZERO).await.unwrap();
    // A raw garbage payload in the ready set.
    let mut conn = raw().await;
    let q = c.queue::<u32>(&name);
    q.put(5).await.unwrap();
    let items: Vec<String> = redis::cmd("HKEYS")
        .arg(format!("toro:{{{name}}}:i"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg(format!("toro:{{{name}}}:i"))
        .arg(&items[0])
        .arg(vec![0xffu8, 0xff, 0xff, 0xff, 0xff, 0x0f])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(matches!(q.get().await, Err(Error::Encoding { .. })));
    assert_eq!(q.dead_letters().await.unwrap().len(), 2);
    q.join().deadline(Duration::ZERO).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_given_back_to_a_full_queue_keeps_len_within_bound() {
    let c = client().await;
    let q = c.queue::<u32>(&unique("fullback")).bounded(1);
    q.put(1).await.unwrap();
    let d = q.get().await.unwrap();
    q.put(2).await.unwrap();
    let waiting_put = {
        let q = q.clone();
        tokio::spawn(async move { q.put(3).deadline(Duration::from_secs(10)).await })
    };
    assert!(
        eventually(Duration::from_secs(2), || async {
            q.waiters().await.unwrap() == 1
        })
        .await
    );
    // The queue is full: the item given back waits outside it, counted in flight.
    d.retry().await.unwrap();
    assert_eq!(q.len().await.unwrap(), 1);
    assert_eq!(q.in_flight().await.unwrap(), 1);
    // Room goes to the given-back item before the waiting putter's.
    let mut got = Vec::new();
    for _ in 0..3 {
        let d = q.get().deadline(Duration::from_secs(5)).await.unwrap();
        assert!(q.len().await.unwrap() <= 1);
        got.push((*d, d.attempt()));
        d.task_done().await.unwrap();
    }
    assert_eq!(got, vec![(2, 1), (1, 2), (3, 1)]);
    waiting_put.await.unwrap().unwrap();
    q.join().deadline(Duration::ZERO).await.unwrap();
}
