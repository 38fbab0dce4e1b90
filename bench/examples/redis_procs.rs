//! 4 processes contending for one lock on one private redis-server, timed by wall clock:
//! toro-sync-redis's Mutex, the spinning `SET NX` + compare-and-delete floor, and rslock. Each
//! child process takes and releases the lock ROUNDS times; the parent reports the time from
//! the children's start to the last one's end, per lock + release.
//!
//! `cargo run --release -p toro-sync-bench --example redis_procs`

#[path = "../benches/common/ops.rs"]
#[allow(dead_code)]
mod ops;
#[path = "../benches/common/server.rs"]
mod server;

use std::process::Command;
use std::time::{Duration, Instant};

const PROCS: u32 = 4;
const ROUNDS: u32 = 100;
const LEASE: Duration = Duration::from_secs(30);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() == 4 && args[1] == "child" {
        return child(&args[2], &args[3]);
    }
    let server = server::Server::start();
    let exe = std::env::current_exe().expect("own path");
    println!("| peer | {PROCS} processes × {ROUNDS} lock + release | per lock + release |");
    println!("|---|---|---|");
    for peer in ["toro-sync-redis", "floor", "rslock"] {
        let start = Instant::now();
        let children: Vec<_> = (0..PROCS)
            .map(|_| {
                Command::new(&exe)
                    .args(["child", peer, &server.url])
                    .spawn()
                    .expect("child process")
            })
            .collect();
        for mut c in children {
            assert!(c.wait().expect("child").success(), "{peer} child failed");
        }
        let total = start.elapsed();
        println!(
            "| {peer} | {:.1} ms | {:.0} µs |",
            total.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e6 / f64::from(PROCS * ROUNDS)
        );
    }
    drop(server);
}

#[tokio::main(flavor = "current_thread")]
async fn child(peer: &str, url: &str) {
    match peer {
        "toro-sync-redis" => {
            let client = toro_sync_redis::Client::builder(url)
                .lease(LEASE)
                .connect()
                .await
                .unwrap();
            let mutex = client.mutex("procs-lock");
            for _ in 0..ROUNDS {
                mutex.lock().await.unwrap().release().await.unwrap();
            }
        }
        "floor" => {
            let conn = redis::Client::open(url)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let mut raw = ops::RawLock::new(conn, "procs-raw");
            let token = std::process::id().to_string();
            for _ in 0..ROUNDS {
                raw.lock(&token).await;
                raw.unlock(&token).await;
            }
        }
        _ => {
            let mut lm = rslock::LockManager::new(vec![url]);
            lm.set_retry(3, Duration::from_millis(2));
            for _ in 0..ROUNDS {
                let l = lm
                    .acquire_no_guard(&b"procs-rslock"[..], LEASE)
                    .await
                    .unwrap();
                lm.unlock(&l).await;
            }
        }
    }
}
