//! [toro-sync](https://docs.rs/toro-sync)'s primitives across processes and machines, on
//! Redis (7.0 or newer; Valkey works the same).
//!
//! toro-sync coordinates the tasks of one process. When the work spreads over many processes
//! (workers of one crawl, services sharing a resource), the same primitives, with the same
//! guarantees — strict FIFO hand-off, cancel safety, a deadline on every wait — live in Redis
//! here. Connect a [`Client`], then open primitives by name: two handles with the same name, in
//! any processes, are the same primitive.
//!
//! The constructors (`client.mutex(name)`, `client.semaphore(name, permits)`, …) return the
//! handle at once, without a round trip; the first operation creates the primitive in Redis or
//! checks it. Awaiting a handle (`client.mutex(name).await?`, an [`OpenFuture`]) opens and
//! checks it in one round trip up front. Either way, a primitive that exists with another kind
//! or other parameters is [`Error::Mismatch`], never a silent change.
//!
//! ```no_run
//! use std::time::Duration;
//! use toro_sync_redis::Client;
//!
//! # #[tokio::main] async fn main() -> Result<(), toro_sync_redis::Error> {
//! let client = Client::connect("redis://127.0.0.1:6379").await?;
//! let lock = client.mutex("nightly-report").await?; // opened and checked here
//! let guard = lock.lock().deadline(Duration::from_secs(10)).await?;
//! write_report(guard.fencing_token()); // the storage refuses tokens older than the newest seen
//! guard.release().await?;
//!
//! let ready = client.event("index-ready"); // no round trip: opened by its first operation
//! ready.set().await?;
//! # Ok(()) }
//! # fn write_report(_: u64) {}
//! ```
//!
//! # Primitives
//!
//! | toro-sync (one process) | toro-sync-redis | notes |
//! |---|---|---|
//! | `Mutex` / `Lock` | [`Mutex`] via [`Client::mutex`]: [`lock`](Mutex::lock), [`try_lock`](Mutex::try_lock), [`waiters`](Mutex::waiters) | [`MutexGuard`]: [`fencing_token`](MutexGuard::fencing_token), [`is_lost`](MutexGuard::is_lost), [`lost`](MutexGuard::lost), [`release`](MutexGuard::release) |
//! | `Semaphore` | [`Semaphore`] via [`Client::semaphore`]: [`acquire`](Semaphore::acquire), [`acquire_many`](Semaphore::acquire_many), [`try_acquire`](Semaphore::try_acquire), [`available`](Semaphore::available), [`release`](Semaphore::release) | every permit is a lease ([`SemaphorePermit`]) |
//! | `BoundedSemaphore` | [`BoundedSemaphore`] via [`Client::bounded_semaphore`] | over-release is [`Error::OverRelease`] |
//! | `RwLock` (`max_readers`) | [`RwLock`] via [`Client::rw_lock`]: [`read`](RwLock::read), [`write`](RwLock::write), [`try_read`](RwLock::try_read), [`try_write`](RwLock::try_write) | FIFO, write-preferring; guards as the Mutex's |
//! | `Event` | [`Event`] via [`Client::event`]: [`set`](Event::set), [`clear`](Event::clear), [`is_set`](Event::is_set), [`wait`](Event::wait) | `set(); clear()` still releases every earlier waiter, in any process |
//! | `AsyncResult<T>` | [`AsyncResult<T>`] via [`Client::async_result`]: [`set`](AsyncResult::set), [`get`](AsyncResult::get), [`try_get`](AsyncResult::try_get) | `T: Serialize + DeserializeOwned`, stored with [`codec`]; a second `set` is a [`SetError`] that gives the value back |
//! | `Barrier` | [`Barrier`] via [`Client::barrier`]: [`wait`](Barrier::wait) → [`BarrierWaitResult`] with [`is_leader`](BarrierWaitResult::is_leader) | reusable; arrivals are leased, so a dead party leaves after its lease |
//! | `Queue` (FIFO, `LifoQueue`, `PriorityQueue`) | [`Queue`] via [`Client::queue`]: [`put`](Queue::put), [`get`](Queue::get), [`join`](Queue::join), [`close`](Queue::close), [`stream`](Queue::stream) | at-least-once: a [`Delivery`] is a lease; [`task_done`](Delivery::task_done), [`retry`](Delivery::retry), dead letters after `max_attempts` |
//! | `Mutex::new(..)` | `client.mutex(name)` (at once), or `client.mutex(name).await?` (opened and checked) | a mismatch is [`Error::Mismatch`] from the first operation |
//! | `try_lock() -> Option<_>` | `try_lock().await -> Result<Option<_>, Error>` | needs one round trip |
//! | `x.wait().deadline(d)` | the same: every waiting method returns a named future ([`Waiting`]) with `.deadline(d)` | output `Result<_, Error>`, [`Error::is_timeout`] |
//!
//! Event, AsyncResult and Barrier waits are tickets in the same FIFO line as a lock's, but
//! they are *completed* rather than granted: nothing is held, so there is no guard and no
//! lease to renew after the wait; while waiting, each ticket's liveness is leased as for any
//! waiter. An event's `set` (a result's `set`, a barrier's last arrival) completes every
//! ticket concerned in one script and publishes one hint message for all of them.
//!
//! # Guarantees
//!
//! 1. **Fair hand-off, globally.** Every waiter, in any process, holds its own ticket in one
//!    FIFO line kept in Redis. The script that frees something grants it to the oldest live
//!    ticket there and then, so no newcomer barges and the order is global.
//! 2. **Wake-ups.** A grant publishes a hint (`SPUBLISH`, sharded pub/sub) on the primitive's
//!    hint channel, naming the granted tickets; every client with a waiter in line there is
//!    subscribed on its one subscriber connection and picks its own tickets out. The hint is
//!    never the record of the grant: a waiter also re-checks its ticket every re-check
//!    interval (1 s by default), at the earliest lease expiry that could free it, and at once
//!    after a reconnect or a new subscription. A lost hint delays a waiter by at most one
//!    interval; nothing polls faster.
//! 3. **Cancel safety.** Dropping a waiting future, or its deadline passing, withdraws its
//!    ticket with an idempotent script on the same connection (so Redis runs it after the
//!    request); what was already granted passes on. A deadline and a grant racing resolve to
//!    exactly one outcome. `Duration::ZERO` tries once and registers nothing.
//! 4. **Connection loss.** Commands are retried with backoff until the wait's deadline. Ids are
//!    made by the client (a random client id and a counter), so a retried script that already
//!    ran returns the same outcome: a waiter is never granted twice, never silently forgotten.
//! 5. **Leases.** Everything held is a lease (30 s by default, [`ClientBuilder::lease`], or
//!    per handle with `with_lease`), renewed every third of it by the client's background
//!    keeper while the guard lives. A crashed holder's lease ends by itself; a waiter whose
//!    process died leaves the line after one lease.
//! 6. **Time.** All expiry arithmetic runs inside the scripts on Redis's clock (`TIME`); client
//!    clocks only run local deadlines.
//!
//! # Leases and fencing
//!
//! A lease can end under a holder that is still running (a pause longer than the lease, a
//! partition). The guard then reports it: `is_lost()` turns true and `lost()` completes. It
//! does so conservatively: locally, a lease counts as valid only until the moment its last
//! renewal was *sent* plus 99% of the lease, never later than Redis keeps it.
//!
//! That is not enough for correctness on its own — a holder can pause right after checking.
//! So every grant carries a **fencing token**, strictly increasing per primitive across all
//! processes: the larger of the last token + 1 and Redis's clock in microseconds, which keeps
//! increasing across restarts without persistence and failovers (as long as the servers' clocks
//! agree within the failover time). Pass the token with every write to the protected resource,
//! and have the resource refuse tokens older than the newest it has seen.
//!
//! # Operating Redis for it
//!
//! * `maxmemory-policy noeviction`: an evicted key would drop holders or tickets.
//! * For the queues' at-least-once guarantee across Redis crashes: `appendonly yes` with
//!   `appendfsync always`. Locks and semaphores need no persistence for their fencing tokens
//!   to keep increasing; without persistence, holders at a restart lose their leases (their
//!   guards report it).
//! * Slew-only time synchronisation (no clock steps) on the Redis hosts: a step moves every
//!   lease.
//! * Leases must exceed the longest pause you expect in a holder; anything that matters must
//!   check the fencing token.
//! * Keys: every key of the primitive named `N` is `<prefix>{N}:<suffix>` (prefix `toro:` by
//!   default, [`ClientBuilder::prefix`]), one hash tag, so each script touches one slot; grant
//!   hints go to the shard channel `<prefix>{N}:hint`, in the same slot. An ACL user limited
//!   to `~<prefix>*` and `&<prefix>*` is enough, with the commands `evalsha eval script|load
//!   ssubscribe sunsubscribe ping hello` and those the scripts run (ACLs apply inside scripts
//!   too): `time spublish exists type hset hget hmget hdel hexists hincrby hlen zadd zrem
//!   zrange zrangebyscore zremrangebyscore zcard zscore`, and for the queues `rpush lrange
//!   llen`.
//!
//! # TLS
//!
//! With the cargo feature `tls` (off by default, so the default build does not compile
//! rustls and ring), a `rediss://` URL connects over TLS through redis-rs's rustls support:
//! `rediss://user:password@host:port/db`. Both connections of a client, the command
//! connection and the subscriber connection of the wake-up hints, use TLS, and so do their
//! reconnections. The server's certificate must name the URL's host and is checked against
//! the platform's trust store, or, for a private or self-signed CA, against the certificates
//! given to `ClientBuilder::tls_root_certificate`. For a server that requires client
//! certificates (`tls-auth-clients yes`), give one with
//! `ClientBuilder::tls_client_certificate`. There is no mode that skips verification.
//!
//! ```no_run
//! # #[cfg(feature = "tls")]
//! # async fn demo() -> Result<(), toro_sync_redis::Error> {
//! let client = toro_sync_redis::Client::builder("rediss://toro:secret@redis.internal:6380")
//!     .tls_root_certificate(std::fs::read("ca.crt").expect("the private CA's certificate"))
//!     .connect()
//!     .await?;
//! # drop(client); Ok(()) }
//! ```
//!
//! Cryptography is rustls with ring (built with a C compiler alone). rustls needs a
//! process-wide crypto provider: the first TLS connection installs ring's as the process
//! default, unless the application installed one before (which is then used).
//!
//! Failures say what to fix, and are not retryable ([`Error::Protocol`], text starting
//! `TLS`): a certificate no trusted CA issued, one that does not name the host, a client
//! certificate the server requires and did not get, a PEM that does not parse. A `rediss://`
//! URL in a build without the feature is [`Error::Protocol`] naming the feature. A `redis://`
//! URL on a TLS-only port is dropped by the server: [`Error::Unavailable`] with a hint to use
//! `rediss://`. As everywhere in this crate, the password of the URL never appears in an
//! error or a `Debug` output, nor does a private key. With the feature `cluster` too, the
//! cluster client takes `rediss://` node URLs, and redis-rs's cluster client is given the
//! builder's certificates for every node.
//!
//! # Redis Cluster and failover
//!
//! With the cargo feature `cluster`, `Client::connect_cluster` (or `Client::cluster_builder`,
//! with the same settings as [`Client::builder`]) connects to a Redis Cluster through the URLs
//! of some of its masters; everything else is the same API. An ACL user also needs
//! `cluster|slots` (how the client learns which master serves which slot).
//!
//! ```no_run
//! # #[cfg(feature = "cluster")]
//! # async fn demo() -> Result<(), toro_sync_redis::Error> {
//! let client = toro_sync_redis::Client::connect_cluster(&[
//!     "redis://10.0.0.1:6379",
//!     "redis://10.0.0.2:6379",
//! ])
//! .await?;
//! let guard = client.mutex("nightly-report").lock().await?;
//! # drop(guard); Ok(()) }
//! ```
//!
//! redis-rs's async cluster client sends each script to the master that owns its keys' slot
//! and follows the cluster through failovers and resharding (`MOVED`, `ASK`). Every key of one
//! primitive carries the primitive's name as its hash tag, so the whole primitive lives in
//! one slot on one master, and every script on it runs there atomically, exactly as on a
//! single server. The flip side: one primitive's throughput is one node's. A cluster spreads
//! *many* primitives over its masters; it does not make one hot lock or queue faster (split
//! the work over several names for that).
//!
//! Wake-up hints are sharded pub/sub, so a grant's hint stays on one shard instead of being
//! broadcast over the cluster bus to every node. A script may only `SPUBLISH` to a channel of
//! its own slot, so each primitive has its own hint channel under its hash tag,
//! `<prefix>{N}:hint`, and a hint names the tickets it grants (other clients' waiters ignore
//! it). The client's subscriber connection `SSUBSCRIBE`s to a primitive's channel when one of
//! its waiters is put in line there (an uncontended operation never subscribes), and
//! `SUNSUBSCRIBE`s one re-check interval after its last waiter there left; redis-rs sends each
//! to the master serving the channel's slot and subscribes again after a reconnect or a slot
//! move. Each new subscription is followed by a re-check of the primitive's waiters (a grant
//! just before it published to nobody). A hint that does not arrive (a subscriber
//! reconnecting after a failover) only delays a waiter until its next re-check, as on a
//! single server. Servers older than 7.0 have no sharded pub/sub and are not supported.
//!
//! What a failover can take away: Redis replicates asynchronously, so a master can
//! acknowledge a grant and fail before the replica has it. The promoted replica then knows
//! nothing of that holder and may grant the lock again while the first holder still believes
//! in its lease. Pauses do the same without any failover: a holder stopped by a GC pause,
//! swapping or a frozen VM for longer than its lease wakes up holding a guard whose lease has
//! ended and passed on. No lease-based lock can rule this out from the client side — it
//! cannot tell "I still hold it" from "I held it a moment ago" at the instant it writes. This
//! is the core of Martin Kleppmann's critique of Redlock, and antirez's reply does not
//! dispute it for pauses; their disagreement is about how far clock assumptions may carry a
//! lock, not about whether a lease alone makes a write safe.
//!
//! So every grant carries a **fencing token**, and the protected resource — not the lock —
//! has the last word: it accepts a write only with a token at least as large as the largest
//! it has seen, so a stale holder's late write is refused. Here a token is the larger of the
//! primitive's last token + 1 and the serving node's clock in microseconds, so tokens keep
//! increasing across a failover, and across a restart without persistence, as long as the
//! masters' and replicas' clocks agree to within the time a failover takes (tokens of the
//! lost grant and of the new one are then still ordered by time). `WAIT` after a grant would
//! narrow the window (the grant on a replica before the holder proceeds) but not close it: a
//! replica that acknowledged may still not be the one promoted, and pauses remain. Check the
//! token where it matters; treat `is_lost()` as an early warning, not a guarantee.
//!
//! # Encoding
//!
//! Values stored by the primitives that carry data ([`AsyncResult`]; the queues' items next)
//! are encoded with [`codec`]: a version byte, then postcard. Bytes that do not decode as the
//! handle's `T` are [`Error::Encoding`] for the call that read them.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod async_result;
mod barrier;
mod bounded_semaphore;
mod client;
pub mod codec;
mod conn;
mod engine;
mod error;
mod event;
mod hub;
mod keeper;
mod keys;
mod lease;
mod mutex;
mod open;
mod queue;
mod rwlock;
mod scripts;
mod semaphore;
mod tls;
mod wait;

pub use async_result::{AsyncResult, ResultGetFuture, SetError};
pub use barrier::{Barrier, BarrierWaitFuture, BarrierWaitResult};
pub use bounded_semaphore::BoundedSemaphore;
pub use client::{Client, ClientBuilder};
pub use error::Error;
pub use event::{Event, EventWaitFuture};
pub use mutex::{LockFuture, Mutex, MutexGuard};
pub use open::OpenFuture;
pub use queue::{
    DEFAULT_MAX_ATTEMPTS, DeadLetter, DeadReason, Delivery, GetFuture, JoinFuture,
    MAX_ATTEMPTS_LIMIT, MAX_BOUND, Order, PutError, PutFuture, Queue, QueueStream,
};
pub use rwlock::{ReadFuture, RwLock, RwLockReadGuard, RwLockWriteGuard, WriteFuture};
pub use semaphore::{AcquireFuture, Semaphore, SemaphorePermit};
pub use wait::Waiting;

/// `Deadline` from toro-sync: what `.deadline(d)` takes (a `Duration` or an `Instant`).
pub use toro_sync::Deadline;

#[cfg(test)]
mod tests {
    fn send_sync_static<T: Send + Sync + 'static>() {}
    fn send_static<T: Send + 'static>() {}

    #[test]
    fn handles_are_send_sync_static() {
        send_sync_static::<crate::Client>();
        send_sync_static::<crate::Mutex>();
        send_sync_static::<crate::MutexGuard>();
        send_sync_static::<crate::Semaphore>();
        send_sync_static::<crate::BoundedSemaphore>();
        send_sync_static::<crate::SemaphorePermit>();
        send_sync_static::<crate::RwLock>();
        send_sync_static::<crate::RwLockReadGuard>();
        send_sync_static::<crate::RwLockWriteGuard>();
        send_sync_static::<crate::Error>();
        send_sync_static::<crate::Event>();
        send_sync_static::<crate::Barrier>();
        send_sync_static::<crate::AsyncResult<String>>();
        send_static::<crate::EventWaitFuture>();
        send_static::<crate::BarrierWaitFuture>();
        send_static::<crate::ResultGetFuture<String>>();
        send_static::<crate::OpenFuture<crate::Mutex>>();
        send_static::<crate::LockFuture>();
        send_static::<crate::AcquireFuture>();
        send_sync_static::<crate::Queue<String>>();
        send_sync_static::<crate::Delivery<String>>();
        send_static::<crate::PutFuture<String>>();
        send_static::<crate::GetFuture<String>>();
        send_static::<crate::QueueStream<String>>();
    }
}
