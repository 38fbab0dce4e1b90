//! The crate's errors. Each is `std::error::Error + Display + Debug`; the `Debug` of an error
//! that carries a value back (an item, a value already set) does not print the value, so no
//! `T: Debug` bound is needed.

use std::fmt;

pub use crate::queue::PutManyError;

/// A wait's deadline passed before it completed. Nothing was taken; the waiter was withdrawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Timeout;

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline passed")
    }
}

impl std::error::Error for Timeout {}

/// A queue put that did not happen. The item always comes back.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutError<T> {
    /// `try_put` on a full queue.
    Full(T),
    /// The put's deadline passed before a slot was free.
    Timeout(T),
    /// The queue is closed.
    Closed(T),
}

impl<T> PutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::Timeout(item) | PutError::Closed(item) => item,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            PutError::Full(_) => "Full",
            PutError::Timeout(_) => "Timeout",
            PutError::Closed(_) => "Closed",
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(..)", self.kind())
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PutError::Full(_) => "queue is full",
            PutError::Timeout(_) => "deadline passed before the queue had room",
            PutError::Closed(_) => "queue is closed",
        })
    }
}

impl<T> std::error::Error for PutError<T> {}

/// A queue get that returned no item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GetError {
    /// `try_get` on an empty queue.
    Empty,
    /// The get's deadline passed before an item came.
    Timeout,
    /// The queue is closed and drained.
    Closed,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GetError::Empty => "queue is empty",
            GetError::Timeout => "deadline passed before an item came",
            GetError::Closed => "queue is closed and drained",
        })
    }
}

impl std::error::Error for GetError {}

/// [`AsyncResult::set`](crate::AsyncResult::set) on a result already set. Carries the rejected
/// value back.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlreadySet<T>(pub T);

impl<T> AlreadySet<T> {
    /// The value that was not set.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for AlreadySet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AlreadySet(..)")
    }
}

impl<T> fmt::Display for AlreadySet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the result was already set")
    }
}

impl<T> std::error::Error for AlreadySet<T> {}

/// [`AsyncResult::try_get`](crate::AsyncResult::try_get) before a value was set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NotReady;

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no value has been set yet")
    }
}

impl std::error::Error for NotReady {}

/// [`BoundedSemaphore::release`](crate::BoundedSemaphore::release) past the initial count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReleaseError;

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore released too many times")
    }
}

impl std::error::Error for ReleaseError {}

/// `task_done` called more times than items were put.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were put")
    }
}

impl std::error::Error for TaskDoneError {}
