//! toro's graceful-shutdown example (`lock_example.py`): a poller holds a `Lock` around each
//! request and pauses between requests; shutdown takes the same lock before stopping, so it
//! never cuts a request off mid-flight.
//!
//! The requests are simulated (a short sleep), and the durations are scaled down so the whole
//! program runs in about a second. The poller is stopped by aborting its task while shutdown
//! holds the lock: at that moment it can only be pausing or waiting for the lock.
//!
//! Run with `cargo run --release --example lock_shutdown`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use toro_sync::Lock;

const REQUEST: Duration = Duration::from_millis(150);
const PAUSE: Duration = Duration::from_millis(50);
const SHUTDOWN_AFTER: Duration = Duration::from_millis(1050);

#[derive(Default)]
struct Requests {
    started: AtomicUsize,
    finished: AtomicUsize,
    in_flight: AtomicBool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let start = Instant::now();
    let lock = Arc::new(Lock::new(()));
    let requests = Arc::new(Requests::default());

    // toro: `poll()`, looping `with (yield lock.acquire()): fetch(...)`, then a pause.
    let poller = tokio::spawn({
        let (lock, requests) = (lock.clone(), requests.clone());
        async move {
            loop {
                {
                    let _guard = lock.lock().await;
                    let n = requests.started.fetch_add(1, Ordering::SeqCst) + 1;
                    requests.in_flight.store(true, Ordering::SeqCst);
                    println!("{:>4} ms  request {n}: starting", ms(start));
                    tokio::time::sleep(REQUEST).await; // the HTTP fetch
                    println!("{:>4} ms  request {n}: 200 OK", ms(start));
                    requests.in_flight.store(false, Ordering::SeqCst);
                    requests.finished.fetch_add(1, Ordering::SeqCst);
                } // the guard drops here: the lock is released
                tokio::time::sleep(PAUSE).await;
            }
        }
    });

    // toro: `loop.add_timeout(time.time() + 5, shutdown)`.
    tokio::time::sleep(SHUTDOWN_AFTER).await;
    if lock.is_locked() {
        println!(
            "{:>4} ms  shutdown: a request is in flight, waiting for the lock",
            ms(start)
        );
    }
    let _guard = lock
        .lock()
        .deadline(Duration::from_secs(2))
        .await
        .expect("a request ends well within its deadline");
    assert!(
        !requests.in_flight.load(Ordering::SeqCst),
        "shutdown holds the lock, so no request is in flight"
    );
    println!("{:>4} ms  shutdown: stopping", ms(start));
    poller.abort(); // toro: `loop.stop()`
    let _ = poller.await;

    let started = requests.started.load(Ordering::SeqCst);
    let finished = requests.finished.load(Ordering::SeqCst);
    assert!(started > 0);
    assert_eq!(started, finished, "no request was cut off");
    println!("{finished} requests, none cut off");
}

fn ms(start: Instant) -> u128 {
    start.elapsed().as_millis()
}
