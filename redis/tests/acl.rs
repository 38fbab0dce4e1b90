//! Least privilege: the tier works under an ACL user limited to its key prefix, its channels
//! and the commands it needs; a wrong password is a clear, non-retryable error that does not
//! show the password.

mod support;

use std::time::Duration;

use toro_sync_redis::{Client, Error};

async fn create_user() {
    let mut raw = support::raw().await;
    let _: () = redis::cmd("ACL")
        .arg("SETUSER")
        .arg("toro-acl")
        .arg("reset")
        .arg("on")
        .arg(">right-Pa55")
        .arg("~toro:*")
        .arg("&toro:*")
        .arg("-@all")
        .arg(&[
            "+evalsha",
            "+eval",
            "+script|load",
            "+spublish",
            "+ssubscribe",
            "+sunsubscribe",
            "+ping",
            "+hello",
            "+time",
            "+exists",
            "+type",
            "+hset",
            "+hget",
            "+hmget",
            "+hdel",
            "+hexists",
            "+hincrby",
            "+hlen",
            "+zadd",
            "+zrem",
            "+zrange",
            "+zrangebyscore",
            "+zremrangebyscore",
            "+zcard",
            "+zscore",
        ])
        .query_async(&mut raw)
        .await
        .unwrap();
}

#[tokio::test]
async fn works_under_a_least_privilege_user() {
    create_user().await;
    let url = format!(
        "redis://toro-acl:right-Pa55@127.0.0.1:{}",
        support::server().port
    );
    let client = Client::builder(&url)
        .recheck_interval(Duration::from_millis(100))
        .connect()
        .await
        .unwrap();
    let mutex = client.mutex("acl-mutex").await.unwrap();
    let held = mutex.lock().await.unwrap();
    let m = mutex.clone();
    let waiter = tokio::spawn(async move { m.lock().deadline(Duration::from_secs(10)).await });
    assert!(
        support::eventually(Duration::from_secs(5), || async {
            mutex.waiters().await.unwrap() == 1
        })
        .await
    );
    held.release().await.unwrap();
    waiter.await.unwrap().unwrap().release().await.unwrap();
    let sem = client.semaphore("acl-sem", 2).await.unwrap();
    let p = sem.acquire_many(2).await.unwrap();
    sem.release().await.unwrap();
    p.release().await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 3);

    // Outside its prefix the user can do nothing.
    let outside = Client::builder(&url).prefix("other:").connect().await;
    let err = match outside {
        Ok(client) => client.mutex("acl-outside").await.unwrap_err(),
        Err(err) => err,
    };
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
    assert!(!err.to_string().contains("right-Pa55"));
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error() {
    create_user().await;
    let url = format!(
        "redis://toro-acl:not-the-Pa55@127.0.0.1:{}",
        support::server().port
    );
    let err = Client::connect(&url).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!err.is_retryable(), "{text}");
    assert!(
        text.contains("WRONGPASS") || text.to_lowercase().contains("auth"),
        "{text}"
    );
    assert!(!text.contains("not-the-Pa55"), "{text}");
}
