//! The three queue orders: public markers ([`Fifo`], [`Lifo`], [`Priority`]) naming a store
//! that only this crate can see.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// The order a [`GenericQueue`](crate::GenericQueue) serves its items in: [`Fifo`], [`Lifo`]
/// or [`Priority`] (which needs `T: Ord`).
///
/// Sealed: the three orders are the crate's, and how they store items is not part of the API.
pub trait Order<T>: store::HasStore<T> {}

/// First in, first out: [`Queue`](crate::Queue).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Fifo;

/// Last in, first out: [`LifoQueue`](crate::LifoQueue).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Lifo;

/// Lowest item first, and first in, first out among equal items:
/// [`PriorityQueue`](crate::PriorityQueue).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Priority;

impl<T> Order<T> for Fifo {}
impl<T> Order<T> for Lifo {}
impl<T: Ord> Order<T> for Priority {}

/// The stores behind the orders. The module is private, so nothing here can be named outside
/// the crate: this is what seals [`Order`].
pub(crate) mod store {
    use super::*;

    /// Bytes of item buffer a store keeps when it empties; beyond them, the room a burst made
    /// it grow goes back to the allocator (as the waiter slabs do: a steady load that fits in
    /// 4 KiB never reallocates).
    const KEEP_BYTES: usize = 4096;

    /// Items of type `S` a store keeps room for when it empties: 4 KiB worth, at least 8
    /// (zero-sized items take no buffer, so never shrink).
    const fn keep<S>() -> usize {
        let size = std::mem::size_of::<S>();
        if size == 0 {
            usize::MAX
        } else if KEEP_BYTES / size < 8 {
            8
        } else {
            KEEP_BYTES / size
        }
    }

    /// A store's buffer of `S`s was emptied by a get: if a burst grew it past [`keep`] items,
    /// keep that many. Out of line, so that a get pays one test for it, the emptiness (with
    /// the capacity check inline too, the compiler computed both conditions on every get: +6
    /// instructions).
    #[cold]
    #[inline(never)]
    fn give_back_room<S, B>(buf: &mut B, capacity: fn(&B) -> usize, shrink_to: fn(&mut B, usize)) {
        if capacity(buf) > keep::<S>() {
            shrink_to(buf, keep::<S>());
        }
    }

    /// The store an order uses for items of type `T`.
    pub trait HasStore<T> {
        type Store: Store<T>;
        /// The name of the queue type with this order, for `Debug`.
        const QUEUE_NAME: &'static str;
    }

    impl<T> HasStore<T> for Fifo {
        type Store = FifoStore<T>;
        const QUEUE_NAME: &'static str = "Queue";
    }
    impl<T> HasStore<T> for Lifo {
        type Store = LifoStore<T>;
        const QUEUE_NAME: &'static str = "LifoQueue";
    }
    impl<T: Ord> HasStore<T> for Priority {
        type Store = PriorityStore<T>;
        const QUEUE_NAME: &'static str = "PriorityQueue";
    }

    /// How a queue stores its items and which one a get takes.
    ///
    /// An item travels as a `Slot` from the moment it enters the queue (put, or hand-off to a
    /// getter) until a get returns it, so an item handed back by a dropped getter can be
    /// restored to its place.
    pub trait Store<T> {
        /// An item as stored.
        type Slot;
        fn new() -> Self;
        fn wrap(&mut self, item: T) -> Self::Slot;
        fn unwrap(slot: Self::Slot) -> T;
        /// Stores a new item.
        fn push(&mut self, slot: Self::Slot);
        /// Puts back an item a getter did not take, where the next get takes it first (FIFO,
        /// LIFO) or at its original place (priority).
        fn restore(&mut self, slot: Self::Slot);
        /// Takes the item a get returns.
        fn pop(&mut self) -> Option<Self::Slot>;
        fn len(&self) -> usize;
    }

    pub struct FifoStore<T>(VecDeque<T>);

    impl<T> Store<T> for FifoStore<T> {
        type Slot = T;

        fn new() -> Self {
            FifoStore(VecDeque::new())
        }
        fn wrap(&mut self, item: T) -> T {
            item
        }
        fn unwrap(slot: T) -> T {
            slot
        }
        fn push(&mut self, slot: T) {
            self.0.push_back(slot);
        }
        fn restore(&mut self, slot: T) {
            self.0.push_front(slot);
        }
        #[inline]
        fn pop(&mut self) -> Option<T> {
            let slot = self.0.pop_front()?;
            if self.0.is_empty() {
                give_back_room::<T, _>(&mut self.0, VecDeque::capacity, VecDeque::shrink_to);
            }
            Some(slot)
        }
        fn len(&self) -> usize {
            self.0.len()
        }
    }

    pub struct LifoStore<T>(Vec<T>);

    impl<T> Store<T> for LifoStore<T> {
        type Slot = T;

        fn new() -> Self {
            LifoStore(Vec::new())
        }
        fn wrap(&mut self, item: T) -> T {
            item
        }
        fn unwrap(slot: T) -> T {
            slot
        }
        fn push(&mut self, slot: T) {
            self.0.push(slot);
        }
        fn restore(&mut self, slot: T) {
            self.0.push(slot);
        }
        #[inline]
        fn pop(&mut self) -> Option<T> {
            let slot = self.0.pop()?;
            if self.0.is_empty() {
                give_back_room::<T, _>(&mut self.0, Vec::capacity, Vec::shrink_to);
            }
            Some(slot)
        }
        fn len(&self) -> usize {
            self.0.len()
        }
    }

    pub struct PriorityStore<T> {
        heap: BinaryHeap<Ranked<T>>,
        next_seq: u64,
    }

    /// An item with its arrival number, ordered so that the max-heap pops the lowest item, and
    /// the earliest among equals.
    pub struct Ranked<T> {
        item: T,
        seq: u64,
    }

    impl<T: Ord> PartialEq for Ranked<T> {
        fn eq(&self, other: &Self) -> bool {
            self.cmp(other) == Ordering::Equal
        }
    }

    impl<T: Ord> Eq for Ranked<T> {}

    impl<T: Ord> PartialOrd for Ranked<T> {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    impl<T: Ord> Ord for Ranked<T> {
        fn cmp(&self, other: &Self) -> Ordering {
            other
                .item
                .cmp(&self.item)
                .then_with(|| other.seq.cmp(&self.seq))
        }
    }

    impl<T: Ord> Store<T> for PriorityStore<T> {
        type Slot = Ranked<T>;

        fn new() -> Self {
            PriorityStore {
                heap: BinaryHeap::new(),
                next_seq: 0,
            }
        }
        fn wrap(&mut self, item: T) -> Ranked<T> {
            let seq = self.next_seq;
            self.next_seq += 1;
            Ranked { item, seq }
        }
        fn unwrap(slot: Ranked<T>) -> T {
            slot.item
        }
        fn push(&mut self, slot: Ranked<T>) {
            self.heap.push(slot);
        }
        fn restore(&mut self, slot: Ranked<T>) {
            self.heap.push(slot);
        }
        #[inline]
        fn pop(&mut self) -> Option<Ranked<T>> {
            let slot = self.heap.pop()?;
            if self.heap.is_empty() {
                give_back_room::<Ranked<T>, _>(
                    &mut self.heap,
                    BinaryHeap::capacity,
                    BinaryHeap::shrink_to,
                );
            }
            Some(slot)
        }
        fn len(&self) -> usize {
            self.heap.len()
        }
    }
}
