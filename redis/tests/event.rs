//! Event against a real redis-server: set/clear/wait, set(); clear() releasing earlier
//! waiters in another client, deadlines, cancellation, mismatch.

mod support;

use std::time::Duration;

use support::{client, eventually, ticket_keys};
use toro_sync_redis::Error;

#[tokio::test]
async fn set_wakes_waiters_and_later_waits_pass() {
    let client = client().await;
    let event = client.event("ev-basic");
    assert!(!event.is_set().await.unwrap());
    let mut waiters = Vec::new();
    for _ in 0..3 {
        let e = event.clone();
        waiters.push(tokio::spawn(async move {
            e.wait().deadline(Duration::from_secs(10)).await
        }));
    }
    assert!(
        eventually(Duration::from_secs(5), || async {
            event.waiters().await.unwrap() == 3
        })
        .await
    );
    event.set().await.unwrap();
    for w in waiters {
        w.await.unwrap().unwrap();
    }
    assert!(event.is_set().await.unwrap());
    // Set: a wait completes at once, even a try.
    event.wait().await.unwrap();
    event.wait().deadline(Duration::ZERO).await.unwrap();
    event.clear().await.unwrap();
    assert!(!event.is_set().await.unwrap());
    assert!(
        event
            .wait()
            .deadline(Duration::ZERO)
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(event.waiters().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_then_clear_releases_earlier_waiters_of_another_client() {
    let waiter_client = client().await;
    let setter_client = client().await;
    let name = "ev-set-clear";
    let mut waiters = Vec::new();
    for _ in 0..4 {
        let e = waiter_client.event(name);
        waiters.push(tokio::spawn(async move {
            e.wait().deadline(Duration::from_secs(10)).await
        }));
    }
    let setter = setter_client.event(name);
    assert!(
        eventually(Duration::from_secs(5), || async {
            setter.waiters().await.unwrap() == 4
        })
        .await
    );
    setter.set().await.unwrap();
    setter.clear().await.unwrap();
    for w in waiters {
        w.await
            .unwrap()
            .expect("released by the set before the clear");
    }
    // A wait that starts after the clear waits.
    let late = waiter_client.event(name);
    assert!(
        late.wait()
            .deadline(Duration::from_millis(200))
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(ticket_keys(name).await, (0, 0, 0));
}

#[tokio::test]
async fn a_withdrawn_waiter_in_the_middle_blocks_nobody() {
    // The set completes the whole line in one script, head first; a waiter that timed out in
    // the middle of it left no hole that would stop the rest.
    let client = client().await;
    let event = client.event("ev-fifo");
    let first = tokio::spawn({
        let e = event.clone();
        async move { e.wait().await }
    });
    let middle = event.wait().deadline(Duration::from_millis(150));
    let last = tokio::spawn({
        let e = event.clone();
        async move { e.wait().await }
    });
    assert!(middle.await.unwrap_err().is_timeout());
    assert!(
        eventually(Duration::from_secs(5), || async {
            event.waiters().await.unwrap() == 2
        })
        .await
    );
    event.set().await.unwrap();
    first.await.unwrap().unwrap();
    last.await.unwrap().unwrap();
}

#[tokio::test]
async fn deadline_withdraws_and_zero_registers_nothing() {
    let client = client().await;
    let event = client.event("ev-deadline");
    let err = event
        .wait()
        .deadline(Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    assert_eq!(event.waiters().await.unwrap(), 0);
    assert!(
        event
            .wait()
            .deadline(Duration::ZERO)
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(ticket_keys("ev-deadline").await, (0, 0, 0));
}

#[tokio::test]
async fn dropped_wait_leaves_the_line() {
    let client = client().await;
    let event = client.event("ev-drop");
    let e = event.clone();
    let task = tokio::spawn(async move { e.wait().await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            event.waiters().await.unwrap() == 1
        })
        .await
    );
    task.abort();
    let _ = task.await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            event.waiters().await.unwrap() == 0
        })
        .await
    );
    // Setting afterwards completes nobody and leaves nothing behind.
    event.set().await.unwrap();
    assert_eq!(ticket_keys("ev-drop").await, (0, 0, 0));
}

#[tokio::test]
async fn reopening_as_another_kind_is_a_mismatch() {
    let client = client().await;
    client.event("ev-mismatch").await.unwrap();
    let err = client.mutex("ev-mismatch").try_lock().await.unwrap_err();
    assert!(matches!(err, Error::Mismatch { .. }), "{err:?}");
    let err = client.barrier("ev-mismatch", 2).await.unwrap_err();
    assert!(matches!(err, Error::Mismatch { .. }), "{err:?}");
    let sem = client.semaphore("ev-mismatch-2", 1);
    sem.available().await.unwrap();
    let err = client.event("ev-mismatch-2").set().await.unwrap_err();
    assert!(matches!(err, Error::Mismatch { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_then_clear_releases_a_line_longer_than_one_script_budget() {
    // One script completes at most 256 tickets; the rest are covered by the sequence the set
    // recorded and complete on the next script (here the waiters' own re-checks).
    let client = client().await;
    let event = client.event("ev-long-line");
    let mut waiters = Vec::new();
    for _ in 0..300 {
        let e = event.clone();
        waiters.push(tokio::spawn(async move {
            e.wait().deadline(Duration::from_secs(10)).await
        }));
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            event.waiters().await.unwrap() == 300
        })
        .await
    );
    event.set().await.unwrap();
    event.clear().await.unwrap();
    for w in waiters {
        w.await.unwrap().expect("released by the set");
    }
    assert_eq!(ticket_keys("ev-long-line").await, (0, 0, 0));
}
