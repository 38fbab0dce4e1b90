//! A barrier tripped over and over, once, for instruction counts (`valgrind --tool=callgrind`):
//!
//! ```text
//! cargo build -p toro-sync-bench --release --example barrier_trip
//! valgrind --tool=callgrind target/release/examples/barrier_trip barrier 1000 100
//! barrier_trip <barrier|yield> [tasks] [rounds]
//! ```
//!
//! `barrier`: on a current-thread tokio runtime, `tasks` spawned tasks wait on one
//! `Barrier::new(tasks + 1)` and the main task, arriving last, trips it; then it awaits the
//! tasks. `rounds` times, on the same barrier (one generation per round). Each task is polled
//! twice: it registers, then it is released.
//!
//! `yield`: the same tasks, each yielding once instead of waiting (also two polls), and no
//! barrier: what spawning and polling the tasks cost. `barrier` less `yield`, divided by
//! `tasks × rounds`, is the barrier's own cost per released waiter.

use std::sync::Arc;

use toro_sync::Barrier;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("barrier");
    let tasks: usize = args.get(1).map_or(1000, |a| a.parse().unwrap());
    let rounds: usize = args.get(2).map_or(100, |a| a.parse().unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let followers = rt.block_on(async {
        let barrier = Arc::new(Barrier::new(tasks + 1));
        let mut followers = 0;
        for _ in 0..rounds {
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let barrier = barrier.clone();
                    match mode {
                        "barrier" => tokio::spawn(async move { !barrier.wait().await.is_leader() }),
                        "yield" => tokio::spawn(async move {
                            tokio::task::yield_now().await;
                            true
                        }),
                        other => panic!("unknown mode {other:?}"),
                    }
                })
                .collect();
            if mode == "barrier" {
                // Let every task arrive, then trip the barrier.
                while barrier.arrived() < tasks {
                    tokio::task::yield_now().await;
                }
                assert!(barrier.wait().await.is_leader());
            }
            for handle in handles {
                followers += handle.await.unwrap() as usize;
            }
        }
        followers
    });
    assert_eq!(followers, tasks * rounds);
    println!("{mode}: {tasks} tasks × {rounds} rounds, {followers} released");
}
