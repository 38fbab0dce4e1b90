//! Barrier against a real redis-server: trips with exactly one leader per generation, is
//! reusable, withdraws arrivals, and a party killed (SIGKILL) before the trip leaves after its
//! lease instead of being counted forever.

mod support;

use std::time::Duration;

use support::{Worker, client, client_with_lease, eventually, say, ticket_keys, worker_env};
use toro_sync_redis::Error;

/// The worker side: does nothing unless run as a worker by a test below.
#[test]
fn worker_entry() {
    let Some((role, url, name, lease)) = worker_env() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let client = toro_sync_redis::Client::builder(&url)
            .lease(lease)
            .recheck_interval(Duration::from_millis(100))
            .connect()
            .await
            .expect("worker connects");
        if role == "arrive" {
            let barrier = client.barrier(&name, 3);
            let waited = barrier.wait().await;
            say(format!("tripped {waited:?}"));
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trips_with_one_leader_per_generation_and_is_reusable() {
    let client = client().await;
    let barrier = client.barrier("br-basic", 3);
    assert_eq!(barrier.parties(), 3);
    for generation in 1..=3u64 {
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let b = barrier.clone();
            tasks.push(tokio::spawn(async move {
                b.wait().deadline(Duration::from_secs(10)).await
            }));
        }
        let mut leaders = 0;
        for t in tasks {
            let r = t.await.unwrap().unwrap();
            assert_eq!(r.generation(), generation);
            leaders += usize::from(r.is_leader());
        }
        assert_eq!(leaders, 1, "exactly one leader per trip");
        assert_eq!(barrier.arrived().await.unwrap(), 0);
    }
    assert_eq!(ticket_keys("br-basic").await, (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parties_in_two_clients_trip_together() {
    let a = client().await;
    let b = client().await;
    let ba = a.barrier("br-two", 2);
    let bb = b.barrier("br-two", 2);
    let first = tokio::spawn(async move { ba.wait().deadline(Duration::from_secs(10)).await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            bb.arrived().await.unwrap() == 1
        })
        .await
    );
    let second = bb.wait().deadline(Duration::from_secs(10)).await.unwrap();
    let first = first.await.unwrap().unwrap();
    assert!(second.is_leader(), "the tripping arrival leads");
    assert!(!first.is_leader());
    assert_eq!(first.generation(), second.generation());
}

#[tokio::test]
async fn zero_deadline_trips_only_as_the_last_party() {
    let client = client().await;
    let barrier = client.barrier("br-zero", 2);
    assert!(
        barrier
            .wait()
            .deadline(Duration::ZERO)
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(
        ticket_keys("br-zero").await,
        (0, 0, 0),
        "nothing registered"
    );
    let b = barrier.clone();
    let waiting = tokio::spawn(async move { b.wait().await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            barrier.arrived().await.unwrap() == 1
        })
        .await
    );
    let last = barrier.wait().deadline(Duration::ZERO).await.unwrap();
    assert!(last.is_leader());
    assert!(!waiting.await.unwrap().unwrap().is_leader());
}

#[tokio::test]
async fn withdrawn_arrivals_are_not_counted() {
    let client = client().await;
    let barrier = client.barrier("br-withdraw", 2);
    // Timed out: withdrawn.
    assert!(
        barrier
            .wait()
            .deadline(Duration::from_millis(100))
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(barrier.arrived().await.unwrap(), 0);
    // Dropped mid-wait: withdrawn.
    let b = barrier.clone();
    let task = tokio::spawn(async move { b.wait().await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            barrier.arrived().await.unwrap() == 1
        })
        .await
    );
    task.abort();
    let _ = task.await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            barrier.arrived().await.unwrap() == 0
        })
        .await
    );
    // So one more arrival does not trip it.
    assert!(
        barrier
            .wait()
            .deadline(Duration::from_millis(100))
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(ticket_keys("br-withdraw").await, (0, 0, 0));
}

#[tokio::test]
async fn dropping_after_the_trip_changes_nothing() {
    let client = client().await;
    let barrier = client.barrier("br-after", 2);
    let b = barrier.clone();
    // A future polled until it arrived, then left unpolled while the trip happens, then dropped.
    let mut early = Box::pin(b.wait());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), early.as_mut())
            .await
            .is_err()
    );
    assert_eq!(barrier.arrived().await.unwrap(), 1);
    let last = barrier.wait().await.unwrap();
    assert!(last.is_leader());
    drop(early);
    // The next generation starts from zero, unaffected by the drop.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(barrier.arrived().await.unwrap(), 0);
    let b = barrier.clone();
    let one = tokio::spawn(async move { b.wait().await });
    let two = barrier.wait().await.unwrap();
    let one = one.await.unwrap().unwrap();
    assert_eq!(one.generation(), 2);
    assert_eq!(two.generation(), 2);
    assert!(one.is_leader() != two.is_leader());
}

#[tokio::test]
async fn mismatch_and_zero_parties() {
    let client = client().await;
    client.barrier("br-mismatch", 3).await.unwrap();
    let err = client.barrier("br-mismatch", 4).wait().await.unwrap_err();
    assert!(matches!(err, Error::Mismatch { .. }), "{err:?}");
    let err = client.barrier("br-none", 0).wait().await.unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_party_leaves_after_its_lease_and_does_not_hang_the_rest() {
    let lease = Duration::from_millis(300);
    let name = "br-kill";
    let mut worker = Worker::spawn("arrive", name, 300);
    let client = client_with_lease(lease).await;
    let barrier = client.barrier(name, 3);
    assert!(
        eventually(Duration::from_secs(30), || async {
            barrier.arrived().await.unwrap() == 1
        })
        .await,
        "the worker arrived"
    );
    worker.child.kill().unwrap();
    worker.child.wait().unwrap();

    // One live party arrives while the dead one still counts.
    let b = barrier.clone();
    let first = tokio::spawn(async move { b.wait().deadline(Duration::from_secs(10)).await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            barrier.arrived().await.unwrap() == 2
        })
        .await
    );
    // After the dead party's lease, the count excludes it.
    assert!(
        eventually(Duration::from_secs(3), || async {
            barrier.arrived().await.unwrap() == 1
        })
        .await,
        "the dead party left after its lease"
    );
    // Three live parties trip it.
    let b = barrier.clone();
    let second = tokio::spawn(async move { b.wait().deadline(Duration::from_secs(10)).await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            barrier.arrived().await.unwrap() == 2
        })
        .await
    );
    let third = barrier
        .wait()
        .deadline(Duration::from_secs(10))
        .await
        .unwrap();
    let first = first.await.unwrap().unwrap();
    let second = second.await.unwrap().unwrap();
    let leaders = [first, second, third]
        .iter()
        .filter(|r| r.is_leader())
        .count();
    assert_eq!(leaders, 1);
    assert_eq!(first.generation(), third.generation());
    assert_eq!(barrier.arrived().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrivals_trip_in_arrival_order_across_clients() {
    // Parties 2; arrivals A (client 1), B (client 2), C (client 1), D (client 2) in this
    // order: A and B make generation 1, C and D generation 2.
    let one = client().await;
    let two = client().await;
    let b1 = one.barrier("br-fifo", 2);
    let b2 = two.barrier("br-fifo", 2);
    let arrive = |b: &toro_sync_redis::Barrier| {
        let b = b.clone();
        tokio::spawn(async move { b.wait().deadline(Duration::from_secs(10)).await })
    };
    let a = arrive(&b1);
    assert!(
        eventually(Duration::from_secs(5), || async {
            b1.arrived().await.unwrap() == 1
        })
        .await
    );
    let b = arrive(&b2);
    let a = a.await.unwrap().unwrap();
    let b = b.await.unwrap().unwrap();
    let c = arrive(&b1);
    assert!(
        eventually(Duration::from_secs(5), || async {
            b2.arrived().await.unwrap() == 1
        })
        .await
    );
    let d = arrive(&b2);
    let c = c.await.unwrap().unwrap();
    let d = d.await.unwrap().unwrap();
    assert_eq!((a.generation(), b.generation()), (1, 1));
    assert_eq!((c.generation(), d.generation()), (2, 2));
    assert!(b.is_leader() && d.is_leader() && !a.is_leader() && !c.is_leader());
}

#[tokio::test]
async fn more_arrivals_than_parties_wait_for_the_next_trip() {
    // Three arrivals at a barrier of 2, queued at once: the first two trip, the third waits.
    let client = client().await;
    let barrier = client.barrier("br-overflow", 2);
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let b = barrier.clone();
        tasks.push(tokio::spawn(async move {
            b.wait().deadline(Duration::from_millis(800)).await
        }));
    }
    let mut tripped = 0;
    let mut timed_out = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => {
                assert_eq!(r.generation(), 1);
                tripped += 1;
            }
            Err(e) if e.is_timeout() => timed_out += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!((tripped, timed_out), (2, 1));
    assert_eq!(barrier.arrived().await.unwrap(), 0);
}
