//! With `--no-default-features` (no timer backend) every wait without a deadline works, and
//! so do `.block()` with a deadline and try-once deadlines. CI runs this file with
//! `cargo test --no-default-features --test no_timer`; it passes with default features too.

use std::sync::Arc;
use std::time::Duration;

use toro_sync::{Condition, Event, Mutex, Queue, Semaphore, Timeout};

#[test]
fn waits_without_deadline_on_a_plain_executor() {
    let sem = Arc::new(Semaphore::new(0));
    let e = Arc::new(Event::new());
    let q = Arc::new(Queue::bounded(1));
    let (s2, e2, q2) = (sem.clone(), e.clone(), q.clone());
    let t = std::thread::spawn(move || {
        futures::executor::block_on(async move {
            let p = s2.acquire().await;
            e2.wait().await;
            q2.put(1).await.unwrap();
            drop(p);
        })
    });
    sem.release();
    e.set();
    assert_eq!(futures::executor::block_on(q.get()), Ok(1));
    t.join().unwrap();
    assert_eq!(sem.available(), 1);
}

#[test]
fn block_with_deadline_needs_no_timer() {
    let m = Mutex::new(());
    let g = m.lock().block();
    assert_eq!(
        m.lock().deadline(Duration::from_millis(5)).block().err(),
        Some(Timeout)
    );
    drop(g);
    let c = Condition::new();
    assert_eq!(
        c.wait().deadline(Duration::from_millis(5)).block(),
        Err(Timeout)
    );
}

#[test]
fn try_once_needs_no_timer() {
    let sem = Semaphore::new(1);
    let p = futures::executor::block_on(sem.acquire().deadline(Duration::ZERO)).unwrap();
    let r = futures::executor::block_on(sem.acquire().deadline(Duration::ZERO));
    assert_eq!(r.err(), Some(Timeout));
    drop(p);
}
