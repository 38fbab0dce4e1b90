//! Deadlines: relative and absolute, tokio's paused clock, a non-tokio executor, `.block()`,
//! try-once semantics, and the grant-vs-deadline race resolving to one outcome.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Polled;
use toro_sync::{Barrier, Condition, Deadline, Event, Mutex, Queue, Semaphore, Timeout};

#[tokio::test(start_paused = true)]
async fn relative_deadline_on_paused_clock() {
    let e = Event::new();
    let start = tokio::time::Instant::now();
    assert_eq!(
        e.wait().deadline(Duration::from_secs(3600)).await,
        Err(Timeout)
    );
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
}

#[tokio::test(start_paused = true)]
async fn absolute_deadline_on_paused_clock() {
    let e = Event::new();
    let start = tokio::time::Instant::now();
    let at = start + Duration::from_millis(250);
    assert_eq!(e.wait().deadline(at).await, Err(Timeout));
    assert_eq!(start.elapsed(), Duration::from_millis(250));
    // A std Instant is read on tokio's clock, as `Instant::from_std` does.
    let std_at: Instant = (tokio::time::Instant::now() + Duration::from_millis(50)).into_std();
    assert_eq!(e.wait().deadline(std_at).await, Err(Timeout));
    assert_eq!(start.elapsed(), Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn relative_deadline_is_taken_when_deadline_is_called() {
    let e = Event::new();
    let start = tokio::time::Instant::now();
    let fut = e.wait().deadline(Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(fut.await, Err(Timeout));
    assert_eq!(start.elapsed(), Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn past_deadline_tries_once_for_every_primitive() {
    let past = Duration::ZERO;
    let sem = Semaphore::new(0);
    assert_eq!(sem.acquire().deadline(past).await.err(), Some(Timeout));
    assert_eq!(sem.wait_unlocked().deadline(past).await, Err(Timeout));
    let m = Mutex::new(());
    let g = m.lock().await;
    assert_eq!(m.lock().deadline(past).await.err(), Some(Timeout));
    drop(g);
    assert!(m.lock().deadline(past).await.is_ok());
    let e = Event::new();
    assert_eq!(e.wait().deadline(past).await, Err(Timeout));
    e.set();
    assert_eq!(e.wait().deadline(past).await, Ok(()));
    let c = Condition::new();
    assert_eq!(c.wait().deadline(past).await, Err(Timeout));
    let b = Barrier::new(2);
    assert_eq!(b.wait().deadline(past).await.err(), Some(Timeout));
    assert_eq!(b.arrived(), 0);
    let q = Queue::<u8>::bounded(1);
    assert_eq!(
        q.get().deadline(past).await,
        Err(toro_sync::GetError::Timeout)
    );
    // An instant in the past behaves the same.
    let long_ago = tokio::time::Instant::now().into_std() - Duration::from_secs(1);
    assert_eq!(e.wait().deadline(long_ago).await, Ok(()));
    assert_eq!(c.wait().deadline(long_ago).await, Err(Timeout));
    // Nothing was left registered.
    assert_eq!(sem.waiters() + m.waiters() + e.waiters() + c.waiters(), 0);
    assert_eq!(b.waiters() + q.waiters(), 0);
}

#[tokio::test(start_paused = true)]
async fn grant_before_deadline_cancels_the_timer() {
    let sem = Arc::new(Semaphore::new(0));
    let s2 = sem.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(10)).await;
        s2.release();
    });
    let start = tokio::time::Instant::now();
    let p = sem
        .acquire()
        .deadline(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(10));
    drop(p);
}

#[tokio::test(start_paused = true)]
async fn grant_and_deadline_at_the_same_instant_resolve_once() {
    // Release scheduled at exactly the deadline: whichever runs first, the permit is either
    // taken by the waiter or left in the semaphore; never lost, never both.
    for _ in 0..20 {
        let sem = Arc::new(Semaphore::new(0));
        let s2 = sem.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            s2.release();
        });
        let r = sem.acquire().deadline(Duration::from_millis(100)).await;
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
        if let Ok(p) = r {
            assert_eq!(sem.available(), 0);
            drop(p);
        }
        assert_eq!(sem.available(), 1);
        assert_eq!(sem.waiters(), 0);
    }
}

#[test]
fn deadline_on_a_non_tokio_executor() {
    let e = Event::new();
    let start = Instant::now();
    let r = futures::executor::block_on(e.wait().deadline(Duration::from_millis(30)));
    assert_eq!(r, Err(Timeout));
    assert!(start.elapsed() >= Duration::from_millis(30));
    assert_eq!(e.waiters(), 0);
}

#[test]
fn deadline_on_a_thread_pool_executor() {
    let pool = futures::executor::ThreadPool::builder()
        .pool_size(2)
        .create()
        .unwrap();
    let sem = Arc::new(Semaphore::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    for i in 0..4 {
        let sem = sem.clone();
        let tx = tx.clone();
        pool.spawn_ok(async move {
            let r = sem.acquire().deadline(Duration::from_millis(20 + i)).await;
            tx.send(r.map(|p| p.forget())).unwrap();
        });
    }
    for _ in 0..4 {
        assert_eq!(rx.recv().unwrap(), Err(Timeout));
    }
    assert_eq!(sem.waiters(), 0);
    // And a grant across executors: released from a plain thread.
    let s2 = sem.clone();
    pool.spawn_ok(async move {
        let r = s2.acquire().deadline(Duration::from_secs(10)).await;
        tx.send(r.map(|p| p.forget())).unwrap();
    });
    while sem.waiters() == 0 {
        std::thread::yield_now();
    }
    sem.release();
    assert_eq!(rx.recv().unwrap(), Ok(()));
}

#[test]
fn block_with_deadline_is_a_park_timeout() {
    let sem = Semaphore::new(0);
    let start = Instant::now();
    assert_eq!(
        sem.acquire()
            .deadline(Duration::from_millis(20))
            .block()
            .err(),
        Some(Timeout)
    );
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(sem.waiters(), 0);
    sem.release();
    assert!(
        sem.acquire()
            .deadline(Duration::from_millis(20))
            .block()
            .is_ok()
    );
}

#[test]
fn block_wakes_on_grant_from_another_thread() {
    let sem = Arc::new(Semaphore::new(0));
    let s2 = sem.clone();
    let t = std::thread::spawn(move || {
        s2.acquire()
            .deadline(Duration::from_secs(30))
            .block()
            .map(|p| p.forget())
    });
    while sem.waiters() == 0 {
        std::thread::yield_now();
    }
    sem.release();
    assert_eq!(t.join().unwrap(), Ok(()));
}

#[test]
fn deadline_type_conversions() {
    let d = Duration::from_millis(5);
    assert_eq!(Deadline::from(d), Deadline::after(d));
    let i = Instant::now();
    assert_eq!(Deadline::from(i), Deadline::at(i));
    let t = tokio::time::Instant::from_std(i);
    assert_eq!(Deadline::from(t), Deadline::at(i));
}

#[test]
fn huge_duration_means_no_deadline() {
    let sem = Semaphore::new(1);
    assert!(sem.acquire().deadline(Duration::MAX).block().is_ok());
}

#[test]
fn waker_replacement_wakes_only_the_latest() {
    let sem = Semaphore::new(0);
    let mut w = Polled::new(sem.acquire());
    assert!(w.is_pending());
    let (w2, c2) = common::counting_waker();
    assert!(w.poll_with(w2).is_pending());
    for _ in 0..1000 {
        assert!(w.is_pending());
    }
    assert_eq!(sem.waiters(), 1, "re-polls add no entries");
    sem.release();
    assert_eq!(w.wakes(), 0, "the first waker is never woken");
    assert_eq!(c2.count(), 1);
    assert!(w.poll().is_ready());
}
