//! The waiter core every primitive is built on.
//!
//! A [`WaitList`] is a FIFO of waiters kept in a slab owned by the primitive, under the
//! primitive's one internal lock. Each waiter is a slot with a state:
//!
//! ```text
//!  push ──► Waiting(request) ──grant──► Granted(payload) ──take (poll)──► slot freed
//!                 │                          │
//!                 └──remove (drop/timeout)───┴──► slot freed, request or payload returned
//! ```
//!
//! * Only the future that owns a [`Key`] frees its slot (by taking its grant or removing
//!   itself), so a key never outlives its slot; the generation in the key is a check on that.
//!   The one exception is a list whose grant is implied by the request (the permit core's):
//!   [`WaitList::grant_front_freeing`] frees the slot as it grants, and the owner, told of the
//!   grant by its primitive (`Op::granted_lock_free`), never uses its key again.
//! * Granting unlinks the waiter from the FIFO and takes its waker out; the caller wakes it
//!   after releasing the lock through a [`WakeList`].
//! * Slots are reused through a free list: once the slab has grown to the largest number of
//!   simultaneous waiters, waiting allocates nothing.
//! * A slab that grew past [`KEEP_BYTES`] in a burst gives the rest back when its last occupied
//!   slot is freed (nobody holds a key then), so a primitive that once saw a crowd does not keep
//!   its memory; a steady load that fits in `KEEP_BYTES` never reallocates.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::task::Waker;

const NIL: u32 = u32::MAX;

/// Bytes of slots a slab keeps when it empties; beyond them, memory goes back to the
/// allocator. 4 KiB: 64 waiters on a semaphore or lock, about 100 on an event.
const KEEP_BYTES: usize = 4096;

/// Identity of one registered waiter: its slot and the slot's generation at registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    idx: u32,
    generation: u32,
}

enum Entry<R, G> {
    Vacant { next_free: u32 },
    Waiting(R),
    Granted(G),
}

struct Slot<R, G> {
    generation: u32,
    prev: u32,
    next: u32,
    entry: Entry<R, G>,
    waker: Option<Waker>,
}

/// What [`WaitList::remove`] found.
pub(crate) enum Removed<R, G> {
    /// Still queued: here is its request.
    Waiting(R),
    /// Already granted: here is what it was given, to forward or to use.
    Granted(G),
}

/// What [`WaitList::poll`] found.
pub(crate) enum Polled<G> {
    /// Granted; the slot is freed and the payload is the caller's.
    Ready(G),
    /// Still waiting, and the stored waker will wake the polling task.
    Pending,
    /// Still waiting, but the stored waker belongs to another task: call
    /// [`WaitList::set_waker`] with a clone made outside the lock.
    NeedsWaker,
}

/// A FIFO of waiters with requests of type `R`, granted payloads of type `G`.
pub(crate) struct WaitList<R, G> {
    slots: Vec<Slot<R, G>>,
    head: u32,
    tail: u32,
    free: u32,
    /// Slots linked in the FIFO (queued, not granted).
    waiting: u32,
    /// Slots not vacant: queued, or granted and not yet taken.
    occupied: u32,
}

impl<R, G> Default for WaitList<R, G> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R, G> WaitList<R, G> {
    /// Slots kept when the slab empties.
    const KEEP: usize = {
        let n = KEEP_BYTES / std::mem::size_of::<Slot<R, G>>();
        if n < 4 { 4 } else { n }
    };

    pub(crate) const fn new() -> Self {
        WaitList {
            slots: Vec::new(),
            head: NIL,
            tail: NIL,
            free: NIL,
            waiting: 0,
            occupied: 0,
        }
    }

    /// Waiters queued and not yet granted.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.waiting as usize
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Queues a waiter at the back.
    #[inline(always)]
    pub(crate) fn push(&mut self, request: R, waker: Waker) -> Key {
        let idx = if self.free != NIL {
            let idx = self.free;
            let slot = &mut self.slots[idx as usize];
            self.free = match slot.entry {
                Entry::Vacant { next_free } => next_free,
                _ => unreachable!("free list points at an occupied slot"),
            };
            slot.entry = Entry::Waiting(request);
            slot.waker = Some(waker);
            idx
        } else {
            let idx = u32::try_from(self.slots.len())
                .ok()
                .filter(|&i| i != NIL)
                .expect("too many simultaneous waiters on one primitive");
            self.slots.push(Slot {
                generation: 0,
                prev: NIL,
                next: NIL,
                entry: Entry::Waiting(request),
                waker: Some(waker),
            });
            idx
        };
        self.link_back(idx);
        self.waiting += 1;
        self.occupied += 1;
        Key {
            idx,
            generation: self.slots[idx as usize].generation,
        }
    }

    /// The request of the oldest queued waiter.
    #[inline]
    pub(crate) fn front(&self) -> Option<&R> {
        if self.head == NIL {
            return None;
        }
        match &self.slots[self.head as usize].entry {
            Entry::Waiting(request) => Some(request),
            _ => unreachable!("a linked slot is always waiting"),
        }
    }

    /// Grants the oldest queued waiter `payload`: unlinks it, queues its waker on `wakes`, and
    /// returns its request. `None` (and `payload` dropped) if nobody waits.
    #[inline]
    pub(crate) fn grant_front(&mut self, payload: G, wakes: &mut WakeList) -> Option<R> {
        let mut request = None;
        self.grant_front_with(
            |req| {
                request = Some(req);
                payload
            },
            wakes,
        );
        request
    }

    /// Grants the oldest queued waiter a payload made from its request: unlinks it and queues
    /// its waker on `wakes`. Returns false if nobody waits.
    #[inline]
    pub(crate) fn grant_front_with(
        &mut self,
        grant: impl FnOnce(R) -> G,
        wakes: &mut WakeList,
    ) -> bool {
        if self.head == NIL {
            return false;
        }
        let idx = self.head;
        self.unlink(idx);
        self.waiting -= 1;
        let slot = &mut self.slots[idx as usize];
        wakes.push(slot.waker.take());
        let Entry::Waiting(request) =
            std::mem::replace(&mut slot.entry, Entry::Vacant { next_free: NIL })
        else {
            unreachable!("a linked slot is always waiting")
        };
        slot.entry = Entry::Granted(grant(request));
        true
    }

    /// Grants the oldest queued waiter and frees its slot at once, for a list whose grant is
    /// implied by the request: the waiter learns of it without the lock (see
    /// `Op::granted_lock_free`) and never touches its slot again. Queues its waker on `wakes`
    /// and returns its request; `None` if nobody waits.
    #[inline]
    pub(crate) fn grant_front_freeing(&mut self, wakes: &mut WakeList) -> Option<R> {
        if self.head == NIL {
            return None;
        }
        let idx = self.head;
        self.unlink(idx);
        self.waiting -= 1;
        let (entry, waker) = self.free_slot(idx);
        wakes.push(waker);
        match entry {
            Entry::Waiting(request) => Some(request),
            _ => unreachable!("a linked slot is always waiting"),
        }
    }

    /// Grants every queued waiter, oldest first, freeing each slot as it grants (see
    /// [`grant_front_freeing`](Self::grant_front_freeing)). Returns how many.
    pub(crate) fn grant_all_freeing(&mut self, wakes: &mut WakeList) -> usize {
        let mut n = 0;
        while self.grant_front_freeing(wakes).is_some() {
            n += 1;
        }
        n
    }

    /// Grants every queued waiter, oldest first, a payload made from its request.
    pub(crate) fn grant_all_with(&mut self, mut grant: impl FnMut(R) -> G, wakes: &mut WakeList) {
        while self.grant_front_with(&mut grant, wakes) {}
    }

    /// Grants every queued waiter, oldest first, a payload made by `payload`. Returns how many.
    pub(crate) fn grant_all(
        &mut self,
        mut payload: impl FnMut() -> G,
        wakes: &mut WakeList,
    ) -> usize {
        let mut n = 0;
        while self.grant_front(payload(), wakes).is_some() {
            n += 1;
        }
        n
    }

    /// Looks at `key`'s waiter for its owner's poll: takes the payload if granted, else says
    /// whether the stored waker still fits `waker`.
    #[inline]
    pub(crate) fn poll(&mut self, key: Key, waker: &Waker) -> Polled<G> {
        let slot = self.slot_mut(key);
        match slot.entry {
            Entry::Granted(_) => Polled::Ready(self.take_granted(key.idx)),
            Entry::Waiting(_) => match &slot.waker {
                Some(stored) if stored.will_wake(waker) => Polled::Pending,
                _ => Polled::NeedsWaker,
            },
            Entry::Vacant { .. } => unreachable!("polled a vacant waiter slot"),
        }
    }

    /// Stores `waker` for a still-waiting `key` and returns the old one (to drop after the lock
    /// is released); if the waiter was granted meanwhile, returns the payload and `waker` back.
    pub(crate) fn set_waker(
        &mut self,
        key: Key,
        waker: Waker,
    ) -> Result<Option<Waker>, (G, Waker)> {
        let slot = self.slot_mut(key);
        match slot.entry {
            Entry::Waiting(_) => Ok(slot.waker.replace(waker)),
            Entry::Granted(_) => Err((self.take_granted(key.idx), waker)),
            Entry::Vacant { .. } => unreachable!("set the waker of a vacant waiter slot"),
        }
    }

    /// Removes `key`'s waiter, whatever its state, and frees its slot. Its waker comes back too,
    /// so that it is dropped after the lock is released.
    pub(crate) fn remove(&mut self, key: Key) -> (Removed<R, G>, Option<Waker>) {
        let slot = self.slot_mut(key);
        let linked = matches!(slot.entry, Entry::Waiting(_));
        if linked {
            self.unlink(key.idx);
            self.waiting -= 1;
        }
        let (entry, waker) = self.free_slot(key.idx);
        let removed = match entry {
            Entry::Waiting(request) => Removed::Waiting(request),
            Entry::Granted(payload) => Removed::Granted(payload),
            Entry::Vacant { .. } => unreachable!("removed a vacant waiter slot"),
        };
        (removed, waker)
    }

    #[inline]
    fn slot_mut(&mut self, key: Key) -> &mut Slot<R, G> {
        let slot = &mut self.slots[key.idx as usize];
        assert_eq!(slot.generation, key.generation, "stale waiter key");
        slot
    }

    #[inline]
    fn take_granted(&mut self, idx: u32) -> G {
        match self.free_slot(idx).0 {
            Entry::Granted(payload) => payload,
            _ => unreachable!("took a grant from a slot that has none"),
        }
    }

    #[inline]
    fn free_slot(&mut self, idx: u32) -> (Entry<R, G>, Option<Waker>) {
        let slot = &mut self.slots[idx as usize];
        slot.generation = slot.generation.wrapping_add(1);
        let entry = std::mem::replace(
            &mut slot.entry,
            Entry::Vacant {
                next_free: self.free,
            },
        );
        let waker = slot.waker.take();
        self.free = idx;
        self.occupied -= 1;
        if self.occupied == 0 && self.slots.len() > Self::KEEP {
            self.shrink();
        }
        (entry, waker)
    }

    /// Gives back the slots beyond [`KEEP`](Self::KEEP). Only when every slot is vacant: no key is held
    /// then (only an owner frees its slot, and an owner whose slot was freed by its grant never
    /// uses its key again), so slots may move and the free list be rebuilt.
    #[cold]
    fn shrink(&mut self) {
        debug_assert_eq!(self.occupied, 0);
        let keep = Self::KEEP;
        self.slots.truncate(keep);
        self.slots.shrink_to(keep);
        for (idx, slot) in self.slots.iter_mut().enumerate() {
            let next = idx + 1;
            slot.entry = Entry::Vacant {
                next_free: if next < keep { next as u32 } else { NIL },
            };
        }
        self.free = 0;
    }

    #[inline]
    fn link_back(&mut self, idx: u32) {
        let tail = self.tail;
        {
            let slot = &mut self.slots[idx as usize];
            slot.prev = tail;
            slot.next = NIL;
        }
        if tail == NIL {
            self.head = idx;
        } else {
            self.slots[tail as usize].next = idx;
        }
        self.tail = idx;
    }

    #[inline]
    fn unlink(&mut self, idx: u32) {
        let (prev, next) = {
            let slot = &self.slots[idx as usize];
            (slot.prev, slot.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.slots[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slots[next as usize].prev = prev;
        }
    }
}

const INLINE_WAKERS: usize = 2;

/// Wakers collected under a primitive's lock, woken by [`wake`](WakeList::wake) — which the
/// code calls only after releasing the lock (`drop(state); wakes.wake()`) — oldest waiter
/// first. Dropping the list wakes what is left (on an early return or unwinding).
///
/// Every operation of every primitive makes one, and most wake nobody, so an empty list is
/// made of four stores and dropped with one comparison: `len` counts every waker held (inline
/// and spilled), and [`wake_all`](Self::wake_all) leaves the list with nothing in it and no
/// spill buffer, so the fields need no drop glue of their own (`ManuallyDrop`).
///
/// `wake` takes `&mut self` rather than the list by value: moving the list would copy it
/// through the stack right after its fields were written, a store-forwarding stall measured
/// on every queue operation.
///
/// A panicking waker does not strand the others: each is woken, the first panic is caught and
/// resumed once all have been woken.
pub(crate) struct WakeList {
    inline: ManuallyDrop<[Option<Waker>; INLINE_WAKERS]>,
    /// Wakers held, inline and spilled.
    len: usize,
    /// Wakers beyond the inline ones; `None` until the first spills.
    spill: ManuallyDrop<Option<Vec<Waker>>>,
}

impl WakeList {
    #[inline]
    pub(crate) const fn new() -> Self {
        WakeList {
            inline: ManuallyDrop::new([const { None }; INLINE_WAKERS]),
            len: 0,
            spill: ManuallyDrop::new(None),
        }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else { return };
        if self.len < INLINE_WAKERS {
            self.inline[self.len] = Some(waker);
        } else {
            self.spill
                .get_or_insert_with(|| SPARE.with(Cell::take))
                .push(waker);
        }
        self.len += 1;
    }
}

/// The most wakers a spare spill buffer keeps room for between broadcasts.
const SPARE_CAPACITY: usize = 4096;

thread_local! {
    // A spill buffer kept per thread, so broadcasts to many waiters allocate only until the
    // buffer has grown once.
    static SPARE: Cell<Vec<Waker>> = const { Cell::new(Vec::new()) };
}

impl Drop for WakeList {
    #[inline]
    fn drop(&mut self) {
        self.wake();
    }
}

impl WakeList {
    /// Wakes the collected wakers, oldest first; the list is empty afterwards.
    #[inline]
    pub(crate) fn wake(&mut self) {
        if self.len != 0 {
            self.wake_all();
        }
    }

    #[inline(never)]
    fn wake_all(&mut self) {
        let spilled = self.spill.take();
        if self.len == 1 {
            // One waker strands nobody if it panics: wake it directly.
            self.len = 0;
            if let Some(waker) = self.inline[0].take() {
                waker.wake();
            }
            return;
        }
        self.len = 0;
        let mut panic = None;
        let inline = self.inline.iter_mut().filter_map(Option::take);
        let mut spill = spilled.unwrap_or_default();
        for waker in inline.chain(spill.drain(..)) {
            let woken = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
            if let Err(payload) = woken {
                panic.get_or_insert(payload);
            }
        }
        if spill.capacity() > 0 && spill.capacity() <= SPARE_CAPACITY {
            // `try_with`: a wake list dropped while this thread's locals are torn down just
            // frees its buffer.
            let _ = SPARE.try_with(|spare| spare.set(spill));
        }
        if let Some(payload) = panic.filter(|_| !std::thread::panicking()) {
            std::panic::resume_unwind(payload);
        }
    }
}
