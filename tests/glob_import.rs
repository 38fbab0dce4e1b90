//! `use toro_sync::*;` beside the crates users commonly have: the glob brings in no name that
//! clashes with `futures` or `tokio` (a module named `futures` at the crate root would make
//! every `futures::...` path below ambiguous, error E0659), and everything the crate docs list
//! is callable through it, `.deadline()` and `.block()` included.

use futures::executor::block_on;
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use toro_sync::*;

#[test]
fn glob_import_beside_futures_compiles_and_works() {
    block_on(async {
        let queue = Queue::bounded(4);
        let mut sink = queue.sink();
        sink.send(1u32).await.unwrap();
        sink.send(2).await.unwrap();
        queue.close();
        let got: Vec<u32> = queue.stream().collect().await;
        assert_eq!(got, [1, 2]);

        let sem = Semaphore::new(1);
        let held = sem.acquire().await;
        assert_eq!(
            sem.acquire().deadline(Duration::ZERO).await.err(),
            Some(Timeout)
        );
        drop(held);
        let _lock: Lock = Lock::new(());
        let _ = (Event::new(), Condition::new(), BoundedSemaphore::new(1));
        let _ = (Barrier::new(1), AsyncResult::<u8>::new(), RwLock::new(0u8));
        let _ = (
            LifoQueue::<u8>::unbounded(),
            PriorityQueue::<u8>::unbounded(),
        );
        let _: JoinableQueue<u8> = GenericQueue::<u8, Fifo>::unbounded();
        let _: Result<(), GetError> = Err(GetError::Empty);
        let _ = future::WithDeadline::<future::SemaphoreAcquire<'_>>::block;
    });
}

#[test]
fn glob_import_beside_tokio_compiles_and_works() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let mutex = Arc::new(Mutex::new(0u32));
        let task = tokio::spawn({
            let mutex = mutex.clone();
            async move { *mutex.lock_owned().await += 1 }
        });
        task.await.unwrap();
        assert_eq!(*mutex.lock().await, 1);
        let event = Event::new();
        let waited = tokio::time::timeout(Duration::from_secs(1), event.wait()).await;
        assert!(waited.is_err(), "nobody set the event");
    });
}

#[test]
fn block_works_from_a_plain_thread() {
    let sem = Arc::new(Semaphore::new(0));
    let s = sem.clone();
    let t = std::thread::spawn(move || s.acquire().block().forget());
    sem.release();
    t.join().unwrap();
    assert_eq!(sem.available(), 0);
}
