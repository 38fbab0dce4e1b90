//! One queue between plain threads and async tasks: std threads put items with
//! `.put(item).block()` (parking the thread while the bounded queue is full), async tasks on a
//! tokio runtime get them with `.await`. The main thread waits for the work with
//! `join().block()`, then `close()`s the queue, which ends the tasks' `get` loops.
//!
//! Run with `cargo run --release --example threads_and_tasks`.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use toro_sync::{GetError, Queue};

const THREADS: usize = 3;
const ITEMS_PER_THREAD: usize = 20;
const TASKS: usize = 2;

fn main() {
    let queue = Arc::new(Queue::bounded(4));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();

    // Async consumers: `get().await` until the queue is closed and drained.
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let queue = queue.clone();
            runtime.spawn(async move {
                let mut got = Vec::new();
                loop {
                    match queue.get().await {
                        Ok(item) => {
                            tokio::time::sleep(Duration::from_millis(2)).await; // the work
                            got.push(item);
                            queue.task_done().unwrap();
                        }
                        Err(GetError::Closed) => break,
                        Err(e) => panic!("unexpected {e}"),
                    }
                }
                println!("task {task}: queue closed, got {} items", got.len());
                got
            })
        })
        .collect();

    // Plain threads: `put(..).block()` parks the thread while the queue is full.
    let producers: Vec<_> = (0..THREADS)
        .map(|t| {
            let queue = queue.clone();
            thread::spawn(move || {
                for i in 0..ITEMS_PER_THREAD {
                    queue
                        .put(t * 1000 + i)
                        .block()
                        .expect("open while producing");
                }
                println!("thread {t}: put {ITEMS_PER_THREAD} items");
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }

    // Every item was put; wait from this plain thread until every one is done, then close.
    queue
        .join()
        .deadline(Duration::from_secs(5))
        .block()
        .expect("the tasks finish in time");
    queue.close();
    assert!(
        queue.put(0).block().is_err(),
        "a closed queue takes no more"
    );

    let mut all = BTreeSet::new();
    let mut total = 0;
    for task in tasks {
        let got = runtime.block_on(task).unwrap();
        total += got.len();
        all.extend(got);
    }
    let expected: BTreeSet<usize> = (0..THREADS)
        .flat_map(|t| (0..ITEMS_PER_THREAD).map(move |i| t * 1000 + i))
        .collect();
    assert_eq!(total, THREADS * ITEMS_PER_THREAD, "no item delivered twice");
    assert_eq!(all, expected, "every item delivered");
    assert_eq!(queue.waiters(), 0);
    println!("{total} items from {THREADS} threads, each taken once by {TASKS} async tasks");
}
