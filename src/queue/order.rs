//! The three queue orders, as small policies over one queue implementation.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// How a queue stores its items and which one a get takes.
///
/// An item travels as a `Slot` from the moment it enters the queue (put, or hand-off to a
/// getter) until a get returns it, so an item handed back by a dropped getter can be restored
/// to its place.
pub trait Order<T>: crate::wait::sealed::Sealed {
    /// An item as stored.
    #[doc(hidden)]
    type Slot;
    #[doc(hidden)]
    fn new() -> Self;
    #[doc(hidden)]
    fn wrap(&mut self, item: T) -> Self::Slot;
    #[doc(hidden)]
    fn unwrap(slot: Self::Slot) -> T;
    /// Stores a new item.
    #[doc(hidden)]
    fn push(&mut self, slot: Self::Slot);
    /// Puts back an item a getter did not take, where the next get takes it first (FIFO,
    /// LIFO) or at its original place (priority).
    #[doc(hidden)]
    fn restore(&mut self, slot: Self::Slot);
    /// Takes the item a get returns.
    #[doc(hidden)]
    fn pop(&mut self) -> Option<Self::Slot>;
    #[doc(hidden)]
    fn len(&self) -> usize;
}

/// First in, first out.
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

impl<T> crate::wait::sealed::Sealed for Fifo<T> {}

impl<T> Order<T> for Fifo<T> {
    type Slot = T;

    fn new() -> Self {
        Fifo(VecDeque::new())
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
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Last in, first out.
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);

impl<T> crate::wait::sealed::Sealed for Lifo<T> {}

impl<T> Order<T> for Lifo<T> {
    type Slot = T;

    fn new() -> Self {
        Lifo(Vec::new())
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
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Lowest first; among equal items, first in first out.
#[derive(Debug)]
pub struct Priority<T> {
    heap: BinaryHeap<Ranked<T>>,
    next_seq: u64,
}

/// An item with its arrival number, ordered so that the max-heap pops the lowest item, and
/// the earliest among equals.
#[derive(Debug)]
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

impl<T> crate::wait::sealed::Sealed for Priority<T> {}

impl<T: Ord> Order<T> for Priority<T> {
    type Slot = Ranked<T>;

    fn new() -> Self {
        Priority {
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
    fn pop(&mut self) -> Option<Ranked<T>> {
        self.heap.pop()
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
}
