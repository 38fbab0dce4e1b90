//! Semaphore and BoundedSemaphore against a real redis-server.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use support::{client, eventually, ticket_keys};
use toro_sync_redis::Error;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_permits_holders() {
    let client = client().await;
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let sem = client.semaphore("sem-bound", 3).await.unwrap();
        let inside = inside.clone();
        let peak = peak.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..6 {
                let permit = sem
                    .acquire()
                    .deadline(Duration::from_secs(20))
                    .await
                    .unwrap();
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(now <= 3, "{now} holders of 3 permits");
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                permit.release().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) >= 2);
    let sem = client.semaphore("sem-bound", 3).await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 3);
    assert_eq!(sem.waiters().await.unwrap(), 0);
}

#[tokio::test]
async fn acquire_many_is_atomic_and_fifo() {
    let client = client().await;
    let sem = client.semaphore("sem-many", 4).await.unwrap();
    let first = sem.acquire_many(3).await.unwrap();
    assert_eq!(first.permits(), 3);
    assert_eq!(sem.available().await.unwrap(), 1);

    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (s, o) = (sem.clone(), order.clone());
    let big = tokio::spawn(async move {
        let p = s
            .acquire_many(3)
            .deadline(Duration::from_secs(10))
            .await
            .unwrap();
        o.lock().unwrap().push("big");
        p
    });
    assert!(
        eventually(Duration::from_secs(5), || async {
            sem.waiters().await.unwrap() == 1
        })
        .await
    );
    // The big head request holds nothing while it waits, and blocks a later small one even
    // though a permit is free.
    assert_eq!(sem.available().await.unwrap(), 1);
    assert!(sem.try_acquire().await.unwrap().is_none());
    let (s, o) = (sem.clone(), order.clone());
    let small = tokio::spawn(async move {
        let p = s.acquire().deadline(Duration::from_secs(10)).await.unwrap();
        o.lock().unwrap().push("small");
        p
    });
    assert!(
        eventually(Duration::from_secs(5), || async {
            sem.waiters().await.unwrap() == 2
        })
        .await
    );
    assert_eq!(sem.available().await.unwrap(), 1);

    first.release().await.unwrap();
    let big = big.await.unwrap();
    let small = small.await.unwrap();
    assert_eq!(*order.lock().unwrap(), vec!["big", "small"]);
    assert!(big.fencing_token() < small.fencing_token());
    assert_eq!(sem.available().await.unwrap(), 0);
    big.release().await.unwrap();
    small.release().await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_waiters_conserve_permits() {
    let client = client().await;
    let sem = client.semaphore("sem-drop", 2).await.unwrap();
    let a = sem.acquire().await.unwrap();
    let b = sem.acquire().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let s = sem.clone();
        tasks.push(tokio::spawn(async move {
            let p = s.acquire().await.unwrap();
            tokio::time::sleep(Duration::from_millis(1 + i)).await;
            drop(p);
        }));
    }
    assert!(
        eventually(Duration::from_secs(5), || async {
            sem.waiters().await.unwrap() == 6
        })
        .await
    );
    // Cancel half of them, one of them racing the release that grants it.
    tasks[0].abort();
    tasks[3].abort();
    a.release().await.unwrap();
    tasks[1].abort();
    b.release().await.unwrap();
    for task in tasks {
        let _ = task.await;
    }
    assert!(
        eventually(Duration::from_secs(5), || async {
            sem.available().await.unwrap() == 2
        })
        .await,
        "every permit came back"
    );
    assert_eq!(sem.waiters().await.unwrap(), 0);
    assert_eq!(ticket_keys("sem-drop").await, (0, 0, 0));
}

#[tokio::test]
async fn try_acquire_and_zero_deadline_register_nothing() {
    let client = client().await;
    let sem = client.semaphore("sem-try", 1).await.unwrap();
    let p = sem.try_acquire().await.unwrap().expect("a free permit");
    assert!(sem.try_acquire().await.unwrap().is_none());
    assert!(
        sem.acquire()
            .deadline(Duration::ZERO)
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert!(
        sem.acquire()
            .deadline(Duration::from_millis(50))
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(ticket_keys("sem-try").await, (0, 0, 0));
    p.release().await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 1);
}

#[tokio::test]
async fn release_adds_a_permit_without_a_guard() {
    let client = client().await;
    let signal = client.semaphore("sem-signal", 0).await.unwrap();
    let s = signal.clone();
    let waiter = tokio::spawn(async move { s.acquire().deadline(Duration::from_secs(10)).await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            signal.waiters().await.unwrap() == 1
        })
        .await
    );
    signal.release().await.unwrap();
    let permit = waiter.await.unwrap().unwrap();
    assert_eq!(permit.permits(), 1);
    permit.release().await.unwrap();
    assert_eq!(signal.available().await.unwrap(), 1);
}

#[tokio::test]
async fn bounded_semaphore_refuses_over_release() {
    let client = client().await;
    let sem = client.bounded_semaphore("bsem-over", 2).await.unwrap();
    assert_eq!(sem.release().await, Err(Error::OverRelease { bound: 2 }));
    assert_eq!(sem.available().await.unwrap(), 2);
    let p = sem.acquire().await.unwrap();
    // Held permits count toward the bound too.
    assert_eq!(sem.release().await, Err(Error::OverRelease { bound: 2 }));
    p.forget().await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 1);
    sem.release().await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 2);
    assert!(sem.release().await.is_err());
    assert!(matches!(
        sem.acquire_many(3).await,
        Err(Error::Protocol { .. })
    ));
}

#[tokio::test]
async fn released_permit_reports_a_lost_lease() {
    let client = support::client_with_lease(Duration::from_millis(200)).await;
    let sem = client.semaphore("sem-lost", 1).await.unwrap();
    let p = sem.acquire().await.unwrap();
    // Renewed in the background well past its lease.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!p.is_lost());
    assert_eq!(sem.available().await.unwrap(), 0);
    p.release().await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 1);
}

/// Many tasks acquire with random deadlines and cancel at random points; the bound holds
/// throughout and every permit comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_cancellation_conserves_permits() {
    let client = client().await;
    let sem = client.semaphore("sem-random-cancel", 3).await.unwrap();
    let inside = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for seed in 0..8u64 {
        let sem = sem.clone();
        let inside = inside.clone();
        tasks.push(tokio::spawn(async move {
            let mut x = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut next = move |m: u64| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) % m
            };
            for _ in 0..25 {
                let n = 1 + next(2);
                let wait = Duration::from_micros(next(4000));
                let acquire = sem.acquire_many(n);
                let outcome = match next(3) {
                    // Dropped by a racing timer.
                    0 => tokio::select! {
                        r = acquire => Some(r),
                        _ = tokio::time::sleep(wait) => None,
                    },
                    // Its own deadline.
                    1 => Some(acquire.deadline(wait).await),
                    _ => Some(acquire.await),
                };
                if let Some(Ok(permit)) = outcome {
                    let now = inside.fetch_add(n as usize, Ordering::SeqCst) + n as usize;
                    assert!(now <= 3, "{now} permits held of 3");
                    tokio::time::sleep(Duration::from_micros(next(1500))).await;
                    inside.fetch_sub(n as usize, Ordering::SeqCst);
                    if next(2) == 0 {
                        permit.release().await.unwrap();
                    } else {
                        drop(permit);
                    }
                } else if let Some(Err(err)) = outcome {
                    assert!(err.is_timeout(), "{err:?}");
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert!(
        eventually(Duration::from_secs(5), || async {
            sem.available().await.unwrap() == 3
        })
        .await,
        "every permit came back"
    );
    assert_eq!(sem.waiters().await.unwrap(), 0);
    assert!(
        eventually(Duration::from_secs(5), || async {
            ticket_keys("sem-random-cancel").await == (0, 0, 0)
        })
        .await
    );
}
