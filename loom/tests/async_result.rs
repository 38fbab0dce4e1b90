#![cfg(loom)]
//! `AsyncResult`: set-once race between setters, and `set` versus a getter's deadline.

mod support;

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use support::{Probe, leak, try_once};
use toro_sync::future::Waitable;
use toro_sync::{AlreadySet, AsyncResult, NotReady, Timeout};

/// #23: two setters and a getter (through `block_on`, created concurrently with the sets):
/// exactly one `set` succeeds, the other gets its own value back, and the getter sees the
/// winning value (loom checks the value cell's accesses).
#[test]
fn two_setters_one_getter() {
    loom::model(|| {
        let result = Arc::new(AsyncResult::<usize>::new());
        let setters: Vec<_> = [1usize, 2]
            .into_iter()
            .map(|value| {
                let result = result.clone();
                thread::spawn(move || match result.set(value) {
                    Ok(()) => Ok(value),
                    Err(AlreadySet(back)) => {
                        assert_eq!(back, value, "AlreadySet returned another value");
                        Err(back)
                    }
                })
            })
            .collect();
        let got = *block_on(result.get());
        let outcomes: Vec<_> = setters.into_iter().map(|t| t.join().unwrap()).collect();

        let winners: Vec<usize> = outcomes.iter().filter_map(|o| o.ok()).collect();
        assert_eq!(winners.len(), 1, "set outcomes: {outcomes:?}");
        assert_eq!(got, winners[0], "the getter saw a losing value");
        assert_eq!(result.try_get(), Ok(&winners[0]));
        assert_eq!(result.waiters(), 0);
    });
}

/// #24: a registered getter's deadline fires as the value is set. It returns the value or
/// `Timeout`; either way a later get completes at once with the value and nothing stays
/// registered.
#[test]
fn set_vs_get_expire() {
    loom::model(|| {
        let result = leak(AsyncResult::<usize>::new());
        let pg = Probe::new();
        let mut g = result.get();
        pg.pending(&mut g);
        assert_eq!(result.try_get(), Err(NotReady));

        let setter = thread::spawn(move || result.set(7).is_ok());
        let timer = thread::spawn(move || match g.expire() {
            Ok(value) => Some(*value),
            Err(Timeout) => None,
        });
        assert!(setter.join().unwrap());
        let got = timer.join().unwrap();

        assert!(matches!(got, None | Some(7)), "the getter saw {got:?}");
        assert_eq!(result.waiters(), 0);
        assert_eq!(result.try_get(), Ok(&7));
        let mut later = result.get();
        assert_eq!(try_once(&mut later), std::task::Poll::Ready(&7));
    });
}
