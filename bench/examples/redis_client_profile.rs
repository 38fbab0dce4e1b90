//! The client side of the Redis tier under a profiler: `N` uncontended lock + release on one
//! private redis-server (the server is another process, so `valgrind --tool=callgrind` counts
//! only the client), and the same number of the floor's `SET NX PX` + compare-and-delete for
//! comparison.
//!
//! ```text
//! cargo build --release -p toro-sync-bench --example redis_client_profile
//! valgrind --tool=callgrind target/release/examples/redis_client_profile toro|floor
//! ```

#[path = "../benches/common/ops.rs"]
#[allow(dead_code)]
mod ops;
#[path = "../benches/common/server.rs"]
mod server;

const N: usize = 2000;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "toro".into());
    let server = server::Server::start();
    let started = std::time::Instant::now();
    match which.as_str() {
        "floor" => {
            let conn = redis::Client::open(server.url.as_str())
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let mut lock = ops::RawLock::new(conn, "profile-floor");
            for i in 0..N {
                let token = i.to_string();
                lock.lock(&token).await;
                lock.unlock(&token).await;
            }
        }
        _ => {
            let client = toro_sync_redis::Client::connect(&server.url).await.unwrap();
            let mutex = client.mutex("profile-lock").await.unwrap();
            for _ in 0..N {
                mutex.lock().await.unwrap().release().await.unwrap();
            }
        }
    }
    let per_op = started.elapsed() / N as u32;
    println!("{which}: {N} lock + release, {per_op:?} each");
}
