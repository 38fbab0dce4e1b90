//! AsyncResult against a real redis-server: set once (a second set gives the value back),
//! get waits, try_get, a set race between two clients, bad encodings, deadlines.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::{client, eventually, raw, ticket_keys};
use toro_sync_redis::Error;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Summary {
    pages: u64,
    title: String,
}

#[tokio::test]
async fn set_once_and_get() {
    let client = client().await;
    let result = client.async_result::<Summary>("ar-basic");
    assert_eq!(result.try_get().await.unwrap(), None);
    assert!(!result.is_ready().await.unwrap());
    let value = Summary {
        pages: 42,
        title: "crawl".into(),
    };
    result.set(value.clone()).await.unwrap();
    assert_eq!(result.get().await.unwrap(), value);
    assert_eq!(result.get().deadline(Duration::ZERO).await.unwrap(), value);
    assert_eq!(result.try_get().await.unwrap(), Some(value.clone()));
    let other = Summary {
        pages: 1,
        title: "late".into(),
    };
    let err = result.set(other.clone()).await.unwrap_err();
    assert!(err.is_already_set());
    assert_eq!(
        err.into_value(),
        other,
        "the second set gets its value back"
    );
    assert_eq!(result.get().await.unwrap(), value, "the first value stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_waits_for_a_set_in_another_client() {
    let reader = client().await;
    let writer = client().await;
    let mut gets = Vec::new();
    for _ in 0..3 {
        let r = reader.async_result::<String>("ar-wait");
        gets.push(tokio::spawn(async move {
            r.get().deadline(Duration::from_secs(10)).await
        }));
    }
    let w = writer.async_result::<String>("ar-wait");
    assert!(
        eventually(Duration::from_secs(5), || async {
            w.waiters().await.unwrap() == 3
        })
        .await
    );
    w.set("hello".to_string()).await.unwrap();
    for g in gets {
        assert_eq!(g.await.unwrap().unwrap(), "hello");
    }
    assert_eq!(ticket_keys("ar-wait").await, (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_race_between_two_clients_has_one_winner() {
    for round in 0..5 {
        let a = client().await;
        let b = client().await;
        let name = format!("ar-race-{round}");
        let ra = a.async_result::<u32>(&name);
        let rb = b.async_result::<u32>(&name);
        let (x, y) = tokio::join!(ra.set(1), rb.set(2));
        let winners = [x.is_ok(), y.is_ok()].iter().filter(|ok| **ok).count();
        assert_eq!(winners, 1, "exactly one set wins");
        let stored = ra.get().await.unwrap();
        match (x, y) {
            (Ok(()), Err(e)) => {
                assert_eq!(stored, 1);
                assert!(e.is_already_set());
                assert_eq!(e.into_value(), 2);
            }
            (Err(e), Ok(())) => {
                assert_eq!(stored, 2);
                assert!(e.is_already_set());
                assert_eq!(e.into_value(), 1);
            }
            _ => unreachable!(),
        }
    }
}

#[tokio::test]
async fn deadline_withdraws_and_zero_registers_nothing() {
    let client = client().await;
    let result = client.async_result::<u8>("ar-deadline");
    assert!(
        result
            .get()
            .deadline(Duration::from_millis(100))
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert!(
        result
            .get()
            .deadline(Duration::ZERO)
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(result.waiters().await.unwrap(), 0);
    assert_eq!(ticket_keys("ar-deadline").await, (0, 0, 0));
}

#[tokio::test]
async fn dropped_get_leaves_the_line() {
    let client = client().await;
    let result = client.async_result::<u8>("ar-drop");
    let r = result.clone();
    let task = tokio::spawn(async move { r.get().await });
    assert!(
        eventually(Duration::from_secs(5), || async {
            result.waiters().await.unwrap() == 1
        })
        .await
    );
    task.abort();
    let _ = task.await;
    assert!(
        eventually(Duration::from_secs(5), || async {
            result.waiters().await.unwrap() == 0
        })
        .await
    );
}

#[tokio::test]
async fn bad_encoding_is_an_error() {
    let client = client().await;
    // Another type with another shape.
    client
        .async_result::<String>("ar-type")
        .set("not a number".into())
        .await
        .unwrap();
    let err = client
        .async_result::<(u64, u64, u64)>("ar-type")
        .get()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Encoding { .. }), "{err:?}");
    // Foreign bytes under the key.
    client.async_result::<u8>("ar-foreign").await.unwrap();
    let mut conn = raw().await;
    let _: () = redis::cmd("HSET")
        .arg("toro:{ar-foreign}:m")
        .arg("value")
        .arg(&[0xffu8, 0xff, 0xff][..])
        .query_async(&mut conn)
        .await
        .unwrap();
    let err = client
        .async_result::<u8>("ar-foreign")
        .try_get()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Encoding { .. }), "{err:?}");
}

#[tokio::test]
async fn reopening_as_another_kind_is_a_mismatch() {
    let client = client().await;
    client.event("ar-mismatch").set().await.unwrap();
    let err = client.async_result::<u8>("ar-mismatch").await.unwrap_err();
    assert!(matches!(err, Error::Mismatch { .. }), "{err:?}");
    let err = client
        .async_result::<u8>("ar-mismatch")
        .set(1)
        .await
        .unwrap_err();
    assert!(matches!(err.error(), Error::Mismatch { .. }), "{err:?}");
}
