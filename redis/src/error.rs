//! The crate's one error type, [`Error`].

use std::fmt;

/// Why an operation of this crate failed.
///
/// [`is_timeout`](Error::is_timeout) tells a passed deadline apart;
/// [`is_retryable`](Error::is_retryable) tells when trying again later may succeed (the
/// server could not be reached). Messages never contain a password: text that came from the
/// connection layer is scrubbed of the client's credentials before it is stored.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The wait's deadline passed before it completed. Nothing was taken: the ticket was
    /// withdrawn (or its withdrawal is under way in the background).
    Timeout,
    /// Redis could not be reached or did not answer in time (connection refused or lost,
    /// response timeout, server loading or read-only after a failover). Retryable.
    Unavailable {
        /// What the connection layer reported, without credentials.
        message: String,
    },
    /// The lease behind a guard ran out before it was renewed: someone else may hold it now.
    LeaseLost,
    /// The primitive is closed.
    Closed,
    /// A primitive of this name exists with another kind or other parameters.
    Mismatch {
        /// The primitive's name.
        name: String,
        /// Kind and parameter this handle asked for, e.g. `semaphore 3`.
        expected: String,
        /// Kind and parameter stored in Redis.
        found: String,
    },
    /// A `release()` would take a bounded semaphore above its bound.
    OverRelease {
        /// The bound.
        bound: u64,
    },
    /// An [`AsyncResult`](crate::AsyncResult) was set before: a result is set once.
    AlreadySet,
    /// A value could not be encoded or decoded.
    Encoding {
        /// What went wrong.
        message: String,
    },
    /// Redis answered something this crate did not expect: a foreign or malformed value under
    /// one of its keys, a refused command (e.g. missing ACL permission), a bad argument. Also
    /// settings to fix before trying again: a bad URL, refused credentials, and TLS that
    /// fails (its message then starts with `TLS`: an untrusted or refused certificate, an
    /// unreadable PEM, a `rediss://` URL without the feature `tls`).
    Protocol {
        /// What went wrong, without credentials.
        message: String,
    },
}

impl Error {
    /// `true` for [`Error::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout)
    }

    /// `true` when trying again later may succeed: [`Error::Unavailable`].
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable { .. })
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Error::Protocol {
            message: message.into(),
        }
    }

    /// Maps an error of the connection layer, removing `secret` (the password) from its text.
    pub(crate) fn from_redis(err: &redis::RedisError, secret: Option<&str>) -> Self {
        let scrub = |text: String| match secret {
            Some(secret) if !secret.is_empty() => text.replace(secret, "<redacted>"),
            _ => text,
        };
        // A TLS failure arrives as an I/O error, but waiting does not fix a certificate.
        #[cfg(feature = "tls")]
        if let Some(hint) = crate::tls::tls_failure(err) {
            return Error::Protocol {
                message: scrub(format!("TLS: {err}{hint}")),
            };
        }
        if err.is_io_error()
            || err.is_connection_dropped()
            || err.is_connection_refusal()
            || err.is_timeout()
            || matches!(
                err.kind(),
                redis::ErrorKind::Server(
                    redis::ServerErrorKind::BusyLoading
                        | redis::ServerErrorKind::TryAgain
                        | redis::ServerErrorKind::MasterDown
                        | redis::ServerErrorKind::ReadOnly
                        | redis::ServerErrorKind::ClusterDown
                )
            )
        {
            return Error::Unavailable {
                message: scrub(err.to_string()),
            };
        }
        Error::Protocol {
            message: scrub(err.to_string()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout => f.write_str("Timeout"),
            Error::Unavailable { message } => f
                .debug_struct("Unavailable")
                .field("message", message)
                .finish(),
            Error::LeaseLost => f.write_str("LeaseLost"),
            Error::Closed => f.write_str("Closed"),
            Error::AlreadySet => f.write_str("AlreadySet"),
            Error::Mismatch {
                name,
                expected,
                found,
            } => f
                .debug_struct("Mismatch")
                .field("name", name)
                .field("expected", expected)
                .field("found", found)
                .finish(),
            Error::OverRelease { bound } => {
                f.debug_struct("OverRelease").field("bound", bound).finish()
            }
            Error::Encoding { message } => f
                .debug_struct("Encoding")
                .field("message", message)
                .finish(),
            Error::Protocol { message } => f
                .debug_struct("Protocol")
                .field("message", message)
                .finish(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout => f.write_str("deadline passed"),
            Error::Unavailable { message } => write!(f, "redis unavailable: {message}"),
            Error::LeaseLost => f.write_str("lease lost"),
            Error::Closed => f.write_str("closed"),
            Error::AlreadySet => f.write_str("the result is already set"),
            Error::Mismatch {
                name,
                expected,
                found,
            } => write!(
                f,
                "primitive {name:?} exists as `{found}`, this handle asked for `{expected}`"
            ),
            Error::OverRelease { bound } => {
                write!(
                    f,
                    "release would take the semaphore above its bound {bound}"
                )
            }
            Error::Encoding { message } => write!(f, "encoding: {message}"),
            Error::Protocol { message } => write!(f, "unexpected reply from redis: {message}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<toro_sync::Timeout> for Error {
    fn from(_: toro_sync::Timeout) -> Self {
        Error::Timeout
    }
}
