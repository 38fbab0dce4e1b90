//! [`AsyncResult`]: a value set once, awaited by any process.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::engine::Prim;
use crate::wait::Waiting;
use crate::{Client, Error, codec};

/// The future of [`AsyncResult::get`].
pub type ResultGetFuture<T> = Waiting<T>;

/// toro's `AsyncResult` across processes ([`Client::async_result`]): a value of type `T`
/// set once by anyone, awaited by everyone.
///
/// The value is stored with the crate's [`codec`] (a version byte, then postcard), so every
/// process must use the same `T` (or a type with the same serde shape); bytes that do not
/// decode as `T` are [`Error::Encoding`] for the reading call. The first
/// [`set`](Self::set) wins, in any process; a later one fails and gives its value back
/// ([`SetError`]). Waiting [`get`](Self::get)s complete in one script with the set.
///
/// ```no_run
/// # async fn demo(client: toro_sync_redis::Client) -> Result<(), toro_sync_redis::Error> {
/// use std::time::Duration;
///
/// let answer = client.async_result::<Vec<String>>("crawl-42/summary");
/// // somewhere:
/// answer.set(vec!["done".into()]).await?;
/// // anywhere else:
/// let summary = answer.get().deadline(Duration::from_secs(30)).await?;
/// # let _ = summary; Ok(()) }
/// ```
pub struct AsyncResult<T> {
    pub(crate) prim: Prim,
    _value: PhantomData<fn() -> T>,
}

impl<T> Clone for AsyncResult<T> {
    fn clone(&self) -> Self {
        AsyncResult {
            prim: self.prim.clone(),
            _value: PhantomData,
        }
    }
}

impl<T> AsyncResult<T> {
    pub(crate) fn new(client: &Client, name: &str) -> Self {
        AsyncResult {
            prim: Prim::new(client, name, "result", 0),
            _value: PhantomData,
        }
    }

    /// The result's name.
    pub fn name(&self) -> &str {
        &self.prim.spec.name
    }

    /// This handle with another liveness lease for its waiting `get`s (at least 10 ms).
    pub fn with_lease(&self, lease: Duration) -> Self {
        AsyncResult {
            prim: self.prim.with_lease(lease),
            _value: PhantomData,
        }
    }

    async fn fetch(prim: &Prim) -> Result<Option<Vec<u8>>, Error> {
        let until = Some(Instant::now() + prim.spec.lease);
        prim.inner
            .link
            .eval_bytes(
                &prim.inner.scripts.result,
                &prim.spec,
                &[b"get".as_slice()],
                until,
            )
            .await
    }

    /// How many `get`s wait in line (in all processes).
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`], [`Error::Mismatch`], [`Error::Protocol`].
    pub async fn waiters(&self) -> Result<u64, Error> {
        Ok(self.prim.stats().await?[2])
    }
}

impl<T: Serialize + DeserializeOwned + Send + 'static> AsyncResult<T> {
    /// Sets the value, once for all processes, and wakes every waiting `get`.
    ///
    /// # Errors
    ///
    /// A [`SetError`] that gives `value` back, with [`Error::AlreadySet`] if a value was set
    /// before (the stored one stays), [`Error::Encoding`] if `value` does not encode,
    /// [`Error::Unavailable`] if Redis could not be reached within the lease (retried until
    /// then; it may or may not have been stored), [`Error::Mismatch`], [`Error::Protocol`].
    pub async fn set(&self, value: T) -> Result<(), SetError<T>> {
        let bytes = match codec::encode(&value) {
            Ok(bytes) => bytes,
            Err(error) => return Err(SetError { value, error }),
        };
        let until = Some(Instant::now() + self.prim.spec.lease);
        let stored = self
            .prim
            .inner
            .link
            .eval_bytes::<i64>(
                &self.prim.inner.scripts.result,
                &self.prim.spec,
                &[b"set".as_slice(), &bytes],
                until,
            )
            .await;
        match stored {
            Ok(1) => Ok(()),
            Ok(_) => Err(SetError {
                value,
                error: Error::AlreadySet,
            }),
            Err(error) => Err(SetError { value, error }),
        }
    }

    /// Waits for the value (at once if it is set) and returns a copy of it.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] past the deadline (with `Duration::ZERO`: not set now, nothing
    /// registered); [`Error::Encoding`] if the stored bytes are not a `T`; otherwise as
    /// [`Mutex::lock`](crate::Mutex::lock).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future withdraws its ticket. See [`Waiting`].
    pub fn get(&self) -> ResultGetFuture<T> {
        let prim = self.prim.clone();
        Waiting::new(move |deadline| async move {
            prim.wait_ticket(1, deadline).await?.complete();
            match Self::fetch(&prim).await? {
                Some(bytes) => codec::decode(&bytes),
                None => Err(Error::protocol("the result was completed but has no value")),
            }
        })
    }

    /// The value if it is set: one script, nothing registered.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get), except that an unset result is `Ok(None)`.
    pub async fn try_get(&self) -> Result<Option<T>, Error> {
        match Self::fetch(&self.prim).await? {
            Some(bytes) => codec::decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Whether a value is set.
    ///
    /// # Errors
    ///
    /// As [`waiters`](Self::waiters).
    pub async fn is_ready(&self) -> Result<bool, Error> {
        Ok(Self::fetch(&self.prim).await?.is_some())
    }
}

impl<T> fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("name", &self.name())
            .finish()
    }
}

/// A failed [`AsyncResult::set`]: why, and the value that was not stored.
pub struct SetError<T> {
    value: T,
    error: Error,
}

impl<T> SetError<T> {
    /// Why: [`Error::AlreadySet`] when another set won, else what went wrong.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The value that was not stored.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Takes the value back.
    pub fn into_value(self) -> T {
        self.value
    }

    /// Whether another set came first.
    pub fn is_already_set(&self) -> bool {
        matches!(self.error, Error::AlreadySet)
    }
}

impl<T> fmt::Debug for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "set failed: {}", self.error)
    }
}

impl<T> std::error::Error for SetError<T> {}

impl<T> From<SetError<T>> for Error {
    fn from(err: SetError<T>) -> Self {
        err.error
    }
}
