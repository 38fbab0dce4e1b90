//! The queue's state and the transitions every queue operation is made of, under its lock.
//!
//! State: the items, the count of slots reserved by sinks and permits, the unfinished-task
//! count, the closed flag, and four waiter lists on the core — getters (`get`, `get_many`),
//! putters (an item, or a slot reservation), joiners (`join`) and closers (`closed()`). The
//! closers have a list of their own rather than sharing the joiners': each list is granted by
//! one event (the last `task_done`, `close`), so neither has to tell its waiters apart.
//!
//! Rules kept by every transition:
//! * getters wait only while there is no item; putters only while there is no room (or older
//!   putters wait) — except for a moment after a dropped getter returned its item;
//! * an item that enters the queue (stored, or handed to a getter) counts as unfinished once;
//! * an item handed to a getter that leaves without it goes to the next getter, else back to
//!   where the next get takes it first (its original place, for priority);
//! * a batch (`get_many`, `put_many`) is the same transitions as that many single ones, under
//!   one lock, stopping at the first that would wait: it never overtakes a waiting getter or
//!   putter.

use std::collections::VecDeque;

use super::order::store::Store;
use crate::error::{GetError, PutError, TaskDoneError};
use crate::waiters::{WaitList, WakeList};

/// A queue's state, under its lock; `S` stores the items in the queue's order.
pub(crate) struct QueueState<T, S: Store<T>> {
    items: S,
    /// `usize::MAX` when unbounded.
    capacity: usize,
    /// Slots promised to reservations (sinks, `reserve`) not yet filled.
    reserved: usize,
    /// Items handed to getters that have not taken them yet (they may still come back).
    handed: usize,
    unfinished: usize,
    closed: bool,
    pub(crate) getters: WaitList<(), GetGrant<S::Slot>>,
    pub(crate) putters: WaitList<PutReq<T>, PutGrant<T>>,
    pub(crate) joiners: WaitList<(), ()>,
    pub(crate) closers: WaitList<(), ()>,
}

/// What a waiting getter is handed.
pub(crate) enum GetGrant<S> {
    Item(S),
    Closed,
}

/// What a waiting putter carries: an item, or a request for a slot.
pub(crate) enum PutReq<T> {
    Item(T),
    Reserve,
}

/// What a waiting putter is handed.
pub(crate) enum PutGrant<T> {
    /// Its item entered the queue.
    Done,
    /// A slot is reserved for it.
    Reserved,
    /// The queue closed; its item comes back.
    Closed(Option<T>),
}

impl<T, S: Store<T>> QueueState<T, S> {
    fn has_room(&self) -> bool {
        self.items.len() + self.reserved < self.capacity
    }

    #[inline]
    pub(crate) fn unfinished(&self) -> usize {
        self.unfinished
    }

    /// A new item enters the queue: to the oldest getter, else stored.
    ///
    /// Inlined, with the hand-off out of line: stored is the path of every put that finds no
    /// getter waiting, and a call to the whole of it cost ~35 instructions per item (callgrind,
    /// bench/NOTES.md), most of them saving and restoring registers the hand-off needs.
    #[inline(always)]
    fn enter(&mut self, item: T, wakes: &mut WakeList) {
        self.unfinished += 1;
        let slot = self.items.wrap(item);
        if self.getters.is_empty() {
            self.items.push(slot);
        } else {
            self.hand_to_getter(slot, wakes);
        }
    }

    /// A new item goes to the oldest waiting getter.
    #[inline(never)]
    fn hand_to_getter(&mut self, slot: S::Slot, wakes: &mut WakeList) {
        self.handed += 1;
        self.getters.grant_front(GetGrant::Item(slot), wakes);
    }

    /// An item a getter left without: to the next getter, else back where it is taken first.
    #[inline]
    pub(crate) fn give_back(&mut self, slot: S::Slot, wakes: &mut WakeList) {
        self.handed -= 1;
        if self.getters.is_empty() {
            self.items.restore(slot);
        } else {
            self.handed += 1;
            self.getters.grant_front(GetGrant::Item(slot), wakes);
        }
    }

    /// A getter took the item handed to it.
    #[inline]
    pub(crate) fn item_taken(&mut self, wakes: &mut WakeList) {
        self.handed -= 1;
        self.end_getters_if_drained(wakes);
    }

    /// On a closed queue with no item left, nor any handed out that could come back, the
    /// waiting getters fail with `Closed`.
    fn end_getters_if_drained(&mut self, wakes: &mut WakeList) {
        if self.closed && self.items.len() == 0 && self.handed == 0 {
            self.getters.grant_all(|| GetGrant::Closed, wakes);
        }
    }

    /// Serves the oldest putter: its item enters, or its reservation is granted.
    #[inline(never)]
    fn admit_putter(&mut self, wakes: &mut WakeList) -> bool {
        let mut entering = None;
        let admitted = self.putters.grant_front_with(
            |req| match req {
                PutReq::Item(item) => {
                    entering = Some(item);
                    PutGrant::Done
                }
                PutReq::Reserve => PutGrant::Reserved,
            },
            wakes,
        );
        match entering {
            Some(item) => self.enter(item, wakes),
            None if admitted => self.reserved += 1,
            None => {}
        }
        admitted
    }

    /// Serves putters while there is room.
    ///
    /// Whether a putter waits is asked here, inline, before the call: every get that takes an
    /// item comes here, and nearly always nobody waits.
    #[inline]
    pub(crate) fn fill(&mut self, wakes: &mut WakeList) {
        while self.has_room() && !self.putters.is_empty() && self.admit_putter(wakes) {}
    }

    /// A get without waiting. `None`: it must wait.
    #[inline(always)]
    pub(crate) fn take(&mut self, wakes: &mut WakeList) -> Option<Result<T, GetError>> {
        // toro's rule: a get on a full queue first moves the oldest putter's item in, then
        // takes by the queue's order (so LIFO and priority may return that very item). Only if
        // the get will take an item (else it frees no slot) and the queue is then within its
        // capacity again.
        let frees_a_slot = self.items.len() > 0;
        if frees_a_slot
            && !self.putters.is_empty()
            && self.items.len() + self.reserved <= self.capacity
        {
            self.admit_putter(wakes);
        }
        match self.items.pop() {
            Some(slot) => {
                self.fill(wakes);
                Some(Ok(S::unwrap(slot)))
            }
            None if self.closed => Some(Err(GetError::Closed)),
            None => None,
        }
    }

    /// A put without waiting; the item comes back if it must wait.
    #[inline(always)]
    pub(crate) fn put(&mut self, item: T, wakes: &mut WakeList) -> Result<(), PutError<T>> {
        if self.closed {
            return Err(PutError::Closed(item));
        }
        if self.putters.is_empty() && (self.has_room() || !self.getters.is_empty()) {
            self.enter(item, wakes);
            Ok(())
        } else {
            Err(PutError::Full(item))
        }
    }

    /// A batched get without waiting: up to `limit` (at least 1) items, as that many successive
    /// [`take`](Self::take)s would return them, appended to `buf`; it stops at the first take
    /// that would wait or fail. `None`: it must wait (no item, not closed).
    #[inline]
    pub(crate) fn take_many(
        &mut self,
        buf: &mut Vec<T>,
        limit: usize,
        wakes: &mut WakeList,
    ) -> Option<Result<usize, GetError>> {
        match self.take(wakes)? {
            Ok(item) => buf.push(item),
            Err(closed) => return Some(Err(closed)),
        }
        Some(Ok(1 + self.take_more(buf, limit - 1, wakes)))
    }

    /// Up to `limit` more items for a getter already served (an item was taken or handed to
    /// it), appended to `buf`, while no other getter waits: it never takes an item another
    /// getter is owed. Returns how many.
    #[inline]
    pub(crate) fn take_more(
        &mut self,
        buf: &mut Vec<T>,
        limit: usize,
        wakes: &mut WakeList,
    ) -> usize {
        let mut taken = 0;
        while taken < limit && self.getters.is_empty() {
            match self.take(wakes) {
                Some(Ok(item)) => buf.push(item),
                _ => break,
            }
            taken += 1;
        }
        taken
    }

    /// A batched put without waiting: items from the front of `items`, in order, each as
    /// [`put`](Self::put) would put it, until one would wait. Returns how many were put;
    /// `Closed` (nothing put) if the queue is closed.
    #[inline]
    pub(crate) fn put_many(
        &mut self,
        items: &mut VecDeque<T>,
        wakes: &mut WakeList,
    ) -> Result<usize, PutError<()>> {
        if self.closed {
            return Err(PutError::Closed(()));
        }
        let mut put = 0;
        while self.putters.is_empty() && (self.has_room() || !self.getters.is_empty()) {
            let Some(item) = items.pop_front() else { break };
            self.enter(item, wakes);
            put += 1;
        }
        Ok(put)
    }

    /// A slot reservation without waiting. `None`: it must wait.
    #[inline]
    pub(crate) fn reserve(&mut self) -> Option<Result<(), PutError<()>>> {
        if self.closed {
            return Some(Err(PutError::Closed(())));
        }
        if self.putters.is_empty() && self.has_room() {
            self.reserved += 1;
            return Some(Ok(()));
        }
        None
    }

    /// Fills a reserved slot with `item`.
    #[inline]
    pub(crate) fn put_reserved(
        &mut self,
        item: T,
        wakes: &mut WakeList,
    ) -> Result<(), PutError<T>> {
        self.reserved -= 1;
        if self.closed {
            return Err(PutError::Closed(item));
        }
        self.enter(item, wakes);
        // Handed straight to a getter, the item left its slot free for a waiting put.
        self.fill(wakes);
        Ok(())
    }

    /// Gives up a reserved slot unused.
    #[inline]
    pub(crate) fn unreserve(&mut self, wakes: &mut WakeList) {
        self.reserved -= 1;
        self.fill(wakes);
    }
}

impl<T, S: Store<T>> QueueState<T, S> {
    pub(crate) fn new(capacity: Option<usize>) -> Self {
        QueueState {
            items: S::new(),
            capacity: capacity.unwrap_or(usize::MAX),
            reserved: 0,
            handed: 0,
            unfinished: 0,
            closed: false,
            getters: WaitList::new(),
            putters: WaitList::new(),
            joiners: WaitList::new(),
            closers: WaitList::new(),
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        !self.has_room()
    }

    /// Slots neither filled nor reserved (0 while a given-back item keeps the queue over its
    /// capacity).
    #[inline]
    pub(crate) fn free_slots(&self) -> usize {
        self.capacity
            .saturating_sub(self.items.len() + self.reserved)
    }

    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    pub(crate) fn waiters(&self) -> usize {
        self.getters.len() + self.putters.len() + self.joiners.len() + self.closers.len()
    }

    /// A get without waiting, as an error when it would wait.
    #[inline]
    pub(crate) fn try_take(&mut self, wakes: &mut WakeList) -> Result<T, GetError> {
        self.take(wakes).unwrap_or(Err(GetError::Empty))
    }

    pub(crate) fn task_done(&mut self, wakes: &mut WakeList) -> Result<(), TaskDoneError> {
        if self.unfinished == 0 {
            return Err(TaskDoneError);
        }
        self.unfinished -= 1;
        if self.unfinished == 0 {
            self.joiners.grant_all(|| (), wakes);
        }
        Ok(())
    }

    /// Closes: waiting putters get their items back through their own futures; getters fail
    /// once nothing is left.
    pub(crate) fn close(&mut self, wakes: &mut WakeList) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.putters.grant_all_with(
            |req| match req {
                PutReq::Item(item) => PutGrant::Closed(Some(item)),
                PutReq::Reserve => PutGrant::Closed(None),
            },
            wakes,
        );
        self.end_getters_if_drained(wakes);
        self.closers.grant_all(|| (), wakes);
    }

    pub(crate) fn fmt_fields(&self, f: &mut std::fmt::DebugStruct<'_, '_>) {
        f.field("len", &self.items.len())
            .field("getters", &self.getters.len())
            .field("putters", &self.putters.len())
            .field("unfinished_tasks", &self.unfinished)
            .field("closed", &self.closed);
    }
}
