//! `.block()` on a thread that runs async tasks would park the thread the runtime needs: inside
//! a tokio runtime it panics with a message saying so (as tokio's `blocking_lock` does), even
//! when the wait could complete at once; from `spawn_blocking` or a plain thread it works.

use std::sync::Arc;
use std::time::Duration;
use toro_sync::{Event, Mutex, Queue, Semaphore};

#[tokio::test(flavor = "current_thread")]
#[should_panic(expected = "`.block()` was called on a thread that runs async tasks")]
async fn block_inside_current_thread_runtime_panics() {
    let sem = Semaphore::new(1);
    let _ = sem.acquire().block();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "`.block()` was called on a thread that runs async tasks")]
async fn block_inside_multi_thread_runtime_panics() {
    let mutex = Mutex::new(());
    let _ = mutex.lock().block();
}

#[tokio::test(flavor = "current_thread")]
#[should_panic(expected = "`.block()` was called on a thread that runs async tasks")]
async fn block_with_deadline_inside_runtime_panics() {
    let event = Event::new();
    let _ = event.wait().deadline(Duration::from_millis(1)).block();
}

#[test]
#[should_panic(expected = "`.block()` was called on a thread that runs async tasks")]
fn block_inside_a_spawned_task_panics() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let queue = Arc::new(Queue::<u8>::unbounded());
    queue.try_put(1).unwrap();
    let task = rt.spawn({
        let queue = queue.clone();
        async move { queue.get().block() }
    });
    if let Err(e) = rt.block_on(task) {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn block_from_spawn_blocking_works() {
    let queue = Arc::new(Queue::<u8>::unbounded());
    let q = queue.clone();
    let getter = tokio::task::spawn_blocking(move || q.get().block());
    queue.put(7).await.unwrap();
    assert_eq!(getter.await.unwrap(), Ok(7));
}

#[test]
fn block_inside_an_entered_but_idle_runtime_works() {
    // `Runtime::enter` makes the handle current without running tasks on this thread.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let sem = Semaphore::new(1);
    drop(sem.acquire().block());
    assert_eq!(sem.available(), 1);
}
