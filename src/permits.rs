//! The permit counter shared by `Semaphore`, `BoundedSemaphore`, `Mutex` and `RwLock`: a count
//! of free permits plus one FIFO of requests for `n` permits on the waiter core.
//!
//! Requests are granted whole and strictly in order: the head request takes its `n` permits as
//! soon as that many are free, and nobody behind it is served first. A mutex is one permit; a
//! read lock one of `max_readers`; a write lock all of them, in one request.
//!
//! # The fast path
//!
//! The free count lives in an atomic word together with a `SLOW` flag. While nobody waits
//! (`SLOW` clear), acquiring and returning permits is one compare-and-swap, without the lock.
//! The flag is set, under the lock, before any waiter is queued, by a compare-and-swap that
//! fails if the count changed since it was read; from then on every acquire and return takes
//! the lock, so a queued waiter is never bypassed and never misses a returned permit. The flag
//! is cleared, under the lock, when both waiter lists are empty. Loom models in `loom/tests/`
//! cover the race between a lock-free return and a waiter being queued.
//!
//! Invariant: a waiter list is non-empty only while `SLOW` is set; while `SLOW` is set the
//! count changes only under the lock.
//!
//! # The lock-free pick-up
//!
//! A queued request is granted under the lock like any other, but its grant needs no slot:
//! the waiter knows its `n`. So a grant frees the slot at once and publishes how far the
//! grants have come (`granted`, see [`Request`]); the granted waiter, when polled or dropped,
//! reads that without the lock and takes its permits, sparing a hand-off the second lock
//! round trip. `granted` is published after the count, so a waiter that sees its grant sees
//! the count without its permits. Loom models cover it through every permit model (a grant
//! racing a drop, an expiry, a re-poll, a `try_lock`).

use crate::error::Timeout;
use crate::sync::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::wait::{Op, Waiter, wait_future};
use crate::waiters::{WaitList, WakeList};

/// The largest permit count a semaphore can hold (as tokio: `usize::MAX >> 3`).
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// Set while waiters are queued: every change of the count then goes through the lock.
const SLOW: usize = 1;
/// One permit in the state word (the count is stored above the flag).
const ONE: usize = 2;

pub(crate) struct Permits {
    /// `free permits * ONE | SLOW`.
    state: AtomicUsize,
    /// The ticket after the last granted request: every queued request with a lower ticket
    /// has been granted (see [`Request`]). Written under the lock, read without it.
    granted: AtomicUsize,
    lists: Mutex<PermitLists>,
}

/// The waiter lists, out of line: boxed the first time something must queue (or a `try_*`
/// fails), so a primitive nobody waits on is a few words, and read as empty until then.
pub(crate) struct PermitLists(Option<Box<Queues>>);

/// Read in place of lists not yet allocated.
static NO_QUEUES: Queues = Queues::EMPTY;

impl std::ops::Deref for PermitLists {
    type Target = Queues;

    #[inline]
    fn deref(&self) -> &Queues {
        self.0.as_deref().unwrap_or(&NO_QUEUES)
    }
}

impl std::ops::DerefMut for PermitLists {
    #[inline]
    fn deref_mut(&mut self) -> &mut Queues {
        match self.0 {
            Some(ref mut queues) => queues,
            None => self.allocate(),
        }
    }
}

impl PermitLists {
    #[cold]
    #[inline(never)]
    fn allocate(&mut self) -> &mut Queues {
        self.0.insert(Box::new(Queues::EMPTY))
    }
}

pub(crate) struct Queues {
    acquirers: WaitList<Request, usize>,
    /// The ticket the next queued request gets.
    next_ticket: usize,
    /// `wait_unlocked` callers.
    idle: WaitList<(), ()>,
    /// An `RwLock` upgrade waiting for the rest of the read slots: at most one (only the
    /// upgradable reader upgrades), and served before the FIFO, whose head may be a write
    /// that waits for the upgrader's own slot.
    upgrade: WaitList<usize, usize>,
    /// Whether an `RwLock` upgradable read is held or granted: a queued upgradable request
    /// waits (at the head, in FIFO order) until it ends.
    upgradable_held: bool,
}

/// A queued request for `n` permits.
///
/// # Lock-free pick-up
///
/// Requests are numbered as they queue and granted strictly from the front, so the live
/// requests are always granted in ticket order. A grant frees the waiter's slot at once and
/// publishes `granted = ticket + 1` (Release); the waiter, polled or dropped, first compares
/// its ticket with `granted` (Acquire) and, if it was granted, takes its `n` permits without
/// the lock and without touching its slot. Tickets compare by wrapping difference, which is
/// exact while fewer than `isize::MAX` requests are granted during one wait.
pub(crate) struct Request {
    n: usize,
    ticket: usize,
    /// An `RwLock` upgradable read: granted only while none is held.
    upgradable: bool,
}

impl Permits {
    #[track_caller]
    pub(crate) fn new(permits: usize) -> Self {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore holds at most MAX_PERMITS ({MAX_PERMITS}) permits, got {permits}"
        );
        Permits {
            state: AtomicUsize::new(permits * ONE),
            granted: AtomicUsize::new(0),
            lists: Mutex::new(PermitLists(None)),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, PermitLists> {
        self.lists.lock()
    }

    /// Takes `n` permits without the lock, if nobody waits and they are free.
    #[inline]
    fn try_take_fast(&self, n: usize) -> bool {
        if n == 0 {
            // Taking nothing barges past nobody: at once, whoever waits.
            return true;
        }
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & SLOW != 0 || s / ONE < n {
                return false;
            }
            match self.state.compare_exchange_weak(
                s,
                s - n * ONE,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
    }

    /// Returns `n` permits without the lock, if nobody waits.
    #[inline]
    fn put_back_fast(&self, n: usize) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & SLOW != 0 {
                return false;
            }
            let free = s / ONE + n;
            assert!(
                free <= MAX_PERMITS,
                "a semaphore holds at most MAX_PERMITS ({MAX_PERMITS}) permits"
            );
            match self.state.compare_exchange_weak(
                s,
                free * ONE,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
    }

    /// Under the lock: takes `n` permits if nobody is queued and they are free; otherwise sets
    /// `SLOW` (only if the count is still what was checked), so a waiter can be queued. On
    /// success `SLOW` is left set only if some waiter (a `wait_unlocked` caller) remains.
    fn take_or_slow(&self, lists: &Queues, n: usize) -> bool {
        self.take_or_slow_from(
            lists,
            n,
            lists.acquirers.is_empty() && lists.upgrade.is_empty(),
        )
    }

    /// As [`take_or_slow`](Self::take_or_slow), taking only if `first` (nobody it must let go
    /// first is queued).
    fn take_or_slow_from(&self, lists: &Queues, n: usize, first: bool) -> bool {
        let waiting = if lists.is_idle() { 0 } else { SLOW };
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let (new, took) = if first && s / ONE >= n {
                (((s / ONE - n) * ONE) | waiting, true)
            } else if s & SLOW == 0 {
                (s | SLOW, false)
            } else {
                return false;
            };
            match self
                .state
                .compare_exchange(s, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return took,
                Err(actual) => s = actual,
            }
        }
    }

    /// Under the lock: adds `n` free permits and serves waiters.
    pub(crate) fn put_back_locked(&self, lists: &mut Queues, n: usize, wakes: &mut WakeList) {
        let s = self.state.load(Ordering::Acquire);
        if s & SLOW == 0 {
            // Nobody is queued (the invariant), but lock-free takers may race: add atomically.
            let before = self.state.fetch_add(n * ONE, Ordering::AcqRel);
            if before / ONE + n > MAX_PERMITS {
                self.state.fetch_sub(n * ONE, Ordering::AcqRel);
                panic!("a semaphore holds at most MAX_PERMITS ({MAX_PERMITS}) permits");
            }
            return;
        }
        let free = s / ONE + n;
        assert!(
            free <= MAX_PERMITS,
            "a semaphore holds at most MAX_PERMITS ({MAX_PERMITS}) permits"
        );
        self.serve(lists, free, wakes);
    }

    /// Under the lock: hands free permits to queued requests, oldest first, releases
    /// `wait_unlocked` callers if permits remain and nobody is queued, and keeps `SLOW` in step
    /// with the lists.
    pub(crate) fn grant(&self, lists: &mut Queues, wakes: &mut WakeList) {
        let s = self.state.load(Ordering::Acquire);
        if s & SLOW != 0 {
            self.serve(lists, s / ONE, wakes);
        }
        // Without `SLOW` nobody is queued (the invariant): nothing to serve.
    }

    /// Under the lock, with `SLOW` set: serves waiters from `free` permits and stores what is
    /// left, with `SLOW` only if someone still waits. While `SLOW` is set only lock holders
    /// change the word (every lock-free attempt sees the flag, or fails its compare-and-swap
    /// on it), so one plain store does it.
    fn serve(&self, lists: &mut Queues, mut free: usize, wakes: &mut WakeList) {
        let mut last_granted = None;
        // An upgrade first; while it waits, nobody else is served (it needs every slot but
        // its own, and readers let in now would only delay it).
        if let Some(&need) = lists.upgrade.front() {
            if need <= free {
                free -= need;
                lists.upgrade.grant_front(need, wakes);
            }
        }
        if lists.upgrade.is_empty() {
            while let Some(&Request {
                n: need,
                ticket,
                upgradable,
            }) = lists.acquirers.front()
            {
                if need > free || (upgradable && lists.upgradable_held) {
                    break;
                }
                free -= need;
                lists.upgradable_held |= upgradable;
                lists.acquirers.grant_front_freeing(wakes);
                last_granted = Some(ticket);
            }
            if free > 0 && lists.acquirers.is_empty() && !lists.idle.is_empty() {
                lists.idle.grant_all(|| (), wakes);
            }
        }
        let waiting = if lists.is_idle() { 0 } else { SLOW };
        self.state.store((free * ONE) | waiting, Ordering::Release);
        if let Some(ticket) = last_granted {
            // After the count: a waiter that sees its grant sees the count without its permits.
            self.granted
                .store(ticket.wrapping_add(1), Ordering::Release);
        }
    }

    /// Takes `n` permits if free and nobody is queued.
    pub(crate) fn try_acquire(&self, n: usize) -> bool {
        if self.try_take_fast(n) {
            return true;
        }
        let mut wakes = WakeList::new();
        let mut lists = self.lock();
        let took = self.take_or_slow(&lists, n);
        // A failed attempt may have set `SLOW` with nobody queued: put it right.
        self.grant(&mut lists, &mut wakes);
        drop(lists);
        wakes.wake();
        took
    }

    /// Returns `n` permits (a permit object dropped), handing them to waiters.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if self.put_back_fast(n) {
            return;
        }
        let mut wakes = WakeList::new();
        let mut lists = self.lock();
        self.put_back_locked(&mut lists, n, &mut wakes);
        drop(lists);
        wakes.wake();
    }

    /// Removes up to `n` free permits for good; returns how many. Permits held or promised to a
    /// queued request are not touched, and no waiter is served by it (there is less to serve).
    pub(crate) fn forget_available(&self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let mut s = self.state.load(Ordering::Relaxed);
        while s & SLOW == 0 {
            let take = n.min(s / ONE);
            if take == 0 {
                return 0;
            }
            match self.state.compare_exchange_weak(
                s,
                s - take * ONE,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return take,
                Err(actual) => s = actual,
            }
        }
        // Waiters are queued: the count changes only under the lock (lock-free attempts fail on
        // `SLOW`, and `SLOW` is cleared only under the lock), so a compare-and-swap under it
        // cannot lose a concurrent update.
        let _lists = self.lock();
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let take = n.min(s / ONE);
            if take == 0 {
                return 0;
            }
            match self.state.compare_exchange(
                s,
                s - take * ONE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return take,
                Err(actual) => s = actual,
            }
        }
    }

    #[inline]
    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Acquire) / ONE
    }

    /// Whether a one-permit request made now would wait.
    #[inline]
    pub(crate) fn is_locked(&self) -> bool {
        let s = self.state.load(Ordering::Acquire);
        if s & SLOW == 0 {
            return s / ONE == 0;
        }
        let lists = self.lock();
        self.available() == 0 || !lists.acquirers.is_empty() || !lists.upgrade.is_empty()
    }

    /// Free permits and waiters, for `Debug`.
    pub(crate) fn snapshot(&self) -> (usize, usize) {
        let lists = self.lock();
        (self.available(), lists.waiters())
    }

    pub(crate) fn waiters(&self) -> usize {
        self.lock().waiters()
    }

    /// Numbers a request for `n` permits as it queues; its ticket goes to `ticket`.
    fn request(lists: &mut Queues, n: usize, upgradable: bool, ticket: &mut usize) -> Request {
        *ticket = lists.next_ticket;
        lists.next_ticket = lists.next_ticket.wrapping_add(1);
        Request {
            n,
            ticket: *ticket,
            upgradable,
        }
    }

    /// Whether the queued request numbered `ticket` was granted (read without the lock).
    #[inline]
    fn granted(&self, ticket: usize) -> bool {
        let granted = self.granted.load(Ordering::Acquire);
        // Granted iff `granted > ticket`, in wrapping order.
        (granted.wrapping_sub(ticket) as isize) > 0
    }
}

/// `RwLock` upgradable reads and upgrades: what only they use of the permit core. An upgradable
/// read is one read slot plus the flag `upgradable_held`; its upgrade asks for the other slots
/// ahead of the FIFO.
impl Permits {
    /// Under the lock: takes one slot as the upgradable read if none is held, nobody is queued
    /// and a slot is free; otherwise sets `SLOW`, so a waiter can be queued.
    pub(crate) fn take_upgradable_or_slow(&self, lists: &mut Queues) -> bool {
        if lists.upgradable_held {
            self.state.fetch_or(SLOW, Ordering::AcqRel);
            return false;
        }
        let took = self.take_or_slow(lists, 1);
        lists.upgradable_held = took;
        took
    }

    /// Under the lock: takes the `n` slots an upgrade needs, ahead of the queued requests;
    /// otherwise sets `SLOW`. On success the upgradable read has become a write.
    pub(crate) fn take_upgrade_or_slow(&self, lists: &mut Queues, n: usize) -> bool {
        let took = self.take_or_slow_from(lists, n, lists.upgrade.is_empty());
        if took {
            lists.upgradable_held = false;
        }
        took
    }

    /// Runs a `take_*_or_slow` step without waiting: a failed attempt may have set `SLOW`
    /// with nobody queued, which the grant puts right.
    pub(crate) fn try_locked(&self, take: impl FnOnce(&Self, &mut Queues) -> bool) -> bool {
        let mut wakes = WakeList::new();
        let mut lists = self.lock();
        let took = take(self, &mut lists);
        self.grant(&mut lists, &mut wakes);
        drop(lists);
        wakes.wake();
        took
    }

    /// Sets whether an upgradable read is held, returns `n` slots, and serves waiters: the
    /// end of an upgradable read (`held == false`, one slot, or none when it stays a plain
    /// read), or a write becoming one (`held == true`, every slot but one).
    pub(crate) fn set_upgradable(&self, held: bool, n: usize) {
        let mut wakes = WakeList::new();
        let mut lists = self.lock();
        lists.upgradable_held = held;
        // With `SLOW` set this serves the queue (a queued upgradable request may now go);
        // without it nobody waits.
        self.put_back_locked(&mut lists, n, &mut wakes);
        drop(lists);
        wakes.wake();
    }
}

impl Queues {
    const EMPTY: Queues = Queues {
        acquirers: WaitList::new(),
        next_ticket: 0,
        idle: WaitList::new(),
        upgrade: WaitList::new(),
        upgradable_held: false,
    };

    /// The list an `RwLock` upgrade waits on.
    pub(crate) fn upgrade_list(&mut self) -> &mut WaitList<usize, usize> {
        &mut self.upgrade
    }

    /// The upgradable read became a write (its upgrade was taken).
    pub(crate) fn upgraded(&mut self) {
        self.upgradable_held = false;
    }

    /// Whether nobody waits.
    fn is_idle(&self) -> bool {
        self.acquirers.is_empty() && self.idle.is_empty() && self.upgrade.is_empty()
    }

    fn waiters(&self) -> usize {
        self.acquirers.len() + self.idle.len() + self.upgrade.len()
    }
}

/// How a handle on a permit-based primitive reaches its [`Permits`] and wraps granted permits.
pub(crate) trait PermitHandle: Clone {
    type Permit;
    fn permits(&self) -> &Permits;
    /// Wraps `n` permits already taken from [`permits`](Self::permits) in the permit (or
    /// guard) that returns them on drop.
    ///
    /// # Safety
    ///
    /// The caller has taken `n` permits from `self.permits()` and hands them over: only the
    /// returned permit will give them back. A lock's guard gives access to the data on that
    /// ground alone (a `Mutex` guard holds its only permit, an `RwLock` read guard one read
    /// slot, a write guard every slot), which is what every guard's `Deref` relies on.
    unsafe fn into_permit(self, n: usize) -> Self::Permit;

    /// Takes `n` permits if they are free and nobody is queued, as a permit.
    #[inline]
    fn try_permit(self, n: usize) -> Option<Self::Permit> {
        if self.permits().try_acquire(n) {
            // SAFETY: `try_acquire` just took the `n` permits, handed over here.
            Some(unsafe { self.into_permit(n) })
        } else {
            None
        }
    }
}

/// Acquiring `n` permits through handle `H`. With `UPGRADABLE`, an `RwLock` upgradable read
/// (one slot, granted only while no upgradable read is held, and never on the lock-free fast
/// path, which cannot see that flag).
pub(crate) struct AcquireOp<H, const UPGRADABLE: bool = false> {
    pub(crate) handle: H,
    pub(crate) n: usize,
}

impl<H: PermitHandle, const UPGRADABLE: bool> Op for AcquireOp<H, UPGRADABLE> {
    type State = PermitLists;
    type Req = Request;
    type Grant = usize;
    type Output = H::Permit;
    type Timed = Result<H::Permit, Timeout>;
    /// The request's ticket, once queued.
    type Data = usize;

    const WAIT_LIKELY: bool = !UPGRADABLE;

    #[inline]
    fn try_fast(&self, _: &mut usize) -> Option<H::Permit> {
        if UPGRADABLE {
            return None;
        }
        self.handle
            .permits()
            .try_take_fast(self.n)
            // SAFETY: `try_take_fast` just took the `n` permits, handed over here.
            .then(|| unsafe { self.handle.clone().into_permit(self.n) })
    }

    fn lock(&self) -> MutexGuard<'_, PermitLists> {
        self.handle.permits().lock()
    }

    fn list(lists: &mut PermitLists) -> &mut WaitList<Request, usize> {
        &mut lists.acquirers
    }

    fn try_now(
        &self,
        _: &mut usize,
        lists: &mut PermitLists,
        _: &mut WakeList,
    ) -> Option<H::Permit> {
        let permits = self.handle.permits();
        let took = if UPGRADABLE {
            permits.take_upgradable_or_slow(lists)
        } else {
            permits.take_or_slow(lists, self.n)
        };
        // SAFETY: the step just took the `n` permits (and, upgradable, the flag), handed over.
        took.then(|| unsafe { self.handle.clone().into_permit(self.n) })
    }

    fn register(&self, ticket: &mut usize, lists: &mut PermitLists) -> Request {
        Permits::request(lists, self.n, UPGRADABLE, ticket)
    }

    #[inline]
    fn granted_lock_free(&self, ticket: &usize) -> Option<usize> {
        self.handle.permits().granted(*ticket).then_some(self.n)
    }

    fn withdrawn(&self, lists: &mut PermitLists, _: &mut Request, wakes: &mut WakeList) {
        // If it was the head, the requests behind it may now fit.
        self.handle.permits().grant(lists, wakes);
    }

    fn forward(&self, lists: &mut PermitLists, n: usize, wakes: &mut WakeList) -> Option<usize> {
        if UPGRADABLE {
            // Granted, so marked held: the upgradable read ends here.
            lists.upgradable_held = false;
        }
        self.handle.permits().put_back_locked(lists, n, wakes);
        None
    }

    fn finish(&self, _: &mut usize, n: usize) -> H::Permit {
        // SAFETY: the grant is `n` permits served to this request alone (the waiter core hands
        // a grant to exactly one waiter, which finishes it once).
        unsafe { self.handle.clone().into_permit(n) }
    }

    fn ok(permit: H::Permit) -> Self::Timed {
        Ok(permit)
    }

    fn timed_out(&self, _: &mut usize, _: Option<Request>) -> Self::Timed {
        Err(Timeout)
    }
}

/// Waiting until a one-permit request would not wait, without taking anything.
pub(crate) struct WaitUnlockedOp<'a> {
    pub(crate) permits: &'a Permits,
}

impl Op for WaitUnlockedOp<'_> {
    type State = PermitLists;
    type Req = ();
    type Grant = ();
    type Output = ();
    type Timed = Result<(), Timeout>;
    type Data = ();

    fn lock(&self) -> MutexGuard<'_, PermitLists> {
        self.permits.lock()
    }

    fn list(lists: &mut PermitLists) -> &mut WaitList<(), ()> {
        &mut lists.idle
    }

    fn try_now(&self, _: &mut (), lists: &mut PermitLists, _: &mut WakeList) -> Option<()> {
        // Mark `SLOW` before deciding, so a lock-free return cannot slip between the check and
        // the registration.
        self.permits.state.fetch_or(SLOW, Ordering::AcqRel);
        let unlocked = self.permits.available() > 0 && lists.acquirers.is_empty();
        if unlocked && lists.idle.is_empty() {
            self.permits.state.fetch_and(!SLOW, Ordering::AcqRel);
        }
        unlocked.then_some(())
    }

    fn register(&self, _: &mut (), _: &mut PermitLists) {}

    fn withdrawn(&self, lists: &mut PermitLists, _: &mut (), wakes: &mut WakeList) {
        self.permits.grant(lists, wakes);
    }

    fn finish(&self, _: &mut (), _: ()) {}

    fn ok(_: ()) -> Self::Timed {
        Ok(())
    }

    fn timed_out(&self, _: &mut (), _: Option<()>) -> Self::Timed {
        Err(Timeout)
    }
}

#[inline]
#[track_caller]
pub(crate) fn check_request(n: usize) {
    assert!(
        n <= MAX_PERMITS,
        "cannot request more than MAX_PERMITS ({MAX_PERMITS}) permits, got {n}"
    );
}

wait_future! {
    /// The future of [`Semaphore::wait_unlocked`](crate::Semaphore::wait_unlocked) and
    /// [`BoundedSemaphore::wait_unlocked`](crate::BoundedSemaphore::wait_unlocked).
    SemaphoreWaitUnlocked ['a] ['a] = Waiter<WaitUnlockedOp<'a>> => (), Result<(), Timeout>;
}

/// Declares a semaphore's two permit types (borrowed and owned), returned on drop, and the
/// handles through which the permit core makes them.
macro_rules! permit_types {
    (
        $sem:ident;
        $(#[$meta:meta])* $name:ident;
        $(#[$owned_meta:meta])* $owned:ident;
    ) => {
        impl<'a> $crate::permits::PermitHandle for &'a $sem {
            type Permit = $name<'a>;

            #[inline]
            fn permits(&self) -> &$crate::permits::Permits {
                &self.permits
            }

            #[inline]
            unsafe fn into_permit(self, n: usize) -> $name<'a> {
                $name { sem: self, n }
            }
        }

        impl $crate::permits::PermitHandle for $crate::sync::Arc<$sem> {
            type Permit = $owned;

            #[inline]
            fn permits(&self) -> &$crate::permits::Permits {
                &self.permits
            }

            #[inline]
            unsafe fn into_permit(self, n: usize) -> $owned {
                $owned { sem: self, n }
            }
        }

        $crate::permits::permit_types!(@one $(#[$meta])* $name ['a] = &'a $sem);
        $crate::permits::permit_types!(@one $(#[$owned_meta])* $owned [] = $crate::sync::Arc<$sem>);
    };
    (@one $(#[$meta:meta])* $name:ident [$($lt:lifetime)?] = $handle:ty) => {
        $(#[$meta])*
        #[must_use = "the permits are returned as soon as the permit is dropped"]
        pub struct $name<$($lt)?> {
            sem: $handle,
            n: usize,
        }

        impl<$($lt)?> $name<$($lt)?> {
            /// How many permits this holds (tokio's name).
            #[doc(alias = "count")]
            #[inline]
            pub fn num_permits(&self) -> usize {
                self.n
            }

            /// Keeps the permits out of circulation: they are not returned on drop.
            #[inline]
            pub fn forget(mut self) {
                self.sem.forgotten(std::mem::take(&mut self.n));
            }

            /// Splits `n` of this permit's permits off into a new permit of the same kind, from
            /// the same semaphore; `None` (and nothing changes) if this holds fewer than `n`.
            /// `split(0)` is an empty permit. Each part returns its own permits when dropped.
            #[inline]
            pub fn split(&mut self, n: usize) -> Option<Self> {
                if n > self.n {
                    return None;
                }
                self.n -= n;
                Some($name {
                    sem: self.sem.clone(),
                    n,
                })
            }

            /// Moves `other`'s permits into this one: they are returned together when this is
            /// dropped.
            ///
            /// # Panics
            ///
            /// If `other` comes from another semaphore.
            #[track_caller]
            #[inline]
            pub fn merge(&mut self, mut other: Self) {
                assert!(
                    std::ptr::eq(&self.sem.permits, &other.sem.permits),
                    "merging permits from different semaphores"
                );
                self.n += std::mem::take(&mut other.n);
            }
        }

        impl<$($lt)?> Drop for $name<$($lt)?> {
            #[inline]
            fn drop(&mut self) {
                if self.n > 0 {
                    self.sem.permits.release(self.n);
                }
            }
        }

        impl<$($lt)?> std::fmt::Debug for $name<$($lt)?> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).field("num_permits", &self.n).finish()
            }
        }
    };
}

pub(crate) use permit_types;
