//! The Mutex against a real redis-server: exclusion, FIFO, fencing, deadlines, cancellation.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::{client, eventually, ticket_keys};
use toro_sync_redis::{Client, Error};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_exclusion_under_contention() {
    let client = client().await;
    let inside = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let mutex = client.mutex("mx-contention").await.unwrap();
        let inside = inside.clone();
        let tokens = tokens.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..8 {
                let guard = mutex
                    .lock()
                    .deadline(Duration::from_secs(20))
                    .await
                    .unwrap();
                assert_eq!(
                    inside.fetch_add(1, Ordering::SeqCst),
                    0,
                    "two holders at once"
                );
                tokens.lock().unwrap().push(guard.fencing_token());
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
                guard.release().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let tokens = tokens.lock().unwrap();
    assert_eq!(tokens.len(), 48);
    assert!(
        tokens.windows(2).all(|w| w[0] < w[1]),
        "fencing tokens strictly increase in grant order"
    );
}

#[tokio::test]
async fn fifo_order_of_waiters() {
    let client = client().await;
    let mutex = client.mutex("mx-fifo").await.unwrap();
    let held = mutex.lock().await.unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..5u64 {
        let m = mutex.clone();
        let order = order.clone();
        tasks.push(tokio::spawn(async move {
            let guard = m.lock().deadline(Duration::from_secs(20)).await.unwrap();
            order.lock().unwrap().push(i);
            guard.release().await.unwrap();
        }));
        // The next waiter starts only once this one is in line.
        assert!(
            eventually(Duration::from_secs(5), || async {
                mutex.waiters().await.unwrap() == i + 1
            })
            .await
        );
    }
    held.release().await.unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
}

#[tokio::test]
async fn fencing_tokens_increase_across_clients() {
    let a = client().await;
    let b = client().await;
    let ma = a.mutex("mx-tokens").await.unwrap();
    let mb = b.mutex("mx-tokens").await.unwrap();
    let mut last = 0;
    for i in 0..10 {
        let guard = if i % 2 == 0 {
            ma.lock().await
        } else {
            mb.lock().await
        }
        .unwrap();
        assert!(guard.fencing_token() > last);
        last = guard.fencing_token();
        guard.release().await.unwrap();
    }
}

#[tokio::test]
async fn try_once_with_zero_deadline_registers_nothing() {
    let client = client().await;
    let mutex = client.mutex("mx-try").await.unwrap();
    let held = mutex.try_lock().await.unwrap().expect("free lock");
    assert!(mutex.try_lock().await.unwrap().is_none());
    let err = mutex.lock().deadline(Duration::ZERO).await.unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(mutex.waiters().await.unwrap(), 0);
    assert_eq!(ticket_keys("mx-try").await, (0, 0, 0));
    held.release().await.unwrap();
    assert!(!mutex.is_locked().await.unwrap());
}

#[tokio::test]
async fn deadline_timeout_withdraws() {
    let client = client().await;
    let mutex = client.mutex("mx-deadline").await.unwrap();
    let held = mutex.lock().await.unwrap();
    let started = std::time::Instant::now();
    let err = mutex
        .lock()
        .deadline(Duration::from_millis(150))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(mutex.waiters().await.unwrap(), 0);
    assert_eq!(ticket_keys("mx-deadline").await, (0, 0, 0));
    held.release().await.unwrap();
    // Nothing was handed to the timed-out waiter: the lock is free.
    let again = mutex.try_lock().await.unwrap().expect("free after release");
    again.release().await.unwrap();
}

#[tokio::test]
async fn dropped_waiting_future_loses_nothing() {
    let client = client().await;
    let mutex = client.mutex("mx-drop").await.unwrap();
    let held = mutex.lock().await.unwrap();
    let m = mutex.clone();
    let waiter = tokio::spawn(async move { m.lock().await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            mutex.waiters().await.unwrap() == 1
        })
        .await
    );
    waiter.abort();
    assert!(
        eventually(Duration::from_secs(5), || async {
            mutex.waiters().await.unwrap() == 0
        })
        .await
    );
    held.release().await.unwrap();
    assert!(
        !mutex.is_locked().await.unwrap(),
        "nothing went to the dropped waiter"
    );

    // Dropped while the grant races the drop: the lock still comes back.
    let held = mutex.lock().await.unwrap();
    let m = mutex.clone();
    let waiter = tokio::spawn(async move { m.lock().await.map(drop) });
    assert!(
        eventually(Duration::from_secs(5), || async {
            mutex.waiters().await.unwrap() == 1
        })
        .await
    );
    let release = held.release();
    waiter.abort();
    release.await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            !mutex.is_locked().await.unwrap()
        })
        .await,
        "a grant to a dropped waiter is passed on"
    );
}

#[tokio::test]
async fn dropping_the_guard_releases_in_the_background() {
    let client = client().await;
    let mutex = client.mutex("mx-guard-drop").await.unwrap();
    let guard = mutex.lock().await.unwrap();
    assert!(!guard.is_lost());
    drop(guard);
    let again = mutex.lock().deadline(Duration::from_secs(5)).await.unwrap();
    again.release().await.unwrap();
}

#[tokio::test]
async fn mismatch_is_an_error() {
    let client = client().await;
    let _m = client.mutex("mx-mismatch").await.unwrap();
    match client.semaphore("mx-mismatch", 3).await {
        Err(Error::Mismatch { name, found, .. }) => {
            assert_eq!(name, "mx-mismatch");
            assert_eq!(found, "mutex 1");
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
    client.semaphore("sem-mismatch", 3).await.unwrap();
    assert!(matches!(
        client.semaphore("sem-mismatch", 4).await,
        Err(Error::Mismatch { .. })
    ));
    assert!(matches!(
        client.bounded_semaphore("sem-mismatch", 3).await,
        Err(Error::Mismatch { .. })
    ));
}

#[tokio::test]
async fn foreign_value_is_an_error_not_a_panic() {
    let client = client().await;
    let mut raw = support::raw().await;
    let _: () = redis::cmd("SET")
        .arg("toro:{mx-foreign}:m")
        .arg("garbage")
        .query_async(&mut raw)
        .await
        .unwrap();
    let err = client.mutex("mx-foreign").await.unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
    let _: () = redis::cmd("DEL")
        .arg("toro:{mx-foreign}:m")
        .query_async(&mut raw)
        .await
        .unwrap();
    let _: () = redis::cmd("HSET")
        .arg("toro:{mx-foreign2}:m")
        .arg("v")
        .arg("1")
        .arg("kind")
        .arg("mutex")
        .arg("param")
        .arg("1")
        .arg("cap")
        .arg("x")
        .arg("used")
        .arg("0")
        .arg("fence")
        .arg("0")
        .query_async(&mut raw)
        .await
        .unwrap();
    let err = client.mutex("mx-foreign2").await.unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
}

#[tokio::test]
async fn password_never_shows() {
    let url = format!(
        "redis://:hunter2secret@127.0.0.1:{}",
        support::server().port
    );
    let err = toro_sync_redis::Client::connect(&url).await.unwrap_err();
    assert!(!format!("{err}").contains("hunter2secret"), "{err}");
    assert!(!format!("{err:?}").contains("hunter2secret"), "{err:?}");
    let builder = toro_sync_redis::Client::builder(&url);
    assert!(!format!("{builder:?}").contains("hunter2secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_survive_killed_connections() {
    let holder_client = client().await;
    let waiter_client = client().await;
    let mutex = holder_client.mutex("mx-conn-kill").await.unwrap();
    let waiting = waiter_client.mutex("mx-conn-kill").await.unwrap();
    let held = mutex.lock().await.unwrap();
    let waiter =
        tokio::spawn(async move { waiting.lock().deadline(Duration::from_secs(10)).await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            mutex.waiters().await.unwrap() == 1
        })
        .await
    );

    // Drop every subscriber connection (the hints) and every other command connection.
    let mut raw = support::raw().await;
    let _: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut raw)
        .await
        .unwrap();
    let _: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .arg("SKIPME")
        .arg("yes")
        .query_async(&mut raw)
        .await
        .unwrap();

    let released = std::time::Instant::now();
    held.release().await.unwrap();
    let guard = waiter
        .await
        .unwrap()
        .expect("the waiter is served after reconnecting");
    assert!(
        released.elapsed() < Duration::from_secs(3),
        "{:?}",
        released.elapsed()
    );
    assert!(!guard.is_lost());
    guard.release().await.unwrap();
    assert_eq!(mutex.waiters().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_holds_while_redis_is_paused() {
    let a = client().await;
    let b = client().await;
    let mutex = a.mutex("mx-paused").await.unwrap();
    let other = b.mutex("mx-paused").await.unwrap();
    let held = mutex.lock().await.unwrap();
    let mut raw = support::raw().await;
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(800)
        .arg("ALL")
        .query_async(&mut raw)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let err = other
        .lock()
        .deadline(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    // The deadline, plus at most the withdraw's round trip (which waits out the pause).
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(
        eventually(Duration::from_secs(5), || async {
            mutex.waiters().await.unwrap() == 0
        })
        .await
    );
    assert!(!held.is_lost());
    held.release().await.unwrap();
    assert!(!mutex.is_locked().await.unwrap());
}

#[tokio::test]
async fn unreachable_server_is_retryable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = toro_sync_redis::Client::connect(&format!("redis://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
}

/// Subscribers of a shard channel on the test server.
async fn shard_subscribers(channel: &str) -> i64 {
    let mut raw = support::raw().await;
    let (_, n): (String, i64) = redis::cmd("PUBSUB")
        .arg("SHARDNUMSUB")
        .arg(channel)
        .query_async(&mut raw)
        .await
        .unwrap();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_hints_wake_a_waiter_also_after_a_reconnect() {
    // Re-checks every 60 s only (a 300 s lease keeps the liveness re-check as far off): within
    // this test, only a hint on the primitive's shard channel can wake the waiter.
    let holder_client = client().await;
    let waiter_client = Client::builder(&support::server().url())
        .lease(Duration::from_secs(300))
        .recheck_interval(Duration::from_secs(60))
        .connect()
        .await
        .unwrap();
    let name = "mx-shard-hint";
    let channel = format!("toro:{{{name}}}:hint");
    let mutex = holder_client.mutex(name).await.unwrap();
    for round in 0..2 {
        let held = mutex.lock().await.unwrap();
        let waiting = waiter_client.mutex(name);
        let waiter =
            tokio::spawn(async move { waiting.lock().deadline(Duration::from_secs(20)).await });
        assert!(
            eventually(Duration::from_secs(5), || async {
                mutex.waiters().await.unwrap() == 1 && shard_subscribers(&channel).await == 1
            })
            .await,
            "round {round}: the waiter's client subscribes to {channel}"
        );
        if round == 1 {
            // Drop the subscriber connection: it reconnects and subscribes again by itself.
            let mut raw = support::raw().await;
            let killed: i64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("pubsub")
                .query_async(&mut raw)
                .await
                .unwrap();
            assert!(killed >= 1, "a subscriber connection was killed");
            assert!(
                eventually(Duration::from_secs(5), || async {
                    shard_subscribers(&channel).await == 1
                })
                .await,
                "re-subscribed to {channel} after the reconnect"
            );
        }
        // Let the re-check that follows a (re)subscription run while the lock is still held.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let released = std::time::Instant::now();
        held.release().await.unwrap();
        let guard = waiter.await.unwrap().unwrap();
        assert!(
            released.elapsed() < Duration::from_secs(3),
            "round {round}: woken {:?} after the release (a re-check would take 60 s)",
            released.elapsed()
        );
        guard.release().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hint_channel_is_left_after_the_last_waiter() {
    // Re-check 200 ms: the subscription lingers that long after the last waiter left.
    let c = Client::builder(&support::server().url())
        .recheck_interval(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    let name = "mx-shard-leave";
    let channel = format!("toro:{{{name}}}:hint");
    let mutex = c.mutex(name).await.unwrap();
    // Uncontended: never in line, never subscribed.
    mutex.lock().await.unwrap().release().await.unwrap();
    assert_eq!(shard_subscribers(&channel).await, 0);
    for round in 0..2 {
        let held = mutex.lock().await.unwrap();
        let m = mutex.clone();
        let waiter = tokio::spawn(async move { m.lock().deadline(Duration::from_secs(10)).await });
        assert!(
            eventually(Duration::from_secs(5), || async {
                shard_subscribers(&channel).await == 1
            })
            .await,
            "round {round}: subscribed while a waiter is in line"
        );
        held.release().await.unwrap();
        waiter.await.unwrap().unwrap().release().await.unwrap();
        assert!(
            eventually(Duration::from_secs(5), || async {
                shard_subscribers(&channel).await == 0
            })
            .await,
            "round {round}: unsubscribed after the last waiter left"
        );
    }
    // The subscriber connection still answers after the unsubscribes.
    let held = mutex.lock().await.unwrap();
    let m = mutex.clone();
    let waiter = tokio::spawn(async move { m.lock().deadline(Duration::from_secs(10)).await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            shard_subscribers(&channel).await == 1
        })
        .await
    );
    held.release().await.unwrap();
    waiter.await.unwrap().unwrap().release().await.unwrap();
}
