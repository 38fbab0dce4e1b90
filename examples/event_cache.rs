//! toro's caching-proxy example (`event_example.py`): each cache entry holds an `Event`. The
//! first request for a key fetches the value upstream and sets the event; concurrent requests
//! for the same key wait on that event instead of fetching again, so there is exactly one
//! upstream fetch per key however many requests arrive.
//!
//! Run with `cargo run --release --example event_cache`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use toro_sync::Event;

const KEYS: [&str; 3] = ["/a", "/b", "/c"];
const REQUESTS_PER_KEY: usize = 10;
const FETCH: Duration = Duration::from_millis(100);

/// toro: `class CacheEntry: event = toro.Event(); value = None`.
#[derive(Default)]
struct Entry {
    ready: Event,
    value: OnceLock<String>,
}

#[derive(Default)]
struct Proxy {
    cache: Mutex<HashMap<String, Arc<Entry>>>,
    fetches: Mutex<HashMap<String, usize>>,
}

impl Proxy {
    /// toro: `get_value(key)`.
    async fn get(&self, key: &str) -> String {
        // Look the entry up, creating it if this is the first request for the key.
        let (entry, first) = {
            let mut cache = self.cache.lock().unwrap();
            match cache.get(key) {
                Some(entry) => (entry.clone(), false),
                None => {
                    let entry = Arc::new(Entry::default());
                    cache.insert(key.to_owned(), entry.clone());
                    (entry, true)
                }
            }
        };
        if first {
            let value = self.fetch_upstream(key).await;
            entry
                .value
                .set(value)
                .expect("only the first request sets the value");
            entry.ready.set();
        } else {
            entry
                .ready
                .wait()
                .deadline(Duration::from_secs(2))
                .await
                .expect("the first request fetches well within the deadline");
        }
        entry.value.get().expect("set before the event").clone()
    }

    /// The slow upstream fetch, counted per key.
    async fn fetch_upstream(&self, key: &str) -> String {
        *self
            .fetches
            .lock()
            .unwrap()
            .entry(key.to_owned())
            .or_default() += 1;
        println!("fetching {key} upstream");
        tokio::time::sleep(FETCH).await;
        format!("contents of {key}")
    }
}

#[tokio::main]
async fn main() {
    let start = Instant::now();
    let proxy = Arc::new(Proxy::default());
    let served = Arc::new(AtomicUsize::new(0));

    // A request arrives every 5 ms, the keys taking turns (each key every 15 ms): some while the key's fetch is in
    // flight (they wait on the event), some after it is cached (the event is already set).
    let mut requests = Vec::new();
    for i in 0..REQUESTS_PER_KEY * KEYS.len() {
        let key = KEYS[i % KEYS.len()];
        let (proxy, served) = (proxy.clone(), served.clone());
        requests.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(5 * i as u64)).await;
            let value = proxy.get(key).await;
            assert_eq!(value, format!("contents of {key}"));
            served.fetch_add(1, Ordering::Relaxed);
            println!(
                "{:>4} ms  request {i:>2} for {key}: {value}",
                start.elapsed().as_millis()
            );
        }));
    }
    for request in requests {
        request.await.unwrap();
    }

    let fetches = proxy.fetches.lock().unwrap();
    let total: usize = fetches.values().sum();
    println!(
        "{} requests served with {total} upstream fetches: {}",
        served.load(Ordering::Relaxed),
        KEYS.iter()
            .map(|k| format!("{k} {}", fetches[*k]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert_eq!(
        served.load(Ordering::Relaxed),
        REQUESTS_PER_KEY * KEYS.len()
    );
    for key in KEYS {
        assert_eq!(
            fetches.get(key),
            Some(&1),
            "exactly one upstream fetch for {key}"
        );
    }
}
