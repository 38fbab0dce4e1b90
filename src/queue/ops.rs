//! The queue's waits on the waiter core: put, get, join, and slot reservation.

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
