#![cfg(loom)]
//! `Condition`: notification forwarding, notify versus expiry, `notify_all` and unpolled
//! futures, no spurious wake-ups, `wait_with` (guarantees 2, 4 and 6 in the crate docs).

mod support;

use std::task::Poll;

use loom::future::block_on;
use loom::thread;
use support::{Probe, leak, try_once};
use toro_sync::future::Waitable;
use toro_sync::{Condition, Mutex, Timeout};

/// #17: A, B, C registered. `notify_one` races the drop of A: whether A is dropped while queued
/// or after the notification was handed to it, B gets exactly that one notification (B waits
/// through `block_on`: a lost notification is a deadlock) and C does not.
#[test]
fn notify_one_vs_drop_of_notified_forwards_once() {
    loom::model(|| {
        let cond = leak(Condition::new());
        let (pa, pb, pc) = (Probe::new(), Probe::new(), Probe::new());
        let (mut a, mut b, mut c) = (cond.wait(), cond.wait(), cond.wait());
        pa.pending(&mut a);
        pb.pending(&mut b);
        pc.pending(&mut c);
        assert_eq!(cond.waiters(), 3);

        let notifier = thread::spawn(move || cond.notify_one());
        let dropper = thread::spawn(move || drop(a));
        block_on(&mut b);
        assert!(
            notifier.join().unwrap(),
            "notify_one found nobody registered"
        );
        dropper.join().unwrap();

        assert!(
            pc.poll(&mut c).is_pending(),
            "one notification completed two waits"
        );
        assert_eq!(pc.wakes(), 0);
        assert_eq!(cond.waiters(), 1);
        drop(c);
        assert_eq!(cond.waiters(), 0);
    });
}

/// #16: A and B registered; `notify(1)` races A's deadline. Exactly one of "A notified, B still
/// waiting" or "A timed out, B notified"; never A timed out with B waiting, never both notified.
/// A timed-out waiter never counts against `n`: `notify(1)` always reports 1.
#[test]
fn notify_vs_expire_exactly_one_outcome() {
    loom::model(|| {
        let cond = leak(Condition::new());
        let (pa, pb) = (Probe::new(), Probe::new());
        let (mut a, mut b) = (cond.wait(), cond.wait());
        pa.pending(&mut a);
        pb.pending(&mut b);

        let notifier = thread::spawn(move || cond.notify(1));
        let timer = thread::spawn(move || a.expire());
        assert_eq!(notifier.join().unwrap(), 1);
        let a_out = timer.join().unwrap();

        let b_ready = pb.poll(&mut b).is_ready();
        match a_out {
            Ok(()) => {
                assert!(!b_ready, "A and B both notified by notify(1)");
                assert_eq!(pb.wakes(), 0);
                assert_eq!(cond.waiters(), 1);
            }
            Err(Timeout) => {
                assert!(
                    b_ready,
                    "A timed out and B is still waiting: notification lost"
                );
                assert_eq!(pb.wakes(), 1);
                assert_eq!(cond.waiters(), 0);
            }
        }
        drop(b);
        assert_eq!(cond.waiters(), 0);
    });
}

/// #18, #19, guarantee 6: `notify_all` on another thread completes a registered waiter R and a
/// `wait()` future W created before it but polled only concurrently with it (W waits through
/// `block_on`: either it registered in time and is granted, or it sees the broadcast on its
/// first poll). Nothing is stored: a wait created after `notify_all` returned is pending.
#[test]
fn notify_all_completes_registered_and_unpolled_waits() {
    loom::model(|| {
        let cond = leak(Condition::new());
        let pr = Probe::new();
        let mut r = cond.wait();
        pr.pending(&mut r);
        let mut w = cond.wait(); // created before notify_all, not polled

        let notifier = thread::spawn(move || cond.notify_all());
        block_on(&mut w);
        let woken = notifier.join().unwrap();

        assert!((1..=2).contains(&woken), "notify_all woke {woken}");
        assert_eq!(pr.wakes(), 1);
        pr.ready(&mut r);
        assert_eq!(cond.waiters(), 0);

        let mut later = cond.wait();
        assert!(
            try_once(&mut later).is_pending(),
            "a notification was stored"
        );
        let pl = Probe::new();
        pl.pending(&mut later);
        assert_eq!(cond.waiters(), 1);
        drop(later);
        assert_eq!(cond.waiters(), 0);
    });
}

/// #18: `notify_all` is one atomic step bounded to the waits that exist when it runs. A task on
/// another thread loops `wait(); wait();` (polling each wait twice at most) while `notify_all`
/// runs: if its first wait completed, a second wait created afterwards is pending (one
/// `notify_all` never completes two sequential waits), and a registered waiter R is released.
#[test]
fn notify_all_completes_each_task_at_most_once() {
    loom::model(|| {
        let cond = leak(Condition::new());
        let pr = Probe::new();
        let mut r = cond.wait();
        pr.pending(&mut r);

        let notifier = thread::spawn(move || cond.notify_all());
        let looper = thread::spawn(move || {
            let p = Probe::new();
            let mut first = cond.wait();
            let done = p.poll(&mut first).is_ready() || p.poll(&mut first).is_ready();
            if done {
                let mut second = cond.wait();
                assert!(
                    p.poll(&mut second).is_pending(),
                    "one notify_all completed two sequential waits"
                );
            }
            done
        });
        notifier.join().unwrap();
        let _first_done = looper.join().unwrap();

        assert_eq!(pr.wakes(), 1);
        pr.ready(&mut r);
        assert_eq!(cond.waiters(), 0);
    });
}

/// No spurious completion: A is registered; a newcomer N is created and polled on another
/// thread while `notify(1)` runs. The one notification goes to A (the oldest, FIFO), whatever
/// the order; N never completes.
#[test]
fn notify_one_reaches_oldest_not_concurrent_newcomer() {
    loom::model(|| {
        let cond = leak(Condition::new());
        let pa = Probe::new();
        let mut a = cond.wait();
        pa.pending(&mut a);

        let notifier = thread::spawn(move || cond.notify_one());
        let newcomer = thread::spawn(move || {
            let pn = Probe::new();
            let mut n = cond.wait();
            let first = pn.poll(&mut n).is_ready();
            (first, n, pn)
        });
        assert!(notifier.join().unwrap());
        let (n_first, mut n, pn) = newcomer.join().unwrap();

        assert!(!n_first, "a newcomer completed without a notification");
        assert!(
            pn.poll(&mut n).is_pending(),
            "a newcomer completed without a notification"
        );
        assert_eq!(pn.wakes(), 0);
        assert_eq!(pa.wakes(), 1);
        pa.ready(&mut a);
        assert_eq!(cond.waiters(), 1);
        drop(n);
        assert_eq!(cond.waiters(), 0);
    });
}

/// `wait_with` registers before it releases the mutex: a notifier that must take the mutex
/// first (to set the flag) can never notify before the waiter is registered, so the waiter
/// always wakes (a lost wake-up is a loom deadlock) and sees the flag.
#[test]
fn wait_with_registers_before_unlocking() {
    loom::model(|| {
        let pair = loom::sync::Arc::new((Mutex::new(false), Condition::new()));
        let setter = {
            let pair = pair.clone();
            thread::spawn(move || {
                let (flag, cond) = &*pair;
                *block_on(flag.lock()) = true;
                cond.notify_one();
            })
        };
        let (flag, cond) = &*pair;
        let mut ready = block_on(flag.lock());
        while !*ready {
            ready = block_on(cond.wait_with(ready));
        }
        drop(ready);
        setter.join().unwrap();
        assert_eq!(cond.waiters(), 0);
        assert!(!flag.is_locked());
    });
}

/// `wait_with` under a deadline: W is registered (its mutex released), then the mutex is taken
/// by H. A notification, W's re-poll (which starts the re-lock behind H), the unlock of H and
/// W's deadline all race. W either returns the re-locked guard or times out holding nothing:
/// at the end the mutex is free, nobody is registered on either primitive, and nothing was
/// stored in the condition.
#[test]
fn wait_with_relock_vs_expire_holds_nothing_on_timeout() {
    loom::model(|| {
        let mutex = leak(Mutex::new(0usize));
        let cond = leak(Condition::new());
        let pw = Probe::new();
        let guard = mutex.try_lock().expect("free");
        let mut w = cond.wait_with(guard);
        pw.pending(&mut w); // registered, mutex released
        assert!(!mutex.is_locked());
        let h = mutex.try_lock().expect("released by wait_with");

        let notifier = thread::spawn(move || cond.notify_one());
        let waiter = thread::spawn(move || {
            let out = match pw.poll(&mut w) {
                Poll::Ready(guard) => Ok(guard),
                Poll::Pending => w.expire(),
            };
            match out {
                Ok(mut guard) => {
                    *guard += 1;
                    true
                }
                Err(Timeout) => false,
            }
        });
        drop(h);
        let notified = notifier.join().unwrap();
        let relocked = waiter.join().unwrap();
        // notify_one finds nobody only if W had already timed out.
        assert!(notified || !relocked, "W re-locked without a notification");

        assert!(
            !mutex.is_locked(),
            "the lock is held after wait_with returned"
        );
        assert_eq!(mutex.waiters(), 0);
        assert_eq!(cond.waiters(), 0);
        assert_eq!(*mutex.try_lock().expect("free"), usize::from(relocked));
        assert!(matches!(try_once(&mut cond.wait()), Poll::Pending));
    });
}

/// The lock-free pick-up: A and B registered; `notify(1)` and `notify_all` race on two
/// threads while B waits through `block_on` (reading its notification without the lock when
/// it can). Both are released exactly once, whichever notification reached each; `notify(1)`
/// counts A only if it ran first. Afterwards nothing is left over: a new waiter is pending and
/// one `notify(1)` reaches it.
#[test]
fn notify_one_and_notify_all_race_with_lock_free_pick_up() {
    loom::model(|| {
        let cond = leak(Condition::new());
        let (pa, pb) = (Probe::new(), Probe::new());
        let (mut a, mut b) = (cond.wait(), cond.wait());
        pa.pending(&mut a);
        pb.pending(&mut b);

        let one = thread::spawn(move || cond.notify(1));
        let all = thread::spawn(move || cond.notify_all());
        block_on(&mut b);
        let ones = one.join().unwrap();
        let alls = all.join().unwrap();

        assert!(ones <= 1);
        assert_eq!(ones + alls, 2, "notify(1) {ones}, notify_all {alls}");
        assert_eq!(pa.wakes(), 1);
        pa.ready(&mut a);
        assert_eq!(cond.waiters(), 0);

        let pl = Probe::new();
        let mut later = cond.wait();
        pl.pending(&mut later);
        assert_eq!(cond.notify(1), 1);
        assert_eq!(pl.wakes(), 1);
        pl.ready(&mut later);
    });
}

/// A `notify(1)` grant dropped while a `notify_all` runs: A was notified by `notify(1)`, B
/// waits through `block_on`; A's drop passes its notification on (to B, if B was still
/// queued) while `notify_all` releases whoever is queued. B completes (a lost notification is a
/// deadlock), nothing stays registered, and no notification is stored for a later waiter.
#[test]
fn notify_one_grant_dropped_while_notify_all_runs() {
    loom::model(|| {
        let cond = leak(Condition::new());
        let (pa, pb) = (Probe::new(), Probe::new());
        let (mut a, mut b) = (cond.wait(), cond.wait());
        pa.pending(&mut a);
        pb.pending(&mut b);
        assert_eq!(cond.notify(1), 1);

        let all = thread::spawn(move || cond.notify_all());
        let dropper = thread::spawn(move || drop(a));
        block_on(&mut b);
        let alls = all.join().unwrap();
        dropper.join().unwrap();

        assert!(alls <= 1);
        assert_eq!(cond.waiters(), 0);
        let mut later = cond.wait();
        assert!(
            try_once(&mut later).is_pending(),
            "a notification was stored"
        );
    });
}
