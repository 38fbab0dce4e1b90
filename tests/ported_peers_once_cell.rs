//! Ported peers' test cases for the once-cell side of `AsyncResult`:
//! [`get_or_init`](toro_sync::AsyncResult::get_or_init),
//! [`get_or_try_init`](toro_sync::AsyncResult::get_or_try_init),
//! [`take`](toro_sync::AsyncResult::take), `into_inner`, `set`/`try_get`.
//!
//! Sources, each test naming its original:
//!
//! * tokio, `tokio/tests/sync_once_cell.rs` (`OnceCell`): `drop_cell`, `drop_into_inner`,
//!   `get_or_init`, `get_or_init_panic`, `set_and_get`, `get_uninit`, `set_twice`,
//!   `set_while_initializing` (pinned, see there), `get_or_try_init`. Not ported:
//!   `drop_cell_new_with`, `drop_into_inner_new_with` and `from` (no `new_with`/`From<T>` here).
//! * async-lock, `src/once_cell.rs` (`OnceCell`; its cases are its doctests): the examples of
//!   `get_or_init`, `get_or_try_init`, `take`, `into_inner`, `get`, `is_initialized`.
//!
//! Idioms: tokio's `OnceCell::get()` → `try_get()`; `static` cells → an `Arc`; tokio's
//! `time::pause`/`advance` → `#[tokio::test(start_paused = true)]`, whose clock advances when
//! every task waits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use toro_sync::{AlreadySet, AsyncResult, NotReady};

async fn func1() -> u32 {
    5
}

async fn func2() -> u32 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    10
}

async fn func_panic() -> u32 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    panic!("func_panic");
}

async fn func_err() -> Result<u32, ()> {
    Err(())
}

async fn func_ok() -> Result<u32, ()> {
    Ok(10)
}

struct Foo {
    drops: Arc<AtomicU32>,
}

impl Drop for Foo {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Release);
    }
}

// ---- tokio: tokio/tests/sync_once_cell.rs ----

/// tokio `drop_cell`.
#[test]
fn tokio_drop_cell() {
    let drops = Arc::new(AtomicU32::new(0));
    {
        let cell = AsyncResult::new();
        assert!(
            cell.set(Foo {
                drops: drops.clone()
            })
            .is_ok()
        );
    }
    assert_eq!(drops.load(Ordering::Acquire), 1);
}

/// tokio `drop_into_inner`.
#[test]
fn tokio_drop_into_inner() {
    let drops = Arc::new(AtomicU32::new(0));
    let cell = AsyncResult::new();
    assert!(
        cell.set(Foo {
            drops: drops.clone()
        })
        .is_ok()
    );
    let foo = cell.into_inner();
    assert_eq!(drops.load(Ordering::Acquire), 0);
    drop(foo);
    assert_eq!(drops.load(Ordering::Acquire), 1);
}

/// tokio `get_or_init`: two tasks race; the first initializer (immediate) wins, the second
/// task waits for it and gets its value.
#[tokio::test(start_paused = true)]
async fn tokio_get_or_init() {
    let once = Arc::new(AsyncResult::new());
    let handle1 = tokio::spawn({
        let once = once.clone();
        async move { *once.get_or_init(func1).await }
    });
    let handle2 = tokio::spawn({
        let once = once.clone();
        async move { *once.get_or_init(func2).await }
    });
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(handle1.await.unwrap(), 5);
    assert_eq!(handle2.await.unwrap(), 5);
}

/// tokio `get_or_init_panic`: the second initializer (which would panic) never runs, the
/// first one having set the value.
#[tokio::test(start_paused = true)]
async fn tokio_get_or_init_panic() {
    let once = Arc::new(AsyncResult::new());
    let handle1 = tokio::spawn({
        let once = once.clone();
        async move { *once.get_or_init(func1).await }
    });
    let handle2 = tokio::spawn({
        let once = once.clone();
        async move { *once.get_or_init(func_panic).await }
    });
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(handle1.await.unwrap(), 5);
    assert_eq!(handle2.await.unwrap(), 5);
}

/// tokio `set_and_get`.
#[tokio::test]
async fn tokio_set_and_get() {
    let once = Arc::new(AsyncResult::new());
    let _ = tokio::spawn({
        let once = once.clone();
        async move { once.set(5u32) }
    })
    .await;
    assert_eq!(once.try_get(), Ok(&5));
}

/// tokio `get_uninit`.
#[test]
fn tokio_get_uninit() {
    let once = AsyncResult::<u32>::new();
    assert_eq!(once.try_get(), Err(NotReady));
}

/// tokio `set_twice`: the second set fails (here with `AlreadySet`, carrying the value back).
#[test]
fn tokio_set_twice() {
    let once = AsyncResult::new();
    assert_eq!(once.set(5u32), Ok(()));
    assert_eq!(once.set(6), Err(AlreadySet(6)));
}

/// tokio `set_while_initializing`. PINNED: tokio's `set` fails with `InitializingError` while
/// an initializer runs, and the initializer's 5 is stored. Here `set` succeeds (documented on
/// `AsyncResult::set`): it completes every caller with 10, the initializer runs on and its 5
/// is dropped, and its `get_or_init` returns 10.
#[tokio::test(start_paused = true)]
async fn tokio_set_while_initializing() {
    let once = Arc::new(AsyncResult::new());
    let handle1 = tokio::spawn({
        let once = once.clone();
        async move {
            *once
                .get_or_init(|| async {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    5u32
                })
                .await
        }
    });
    let handle2 = tokio::spawn({
        let once = once.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            once.set(10)
        }
    });
    tokio::time::advance(Duration::from_millis(2)).await;
    assert_eq!(handle1.await.unwrap(), 10);
    assert_eq!(handle2.await.unwrap(), Ok(()));
    assert_eq!(once.try_get(), Ok(&10));
}

/// tokio `get_or_try_init`: the first initializer fails (its caller gets the error), the
/// second then runs and stores 10.
#[tokio::test(start_paused = true)]
async fn tokio_get_or_try_init() {
    let once = Arc::new(AsyncResult::new());
    let handle1 = tokio::spawn({
        let once = once.clone();
        async move { once.get_or_try_init(func_err).await.copied() }
    });
    let handle2 = tokio::spawn({
        let once = once.clone();
        async move { once.get_or_try_init(func_ok).await.copied() }
    });
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(handle1.await.unwrap().is_err());
    assert_eq!(handle2.await.unwrap(), Ok(10));
}

// ---- async-lock: src/once_cell.rs (doctests) ----

/// async-lock `OnceCell::get_or_init` example.
#[tokio::test]
async fn async_lock_get_or_init() {
    let cell = AsyncResult::new();
    assert_eq!(cell.get_or_init(|| async { 1 }).await, &1);
    assert_eq!(cell.get_or_init(|| async { 2 }).await, &1);
}

/// async-lock `OnceCell::get_or_try_init` example: an error leaves the cell empty; once set,
/// a failing initializer is not run.
#[tokio::test]
async fn async_lock_get_or_try_init() {
    let cell = AsyncResult::new();
    let result = cell.get_or_try_init(|| async { Err(()) }).await;
    assert!(result.is_err());
    let result = cell.get_or_try_init(|| async { Ok::<i32, ()>(1) }).await;
    assert_eq!(result.unwrap(), &1);
    let result = cell.get_or_try_init(|| async { Err(()) }).await;
    assert_eq!(result.unwrap(), &1);
}

/// async-lock `OnceCell::take` example.
#[test]
fn async_lock_take() {
    let mut cell = AsyncResult::new();
    cell.set(1).unwrap();
    assert_eq!(cell.take(), Some(1));
    assert!(!cell.is_ready());
}

/// async-lock `OnceCell::into_inner` example.
#[test]
fn async_lock_into_inner() {
    let cell = AsyncResult::new();
    cell.set(1).unwrap();
    assert_eq!(cell.into_inner(), Some(1));
}

/// async-lock `OnceCell::get` and `OnceCell::is_initialized` examples.
#[test]
fn async_lock_get_and_is_initialized() {
    let cell = AsyncResult::new();
    assert!(!cell.is_ready());
    assert!(cell.try_get().is_err());
    cell.set(1).unwrap();
    assert!(cell.is_ready());
    assert_eq!(cell.try_get(), Ok(&1));
}

/// async-lock `OnceCell::get_or_init_blocking` example, through `.block()`.
#[test]
fn async_lock_get_or_init_blocking() {
    let cell = AsyncResult::new();
    assert_eq!(cell.get_or_init(|| async { 1 }).block(), &1);
    assert_eq!(cell.get_or_init(|| async { 2 }).block(), &1);
}
