//! toro's producer/consumer example: a bounded `JoinableQueue(maxsize=3)`, a producer that
//! puts 10 items, consumers that get them and call `task_done`, and `join` to end the program.
//!
//! The queue holds at most 3 items, so the producer runs ahead of the consumers only until the
//! queue is full; then its `put` waits for a consumer to take an item (back-pressure). The
//! output shows it: after three quick puts, each further put waits for a `get`.
//!
//! Run with `cargo run --release --example producer_consumer`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use toro_sync::JoinableQueue;

const ITEMS: usize = 10;
const MAXSIZE: usize = 3;
const CONSUMERS: usize = 2;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let start = Instant::now();
    let queue = Arc::new(JoinableQueue::bounded(MAXSIZE));
    let done = Arc::new(AtomicUsize::new(0));

    for id in 1..=CONSUMERS {
        let (queue, done) = (queue.clone(), done.clone());
        tokio::spawn(async move {
            while let Ok(item) = queue.get().await {
                println!("{:>4} ms  consumer {id}: doing work on {item}", ms(start));
                tokio::time::sleep(Duration::from_millis(40)).await; // the work
                done.fetch_add(1, Ordering::Relaxed);
                queue.task_done().expect("one task_done per item");
            }
        });
    }

    // The producer: 10 puts, each waiting while the queue is full.
    let mut waited = 0;
    for item in 0..ITEMS {
        if queue.is_full() {
            waited += 1;
            println!(
                "{:>4} ms  producer: queue full ({} items), put({item}) waits",
                ms(start),
                queue.len()
            );
        }
        queue.put(item).await.expect("the queue is never closed");
        println!("{:>4} ms  producer: put {item}", ms(start));
        assert!(
            queue.len() <= MAXSIZE,
            "a bounded queue never exceeds maxsize"
        );
    }

    // toro: `loop.run_sync(q.join)`: wait until every item put is marked done. (Joining
    // before anything was put would return at once.) The deadline only guards against a hang.
    println!("{:>4} ms  producer: all put, joining", ms(start));
    queue
        .join()
        .deadline(Duration::from_secs(5))
        .await
        .expect("every item processed in time");
    println!("{:>4} ms  done: join returned", ms(start));

    assert_eq!(
        done.load(Ordering::Relaxed),
        ITEMS,
        "every item processed once"
    );
    assert_eq!(queue.unfinished_tasks(), 0);
    assert!(waited > 0, "the producer felt back-pressure");
    println!("{ITEMS} items processed; the producer waited for room {waited} times");
}

fn ms(start: Instant) -> u128 {
    start.elapsed().as_millis()
}
