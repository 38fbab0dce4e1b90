//! Compile-time checks of the auto traits, as in std: `Mutex<T>` and the queues are
//! `Send + Sync` for `T: Send`; `RwLock<T>` and `AsyncResult<T>` for `T: Send + Sync`; waiting
//! futures are `Send` when their value type is; guards and permits are `Send + Sync` for
//! `T: Send + Sync`; owned guards, permits, streams and sinks are `'static`.
#![allow(dead_code)]

use std::cell::Cell;
use std::rc::Rc;

use toro_sync::future::*;
use toro_sync::*;

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn send_sync<T: Send + Sync>() {}
fn stat<T: 'static>() {}

#[test]
fn primitives() {
    send_sync::<Condition>();
    send_sync::<Event>();
    send_sync::<Semaphore>();
    send_sync::<BoundedSemaphore>();
    send_sync::<Barrier>();
    send_sync::<Mutex<Cell<u8>>>(); // T: Send is enough for a Mutex
    send_sync::<RwLock<u8>>();
    send_sync::<AsyncResult<u8>>();
    send_sync::<Queue<Cell<u8>>>();
    send_sync::<LifoQueue<Cell<u8>>>();
    send_sync::<PriorityQueue<u8>>();
}

#[test]
fn guards_and_permits() {
    send_sync::<MutexGuard<'static, u8>>();
    send_sync::<OwnedMutexGuard<u8>>();
    send_sync::<RwLockReadGuard<'static, u8>>();
    send_sync::<RwLockWriteGuard<'static, u8>>();
    send_sync::<RwLockUpgradableReadGuard<'static, u8>>();
    send_sync::<MappedMutexGuard<'static, u8>>();
    send_sync::<OwnedMappedMutexGuard<u8, u8>>();
    send_sync::<OwnedRwLockReadGuard<u8>>();
    send_sync::<OwnedRwLockWriteGuard<u8, u8>>();
    send_sync::<SemaphorePermit<'static>>();
    send_sync::<OwnedSemaphorePermit>();
    send_sync::<BoundedSemaphorePermit<'static>>();
    send_sync::<OwnedBoundedSemaphorePermit>();
    send_sync::<PutPermit<'static, u8>>();
    stat::<OwnedMutexGuard<u8>>();
    stat::<OwnedMappedMutexGuard<u8, u8>>();
    stat::<OwnedRwLockReadGuard<u8>>();
    stat::<OwnedRwLockWriteGuard<u8>>();
    stat::<OwnedSemaphorePermit>();
    stat::<OwnedBoundedSemaphorePermit>();
    stat::<OwnedPutPermit<u8>>();
    stat::<OwnedQueueStream<u8>>();
    stat::<OwnedQueueSink<u8>>();
}

#[test]
fn futures_are_send() {
    send::<SemaphoreAcquire<'static>>();
    send::<SemaphoreAcquireOwned>();
    send::<SemaphoreWaitUnlocked<'static>>();
    send::<BoundedSemaphoreAcquire<'static>>();
    send::<BoundedSemaphoreAcquireOwned>();
    send::<MutexLock<'static, u8>>();
    send::<MutexLockOwned<u8>>();
    send::<RwLockRead<'static, u8>>();
    send::<RwLockWrite<'static, u8>>();
    send::<RwLockReadOwned<u8>>();
    send::<RwLockWriteOwned<u8>>();
    send::<RwLockUpgradableRead<'static, u8>>();
    send::<RwLockUpgrade<'static, u8>>();
    send::<EventWait<'static>>();
    send::<ConditionWait<'static>>();
    send::<ConditionWaitWith<'static, u8>>();
    send::<AsyncResultGet<'static, u8>>();
    send::<AsyncResultGetOrInit<'static, u8, fn() -> std::future::Ready<u8>, std::future::Ready<u8>>>(
    );
    send::<
        AsyncResultGetOrTryInit<
            'static,
            u8,
            fn() -> std::future::Ready<Result<u8, ()>>,
            std::future::Ready<Result<u8, ()>>,
        >,
    >();
    send::<
        WithDeadline<
            AsyncResultGetOrInit<
                'static,
                u8,
                fn() -> std::future::Ready<u8>,
                std::future::Ready<u8>,
            >,
        >,
    >();
    send::<BarrierWait<'static>>();
    send::<QueuePut<'static, u8>>();
    send::<QueueGet<'static, u8>>();
    send::<QueueJoin<'static, u8>>();
    send::<QueueReserve<'static, u8>>();
    send::<WithDeadline<SemaphoreAcquire<'static>>>();
    send::<WithDeadline<QueuePut<'static, u8, Priority>>>();
    send::<QueueStream<'static, u8>>();
    send::<QueueSink<'static, u8>>();
}

/// A guard must not be `Sync` when its data is not (a shared guard hands out `&T`).
trait AmbiguousIfSync<A> {
    fn some_item() {}
}
impl<T: ?Sized> AmbiguousIfSync<()> for T {}
impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}

#[test]
fn guards_of_non_sync_data_are_not_sync() {
    // Compiles only because `MutexGuard<Cell<u8>>` is not Sync (otherwise ambiguous).
    <MutexGuard<'static, Cell<u8>> as AmbiguousIfSync<_>>::some_item();
    <OwnedMutexGuard<Cell<u8>> as AmbiguousIfSync<_>>::some_item();
    <MappedMutexGuard<'static, Cell<u8>> as AmbiguousIfSync<_>>::some_item();
    <OwnedMappedMutexGuard<u8, Cell<u8>> as AmbiguousIfSync<_>>::some_item();
    <RwLockReadGuard<'static, Cell<u8>> as AmbiguousIfSync<_>>::some_item();
    <Mutex<Rc<u8>> as AmbiguousIfSync<_>>::some_item();
}
