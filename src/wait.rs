//! The one waiting future: [`Waiter`] drives any primitive's [`Op`] through the waiter core.
//!
//! A primitive describes one kind of wait as an [`Op`] (how to try at once, what to queue, what
//! to do when a queued waiter leaves or a granted one is dropped). [`Waiter`] does the rest, the
//! same way for every primitive: registration on first poll, waker replacement, hand-off
//! pick-up, drop-on-cancel, and the withdrawal a deadline needs. [`Waitable`] is the face it
//! shows to [`WithDeadline`](crate::future::WithDeadline) and to `.block()`.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::sync::MutexGuard;
use crate::waiters::{Key, Polled, Removed, WaitList, WakeList};

/// One kind of wait on one primitive.
///
/// `self` is the immutable part (the handle on the primitive and the request's parameters);
/// per-wait mutable data (a queued item before it is queued) lives in [`Op::Data`].
pub(crate) trait Op {
    /// The primitive's state under its lock.
    type State;
    /// What a queued waiter carries.
    type Req;
    /// What a granted waiter is handed.
    type Grant;
    /// What the wait resolves to.
    type Output;
    /// What the wait resolves to with a deadline.
    type Timed;
    /// Per-wait data that is not part of the request until it is queued.
    type Data;

    /// Whether a wait is likely once [`try_fast`](Op::try_fast) (if the op has one) failed:
    /// the waker is then cloned before the lock is taken, and the lock is taken once. Where
    /// most waits complete at once under the lock (a queue's), cloning a waker first would
    /// cost more than it saves.
    const WAIT_LIKELY: bool = false;
    /// Completes at once without taking the lock, if the primitive has such a fast path
    /// (an atomic one, covered by a loom model). By default there is none.
    #[inline]
    fn try_fast(&self, _data: &mut Self::Data) -> Option<Self::Output> {
        None
    }
    /// Locks the primitive.
    fn lock(&self) -> MutexGuard<'_, Self::State>;
    /// The list this kind of waiter queues on.
    fn list(state: &mut Self::State) -> &mut WaitList<Self::Req, Self::Grant>;
    /// Completes at once if possible (never barging past queued waiters).
    fn try_now(
        &self,
        data: &mut Self::Data,
        state: &mut Self::State,
        wakes: &mut WakeList,
    ) -> Option<Self::Output>;
    /// Builds the request to queue (called under the lock right after `try_now` failed).
    fn register(&self, data: &mut Self::Data, state: &mut Self::State) -> Self::Req;
    /// A queued waiter left without being granted (dropped or timed out).
    fn withdrawn(&self, _state: &mut Self::State, _req: &mut Self::Req, _wakes: &mut WakeList) {}
    /// A granted waiter was dropped before taking its grant: pass it on. What is returned is
    /// dropped after the lock is released. By default there is nothing to pass on (a
    /// broadcast grant, or one that left nothing behind).
    fn forward(
        &self,
        _state: &mut Self::State,
        grant: Self::Grant,
        _wakes: &mut WakeList,
    ) -> Option<Self::Grant> {
        Some(grant)
    }
    /// The owner takes its grant (under the lock, before `finish`). By default nothing to
    /// account for.
    fn taken(&self, _state: &mut Self::State, _grant: &Self::Grant, _wakes: &mut WakeList) {}
    /// Whether this registered wait has been granted, read without the lock. Only for a list
    /// whose grants free the waiter's slot at once (the grant then is implied by the request,
    /// and `taken` has nothing to account for). Off the lock `None` may also mean "cannot
    /// tell without the state": the waiter then asks [`granted_locked`](Op::granted_locked).
    /// By default grants stay in the slot.
    #[inline]
    fn granted_lock_free(&self, _data: &Self::Data) -> Option<Self::Grant> {
        None
    }
    /// The same question under the lock, before the waiter touches its slot; here the answer
    /// is final: `None` means the slot still holds the waiter. By default the lock-free
    /// answer.
    #[inline]
    fn granted_locked(&self, data: &Self::Data, _state: &mut Self::State) -> Option<Self::Grant> {
        self.granted_lock_free(data)
    }
    /// Turns a grant into the output (outside the lock).
    fn finish(&self, data: &mut Self::Data, grant: Self::Grant) -> Self::Output;
    /// The output with a deadline, on success.
    fn ok(output: Self::Output) -> Self::Timed;
    /// The output with a deadline, on expiry; `req` is the withdrawn request, if it was queued.
    fn timed_out(&self, data: &mut Self::Data, req: Option<Self::Req>) -> Self::Timed;
}

/// A waiting future's interface to the deadline wrapper and to blocking.
///
/// Implemented by every waiting future of the crate; it cannot be implemented outside it.
/// [`WithDeadline`](crate::future::WithDeadline) and `.block()` are built on it. Its methods
/// are public API for driving a wait by hand, deterministically: a model checker (the crate's
/// loom models use them) or a test of your own code can try a wait once and make its deadline
/// pass at a chosen moment, without a timer.
pub trait Waitable: Unpin + crate::wait::sealed::Sealed {
    /// What the wait resolves to.
    type Output;
    /// What the wait resolves to with a deadline.
    type Timed;
    /// Polls the wait. With `cx == None` (only before the first poll) it tries once without
    /// registering: `Ready` if it completed, `Pending` if it would have to wait (nothing is
    /// registered then; follow with [`expire`](Self::expire) to get the timeout output, as a
    /// deadline already passed does). With a context, as `Future::poll`.
    ///
    /// # Panics
    ///
    /// If polled after it completed, or with `None` after it registered.
    fn poll_wait(&mut self, cx: Option<&mut Context<'_>>) -> Poll<Self::Output>;
    /// The deadline passes now: the wait is withdrawn and the timeout output returned — or,
    /// if a grant arrived first, the successful output (the race resolves to exactly one
    /// outcome, as with a timer).
    fn expire(&mut self) -> Self::Timed;
    /// Wraps a successful output as the output with a deadline.
    fn ok(output: Self::Output) -> Self::Timed;
}

/// The same interface for a waiting future that must be pinned because it runs user code (a
/// future of its own, such as [`AsyncResult::get_or_init`](crate::AsyncResult::get_or_init)'s
/// initializer). Every [`Waitable`] is one; [`WithDeadline`](crate::future::WithDeadline)
/// and `.block()` take either.
///
/// Implemented by waiting futures of the crate only; it cannot be implemented outside it.
pub trait PinnedWaitable: crate::wait::sealed::Sealed {
    /// What the wait resolves to.
    type Output;
    /// What the wait resolves to with a deadline.
    type Timed;
    /// As [`Waitable::poll_wait`], pinned.
    fn poll_wait_pinned(self: Pin<&mut Self>, cx: Option<&mut Context<'_>>) -> Poll<Self::Output>;
    /// As [`Waitable::expire`], pinned.
    fn expire_pinned(self: Pin<&mut Self>) -> Self::Timed;
    /// As [`Waitable::ok`].
    fn ok_pinned(output: Self::Output) -> Self::Timed;
}

impl<W: Waitable> PinnedWaitable for W {
    type Output = W::Output;
    type Timed = W::Timed;

    #[inline]
    fn poll_wait_pinned(self: Pin<&mut Self>, cx: Option<&mut Context<'_>>) -> Poll<W::Output> {
        Pin::into_inner(self).poll_wait(cx)
    }

    #[inline]
    fn expire_pinned(self: Pin<&mut Self>) -> W::Timed {
        Pin::into_inner(self).expire()
    }

    #[inline]
    fn ok_pinned(output: W::Output) -> W::Timed {
        W::ok(output)
    }
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

enum State {
    Init,
    Waiting(Key),
    Done,
}

/// The generic waiting future behind every named future of the crate.
pub(crate) struct Waiter<O: Op> {
    op: O,
    data: O::Data,
    state: State,
}

impl<O: Op> Waiter<O> {
    pub(crate) fn new(op: O, data: O::Data) -> Self {
        Waiter {
            op,
            data,
            state: State::Init,
        }
    }

    /// Polls; with `cx == None` (only before the first poll) tries once without registering.
    #[inline]
    pub(crate) fn poll_wait(&mut self, cx: Option<&mut Context<'_>>) -> Poll<O::Output> {
        match self.state {
            State::Init => self.poll_first(cx),
            State::Waiting(key) => {
                let cx = cx.expect("a registered wait is polled with a context");
                self.poll_registered(key, cx)
            }
            State::Done => panic!("a toro-sync wait future was polled after it completed"),
        }
    }

    #[inline]
    fn poll_first(&mut self, cx: Option<&mut Context<'_>>) -> Poll<O::Output> {
        if let Some(output) = self.op.try_fast(&mut self.data) {
            self.state = State::Done;
            return Poll::Ready(output);
        }
        self.poll_locked(cx)
    }

    #[inline]
    fn poll_locked(&mut self, cx: Option<&mut Context<'_>>) -> Poll<O::Output> {
        // The waker is cloned outside the lock (a waker's clone may call back into this
        // primitive): up front when a wait is likely (`Op::WAIT_LIKELY`: the fast path, if
        // any, failed), else only once a first try under the lock has failed.
        if let (true, Some(cx)) = (O::WAIT_LIKELY, &cx) {
            return self.register(cx.waker().clone());
        }
        let mut wakes = WakeList::new();
        let mut state = self.op.lock();
        if let Some(output) = self.op.try_now(&mut self.data, &mut state, &mut wakes) {
            drop(state);
            wakes.wake();
            self.state = State::Done;
            return Poll::Ready(output);
        }
        drop(state);
        wakes.wake();
        match cx {
            Some(cx) => self.register(cx.waker().clone()),
            None => Poll::Pending,
        }
    }

    /// Tries once more under the lock, else queues with `waker`.
    #[inline(never)]
    fn register(&mut self, waker: Waker) -> Poll<O::Output> {
        let mut wakes = WakeList::new();
        let mut state = self.op.lock();
        if let Some(output) = self.op.try_now(&mut self.data, &mut state, &mut wakes) {
            drop(state);
            wakes.wake();
            drop(waker);
            self.state = State::Done;
            return Poll::Ready(output);
        }
        let req = self.op.register(&mut self.data, &mut state);
        let key = O::list(&mut state).push(req, waker);
        drop(state);
        wakes.wake();
        self.state = State::Waiting(key);
        Poll::Pending
    }

    #[inline(never)]
    fn poll_registered(&mut self, key: Key, cx: &mut Context<'_>) -> Poll<O::Output> {
        if let Some(grant) = self.op.granted_lock_free(&self.data) {
            self.state = State::Done;
            return Poll::Ready(self.op.finish(&mut self.data, grant));
        }
        let mut wakes = WakeList::new();
        let mut unused = None;
        let mut state = self.op.lock();
        let polled = match self.op.granted_locked(&self.data, &mut state) {
            Some(grant) => Polled::Ready(grant),
            None => O::list(&mut state).poll(key, cx.waker()),
        };
        let grant = match polled {
            Polled::Ready(grant) => grant,
            Polled::Pending => return Poll::Pending,
            Polled::NeedsWaker => {
                drop(state);
                let waker = cx.waker().clone();
                state = self.op.lock();
                let set = match self.op.granted_locked(&self.data, &mut state) {
                    Some(grant) => Err((grant, waker)),
                    None => O::list(&mut state).set_waker(key, waker),
                };
                match set {
                    Ok(old) => {
                        drop(state);
                        drop(old);
                        return Poll::Pending;
                    }
                    // Granted meanwhile: the new waker is not needed.
                    Err((grant, waker)) => {
                        unused = Some(waker);
                        grant
                    }
                }
            }
        };
        self.op.taken(&mut state, &grant, &mut wakes);
        drop(state);
        wakes.wake();
        drop(unused);
        self.state = State::Done;
        Poll::Ready(self.op.finish(&mut self.data, grant))
    }

    /// The per-wait data (for composite waits that read what `finish` recorded).
    pub(crate) fn data(&self) -> &O::Data {
        &self.data
    }

    /// Leaves the line. A grant that arrived meanwhile is returned if `keep_grant`, else
    /// forwarded as a drop would. Returns the withdrawn request if the waiter was still queued.
    fn leave(&mut self, keep_grant: bool) -> Left<O> {
        let State::Waiting(key) = std::mem::replace(&mut self.state, State::Done) else {
            return Left::NotQueued;
        };
        let mut wakes = WakeList::new();
        let mut state = self.op.lock();
        let (removed, waker) = match self.op.granted_locked(&self.data, &mut state) {
            // Granted, and its slot already freed by the grant (its waker was taken then).
            Some(grant) => (Removed::Granted(grant), None),
            None => O::list(&mut state).remove(key),
        };
        let left = match removed {
            Removed::Waiting(mut req) => {
                self.op.withdrawn(&mut state, &mut req, &mut wakes);
                Left::Withdrawn(req)
            }
            Removed::Granted(grant) if keep_grant => {
                self.op.taken(&mut state, &grant, &mut wakes);
                Left::Granted(grant)
            }
            Removed::Granted(grant) => {
                Left::Forwarded(self.op.forward(&mut state, grant, &mut wakes))
            }
        };
        drop(state);
        wakes.wake();
        drop(waker);
        left
    }

    /// Leaves the line as a drop does: anything granted passes on.
    #[inline(never)]
    pub(crate) fn cancel(&mut self) {
        // A withdrawn request (a queued item) is dropped here, outside the lock.
        drop(self.leave(false));
    }

    /// Deadline expiry: a grant that won the race is the result; otherwise withdraw.
    pub(crate) fn expire(&mut self) -> O::Timed {
        match self.leave(true) {
            Left::Granted(grant) => O::ok(self.op.finish(&mut self.data, grant)),
            Left::Withdrawn(req) => self.op.timed_out(&mut self.data, Some(req)),
            Left::NotQueued | Left::Forwarded(_) => self.op.timed_out(&mut self.data, None),
        }
    }
}

enum Left<O: Op> {
    NotQueued,
    /// Granted, and what could not be passed on (dropped after the lock).
    Forwarded(Option<O::Grant>),
    Withdrawn(O::Req),
    Granted(O::Grant),
}

impl<O: Op> Drop for Waiter<O> {
    #[inline]
    fn drop(&mut self) {
        if let State::Waiting(_) = self.state {
            self.cancel();
        }
    }
}

// The waiter is never pinned structurally: its data (a queued item before it is queued) is
// only moved, never pinned, so the waiter may move between polls whatever that data is.
impl<O: Op> Unpin for Waiter<O> {}

impl<O: Op> sealed::Sealed for Waiter<O> {}

impl<O: Op> Waitable for Waiter<O> {
    type Output = O::Output;
    type Timed = O::Timed;

    fn poll_wait(&mut self, cx: Option<&mut Context<'_>>) -> Poll<O::Output> {
        Waiter::poll_wait(self, cx)
    }

    fn expire(&mut self) -> O::Timed {
        Waiter::expire(self)
    }

    fn ok(output: O::Output) -> O::Timed {
        O::ok(output)
    }
}

/// Declares a named waiting future around a [`Waitable`], with `Future`, `.deadline()`,
/// `.block()` and `Debug`. Generics come as `[struct generics (with defaults)] [impl generics]
/// [arguments]`, or `[impl generics] [arguments]` when the struct has no defaults.
macro_rules! wait_future {
    (
        $(#[$meta:meta])*
        $name:ident [$($gen:tt)*] [$($arg:tt)*] = $inner:ty => $out:ty, $timed:ty;
    ) => {
        $crate::wait::wait_future! {
            $(#[$meta])*
            $name [$($gen)*] [$($gen)*] [$($arg)*] = $inner => $out, $timed;
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident [$($decl:tt)*] [$($gen:tt)*] [$($arg:tt)*] = $inner:ty => $out:ty, $timed:ty;
    ) => {
        $(#[$meta])*
        ///
        /// Await it, bound it with [`deadline`](Self::deadline), or complete it on a plain
        /// thread with [`block`](Self::block) (see [Waiting](crate#waiting)).
        #[must_use = "futures do nothing unless you `.await` or poll them"]
        pub struct $name<$($decl)*>(pub(crate) $inner);

        impl<$($gen)*> ::core::future::Future for $name<$($arg)*> {
            type Output = $out;

            #[inline]
            fn poll(
                mut self: ::core::pin::Pin<&mut Self>,
                cx: &mut ::core::task::Context<'_>,
            ) -> ::core::task::Poll<Self::Output> {
                $crate::wait::Waitable::poll_wait(&mut self.0, Some(cx))
            }
        }

        impl<$($gen)*> $crate::wait::sealed::Sealed for $name<$($arg)*> {}

        impl<$($gen)*> $crate::wait::Waitable for $name<$($arg)*> {
            type Output = $out;
            type Timed = $timed;

            #[inline]
            fn poll_wait(
                &mut self,
                cx: Option<&mut ::core::task::Context<'_>>,
            ) -> ::core::task::Poll<Self::Output> {
                $crate::wait::Waitable::poll_wait(&mut self.0, cx)
            }

            fn expire(&mut self) -> Self::Timed {
                $crate::wait::Waitable::expire(&mut self.0)
            }

            fn ok(output: $out) -> $timed {
                <$inner as $crate::wait::Waitable>::ok(output)
            }
        }

        impl<$($gen)*> $name<$($arg)*> {
            /// Bounds this wait by a deadline, a `Duration` from now or an `Instant`: see
            /// [`WithDeadline`]($crate::future::WithDeadline) and [Waiting](crate#waiting).
            ///
            /// # Panics
            ///
            /// As [`WithDeadline`]($crate::future::WithDeadline#panics).
            #[doc(alias = "timeout")]
            #[inline]
            pub fn deadline(
                self,
                deadline: impl Into<$crate::Deadline>,
            ) -> $crate::future::WithDeadline<Self> {
                $crate::future::WithDeadline::new(self, deadline.into())
            }

            /// Completes this wait on the calling thread, parking it: see
            /// [Waiting](crate#waiting).
            ///
            /// # Panics
            ///
            /// When called on a thread that runs async tasks (see [Waiting](crate#waiting)).
            #[doc(alias = "blocking_lock")]
            #[doc(alias = "blocking_recv")]
            #[track_caller]
            pub fn block(self) -> $out {
                $crate::block::block_on(self)
            }
        }

        impl<$($gen)*> ::core::fmt::Debug for $name<$($arg)*> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use wait_future;
