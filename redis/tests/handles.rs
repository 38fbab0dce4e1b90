//! Constructors return handles at once; awaiting a handle opens it in one round trip; a
//! mismatch or an invalid parameter surfaces from the first operation either way.

mod support;

use std::time::Duration;

use support::client;
use toro_sync_redis::Error;

fn is_mismatch<T: std::fmt::Debug>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::Mismatch { .. }))
}

#[tokio::test]
async fn handles_without_await_open_on_first_use() {
    let client = client().await;
    // No round trip here: the first operation creates the primitive.
    let mutex = client.mutex("h-mutex");
    let guard = mutex.lock().await.unwrap();
    guard.release().await.unwrap();
    let sem = client.semaphore("h-sem", 2);
    assert_eq!(sem.available().await.unwrap(), 2);
    let bsem = client.bounded_semaphore("h-bsem", 1);
    assert_eq!(bsem.available().await.unwrap(), 1);
    let rw = client.rw_lock("h-rw", 4);
    drop(rw.read().await.unwrap());
    let event = client.event("h-event");
    assert!(!event.is_set().await.unwrap());
    let result = client.async_result::<u8>("h-result");
    assert_eq!(result.try_get().await.unwrap(), None);
    let barrier = client.barrier("h-barrier", 1);
    assert!(barrier.wait().await.unwrap().is_leader());
}

#[tokio::test]
async fn awaiting_a_handle_opens_and_checks_it() {
    let client = client().await;
    let sem = client.semaphore("h-open", 3).await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 3);
    assert!(is_mismatch(client.semaphore("h-open", 4).await));
    assert!(is_mismatch(client.bounded_semaphore("h-open", 3).await));
    assert!(is_mismatch(client.mutex("h-open").await));
    assert!(is_mismatch(client.rw_lock("h-open", 3).await));
    assert!(is_mismatch(client.event("h-open").await));
    assert!(is_mismatch(client.async_result::<String>("h-open").await));
    assert!(is_mismatch(client.barrier("h-open", 3).await));
}

#[tokio::test]
async fn mismatch_surfaces_from_the_first_operation() {
    let client = client().await;
    client.rw_lock("h-first", 8).await.unwrap();
    let other = client.rw_lock("h-first", 2);
    assert!(is_mismatch(other.read().await));
    assert!(is_mismatch(other.try_write().await));
    assert!(is_mismatch(other.waiters().await));
    let sem = client.semaphore("h-first", 8);
    assert!(is_mismatch(
        sem.acquire().deadline(Duration::from_secs(1)).await
    ));
    assert!(is_mismatch(sem.release().await));
    // Nothing was changed by the refused operations.
    let rw = client.rw_lock("h-first", 8);
    drop(rw.write().deadline(Duration::ZERO).await.unwrap());
}

#[tokio::test]
async fn invalid_parameters_fail_every_operation() {
    let client = client().await;
    let bad = client.mutex("a{b}");
    assert!(matches!(bad.lock().await, Err(Error::Protocol { .. })));
    assert!(matches!(bad.clone().await, Err(Error::Protocol { .. })));
    let none = client.rw_lock("h-zero-readers", 0);
    assert!(matches!(none.read().await, Err(Error::Protocol { .. })));
    assert!(matches!(
        client.barrier("h-zero-parties", 0).await,
        Err(Error::Protocol { .. })
    ));
    let empty = client.event("");
    assert!(matches!(empty.set().await, Err(Error::Protocol { .. })));
}
