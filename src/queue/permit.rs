//! A slot reserved in a queue: filled without waiting, or given up on drop.

use std::fmt;

use super::GenericQueue;
use super::order::{Fifo, Order};
use crate::error::PutError;
use crate::sync::Arc;

/// Fills or gives up a reserved slot (what a sink holds between `poll_ready` and `start_send`).
pub(crate) trait Fill {
    type Item;
    fn fill(self, item: Self::Item) -> Result<(), PutError<Self::Item>>;
}

macro_rules! put_permit {
    (
        $(#[$meta:meta])*
        $name:ident [$($lt:lifetime)?] = $handle:ty
    ) => {
        $(#[$meta])*
        #[must_use = "the reserved slot is given up when the permit is dropped"]
        pub struct $name<$($lt,)? T, O: Order<T> = Fifo> {
            queue: $handle,
            live: bool,
        }

        impl<$($lt,)? T, O: Order<T>> $name<$($lt,)? T, O> {
            #[inline]
            pub(crate) fn new(queue: $handle) -> Self {
                $name { queue, live: true }
            }

            /// Puts `item` into the reserved slot, at once (to the oldest waiting getter, if
            /// any). This never waits.
            ///
            /// # Errors
            ///
            /// [`PutError::Closed`] with the item if the queue was closed since the slot was
            /// reserved.
            #[inline]
            pub fn put(mut self, item: T) -> Result<(), PutError<T>> {
                self.live = false;
                self.queue.with(|state, wakes| state.put_reserved(item, wakes))
            }
        }

        impl<$($lt,)? T, O: Order<T>> Fill for $name<$($lt,)? T, O> {
            type Item = T;
            fn fill(self, item: T) -> Result<(), PutError<T>> {
                self.put(item)
            }
        }

        impl<$($lt,)? T, O: Order<T>> Drop for $name<$($lt,)? T, O> {
            #[inline]
            fn drop(&mut self) {
                if self.live {
                    self.queue.with(|state, wakes| state.unreserve(wakes));
                }
            }
        }

        impl<$($lt,)? T, O: Order<T>> fmt::Debug for $name<$($lt,)? T, O> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

put_permit! {
    /// A slot reserved in a queue by [`reserve`](GenericQueue::reserve):
    /// [`put`](Self::put) fills it without waiting; dropping it gives the slot up (to the next
    /// waiting put).
    PutPermit ['a] = &'a GenericQueue<T, O>
}

put_permit! {
    /// A slot reserved in a queue held through an `Arc`, by
    /// [`reserve_owned`](GenericQueue::reserve_owned); `'static`. As [`PutPermit`].
    OwnedPutPermit [] = Arc<GenericQueue<T, O>>
}
