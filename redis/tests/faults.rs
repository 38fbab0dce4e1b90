//! Faults with real processes: a holder paused past its lease (SIGSTOP) and a holder killed
//! (SIGKILL). The test binary re-runs itself as the worker (`worker_entry`).

mod support;

use std::time::{Duration, Instant};

use support::{Worker, client_with_lease, say, worker_env};

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
        let mutex = client.mutex(&name).await.unwrap();
        if role == "contend" {
            contend(&url, &mutex).await;
            return;
        }
        let guard = mutex.lock().await.unwrap();
        say(format!("locked {}", guard.fencing_token()));
        match role.as_str() {
            // Report when the lease is lost (after a SIGSTOP past it and a SIGCONT).
            "hold-report-lost" => {
                guard.lost().await;
                say(format!("lost {}", guard.is_lost()));
                // The resource refuses the old holder's write: a newer token was used since.
                let accepted =
                    fenced_write(&url, "test:{sigstop}:resource", guard.fencing_token()).await;
                say(format!(
                    "fenced write {}",
                    if accepted { "accepted" } else { "refused" }
                ));
                match guard.release().await {
                    Err(toro_sync_redis::Error::LeaseLost) => say("release LeaseLost"),
                    other => say(format!("release {other:?}")),
                }
            }
            // Wait, then let go at once.
            "wait" => {
                guard.release().await.unwrap();
            }
            // Hold until killed.
            _ => std::future::pending::<()>().await,
        }
    });
}

/// The fenced resource: a key that accepts a token only above the newest it has seen.
const FENCED_WRITE: &str = "local last = tonumber(redis.call('GET', KEYS[1]) or '0') \
     if tonumber(ARGV[1]) <= last then return 0 end \
     redis.call('SET', KEYS[1], ARGV[1]) return 1";

/// A write to a fenced resource (a key) that accepts only a token above the newest it has seen.
async fn fenced_write(url: &str, key: &str, token: u64) -> bool {
    let script = redis::Script::new(FENCED_WRITE);
    let mut raw = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let accepted: i64 = script
        .key(key)
        .arg(token)
        .invoke_async(&mut raw)
        .await
        .unwrap();
    accepted == 1
}

/// Ten critical sections, each checking that it is alone (a counter in Redis) and writing to a
/// fenced resource that accepts only tokens above the newest it has seen.
async fn contend(url: &str, mutex: &toro_sync_redis::Mutex) {
    let fenced_write = redis::Script::new(FENCED_WRITE);
    let mut raw = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for _ in 0..10 {
        let guard = mutex
            .lock()
            .deadline(Duration::from_secs(30))
            .await
            .unwrap();
        let inside: i64 = redis::cmd("INCR")
            .arg("test:{contend}:inside")
            .query_async(&mut raw)
            .await
            .unwrap();
        if inside != 1 {
            say("overlap");
        }
        let accepted: i64 = fenced_write
            .key("test:{contend}:resource")
            .arg(guard.fencing_token())
            .invoke_async(&mut raw)
            .await
            .unwrap();
        if accepted != 1 {
            say("stale token");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
        let _: i64 = redis::cmd("DECR")
            .arg("test:{contend}:inside")
            .query_async(&mut raw)
            .await
            .unwrap();
        guard.release().await.unwrap();
    }
    say("done");
}

fn token_of(line: &str) -> u64 {
    line.strip_prefix("locked ")
        .expect("a locked line")
        .parse()
        .expect("a token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_holder_loses_its_lease_and_a_newer_token_exists() {
    let lease = Duration::from_millis(300);
    let worker = Worker::spawn("hold-report-lost", "fault-sigstop", 300);
    let old = token_of(&worker.next_line(Duration::from_secs(30)));
    worker.signal(libc::SIGSTOP);

    let client = client_with_lease(lease).await;
    let mutex = client.mutex("fault-sigstop").await.unwrap();
    let started = Instant::now();
    let guard = mutex
        .lock()
        .deadline(Duration::from_secs(10))
        .await
        .unwrap();
    assert!(
        guard.fencing_token() > old,
        "newer holder gets a larger token"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "granted soon after the lease ran out"
    );
    // The new holder writes to the fenced resource with its token.
    assert!(
        fenced_write(
            &support::server().url(),
            "test:{sigstop}:resource",
            guard.fencing_token()
        )
        .await
    );

    worker.signal(libc::SIGCONT);
    assert_eq!(worker.next_line(Duration::from_secs(5)), "lost true");
    assert_eq!(
        worker.next_line(Duration::from_secs(5)),
        "fenced write refused"
    );
    assert_eq!(
        worker.next_line(Duration::from_secs(5)),
        "release LeaseLost"
    );
    // The old holder's release did not touch the new holder's lock.
    assert!(mutex.is_locked().await.unwrap());
    assert!(!guard.is_lost());
    guard.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_holder_frees_the_lock_after_its_lease() {
    let lease = Duration::from_millis(300);
    let mut worker = Worker::spawn("hold", "fault-kill", 300);
    let old = token_of(&worker.next_line(Duration::from_secs(30)));

    let client = client_with_lease(lease).await;
    let mutex = client.mutex("fault-kill").await.unwrap();
    let m = mutex.clone();
    let waiter = tokio::spawn(async move { m.lock().deadline(Duration::from_secs(10)).await });
    assert!(
        support::eventually(Duration::from_secs(5), || async {
            mutex.waiters().await.unwrap() == 1
        })
        .await
    );
    let killed = Instant::now();
    worker.child.kill().unwrap();
    worker.child.wait().unwrap();
    let guard = waiter.await.unwrap().unwrap();
    assert!(guard.fencing_token() > old);
    assert!(
        killed.elapsed() < lease + Duration::from_secs(1),
        "granted within lease + one re-check, took {:?}",
        killed.elapsed()
    );
    guard.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_processes_contend_with_fenced_writes() {
    let workers: Vec<Worker> = (0..8)
        .map(|_| Worker::spawn("contend", "fault-contend", 5_000))
        .collect();
    for worker in &workers {
        assert_eq!(worker.next_line(Duration::from_secs(60)), "done");
    }
    let client = client_with_lease(Duration::from_secs(5)).await;
    let mutex = client.mutex("fault-contend").await.unwrap();
    assert!(!mutex.is_locked().await.unwrap());
    assert_eq!(mutex.waiters().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_waiter_leaves_the_line_after_its_lease() {
    let client = client_with_lease(Duration::from_millis(300)).await;
    let mutex = client.mutex("fault-kill-waiter").await.unwrap();
    let held = mutex.lock().await.unwrap();
    let mut worker = Worker::spawn("wait", "fault-kill-waiter", 300);
    assert!(
        support::eventually(Duration::from_secs(30), || async {
            mutex.waiters().await.unwrap() == 1
        })
        .await
    );
    worker.child.kill().unwrap();
    worker.child.wait().unwrap();
    assert!(
        support::eventually(Duration::from_secs(3), || async {
            mutex.waiters().await.unwrap() == 0
        })
        .await,
        "the dead waiter's ticket left the line"
    );
    held.release().await.unwrap();
    assert!(
        !mutex.is_locked().await.unwrap(),
        "nothing was granted to the dead waiter"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_waiter_rejoins_after_its_ticket_expired() {
    let client = client_with_lease(Duration::from_millis(300)).await;
    let mutex = client.mutex("fault-pause-waiter").await.unwrap();
    let held = mutex.lock().await.unwrap();
    let worker = Worker::spawn("wait", "fault-pause-waiter", 300);
    assert!(
        support::eventually(Duration::from_secs(30), || async {
            mutex.waiters().await.unwrap() == 1
        })
        .await
    );
    worker.signal(libc::SIGSTOP);
    assert!(
        support::eventually(Duration::from_secs(3), || async {
            mutex.waiters().await.unwrap() == 0
        })
        .await,
        "the paused waiter's ticket expired"
    );
    worker.signal(libc::SIGCONT);
    let old = held.fencing_token();
    held.release().await.unwrap();
    // The worker finds its ticket gone, takes a new one, and is served.
    let line = worker.next_line(Duration::from_secs(5));
    assert!(token_of(&line) > old, "{line}");
}
