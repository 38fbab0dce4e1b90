//! Condition: notify(n)/notify_one/notify_all, timeouts not counting, forwarding, no stored
//! notification, no spurious wake-ups, wait_with a MutexGuard.

mod common;

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::{Polled, WakeLog};
use toro_sync::future::Waitable;
use toro_sync::{Condition, Mutex, Timeout};

#[test]
fn notify_n_wakes_oldest_first() {
    let c = Condition::new();
    let log = WakeLog::default();
    let mut ws: Vec<_> = (0..6)
        .map(|i| Polled::with_waker(c.wait(), log.waker(i)))
        .collect();
    for w in &mut ws {
        assert!(w.is_pending());
    }
    assert_eq!(c.notify(3), 3);
    assert_eq!(log.take(), vec![0, 1, 2]);
    assert_eq!(c.notify(1), 1);
    assert_eq!(log.take(), vec![3]);
    assert_eq!(c.notify(5), 2);
    assert_eq!(log.take(), vec![4, 5]);
    for w in &mut ws {
        assert!(w.poll().is_ready());
    }
    assert_eq!(c.notify(1), 0);
}

#[test]
fn notify_one_and_all() {
    let c = Condition::new();
    assert!(!c.notify_one());
    let mut a = Polled::new(c.wait());
    let mut b = Polled::new(c.wait());
    assert!(a.is_pending() && b.is_pending());
    assert!(c.notify_one());
    assert!(a.poll().is_ready());
    assert!(b.is_pending());
    let mut d = Polled::new(c.wait());
    assert!(d.is_pending());
    assert_eq!(c.notify_all(), 2);
    assert!(b.poll().is_ready() && d.poll().is_ready());
}

#[test]
fn no_stored_notification_and_no_spurious_wakeup() {
    let c = Condition::new();
    assert_eq!(c.notify(10), 0);
    let mut w = Polled::new(c.wait());
    for _ in 0..100 {
        assert!(w.is_pending());
    }
    assert_eq!(w.wakes(), 0);
    assert_eq!(c.waiters(), 1, "re-polling does not add entries");
}

#[test]
fn notify_reaches_only_registered_waiters() {
    let c = Condition::new();
    let unpolled = c.wait();
    assert_eq!(c.notify(1), 0);
    assert!(Polled::new(unpolled).is_pending());
}

#[test]
fn notify_all_completes_futures_created_before_it() {
    let c = Condition::new();
    let early = c.wait();
    c.notify_all();
    let late = c.wait();
    assert!(Polled::new(early).poll().is_ready());
    assert!(Polled::new(late).is_pending());
}

#[test]
fn notified_then_dropped_forwards_to_next() {
    let c = Condition::new();
    let mut a = Polled::new(c.wait());
    let mut b = Polled::new(c.wait());
    let mut d = Polled::new(c.wait());
    assert!(a.is_pending() && b.is_pending() && d.is_pending());
    assert_eq!(c.notify(1), 1);
    drop(a);
    assert_eq!(b.wakes(), 1);
    assert_eq!(d.wakes(), 0);
    assert!(b.poll().is_ready());
    assert!(d.is_pending());
}

#[test]
fn notify_all_grant_dropped_does_not_forward() {
    let c = Condition::new();
    let mut a = Polled::new(c.wait());
    assert!(a.is_pending());
    c.notify_all();
    let mut late = Polled::new(c.wait());
    assert!(late.is_pending());
    drop(a);
    assert_eq!(late.wakes(), 0);
    assert!(late.is_pending());
}

/// A `notify(n)` notification not yet taken when a `notify_all` comes still passes on if its
/// waiter is dropped: how a waiter was notified is kept per waiter, whatever came after.
#[test]
fn notify_one_grant_dropped_after_a_notify_all_still_forwards() {
    let c = Condition::new();
    let mut a = Polled::new(c.wait());
    let mut b = Polled::new(c.wait());
    assert!(a.is_pending() && b.is_pending());
    assert_eq!(c.notify(1), 1); // a: by notify(1)
    assert_eq!(c.notify_all(), 1); // b: by notify_all
    let mut late = Polled::new(c.wait());
    assert!(late.is_pending());
    drop(b); // a notify_all grant: nothing passes on
    assert_eq!(late.wakes(), 0);
    drop(a); // a notify(1) grant: passes on to `late`
    assert_eq!(late.wakes(), 1);
    assert!(late.poll().is_ready());
    assert_eq!(c.waiters(), 0);
}

/// Many waiters notified by turns of `notify(n)` and `notify_all`, then taken or dropped in
/// an order unrelated to the one they were notified in: each dropped `notify(n)` grant reaches
/// exactly one newcomer, no `notify_all` grant does, and every taken one completes.
#[test]
fn mixed_notifications_taken_and_dropped_out_of_order() {
    let c = Condition::new();
    let mut waits: Vec<_> = (0..60).map(|_| Polled::new(c.wait())).collect();
    for w in &mut waits {
        assert!(w.is_pending());
    }
    // Waiters 0..5 notified by notify(5), the rest by notify_all.
    let mut by_one = [false; 60];
    assert_eq!(c.notify(5), 5);
    by_one[0..5].fill(true);
    let mut more: Vec<_> = (0..15).map(|_| Polled::new(c.wait())).collect();
    for w in &mut more {
        assert!(w.is_pending());
    }
    // `notify_all` now reaches waiters 5..60 and the 15 newcomers.
    assert_eq!(c.notify_all(), 70);
    for w in &mut more {
        assert!(w.poll().is_ready());
    }
    let mut newcomers: Vec<_> = (0..5).map(|_| Polled::new(c.wait())).collect();
    for w in &mut newcomers {
        assert!(w.is_pending());
    }
    // Drop in a scrambled order: only the 5 notify(5) grants pass on, one newcomer each.
    let order: Vec<usize> = (0..60).map(|i| (i * 37) % 60).collect();
    let mut forwarded = 0;
    for (n, &i) in order.iter().enumerate() {
        let w = std::mem::replace(&mut waits[i], Polled::new(c.wait()));
        if n % 2 == 0 {
            drop(w);
            if by_one[i] {
                forwarded += 1;
            }
        } else {
            let mut w = w;
            assert!(w.poll().is_ready(), "waiter {i} was notified");
        }
        let woken = newcomers.iter().filter(|w| w.wakes() == 1).count();
        assert_eq!(woken, forwarded.min(5), "after waiter {i}");
    }
    assert!(forwarded > 0 && forwarded <= 5);
    assert_eq!(c.waiters(), 5 - forwarded);
}

#[test]
fn expired_waiter_does_not_count_against_n() {
    let c = Condition::new();
    let mut w0 = Polled::new(c.wait());
    let mut w1 = c.wait();
    let mut w2 = Polled::new(c.wait());
    let mut w3 = Polled::new(c.wait());
    let (waker, _) = common::counting_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(w0.is_pending());
    assert!(Waitable::poll_wait(&mut w1, Some(&mut cx)).is_pending());
    assert!(w2.is_pending() && w3.is_pending());
    assert_eq!(Waitable::expire(&mut w1), Err(Timeout));
    assert_eq!(c.waiters(), 3);
    assert_eq!(c.notify(2), 2);
    assert!(w0.poll().is_ready() && w2.poll().is_ready());
    assert!(w3.is_pending());
    assert_eq!(c.notify(1), 1);
    assert!(w3.poll().is_ready());
    assert_eq!(c.waiters(), 0);
}

#[test]
fn expire_after_notify_keeps_the_notification() {
    let c = Condition::new();
    let mut a = c.wait();
    let mut b = Polled::new(c.wait());
    let (waker, _) = common::counting_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(Waitable::poll_wait(&mut a, Some(&mut cx)).is_pending());
    assert!(b.is_pending());
    c.notify(1);
    // The notification won the race with the deadline: exactly one outcome, Ok.
    assert_eq!(Waitable::expire(&mut a), Ok(()));
    assert!(b.is_pending(), "nothing forwarded: A took it");
}

#[tokio::test(start_paused = true)]
async fn wait_timeout_and_preempted_timeout() {
    let c = Arc::new(Condition::new());
    let start = tokio::time::Instant::now();
    assert_eq!(
        c.wait().deadline(Duration::from_millis(100)).await,
        Err(Timeout)
    );
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    let c2 = c.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c2.notify_one();
    });
    assert_eq!(c.wait().deadline(Duration::from_millis(200)).await, Ok(()));
    assert_eq!(start.elapsed(), Duration::from_millis(200));
    assert_eq!(c.waiters(), 0);
}

#[tokio::test(start_paused = true)]
async fn notify_all_after_one_timed_out() {
    let c = Arc::new(Condition::new());
    let mut tasks = Vec::new();
    for i in 0..3 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            if i == 1 {
                c.wait().deadline(Duration::from_millis(10)).await
            } else {
                c.wait().deadline(Duration::from_secs(10)).await
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(c.waiters(), 2);
    assert_eq!(c.notify_all(), 2);
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(results, [Ok(()), Err(Timeout), Ok(())]);
}

#[test]
fn wait_with_registers_before_unlocking() {
    let pair = (Mutex::new(0), Condition::new());
    let (m, c) = &pair;
    let g = m.try_lock().unwrap();
    let mut w = Polled::new(c.wait_with(g));
    assert!(w.is_pending());
    // The lock was released only after the wait registered.
    assert!(!m.is_locked());
    assert_eq!(c.waiters(), 1);
    let mut g2 = m.try_lock().unwrap();
    *g2 = 7;
    c.notify_one();
    // Notified, but the mutex is held: it queues for the lock.
    assert!(w.is_pending());
    assert_eq!(m.waiters(), 1);
    drop(g2);
    let g = w.ready();
    assert_eq!(*g, 7);
}

#[test]
fn wait_with_dropped_before_poll_releases_the_guard() {
    let m = Mutex::new(());
    let c = Condition::new();
    let w = c.wait_with(m.try_lock().unwrap());
    assert!(m.is_locked());
    drop(w);
    assert!(!m.is_locked());
    assert_eq!(c.waiters(), 0);
}

#[test]
fn wait_with_after_notify_all_returns_guard_without_unlocking() {
    let m = Mutex::new(1);
    let c = Condition::new();
    let w = c.wait_with(m.try_lock().unwrap());
    c.notify_all();
    let g = Polled::new(w).ready();
    assert_eq!(*g, 1);
}

#[tokio::test(start_paused = true)]
async fn wait_with_deadline_covers_relocking() {
    let m = Arc::new(Mutex::new(()));
    let c = Arc::new(Condition::new());
    let g = m.lock().await;
    let (m2, c2) = (m.clone(), c.clone());
    tokio::spawn(async move {
        let hold = m2.lock().await;
        c2.notify_one();
        tokio::time::sleep(Duration::from_secs(10)).await;
        drop(hold);
    });
    // Notified quickly, but the lock stays held past the deadline.
    let r = c.wait_with(g).deadline(Duration::from_secs(1)).await;
    assert!(r.is_err());
    assert_eq!(m.waiters(), 0);
    assert_eq!(c.waiters(), 0);
}

#[tokio::test(start_paused = true)]
async fn wait_with_timeout_passes_notification_on() {
    let m = Mutex::new(());
    let c = Condition::new();
    let g = m.lock().await;
    let mut a = c.wait_with(g);
    let (waker, _) = common::counting_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(Waitable::poll_wait(&mut a, Some(&mut cx)).is_pending());
    let mut b = Polled::new(c.wait());
    assert!(b.is_pending());
    c.notify_one();
    // A's deadline fires before it re-locks: it times out, and B gets the notification.
    assert!(Waitable::expire(&mut a).is_err());
    assert!(!m.is_locked());
    assert!(matches!(b.poll(), Poll::Ready(())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn producer_consumer_with_wait_with() {
    let state = Arc::new((
        Mutex::new(std::collections::VecDeque::new()),
        Condition::new(),
    ));
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let state = state.clone();
            tokio::spawn(async move {
                let (m, c) = &*state;
                let mut got = 0u64;
                let mut g = m.lock().await;
                loop {
                    match g.pop_front() {
                        Some(Some(v)) => got += v,
                        Some(None) => return got,
                        None => g = c.wait_with(g).await,
                    }
                }
            })
        })
        .collect();
    let (m, c) = &*state;
    for i in 1..=1000u64 {
        m.lock().await.push_back(Some(i));
        c.notify_one();
    }
    {
        let mut g = m.lock().await;
        for _ in 0..4 {
            g.push_back(None);
        }
    }
    c.notify_all();
    let mut total = 0;
    for t in consumers {
        total += t.await.unwrap();
    }
    assert_eq!(total, 1000 * 1001 / 2);
}

#[tokio::test(start_paused = true)]
async fn wait_with_deadline_registers_before_unlocking() {
    // The deadline's first poll tries once without registering; the mutex must stay locked
    // until the wait is registered, or a notify sent by the next holder could be lost.
    let m = Arc::new(Mutex::new(0));
    let c = Arc::new(Condition::new());
    let g = m.lock().await;
    let (m2, c2) = (m.clone(), c.clone());
    let notifier = tokio::spawn(async move {
        let mut g = m2.lock().await;
        *g = 1;
        c2.notify_one()
    });
    let g = c
        .wait_with(g)
        .deadline(Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(*g, 1);
    drop(g);
    assert!(
        notifier.await.unwrap(),
        "the notifier found the waiter registered"
    );
}

#[test]
fn wait_with_try_once_keeps_the_lock_until_expired() {
    let m = Mutex::new(());
    let c = Condition::new();
    let mut w = c.wait_with(m.try_lock().unwrap());
    assert!(Waitable::poll_wait(&mut w, None).is_pending());
    assert!(m.is_locked(), "not registered: the guard is still held");
    assert!(Waitable::expire(&mut w).is_err());
    assert!(!m.is_locked());
    assert_eq!(c.waiters(), 0);
}
