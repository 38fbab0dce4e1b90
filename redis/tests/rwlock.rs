//! The RwLock against a real redis-server: sharing, exclusion, write preference, FIFO.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::{client, eventually, ticket_keys};
use toro_sync_redis::Error;

#[tokio::test]
async fn readers_share_up_to_max_and_writers_exclude() {
    let client = client().await;
    let lock = client.rw_lock("rw-share", 2).await.unwrap();
    let r1 = lock.read().await.unwrap();
    let r2 = lock
        .try_read()
        .await
        .unwrap()
        .expect("a second reader fits");
    assert!(lock.try_read().await.unwrap().is_none(), "max_readers is 2");
    assert!(lock.try_write().await.unwrap().is_none());
    assert!(
        lock.write()
            .deadline(Duration::from_millis(50))
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(ticket_keys("rw-share").await, (0, 0, 0));
    r1.release().await.unwrap();
    r2.release().await.unwrap();
    let w = lock.try_write().await.unwrap().expect("free");
    assert!(lock.try_read().await.unwrap().is_none());
    assert!(w.fencing_token() > 0);
    w.release().await.unwrap();
}

#[tokio::test]
async fn a_waiting_writer_stops_new_readers() {
    let client = client().await;
    let lock = client.rw_lock("rw-prefer", 8).await.unwrap();
    let reader = lock.read().await.unwrap();
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));

    let (l, o) = (lock.clone(), order.clone());
    let writer = tokio::spawn(async move {
        let w = l.write().deadline(Duration::from_secs(10)).await.unwrap();
        o.lock().unwrap().push("write");
        w.release().await.unwrap();
    });
    assert!(
        eventually(Duration::from_secs(5), || async {
            lock.waiters().await.unwrap() == 1
        })
        .await
    );
    // A reader arriving after the writer waits, although the lock is only read-held.
    assert!(lock.try_read().await.unwrap().is_none());
    let (l, o) = (lock.clone(), order.clone());
    let late_reader = tokio::spawn(async move {
        let r = l.read().deadline(Duration::from_secs(10)).await.unwrap();
        o.lock().unwrap().push("read");
        r.release().await.unwrap();
    });
    assert!(
        eventually(Duration::from_secs(5), || async {
            lock.waiters().await.unwrap() == 2
        })
        .await
    );

    reader.release().await.unwrap();
    writer.await.unwrap();
    late_reader.await.unwrap();
    assert_eq!(*order.lock().unwrap(), vec!["write", "read"]);
}

#[tokio::test]
async fn rw_lock_parameters_are_checked() {
    let client = client().await;
    client.rw_lock("rw-params", 4).await.unwrap();
    assert!(matches!(
        client.rw_lock("rw-params", 5).await,
        Err(Error::Mismatch { .. })
    ));
    assert!(matches!(
        client.mutex("rw-params").await,
        Err(Error::Mismatch { .. })
    ));
    assert!(matches!(
        client.rw_lock("rw-zero", 0).await,
        Err(Error::Protocol { .. })
    ));
}
