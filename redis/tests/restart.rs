//! Redis killed and restarted without persistence, mid-run: holders learn they lost their
//! leases, waiters re-register and are served, fencing tokens keep increasing (their time
//! floor), scripts are loaded again. Its own test binary: the restart hits every client.

mod support;

use std::time::Duration;

use support::{client_with_lease, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_without_persistence() {
    let client = client_with_lease(Duration::from_secs(1)).await;
    let mutex = client.mutex("restart-mutex").await.unwrap();
    let sem = client.semaphore("restart-sem", 2).await.unwrap();
    let held = mutex.lock().await.unwrap();
    let permit = sem.acquire_many(2).await.unwrap();
    let old = held.fencing_token();
    let m = mutex.clone();
    let waiter = tokio::spawn(async move { m.lock().deadline(Duration::from_secs(20)).await });
    let s = sem.clone();
    let sem_waiter =
        tokio::spawn(async move { s.acquire().deadline(Duration::from_secs(20)).await });
    assert!(
        support::eventually(Duration::from_secs(5), || async {
            mutex.waiters().await.unwrap() == 1
        })
        .await
    );

    tokio::task::spawn_blocking(|| server().restart())
        .await
        .unwrap();

    // The old holders learn that Redis no longer has them.
    tokio::time::timeout(Duration::from_secs(5), held.lost())
        .await
        .expect("lock lease lost");
    tokio::time::timeout(Duration::from_secs(5), permit.lost())
        .await
        .expect("permit lease lost");
    // Their release is a no-op that says so.
    assert!(matches!(
        held.release().await,
        Err(toro_sync_redis::Error::LeaseLost)
    ));
    drop(permit);

    // The waiters' tickets vanished with the data: they take new ones and are served.
    let guard = waiter
        .await
        .unwrap()
        .expect("the waiter is served after the restart");
    assert!(
        guard.fencing_token() > old,
        "tokens keep increasing across a restart"
    );
    let p = sem_waiter
        .await
        .unwrap()
        .expect("the semaphore waiter is served");
    assert!(!guard.is_lost() && !p.is_lost());
    guard.release().await.unwrap();
    p.release().await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 2);
    assert!(!mutex.is_locked().await.unwrap());
}
