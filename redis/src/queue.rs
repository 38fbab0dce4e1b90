//! [`Queue`]: an at-least-once work queue shared by every process that opens the same name.
//!
//! # Data model
//!
//! All keys of the queue `N` share the hash tag `{N}` (see the crate docs on keys):
//!
//! * `:r` — the **ready** items, a sorted set read lowest score first: FIFO scores by a put
//!   sequence, LIFO by its negation, a priority queue by the priority `p`. Every item's member
//!   is its sequence number as 16 hex digits, so items of equal priority leave in put order.
//!   Payloads (the [`codec`](crate::codec) bytes) live in `:i`, delivery counts in `:a`.
//! * Getters, putters and joiners wait as **tickets** of the crate's ticket engine, each in its
//!   own FIFO line (`:q`, `:pq`, `:jq`), with the same liveness, hints, re-checks, deadlines and
//!   withdrawals as every other wait of the crate.
//! * A **delivery** is a holder of the engine (`:h`, `:hd`): a lease, renewed while the
//!   [`Delivery`] lives, naming the item and its attempt. Done, the item is gone; given back
//!   (retry, drop, expiry) it goes to the head of the ready items, or to the dead letters
//!   (`:d`) after `max_attempts` deliveries.
//! * Whenever something changes, the script that changed it serves the lines in Redis: the
//!   oldest getter takes the head item, room in a bounded queue goes first to returned items and
//!   then to the oldest waiting putter, and joiners complete when nothing is unfinished.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use toro_sync::Deadline;

use crate::engine::{Holding, Prim, Spec};
use crate::keys::Keys;
use crate::wait::Waiting;
use crate::{Client, Error, codec};

/// The default of [`Queue::max_attempts`].
pub const DEFAULT_MAX_ATTEMPTS: u32 = 16;

/// The largest [`Queue::max_attempts`].
pub const MAX_ATTEMPTS_LIMIT: u32 = (1 << 20) - 1;

/// The largest [`Queue::bounded`] bound.
pub const MAX_BOUND: u64 = u32::MAX as u64;

/// Priorities must be smaller than this in absolute value (Lua numbers are doubles).
const PRIORITY_LIMIT: i64 = 1 << 53;

/// The future of [`Queue::get`].
pub type GetFuture<T> = Waiting<Delivery<T>>;

/// The future of [`Queue::join`].
pub type JoinFuture = Waiting<()>;

/// The order in which a queue hands out its items.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Order {
    /// First in, first out (the default).
    Fifo,
    /// Last in, first out.
    Lifo,
    /// Lowest priority value first, first in first out among equal priorities.
    Priority,
}

impl Order {
    fn kind(self) -> &'static str {
        match self {
            Order::Fifo => "queue",
            Order::Lifo => "lifo-queue",
            Order::Priority => "priority-queue",
        }
    }
}

/// A queue of `T` shared by every process that opens the same name
/// ([`Client::queue`]): toro's `Queue` across processes, with at-least-once delivery.
///
/// [`put`](Self::put) adds an item (waiting for room in a bounded queue);
/// [`get`](Self::get) takes one as a [`Delivery`], a lease renewed in the background while it
/// lives. [`Delivery::task_done`] finishes the item; [`Delivery::retry`], dropping the
/// delivery, or its lease running out (the consumer crashed or paused) put it back at the head
/// to be delivered again, with [`attempt`](Delivery::attempt) one higher. After
/// [`max_attempts`](Self::max_attempts) deliveries an item goes to the
/// [`dead letters`](Self::dead_letters) instead. [`join`](Self::join) waits until every item
/// ever put is done or dead, in all processes.
///
/// # Opening
///
/// `client.queue::<T>(name)` is synchronous: the handle is usable at once, and every
/// operation checks its parameters (order, bound, `max_attempts`) against what Redis holds
/// for that name — another order, bound or `max_attempts` is [`Error::Mismatch`] from the first
/// operation. Awaiting the handle itself (it is [`IntoFuture`]) creates or validates the queue
/// in one round trip and gives the handle back. The lease of deliveries
/// ([`lease`](Self::lease)) is per handle, not a parameter of the queue.
///
/// # Fairness and order
///
/// Getters are served in the order they started waiting, across processes: an item put while
/// getters wait goes to the oldest of them. In a bounded queue, waiting putters are served in
/// the order they started waiting, and [`len`](Self::len) (the ready items) never exceeds the
/// bound: an item given back to a full queue waits outside it (counted by
/// [`in_flight`](Self::in_flight)) and moves in before any waiting putter's.
///
/// # Crashes
///
/// A producer that dies loses only the puts it had not had acknowledged (a waiting put leaves
/// the line after one lease). A consumer that dies holds its deliveries for one lease, then
/// they are delivered again. With Redis run with `appendonly yes` and `appendfsync always`, an
/// acknowledged put survives a Redis crash too.
///
/// # Examples
///
/// ```no_run
/// # async fn demo(client: toro_sync_redis::Client) -> Result<(), toro_sync_redis::Error> {
/// let jobs = client.queue::<String>("jobs").bounded(100).await?;
/// jobs.put("https://example.com/".to_string()).await.map_err(|e| e.error)?;
/// let job = jobs.get().await?;
/// println!("attempt {} of {}", job.attempt(), *job);
/// job.task_done().await?;
/// jobs.join().await?;
/// # Ok(()) }
/// ```
pub struct Queue<T> {
    client: Client,
    name: String,
    order: Order,
    bound: u64,
    max_attempts: u32,
    lease: Option<Duration>,
    prim: Result<Prim, Error>,
    _item: PhantomData<fn(T) -> T>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            client: self.client.clone(),
            name: self.name.clone(),
            order: self.order,
            bound: self.bound,
            max_attempts: self.max_attempts,
            lease: self.lease,
            prim: self.prim.clone(),
            _item: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.name)
            .field("order", &self.order)
            .field("bound", &self.bound)
            .field("max_attempts", &self.max_attempts)
            .finish()
    }
}

fn describe(kind: &str, param: u64) -> String {
    let bound = param & u64::from(u32::MAX);
    let attempts = param >> 32;
    if bound == 0 {
        format!("{kind} unbounded max_attempts={attempts}")
    } else {
        format!("{kind} bound={bound} max_attempts={attempts}")
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Makes a mismatch readable: the queue parameters on both sides.
fn fix(spec: &Spec, err: Error) -> Error {
    match err {
        Error::Mismatch { name, found, .. } => {
            let found = match found.split_once(' ') {
                Some((kind, param)) if kind.ends_with("queue") => match param.parse::<u64>() {
                    Ok(param) => describe(kind, param),
                    Err(_) => found,
                },
                _ => found,
            };
            Error::Mismatch {
                name,
                expected: describe(spec.kind, spec.param),
                found,
            }
        }
        other => other,
    }
}

impl<T> Queue<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    pub(crate) fn new(client: Client, name: &str) -> Self {
        let mut queue = Queue {
            client,
            name: name.to_string(),
            order: Order::Fifo,
            bound: 0,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            lease: None,
            prim: Err(Error::Closed),
            _item: PhantomData,
        };
        queue.build();
        queue
    }

    fn build(&mut self) {
        let inner = &self.client.inner;
        self.prim = if self.bound > MAX_BOUND {
            Err(Error::protocol(format!(
                "queue bound {} above {MAX_BOUND}",
                self.bound
            )))
        } else {
            Keys::queue(&inner.options.prefix, &self.name).map(|keys| Prim {
                inner: inner.clone(),
                spec: Arc::new(Spec {
                    name: self.name.clone(),
                    keys,
                    kind: self.order.kind(),
                    param: self.bound | (u64::from(self.max_attempts) << 32),
                    lease: self
                        .lease
                        .unwrap_or(inner.options.lease)
                        .max(Duration::from_millis(10)),
                    recheck: inner.options.recheck,
                    invalid: None,
                    entry: Default::default(),
                }),
            })
        };
    }

    /// A bounded queue of at most `n` ready items (0: unbounded, the default). A put waits
    /// for room. Part of the queue's parameters: every handle must say the same.
    pub fn bounded(mut self, n: u64) -> Self {
        self.bound = n;
        self.build();
        self
    }

    /// A LIFO queue: the newest item first. Part of the queue's parameters.
    pub fn lifo(mut self) -> Self {
        self.order = Order::Lifo;
        self.build();
        self
    }

    /// A priority queue: the lowest priority ([`put_with_priority`](Self::put_with_priority))
    /// first, FIFO among equal priorities; a plain [`put`](Self::put) has priority 0. Part of
    /// the queue's parameters.
    pub fn priority(mut self) -> Self {
        self.order = Order::Priority;
        self.build();
        self
    }

    /// How many deliveries an item gets before it goes to the dead letters (default
    /// [`DEFAULT_MAX_ATTEMPTS`]; clamped to `1..=`[`MAX_ATTEMPTS_LIMIT`]). Part of the
    /// queue's parameters.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.clamp(1, MAX_ATTEMPTS_LIMIT);
        self.build();
        self
    }

    /// The lease of the deliveries this handle takes, and the liveness of its waiting
    /// tickets (default: the client's lease; at least 10 ms). A delivery is renewed every
    /// third of it while it lives; a consumer that stops renewing loses the item after it.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = Some(lease);
        self.build();
        self
    }

    /// The queue's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The queue's order.
    pub fn order(&self) -> Order {
        self.order
    }

    fn prim(&self) -> Result<Prim, Error> {
        self.prim.clone()
    }

    async fn stats(&self) -> Result<[u64; 7], Error> {
        let prim = self.prim()?;
        let until = Some(Instant::now() + prim.inner.options.response_timeout * 2);
        let r = prim
            .inner
            .link
            .eval(
                &prim.inner.scripts.of(prim.spec.kind).stats,
                &prim.spec,
                &[],
                until,
                false,
            )
            .await
            .map_err(|e| fix(&prim.spec, e))?;
        let mut out = [0u64; 7];
        for (i, slot) in out.iter_mut().enumerate() {
            let v = r
                .get(i)
                .copied()
                .ok_or_else(|| Error::protocol("short script reply"))?;
            *slot = u64::try_from(v).map_err(|_| Error::protocol("negative count"))?;
        }
        Ok(out)
    }

    /// Adds `item`, waiting for room in a bounded queue (waiting putters are served FIFO). If
    /// getters are waiting, the oldest of them receives it.
    ///
    /// # Errors
    ///
    /// The item comes back in a [`PutError`] with why: [`Error::Closed`] (the queue is closed,
    /// also while waiting), [`Error::Timeout`] (the deadline passed), [`Error::Unavailable`]
    /// (Redis unreachable until the deadline), [`Error::Encoding`] (the item cannot be
    /// encoded), [`Error::Mismatch`], [`Error::Protocol`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it waits withdraws it (the item, held by the future, is
    /// dropped with it, and is not in the queue); dropped after Redis accepted the item, the
    /// item stays in the queue. A crash of the caller while waiting leaves a ticket that leaves
    /// the line after one lease, with its copy of the item.
    pub fn put(&self, item: T) -> PutFuture<T> {
        self.put_inner(item, 0)
    }

    /// Adds `item` with priority `p` (lower first) to a priority queue ([`priority`](Self::priority)).
    ///
    /// # Errors
    ///
    /// As [`put`](Self::put); [`Error::Protocol`] if the queue is not a priority queue or
    /// `|p| >= 2^53`.
    ///
    /// # Cancel safety
    ///
    /// As [`put`](Self::put).
    pub fn put_with_priority(&self, p: i64, item: T) -> PutFuture<T> {
        if self.order != Order::Priority {
            return PutFuture::failed(item, Error::protocol("not a priority queue"));
        }
        if p.unsigned_abs() >= PRIORITY_LIMIT as u64 {
            return PutFuture::failed(item, Error::protocol("priority out of range (|p| >= 2^53)"));
        }
        self.put_inner(item, p)
    }

    fn put_inner(&self, item: T, priority: i64) -> PutFuture<T> {
        let prim = self.prim();
        PutFuture::new(item, move |item, deadline| async move {
            let prim = match prim {
                Ok(prim) => prim,
                Err(error) => return Err(PutError { item, error }),
            };
            let payload = match codec::encode(&item) {
                Ok(bytes) => hex(&bytes),
                Err(error) => return Err(PutError { item, error }),
            };
            let extra = [payload, priority.to_string()];
            match prim.wait_ticket_with(1, deadline, &extra).await {
                Ok(grant) => {
                    grant.complete();
                    Ok(())
                }
                Err(error) => Err(PutError {
                    item,
                    error: fix(&prim.spec, error),
                }),
            }
        })
    }

    /// Adds `item` if there is room now and no putter waits: one script, nothing registered.
    ///
    /// # Errors
    ///
    /// As [`put`](Self::put); a full queue is [`Error::Timeout`] (`is_timeout()`), the item
    /// given back.
    ///
    /// # Cancel safety
    ///
    /// Dropped before Redis answered, the item may or may not be in the queue (at most once).
    /// A crash of the caller leaves nothing behind but the item, if it was accepted.
    pub async fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.put(item).deadline(Duration::ZERO).await
    }

    /// Takes the next item as a [`Delivery`], waiting for one (getters are served FIFO, across
    /// processes).
    ///
    /// # Errors
    ///
    /// [`Error::Closed`] once the queue is closed and nothing is left to deliver (no ready item
    /// and none in flight that could come back); [`Error::Timeout`]; [`Error::Unavailable`];
    /// [`Error::Encoding`] if the item cannot be decoded as `T` — the item is then moved to
    /// the dead letters (reason [`DeadReason::Undecodable`], counting as done), not lost;
    /// [`Error::Mismatch`]; [`Error::Protocol`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses nothing: a waiting ticket is withdrawn; an item Redis had
    /// already handed to it goes back to the head of the queue (with its attempt given back if
    /// the item was not read yet). If the caller crashes, its ticket leaves the line after one
    /// lease, and an item granted to it is delivered again after one lease.
    pub fn get(&self) -> GetFuture<T> {
        let prim = self.prim();
        Waiting::new(move |deadline| async move {
            let prim = prim?;
            get_inner(&prim, deadline)
                .await
                .map_err(|e| fix(&prim.spec, e))
        })
    }

    /// Takes the head item if one is ready and no getter waits: one script, nothing
    /// registered.
    ///
    /// # Errors
    ///
    /// As [`get`](Self::get), except that nothing ready is `Ok(None)`.
    ///
    /// # Cancel safety
    ///
    /// As [`get`](Self::get): an item taken by a dropped call goes back to the head.
    pub async fn try_get(&self) -> Result<Option<Delivery<T>>, Error> {
        match self.get().deadline(Duration::ZERO).await {
            Ok(delivery) => Ok(Some(delivery)),
            Err(Error::Timeout) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Ready items (not counting those being worked on): at most the bound.
    ///
    /// This and the other counts are one script each, which also settles expired deliveries
    /// and dead waiters; cancel safe.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`], [`Error::Mismatch`], [`Error::Protocol`].
    pub async fn len(&self) -> Result<u64, Error> {
        Ok(self.stats().await?[0])
    }

    /// Whether no item is ready.
    ///
    /// # Errors
    ///
    /// As [`len`](Self::len).
    pub async fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len().await? == 0)
    }

    /// Items delivered and not yet done or given back, plus items given back to a full queue
    /// and waiting for room.
    ///
    /// # Errors
    ///
    /// As [`len`](Self::len).
    pub async fn in_flight(&self) -> Result<u64, Error> {
        Ok(self.stats().await?[1])
    }

    /// Items put and not yet done or dead-lettered (toro's `unfinished_tasks`).
    ///
    /// # Errors
    ///
    /// As [`len`](Self::len).
    pub async fn unfinished_tasks(&self) -> Result<u64, Error> {
        Ok(self.stats().await?[2])
    }

    /// Waiting getters and putters, in all processes.
    ///
    /// # Errors
    ///
    /// As [`len`](Self::len).
    pub async fn waiters(&self) -> Result<u64, Error> {
        let s = self.stats().await?;
        Ok(s[3] + s[4])
    }

    /// Whether the queue is closed.
    ///
    /// # Errors
    ///
    /// As [`len`](Self::len).
    pub async fn is_closed(&self) -> Result<bool, Error> {
        Ok(self.stats().await?[5] == 1)
    }

    /// Waits until every item ever put is done or dead-lettered, in all processes.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::Unavailable`], [`Error::Mismatch`], [`Error::Protocol`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it withdraws its ticket. A crashed caller's ticket leaves the line
    /// after one lease.
    pub fn join(&self) -> JoinFuture {
        let prim = self.prim();
        Waiting::new(move |deadline| async move {
            let prim = prim?;
            match prim.wait_ticket_with(2, deadline, &[]).await {
                Ok(grant) => {
                    grant.complete();
                    Ok(())
                }
                Err(err) => Err(fix(&prim.spec, err)),
            }
        })
    }

    /// Closes the queue for good: puts fail with [`Error::Closed`] (waiting ones too, with
    /// their items), gets take what is left and then fail with [`Error::Closed`]. Idempotent.
    ///
    /// A get waiting while items are still in flight (delivered, not done) keeps waiting:
    /// they may come back. Waiters learn of the close at their next re-check (at most the
    /// client's re-check interval, or a third of the lease, later).
    ///
    /// # Errors
    ///
    /// As [`len`](Self::len).
    ///
    /// # Cancel safety
    ///
    /// Dropped before Redis answered, the queue may or may not be closed.
    pub async fn close(&self) -> Result<(), Error> {
        let prim = self.prim()?;
        let q = queue_scripts(&prim)?;
        let until = Some(Instant::now() + prim.spec.lease);
        prim.inner
            .link
            .eval(&q.close, &prim.spec, &[], until, false)
            .await
            .map_err(|e| fix(&prim.spec, e))
            .map(drop)
    }

    /// A stream of deliveries: the next [`get`](Self::get) each time, ending (`None`) once the
    /// queue is closed and drained. Other errors are yielded as items.
    ///
    /// # Cancel safety
    ///
    /// Dropping the stream drops its pending `get`, which loses nothing (see
    /// [`get`](Self::get)).
    pub fn stream(&self) -> QueueStream<T> {
        QueueStream {
            queue: self.clone(),
            pending: None,
            ended: false,
        }
    }

    /// The dead letters, oldest first: items that reached `max_attempts` deliveries, and items
    /// that could not be decoded. They stay in Redis (under the queue's `:d` key, a list of
    /// `reason|attempts|payload` entries) until deleted there.
    ///
    /// # Errors
    ///
    /// As [`len`](Self::len). An entry that cannot be decoded as `T` is returned with its
    /// `item` an [`Error::Encoding`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter<T>>, Error> {
        const PAGE: usize = 1000;
        let prim = self.prim()?;
        let q = queue_scripts(&prim)?;
        let mut out = Vec::new();
        loop {
            let until = Some(Instant::now() + prim.inner.options.response_timeout * 2);
            let page: Vec<Vec<u8>> = prim
                .inner
                .link
                .eval_as(
                    &q.dead,
                    &prim.spec,
                    &[out.len().to_string(), PAGE.to_string()],
                    until,
                    false,
                )
                .await
                .map_err(|e| fix(&prim.spec, e))?;
            let n = page.len();
            for entry in page {
                out.push(DeadLetter::parse(&entry)?);
            }
            if n < PAGE {
                return Ok(out);
            }
        }
    }
}

fn queue_scripts(prim: &Prim) -> Result<&crate::scripts::QueueScripts, Error> {
    prim.inner
        .scripts
        .queue
        .as_deref()
        .ok_or_else(|| Error::protocol("queue scripts missing"))
}

async fn get_inner<T: DeserializeOwned>(
    prim: &Prim,
    deadline: Option<Instant>,
) -> Result<Delivery<T>, Error> {
    let q = queue_scripts(prim)?;
    loop {
        let mut grant = prim.wait_ticket_with(0, deadline, &[]).await?;
        let delivered = grant.take_payload();
        let hold = grant.hold();
        let (attempt, payload): (i64, Vec<u8>) = match delivered {
            // Delivered by the acquire itself: the token is the attempt.
            Some(payload) => (hold.token() as i64, payload),
            // Granted while waiting (by a hint or a re-check): read the item.
            None => {
                let until = Some(Instant::now() + prim.spec.lease);
                prim.inner
                    .link
                    .eval_as(&q.fetch, &prim.spec, &[hold.id().to_string()], until, false)
                    .await?
            }
        };
        if attempt <= 0 {
            // The lease ran out before the item was read (a long stall): the item went back.
            drop(hold);
            if deadline.is_some_and(|at| at <= Instant::now()) {
                return Err(Error::Timeout);
            }
            continue;
        }
        let attempt = u32::try_from(attempt).map_err(|_| Error::protocol("bad attempt"))?;
        match codec::decode::<T>(&payload) {
            Ok(item) => {
                return Ok(Delivery {
                    hold,
                    item,
                    attempt,
                });
            }
            Err(err) => {
                let args = [hold.id().to_string(), "bury".to_string()];
                let until = Some(Instant::now() + prim.spec.lease);
                // If this fails, the delivery's drop gives the item back instead.
                let _ = prim
                    .inner
                    .link
                    .eval(
                        &prim.inner.scripts.of(prim.spec.kind).release,
                        &prim.spec,
                        &args,
                        until,
                        false,
                    )
                    .await;
                return Err(err);
            }
        }
    }
}

impl<T> IntoFuture for Queue<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Output = Result<Queue<T>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<Queue<T>, Error>> + Send>>;

    /// Creates the queue in Redis, or checks that the one there has these parameters.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            self.stats().await?;
            Ok(self)
        })
    }
}

/// An item taken from a [`Queue`], under a lease renewed in the background while it lives.
///
/// Derefs to the item. Finish it with [`task_done`](Self::task_done), or give it back with
/// [`retry`](Self::retry); dropping it without either gives it back too (in the background),
/// so a panicking worker loses nothing.
#[must_use = "dropping a delivery gives the item back"]
pub struct Delivery<T> {
    hold: Holding,
    item: T,
    attempt: u32,
}

impl<T> Delivery<T> {
    /// Which delivery of this item this is: 1 the first time.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The item.
    pub fn item(&self) -> &T {
        &self.item
    }

    /// Whether the lease is lost (the item may be delivered to someone else by now); see
    /// [`MutexGuard::is_lost`](crate::MutexGuard::is_lost).
    pub fn is_lost(&self) -> bool {
        self.hold.is_lost()
    }

    /// Completes when the lease is lost.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only observes.
    pub async fn lost(&self) {
        self.hold.lost().await
    }

    /// Marks the item done (toro's `task_done`, tied to this item): it leaves the queue for
    /// good, and [`Queue::join`] completes when nothing is unfinished. Returns the item.
    ///
    /// # Errors
    ///
    /// [`Error::LeaseLost`] if the lease had run out (the item was given back and may have
    /// been delivered again: the work may be done twice, as at-least-once allows);
    /// [`Error::Unavailable`] if Redis could not be reached within the lease — then the item
    /// is not done and is delivered again after the lease.
    ///
    /// # Cancel safety
    ///
    /// Dropped after it started, the item is done or (if the script did not run) delivered
    /// again after the lease. A crash of the caller before Redis ran it: delivered again.
    pub async fn task_done(self) -> Result<T, Error> {
        let Delivery { hold, item, .. } = self;
        hold.release(true).await.map(|()| item)
    }

    /// Gives the item back at the head of the queue now (delivered again, with
    /// [`attempt`](Self::attempt) one higher, or dead-lettered after `max_attempts`).
    ///
    /// # Errors
    ///
    /// [`Error::LeaseLost`] if the lease had already run out (the item went back by itself);
    /// [`Error::Unavailable`] (the give-back goes on in the background).
    ///
    /// # Cancel safety
    ///
    /// Dropped after it started, the item still goes back.
    pub async fn retry(self) -> Result<(), Error> {
        self.hold.release(false).await
    }
}

impl<T> Deref for Delivery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.item
    }
}

impl<T: fmt::Debug> fmt::Debug for Delivery<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("item", &self.item)
            .field("attempt", &self.attempt)
            .field("lost", &self.is_lost())
            .finish()
    }
}

/// Why an item is in the dead letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeadReason {
    /// It was delivered `max_attempts` times without being done.
    Attempts,
    /// It could not be decoded as the queue's item type (a foreign or incompatible value).
    Undecodable,
    /// A reason this version does not know.
    Other,
}

/// An entry of [`Queue::dead_letters`].
#[derive(Debug)]
#[non_exhaustive]
pub struct DeadLetter<T> {
    /// Why it is there.
    pub reason: DeadReason,
    /// How many times it was delivered.
    pub attempts: u32,
    /// The item, or why it cannot be decoded.
    pub item: Result<T, Error>,
    /// The stored bytes of the item ([`codec`] encoding).
    pub payload: Vec<u8>,
}

impl<T: DeserializeOwned> DeadLetter<T> {
    fn parse(entry: &[u8]) -> Result<Self, Error> {
        let foreign = || Error::protocol("malformed dead letter");
        let mut parts = entry.splitn(3, |b| *b == b'|');
        let reason = parts.next().ok_or_else(foreign)?;
        let attempts = parts.next().ok_or_else(foreign)?;
        let payload = parts.next().ok_or_else(foreign)?.to_vec();
        let attempts = std::str::from_utf8(attempts)
            .ok()
            .and_then(|a| a.parse().ok())
            .ok_or_else(foreign)?;
        let reason = match reason {
            b"attempts" => DeadReason::Attempts,
            b"undecodable" => DeadReason::Undecodable,
            _ => DeadReason::Other,
        };
        Ok(DeadLetter {
            reason,
            attempts,
            item: codec::decode(&payload),
            payload,
        })
    }
}

/// A failed put: the item comes back with why.
pub struct PutError<T> {
    /// The item that was not put.
    pub item: T,
    /// Why: [`Error::Closed`], [`Error::Timeout`] (also "full" for
    /// [`try_put`](Queue::try_put)), [`Error::Unavailable`], ...
    pub error: Error,
}

impl<T> PutError<T> {
    /// The item back.
    pub fn into_inner(self) -> T {
        self.item
    }

    /// Whether the deadline passed (or, for a try, the queue was full).
    pub fn is_timeout(&self) -> bool {
        self.error.is_timeout()
    }

    /// Whether the queue is closed.
    pub fn is_closed(&self) -> bool {
        matches!(self.error, Error::Closed)
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "put failed: {}", self.error)
    }
}

impl<T> std::error::Error for PutError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<T> From<PutError<T>> for Error {
    fn from(err: PutError<T>) -> Self {
        err.error
    }
}

type PutRunning<T> = Pin<Box<dyn Future<Output = Result<(), PutError<T>>> + Send>>;
type PutStart<T> = Box<dyn FnOnce(T, Option<Instant>) -> PutRunning<T> + Send>;

/// The future of [`Queue::put`]: `Ok(())` once the item is in the queue, or the item back in
/// a [`PutError`]. [`deadline`](Self::deadline) bounds it as [`Waiting::deadline`] does;
/// `Duration::ZERO` tries once. Nothing is sent until it is first polled. Once it has
/// completed, polling it again stays pending (the item has been handed out).
///
/// # Cancel safety
///
/// See [`Queue::put`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct PutFuture<T> {
    start: Option<(T, PutStart<T>)>,
    deadline: Option<Instant>,
    running: Option<PutRunning<T>>,
}

impl<T: Send + 'static> PutFuture<T> {
    fn new<F, Fut>(item: T, start: F) -> Self
    where
        F: FnOnce(T, Option<Instant>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), PutError<T>>> + Send + 'static,
    {
        PutFuture {
            start: Some((
                item,
                Box::new(move |item, deadline| Box::pin(start(item, deadline)) as PutRunning<T>),
            )),
            deadline: None,
            running: None,
        }
    }

    fn failed(item: T, error: Error) -> Self {
        PutFuture::new(
            item,
            move |item, _| async move { Err(PutError { item, error }) },
        )
    }

    /// Gives up at `d`, a [`Duration`] from now or an [`Instant`](std::time::Instant); the
    /// item comes back with [`Error::Timeout`]. Set it before the first poll.
    pub fn deadline(mut self, d: impl Into<Deadline>) -> Self {
        if self.running.is_none() {
            self.deadline = d.into().resolve().map(Instant::from_std);
        }
        self
    }
}

// The item is only moved, never pinned.
impl<T> Unpin for PutFuture<T> {}

impl<T> Future for PutFuture<T> {
    type Output = Result<(), PutError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some((item, start)) = this.start.take() {
            this.running = Some(start(item, this.deadline));
        }
        match this.running.as_mut() {
            Some(running) => running.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

impl<T> fmt::Debug for PutFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PutFuture")
            .field("started", &self.running.is_some())
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// The stream of [`Queue::stream`]: `Result<Delivery<T>, Error>` items, ending once the queue
/// is closed and drained.
#[must_use = "streams do nothing unless polled"]
pub struct QueueStream<T> {
    queue: Queue<T>,
    pending: Option<GetFuture<T>>,
    ended: bool,
}

impl<T> futures_core::Stream for QueueStream<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    type Item = Result<Delivery<T>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.ended {
            return Poll::Ready(None);
        }
        let queue = &this.queue;
        let pending = this.pending.get_or_insert_with(|| queue.get());
        match Pin::new(pending).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                this.pending = None;
                match result {
                    Err(Error::Closed) => {
                        this.ended = true;
                        Poll::Ready(None)
                    }
                    other => Poll::Ready(Some(other)),
                }
            }
        }
    }
}

impl<T> futures_core::FusedStream for QueueStream<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    fn is_terminated(&self) -> bool {
        self.ended
    }
}

impl<T> fmt::Debug for QueueStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueStream")
            .field("queue", &self.queue.name)
            .field("ended", &self.ended)
            .finish()
    }
}
