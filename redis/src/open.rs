//! Opening a handle: every constructor of [`Client`](crate::Client) returns its handle at
//! once; awaiting the handle opens (creates or validates) the primitive in one round trip.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use crate::Error;

/// The future of awaiting a handle (`client.mutex("m").await?`): one script that creates the
/// primitive or checks that it exists with the same kind and parameters, resolving to the
/// handle itself.
///
/// Awaiting is optional: a handle used without it is opened by its first operation, and a
/// mismatch then comes back from that operation as [`Error::Mismatch`].
pub type OpenFuture<H> = Pin<Box<dyn Future<Output = Result<H, Error>> + Send>>;

macro_rules! open_on_await {
    ($($handle:ty),* $(,)?) => {$(
        impl IntoFuture for $handle {
            type Output = Result<$handle, Error>;
            type IntoFuture = OpenFuture<$handle>;

            /// Opens the primitive: creates it, or checks its kind and parameters
            /// ([`Error::Mismatch`] if they differ).
            fn into_future(self) -> Self::IntoFuture {
                Box::pin(async move {
                    self.prim.stats().await?;
                    Ok(self)
                })
            }
        }
    )*};
}

open_on_await!(
    crate::Mutex,
    crate::Semaphore,
    crate::BoundedSemaphore,
    crate::RwLock,
    crate::Event,
    crate::Barrier,
);

impl<T: Send + 'static> IntoFuture for crate::AsyncResult<T> {
    type Output = Result<crate::AsyncResult<T>, Error>;
    type IntoFuture = OpenFuture<crate::AsyncResult<T>>;

    /// Opens the result: creates it, or checks that the name is a result.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            self.prim.stats().await?;
            Ok(self)
        })
    }
}
