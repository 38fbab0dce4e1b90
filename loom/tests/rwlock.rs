#![cfg(loom)]
//! `RwLock` with `max_readers = 2`: write access all-or-nothing on timeout, readers behind an
//! expired writer served, writers and readers never inside together, two writers never
//! splitting the read slots.

mod support;

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use support::{Probe, leak};
use toro_sync::future::Waitable;
use toro_sync::{RwLock, Timeout};

/// #10, #11: R1 holds a read slot; writer W is queued for both slots; R2 is queued behind W
/// (write-preferring). W's deadline fires as R1 releases. Either W won (it holds both slots and
/// lets go) or W timed out holding nothing; in both cases R2 is served without any further
/// release (R2 waits through `block_on`), and at the end both slots are free.
#[test]
fn writer_expire_vs_reader_release() {
    loom::model(|| {
        let lock = leak(RwLock::with_max_readers(0usize, 2));
        let r1 = lock.try_read().expect("free");
        let (pw, p2) = (Probe::new(), Probe::new());
        let mut w = lock.write();
        pw.pending(&mut w);
        let mut r2 = lock.read();
        p2.pending(&mut r2);
        assert_eq!(lock.waiters(), 2);

        let reader = thread::spawn(move || drop(r1));
        let timer = thread::spawn(move || match w.expire() {
            Ok(mut guard) => {
                *guard += 1;
                true
            }
            Err(Timeout) => false,
        });
        let r2_guard = block_on(&mut r2);
        reader.join().unwrap();
        let w_won = timer.join().unwrap();

        assert_eq!(*r2_guard, usize::from(w_won));
        assert_eq!(lock.waiters(), 0);
        // R2 holds one slot: a writer cannot get in, but the other slot is free for a reader.
        assert!(lock.try_write().is_none());
        let r3 = lock
            .try_read()
            .expect("the expired writer left a read slot taken");
        drop((r2_guard, r3));
        assert!(
            lock.try_write().is_some(),
            "the expired writer left read slots taken"
        );
    });
}

/// #11 with no release: R1 holds a read slot throughout; writer W is queued, R2 queued behind
/// it. W's deadline fires (it cannot be served while R1 holds: `Timeout`) while R2 waits
/// through `block_on`: W leaving the head must by itself let R2 in (a free slot and R2 stuck
/// behind a departed writer is a deadlock). W holds nothing afterwards.
#[test]
fn writer_leaving_head_serves_readers_behind_without_release() {
    loom::model(|| {
        let lock = leak(RwLock::with_max_readers(0usize, 2));
        let r1 = lock.try_read().expect("free");
        let (pw, p2) = (Probe::new(), Probe::new());
        let mut w = lock.write();
        pw.pending(&mut w);
        let mut r2 = lock.read();
        p2.pending(&mut r2);

        let timer = thread::spawn(move || w.expire().is_err());
        let r2_guard = block_on(&mut r2);
        assert!(
            timer.join().unwrap(),
            "the writer got in while R1 held a slot"
        );

        assert_eq!(lock.waiters(), 0);
        assert!(
            lock.try_read().is_none(),
            "both slots are held by R1 and R2"
        );
        assert!(lock.try_write().is_none());
        drop((r1, r2_guard));
        assert!(
            lock.try_write().is_some(),
            "the expired writer left read slots taken"
        );
    });
}

/// #12: two writers and one reader, each through `block_on`: a writer is alone inside (no other
/// writer, no reader), the reader never sees a writer inside, loom checks the data cell, and
/// both writes land.
#[test]
fn two_writers_one_reader_exclusion() {
    loom::model(|| {
        let lock = Arc::new(RwLock::with_max_readers(0usize, 2));
        let inside = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0))); // (readers, writers)
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let (lock, inside) = (lock.clone(), inside.clone());
                thread::spawn(move || {
                    let mut guard = block_on(lock.write());
                    assert_eq!(inside.1.fetch_add(1, SeqCst), 0, "two writers inside");
                    assert_eq!(inside.0.load(SeqCst), 0, "a writer inside with a reader");
                    *guard += 1;
                    inside.1.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        {
            let guard = block_on(lock.read());
            inside.0.fetch_add(1, SeqCst);
            assert_eq!(inside.1.load(SeqCst), 0, "a reader inside with a writer");
            assert!(*guard <= 2);
            inside.0.fetch_sub(1, SeqCst);
        }
        for writer in writers {
            writer.join().unwrap();
        }
        assert_eq!(*lock.try_read().expect("free"), 2);
        assert_eq!(lock.waiters(), 0);
        assert!(lock.try_write().is_some());
    });
}

/// An upgrade racing the release of the last other reader, with a write queued behind it:
/// U holds the upgradable read and waits to upgrade; R releases its read on another thread
/// while W, queued before the upgrade started, waits. The upgrade must be served (it goes
/// ahead of W, which needs U's slot) and W only after it; no two are ever inside together.
#[test]
fn upgrade_vs_reader_release_with_a_queued_writer() {
    loom::model(|| {
        let lock = leak(RwLock::with_max_readers(0usize, 2));
        let inside = leak(AtomicUsize::new(0));
        let up = lock.try_upgradable_read().expect("free");
        let r = lock
            .try_read()
            .expect("a reader beside the upgradable read");
        let pw = Probe::new();
        let mut w = lock.write();
        pw.pending(&mut w);

        let reader = thread::spawn(move || drop(r));
        let writer = thread::spawn(move || {
            let mut guard = block_on(&mut w);
            assert_eq!(inside.fetch_add(1, SeqCst), 0);
            assert_eq!(*guard, 1, "the upgrade went first");
            *guard += 1;
            inside.fetch_sub(1, SeqCst);
        });
        let mut guard = block_on(toro_sync::RwLockUpgradableReadGuard::upgrade(up));
        assert_eq!(inside.fetch_add(1, SeqCst), 0);
        *guard += 1;
        inside.fetch_sub(1, SeqCst);
        drop(guard);
        reader.join().unwrap();
        writer.join().unwrap();
        assert_eq!(*lock.try_read().unwrap(), 2);
        assert_eq!(lock.waiters(), 0);
    });
}

/// A queued upgradable request is granted as the held one is dropped on another thread, and
/// the grantee is dropped (its future never polled again) on a third: the flag passes on, so
/// a later `try_upgradable_read` succeeds, and never while another upgradable read is held.
#[test]
fn upgradable_grant_vs_drop_of_the_grantee() {
    loom::model(|| {
        let lock = leak(RwLock::with_max_readers((), 2));
        let held = lock.try_upgradable_read().expect("free");
        let p = Probe::new();
        let mut queued = lock.upgradable_read();
        p.pending(&mut queued);

        let releaser = thread::spawn(move || drop(held));
        let canceller = thread::spawn(move || drop(queued));
        releaser.join().unwrap();
        canceller.join().unwrap();
        let again = lock.try_upgradable_read().expect("the flag passed on");
        assert!(lock.try_upgradable_read().is_none());
        drop(again);
        assert_eq!(lock.waiters(), 0);
        assert!(lock.try_write().is_some());
    });
}
