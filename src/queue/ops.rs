//! The queue's waits on the waiter core: put, get, a batched get, join, waiting for `close`,
//! and slot reservation. (The batched put is made of puts: see `batch`.)

use std::any::Any;
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use super::order::store::Store;
use super::order::{Fifo, Order};
use super::permit::{OwnedPutPermit, PutPermit};
use super::state::{GetGrant, PutGrant, PutReq, QueueState};
use super::{GenericQueue, QueueHandle, StoreOf};
use crate::error::{GetError, PutError, Timeout};
use crate::sync::{Arc, MutexGuard};
use crate::wait::{Op, Waiter, wait_future};
use crate::waiters::{WaitList, WakeList};

type Item<H> = <H as QueueHandle>::Item;
type StoreOfH<H> = StoreOf<Item<H>, <H as QueueHandle>::Order>;
type SlotOf<H> = <StoreOfH<H> as Store<Item<H>>>::Slot;
type State<H> = QueueState<Item<H>, StoreOfH<H>>;

pub(crate) struct GetOp<H>(pub(crate) H);

impl<H: QueueHandle> Op for GetOp<H> {
    type State = State<H>;
    type Req = ();
    type Grant = GetGrant<SlotOf<H>>;
    type Output = Result<Item<H>, GetError>;
    type Timed = Result<Item<H>, GetError>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, Self::State> {
        self.0.state()
    }

    fn list(state: &mut Self::State) -> &mut WaitList<(), Self::Grant> {
        &mut state.getters
    }

    #[inline(always)]
    fn try_now(
        &self,
        _: &mut (),
        state: &mut Self::State,
        wakes: &mut WakeList,
    ) -> Option<Self::Output> {
        state.take(wakes)
    }

    fn register(&self, _: &mut (), _: &mut Self::State) {}

    fn forward(
        &self,
        state: &mut Self::State,
        grant: Self::Grant,
        wakes: &mut WakeList,
    ) -> Option<Self::Grant> {
        if let GetGrant::Item(slot) = grant {
            state.give_back(slot, wakes);
        }
        None
    }

    fn taken(&self, state: &mut Self::State, grant: &Self::Grant, wakes: &mut WakeList) {
        if let GetGrant::Item(_) = grant {
            state.item_taken(wakes);
        }
    }

    fn finish(&self, _: &mut Self::Data, grant: Self::Grant) -> Self::Output {
        match grant {
            GetGrant::Item(slot) => Ok(<StoreOfH<H>>::unwrap(slot)),
            GetGrant::Closed => Err(GetError::Closed),
        }
    }

    fn ok(output: Self::Output) -> Self::Timed {
        output
    }

    fn timed_out(&self, _: &mut (), _: Option<()>) -> Self::Timed {
        Err(GetError::Timeout)
    }
}

/// A batched get: waits in the getters' line as a get does; once served, takes more items under
/// the same lock while no other getter waits.
pub(crate) struct GetManyOp<'b, H: QueueHandle> {
    queue: H,
    /// The caller's buffer. In a `Cell` because the op's hooks take `&self` and `taken` (under
    /// the lock, where the extra items are taken) has no per-wait data; it is only ever out of
    /// the cell inside [`with_buf`](Self::with_buf).
    buf: Cell<Option<&'b mut Vec<Item<H>>>>,
    /// `buf.len()` when the wait began: the items from there on are this wait's.
    start: usize,
    limit: usize,
    /// A panic caught while taking more items in `taken`, resumed by `finish`.
    panic: Cell<Option<Box<dyn Any + Send>>>,
}

impl<'b, H: QueueHandle> GetManyOp<'b, H> {
    pub(crate) fn new(queue: H, buf: &'b mut Vec<Item<H>>, limit: usize) -> Self {
        GetManyOp {
            queue,
            start: buf.len(),
            buf: Cell::new(Some(buf)),
            limit,
            panic: Cell::new(None),
        }
    }

    fn with_buf<R>(&self, f: impl FnOnce(&mut Vec<Item<H>>) -> R) -> R {
        let buf = self
            .buf
            .take()
            .expect("a batched get holds its buffer until it completes");
        let out = f(buf);
        self.buf.set(Some(buf));
        out
    }
}

impl<H: QueueHandle> Op for GetManyOp<'_, H> {
    type State = State<H>;
    type Req = ();
    type Grant = GetGrant<SlotOf<H>>;
    type Output = Result<usize, GetError>;
    type Timed = Result<usize, GetError>;
    type Data = ();

    /// `limit == 0`: done at once, without the lock.
    #[inline]
    fn try_fast(&self, _: &mut ()) -> Option<Self::Output> {
        (self.limit == 0).then_some(Ok(0))
    }

    fn lock(&self) -> MutexGuard<'_, Self::State> {
        self.queue.state()
    }

    fn list(state: &mut Self::State) -> &mut WaitList<(), Self::Grant> {
        &mut state.getters
    }

    fn try_now(
        &self,
        _: &mut (),
        state: &mut Self::State,
        wakes: &mut WakeList,
    ) -> Option<Self::Output> {
        self.with_buf(|buf| state.take_many(buf, self.limit, wakes))
    }

    fn register(&self, _: &mut (), _: &mut Self::State) {}

    fn forward(
        &self,
        state: &mut Self::State,
        grant: Self::Grant,
        wakes: &mut WakeList,
    ) -> Option<Self::Grant> {
        if let GetGrant::Item(slot) = grant {
            state.give_back(slot, wakes);
        }
        None
    }

    /// The item handed over is taken; more are taken under the same lock. They go into the
    /// buffer now and the handed item after them (in `finish`), which then moves it first.
    ///
    /// Taking more runs the items' `Ord` (a priority queue) after the waiter core has freed
    /// this waiter's slot but before it marks the wait done: a panic unwinding from here would
    /// make the future's drop withdraw a slot that is no longer its own. So it is caught here
    /// and resumed by `finish`, once the handed item is in the buffer.
    fn taken(&self, state: &mut Self::State, grant: &Self::Grant, wakes: &mut WakeList) {
        if let GetGrant::Item(_) = grant {
            state.item_taken(wakes);
            self.with_buf(|buf| {
                let more = catch_unwind(AssertUnwindSafe(|| {
                    state.take_more(buf, self.limit - 1, wakes)
                }));
                if let Err(panic) = more {
                    self.panic.set(Some(panic));
                }
            });
        }
    }

    fn finish(&self, _: &mut (), grant: Self::Grant) -> Self::Output {
        match grant {
            GetGrant::Item(slot) => {
                let taken = self.with_buf(|buf| {
                    buf.push(<StoreOfH<H>>::unwrap(slot));
                    buf[self.start..].rotate_right(1);
                    buf.len() - self.start
                });
                if let Some(panic) = self.panic.take() {
                    resume_unwind(panic);
                }
                Ok(taken)
            }
            GetGrant::Closed => Err(GetError::Closed),
        }
    }

    fn ok(output: Self::Output) -> Self::Timed {
        output
    }

    fn timed_out(&self, _: &mut (), _: Option<()>) -> Self::Timed {
        Err(GetError::Timeout)
    }
}

/// Waiting for the queue to be closed.
pub(crate) struct ClosedOp<H>(pub(crate) H);

impl<H: QueueHandle> Op for ClosedOp<H> {
    type State = State<H>;
    type Req = ();
    type Grant = ();
    type Output = ();
    type Timed = Result<(), Timeout>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, Self::State> {
        self.0.state()
    }

    fn list(state: &mut Self::State) -> &mut WaitList<(), ()> {
        &mut state.closers
    }

    fn try_now(&self, _: &mut (), state: &mut Self::State, _: &mut WakeList) -> Option<()> {
        state.is_closed().then_some(())
    }

    fn register(&self, _: &mut (), _: &mut Self::State) {}

    fn finish(&self, _: &mut (), _: ()) {}

    fn ok(_: ()) -> Self::Timed {
        Ok(())
    }

    fn timed_out(&self, _: &mut (), _: Option<()>) -> Self::Timed {
        Err(Timeout)
    }
}

pub(crate) struct PutOp<H>(pub(crate) H);

impl<H: QueueHandle> Op for PutOp<H> {
    type State = State<H>;
    type Req = PutReq<Item<H>>;
    type Grant = PutGrant<Item<H>>;
    type Output = Result<(), PutError<Item<H>>>;
    type Timed = Result<(), PutError<Item<H>>>;
    /// The item, until it is queued with the request or put.
    type Data = Option<Item<H>>;

    fn lock(&self) -> MutexGuard<'_, Self::State> {
        self.0.state()
    }

    fn list(state: &mut Self::State) -> &mut WaitList<Self::Req, Self::Grant> {
        &mut state.putters
    }

    #[inline(always)]
    fn try_now(
        &self,
        item: &mut Option<Item<H>>,
        state: &mut Self::State,
        wakes: &mut WakeList,
    ) -> Option<Self::Output> {
        let taken = item
            .take()
            .expect("a put holds its item until it is queued");
        match state.put(taken, wakes) {
            Err(PutError::Full(back)) => {
                *item = Some(back);
                None
            }
            done => Some(done),
        }
    }

    fn register(&self, item: &mut Option<Item<H>>, _: &mut Self::State) -> Self::Req {
        PutReq::Item(
            item.take()
                .expect("a put holds its item until it is queued"),
        )
    }

    fn finish(&self, _: &mut Self::Data, grant: Self::Grant) -> Self::Output {
        match grant {
            PutGrant::Done => Ok(()),
            PutGrant::Closed(Some(item)) => Err(PutError::Closed(item)),
            PutGrant::Closed(None) | PutGrant::Reserved => {
                unreachable!("a put is granted its item's entry or its item back")
            }
        }
    }

    fn ok(output: Self::Output) -> Self::Timed {
        output
    }

    fn timed_out(&self, item: &mut Option<Item<H>>, req: Option<Self::Req>) -> Self::Timed {
        let item = match req {
            Some(PutReq::Item(item)) => item,
            _ => item
                .take()
                .expect("a put that never queued still holds its item"),
        };
        Err(PutError::Timeout(item))
    }
}

pub(crate) struct JoinOp<H>(pub(crate) H);

impl<H: QueueHandle> Op for JoinOp<H> {
    type State = State<H>;
    type Req = ();
    type Grant = ();
    type Output = ();
    type Timed = Result<(), Timeout>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, Self::State> {
        self.0.state()
    }

    fn list(state: &mut Self::State) -> &mut WaitList<(), ()> {
        &mut state.joiners
    }

    fn try_now(&self, _: &mut (), state: &mut Self::State, _: &mut WakeList) -> Option<()> {
        (state.unfinished() == 0).then_some(())
    }

    fn register(&self, _: &mut (), _: &mut Self::State) {}

    fn finish(&self, _: &mut (), _: ()) {}

    fn ok(_: ()) -> Self::Timed {
        Ok(())
    }

    fn timed_out(&self, _: &mut (), _: Option<()>) -> Self::Timed {
        Err(Timeout)
    }
}

/// Waiting for a slot, FIFO with blocked puts. Resolves to a permit holding the slot.
pub(crate) struct ReserveOp<H>(pub(crate) H);

impl<H: QueueHandle> Op for ReserveOp<H> {
    type State = State<H>;
    type Req = PutReq<Item<H>>;
    type Grant = PutGrant<Item<H>>;
    type Output = Result<H::Permit, PutError<()>>;
    type Timed = Result<H::Permit, PutError<()>>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, Self::State> {
        self.0.state()
    }

    fn list(state: &mut Self::State) -> &mut WaitList<Self::Req, Self::Grant> {
        &mut state.putters
    }

    fn try_now(
        &self,
        _: &mut (),
        state: &mut Self::State,
        _: &mut WakeList,
    ) -> Option<Self::Output> {
        let reserved = state.reserve()?;
        Some(reserved.map(|()| self.0.clone().into_permit()))
    }

    fn register(&self, _: &mut (), _: &mut Self::State) -> Self::Req {
        PutReq::Reserve
    }

    fn forward(
        &self,
        state: &mut Self::State,
        grant: Self::Grant,
        wakes: &mut WakeList,
    ) -> Option<Self::Grant> {
        if let PutGrant::Reserved = grant {
            state.unreserve(wakes);
        }
        None
    }

    fn finish(&self, _: &mut Self::Data, grant: Self::Grant) -> Self::Output {
        match grant {
            PutGrant::Reserved => Ok(self.0.clone().into_permit()),
            _ => Err(PutError::Closed(())),
        }
    }

    fn ok(output: Self::Output) -> Self::Timed {
        output
    }

    fn timed_out(&self, _: &mut (), _: Option<Self::Req>) -> Self::Timed {
        Err(PutError::Timeout(()))
    }
}

wait_future! {
    /// The future of [`put`](GenericQueue::put): resolves to `Ok(())` once the item is in the
    /// queue (or handed to a getter), or gives the item back in the error.
    QueuePut ['a, T, O: Order<T> = Fifo] ['a, T, O: Order<T>] ['a, T, O]
        = Waiter<PutOp<&'a GenericQueue<T, O>>> => Result<(), PutError<T>>, Result<(), PutError<T>>;
}

wait_future! {
    /// The future of [`get`](GenericQueue::get).
    QueueGet ['a, T, O: Order<T> = Fifo] ['a, T, O: Order<T>] ['a, T, O]
        = Waiter<GetOp<&'a GenericQueue<T, O>>> => Result<T, GetError>, Result<T, GetError>;
}

wait_future! {
    /// The future of [`join`](GenericQueue::join).
    QueueJoin ['a, T, O: Order<T> = Fifo] ['a, T, O: Order<T>] ['a, T, O]
        = Waiter<JoinOp<&'a GenericQueue<T, O>>> => (), Result<(), Timeout>;
}

wait_future! {
    /// The future of [`reserve`](GenericQueue::reserve): a slot, FIFO with blocked puts.
    QueueReserve ['a, T, O: Order<T> = Fifo] ['a, T, O: Order<T>] ['a, T, O]
        = Waiter<ReserveOp<&'a GenericQueue<T, O>>>
        => Result<PutPermit<'a, T, O>, PutError<()>>, Result<PutPermit<'a, T, O>, PutError<()>>;
}

wait_future! {
    /// The future of [`reserve_owned`](GenericQueue::reserve_owned).
    QueueReserveOwned [T, O: Order<T> = Fifo] [T, O: Order<T>] [T, O]
        = Waiter<ReserveOp<Arc<GenericQueue<T, O>>>>
        => Result<OwnedPutPermit<T, O>, PutError<()>>, Result<OwnedPutPermit<T, O>, PutError<()>>;
}

wait_future! {
    /// The future of [`get_many`](GenericQueue::get_many): resolves to how many items it
    /// appended to the buffer (at least one), or to the error.
    QueueGetMany ['a, 'b, T, O: Order<T> = Fifo] ['a, 'b, T, O: Order<T>] ['a, 'b, T, O]
        = Waiter<GetManyOp<'b, &'a GenericQueue<T, O>>>
        => Result<usize, GetError>, Result<usize, GetError>;
}

wait_future! {
    /// The future of [`closed`](GenericQueue::closed): resolves once the queue is closed.
    QueueClosed ['a, T, O: Order<T> = Fifo] ['a, T, O: Order<T>] ['a, T, O]
        = Waiter<ClosedOp<&'a GenericQueue<T, O>>> => (), Result<(), Timeout>;
}
