//! The ticket engine: the one way every primitive of this crate takes something, waits for
//! it, gives it back, and renews it.
//!
//! # Data model (per primitive, all keys under one hash tag; see `scripts/lib.lua`)
//!
//! A primitive has a *capacity* (`cap`) and a *use* (`used` = the sum of `n` over live holders).
//! Every request for `n` units is a **ticket** with a client-made id (`<client id>:<counter>`):
//! granted at once if nobody is waiting and `used + n <= cap`, else queued at the tail of a
//! FIFO line (a ZSET by an arrival sequence). Whenever something frees up, the script that
//! freed it runs the **grant loop**: it serves the head of the line while the head fits (a big
//! head request blocks later small ones), turning each ticket into a **holder** with a lease
//! and a fencing token *in Redis*, then publishes one hint message naming the granted tickets
//! on the primitive's sharded hint channel (`<prefix>{name}:hint`). A Mutex is
//! capacity 1; a semaphore is capacity `permits` (`release()` raises it); a RwLock is capacity
//! `max_readers` with reads taking 1 and writes taking all of it.
//!
//! # Waiting ([`Prim::wait_ticket`])
//!
//! 1. The acquire script is sent; nothing is registered locally first (an uncontended wait
//!    touches no local book). A hint that beats the script's reply is kept by the hub for the
//!    slot registered once the reply says *queued*.
//! 2. The reply is *granted* (done), or *queued* with a wake hint (the time until the earliest
//!    lease or liveness expiry that could free the line). Queued, the client's subscriber
//!    connection subscribes to the primitive's hint channel unless it already is (then the
//!    primitive's waiters are re-checked once: a grant before the subscription hinted nobody).
//! 3. The waiter sleeps on its slot, which is filled by a hint on the client's one subscriber
//!    connection, or by the keeper's batched re-check of the primitive (every re-check
//!    interval, at the wake hint, and at once after a reconnect). No fast polling.
//! 4. Dropped, or past its deadline, a waiter **withdraws** its ticket with an idempotent
//!    script on the same multiplexed connection (so Redis runs it after the acquire): a waiting
//!    ticket leaves the line; a granted one is released and passed on (on drop) or kept and
//!    returned (on deadline: the grant won the race); an unknown id is tombstoned, so a late
//!    duplicate of the acquire is refused.
//! 5. `Duration::ZERO` (or a deadline already passed) runs the acquire in *try* mode: granted
//!    or refused, nothing registered.
//!
//! Connection errors are retried with backoff until the deadline; the ids make every script
//! idempotent, so a retried acquire that already ran returns the same ticket's state.
//!
//! # Extending it: the primitives still to come
//!
//! Everything above the scripts — local slot, hints, batched re-checks, deadline, withdraw,
//! retries, leases — is shared; a primitive chooses its `kind`, what a ticket asks for, and
//! what it does with a [`Grant`]. The Lua side grows by *kind-specific hooks* in
//! `scripts/lib.lua` (today every kind is a capacity kind):
//!
//! * **RwLock** (`max_readers`, done: `rwlock.rs`): no new Lua. Capacity `max_readers`; `read()` is a ticket for
//!   1, `write()` a ticket for `max_readers`. FIFO head-of-line blocking makes it
//!   write-preferring: a queued writer stops later readers. Guards wrap [`Holding`].
//! * **Event, `AsyncResult<T>`, Barrier** (done: `event.rs`, `async_result.rs`, `barrier.rs`,
//!   with `scripts/completion.lua` prepended to every script after `lib.lua`): *completion*
//!   kinds. Their tickets queue in the same line, taken by `scripts/arrive.lua` instead of
//!   `acquire.lua`; `completion.lua` wraps `open` (to know the kind) and `grant_loop` (the
//!   per-kind "head fits" hook; capacity kinds go to `lib.lua`'s loop unchanged). A
//!   completion makes no holder: it records the ticket as done (an `n = 0` entry in the
//!   holders that expires after two leases, so `status`/`withdraw keep` answer "granted" and
//!   a release of it changes nothing) and publishes the usual hint; the waiter consumes the
//!   [`Grant`] with [`Grant::complete`]. An event's head fits while the flag is set or its
//!   sequence is at most the one recorded by the last `set()` (so `set(); clear()` still
//!   releases earlier waiters); a result's while its value is stored (set once, `HSET` under
//!   `:m`, read back after the completion); a barrier trips when `n` live arrivals are in
//!   line, completing them with `generation * 2 + leader` as the token.
//! * **`Queue<T>`** (done: `queue.rs`, `scripts/queue_*.lua`; its scripts run over
//!   `scripts/queue_lib.lua`, which keeps the helper names of `lib.lua`, so the engine's
//!   status, withdraw and renew bodies run unchanged; [`Scripts::of`](crate::scripts::Scripts::of)
//!   picks the set by kind): three lines (getters, putters, joiners) and the ready items need
//!   more keys (the key list grows per kind). A getter ticket's grant moves the head item into the holders as a
//!   *delivery* (a lease with item id and attempt), and the hint carries the payload; its
//!   release hook puts the item back at the head (`retry`, drop, expiry) or marks it done
//!   (`task_done`), and an expiry past `max_attempts` moves it to the dead letters. A putter
//!   ticket carries its payload; a freed slot grants the oldest putter by moving its item in.
//!   A withdrawn getter's delivery goes back to the head; a withdrawn putter's payload comes
//!   back in the error.

use std::sync::Arc;
use std::time::Duration;

use redis::Script;
use tokio::time::Instant;

use crate::client::Inner;
use crate::conn::Conn;
use crate::hub::{Hub, SlotState};
use crate::keeper::Job;
use crate::keys::Keys;
use crate::lease::LeaseState;
use crate::{Client, Error};

/// What a primitive handle is: its name, keys, kind and parameter, and its lease.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) name: String,
    pub(crate) keys: Keys,
    pub(crate) kind: &'static str,
    pub(crate) param: u64,
    pub(crate) lease: Duration,
    pub(crate) recheck: Duration,
    /// Why every operation of this handle fails (an invalid name), if it does: handles are
    /// made without a round trip, so the error comes with the first operation.
    pub(crate) invalid: Option<Error>,
    /// The keeper's book key, made once.
    pub(crate) entry: std::sync::OnceLock<String>,
}

impl Spec {
    /// The keeper's book groups by primitive and lease time.
    pub(crate) fn entry_key(&self) -> &str {
        self.entry
            .get_or_init(|| format!("{}|{}", self.keys.meta(), self.lease.as_millis()))
    }

    pub(crate) fn lease_ms(&self) -> u64 {
        (self.lease.as_millis() as u64).max(1)
    }

    pub(crate) fn renew_every(&self) -> Duration {
        self.lease / 3
    }

    /// Waiting tickets are re-checked (which also renews their liveness) at least every third
    /// of the lease.
    pub(crate) fn check_every(&self) -> Duration {
        self.recheck.min(self.lease / 3)
    }

    pub(crate) fn retry_after(&self) -> Duration {
        (self.lease / 10).clamp(Duration::from_millis(5), Duration::from_millis(200))
    }

    fn expected(&self) -> String {
        format!("{} {}", self.kind, self.param)
    }
}

/// The command connection and what maps its errors.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) conn: Conn,
    pub(crate) secret: Option<Arc<str>>,
}

impl Link {
    fn map(&self, spec: &Spec, err: &redis::RedisError) -> Error {
        let detail = || err.detail().unwrap_or_default().to_string();
        match err.code() {
            Some("TORO_MISMATCH") => Error::Mismatch {
                name: spec.name.clone(),
                expected: spec.expected(),
                found: detail()
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" "),
            },
            Some("TORO_BOUND") => Error::OverRelease { bound: spec.param },
            Some("TORO_CLOSED") => Error::Closed,
            Some("TORO_FOREIGN") => {
                Error::protocol(format!("foreign value under {:?}: {}", spec.name, detail()))
            }
            _ => Error::from_redis(err, self.secret.as_deref()),
        }
    }

    /// Runs `script` on `spec`'s keys with `kind, param, args…`, once.
    pub(crate) async fn eval_once(
        &self,
        script: &Script,
        spec: &Spec,
        args: &[String],
    ) -> Result<Vec<i64>, Error> {
        self.eval_once_as(script, spec, args).await
    }

    /// [`eval_once`](Self::eval_once) with a reply of any shape.
    pub(crate) async fn eval_once_as<R: redis::FromRedisValue>(
        &self,
        script: &Script,
        spec: &Spec,
        args: &[String],
    ) -> Result<R, Error> {
        if let Some(err) = &spec.invalid {
            return Err(err.clone());
        }
        // EVALSHA built in place (redis-rs's invocation copies every key and argument first);
        // a server that lost its scripts (a restart) gets it loaded and runs it again.
        let keys = spec.keys.all();
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(script.get_hash())
            .arg(keys.len())
            .arg(keys)
            .arg(spec.kind)
            .arg(spec.param)
            .arg(args);
        let mut conn = self.conn.clone();
        let result = match cmd.query_async::<R>(&mut conn).await {
            Err(err)
                if err.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) =>
            {
                match script.load_async(&mut conn).await {
                    Ok(_) => cmd.query_async::<R>(&mut conn).await,
                    Err(err) => Err(err),
                }
            }
            other => other,
        };
        result.map_err(|e| self.map(spec, &e))
    }

    /// Runs `script`, retrying a retryable failure with backoff (20 ms doubling to 1 s) until
    /// `until`; past it, the last error (or [`Error::Timeout`] if `timeout_at_end`).
    pub(crate) async fn eval(
        &self,
        script: &Script,
        spec: &Spec,
        args: &[String],
        until: Option<Instant>,
        timeout_at_end: bool,
    ) -> Result<Vec<i64>, Error> {
        self.eval_as(script, spec, args, until, timeout_at_end)
            .await
    }

    /// [`eval`](Self::eval) with a reply of any shape.
    pub(crate) async fn eval_as<R: redis::FromRedisValue>(
        &self,
        script: &Script,
        spec: &Spec,
        args: &[String],
        until: Option<Instant>,
        timeout_at_end: bool,
    ) -> Result<R, Error> {
        let mut backoff = Duration::from_millis(20);
        loop {
            match self.eval_once_as(script, spec, args).await {
                Err(err) if err.is_retryable() => {
                    let wake = Instant::now() + backoff;
                    match until {
                        Some(until) if wake >= until => {
                            return Err(if timeout_at_end { Error::Timeout } else { err });
                        }
                        _ => tokio::time::sleep_until(wake).await,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }

    /// As [`eval_as`](Self::eval_as), with binary arguments (a stored value), and the last
    /// error past `until`.
    pub(crate) async fn eval_bytes<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        spec: &Spec,
        args: &[&[u8]],
        until: Option<Instant>,
    ) -> Result<T, Error> {
        if let Some(err) = &spec.invalid {
            return Err(err.clone());
        }
        let mut backoff = Duration::from_millis(20);
        loop {
            let mut invocation = script.prepare_invoke();
            for key in spec.keys.all() {
                invocation.key(key);
            }
            invocation.arg(spec.kind).arg(spec.param);
            for arg in args {
                invocation.arg(*arg);
            }
            let mut conn = self.conn.clone();
            match invocation.invoke_async::<T>(&mut conn).await {
                Ok(value) => return Ok(value),
                Err(err) => {
                    let err = self.map(spec, &err);
                    let wake = Instant::now() + backoff;
                    if !err.is_retryable() || until.is_some_and(|until| wake >= until) {
                        return Err(err);
                    }
                    tokio::time::sleep_until(wake).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

/// A primitive handle's engine: the client and the spec.
#[derive(Clone)]
pub(crate) struct Prim {
    pub(crate) inner: Arc<Inner>,
    pub(crate) spec: Arc<Spec>,
}

fn reply(r: &[i64], i: usize) -> Result<i64, Error> {
    r.get(i)
        .copied()
        .ok_or_else(|| Error::protocol("short script reply"))
}

impl Prim {
    /// The handle of the primitive `name` of `kind` with `param`, without a round trip: the
    /// scripts create or validate it at its first operation (an invalid name fails every
    /// operation).
    pub(crate) fn new(client: &Client, name: &str, kind: &'static str, param: u64) -> Self {
        let inner = client.inner.clone();
        let (keys, invalid) = match Keys::new(&inner.options.prefix, name) {
            Ok(keys) => (keys, None),
            Err(err) => (
                Keys::unchecked_primitive(&inner.options.prefix, "invalid"),
                Some(err),
            ),
        };
        let spec = Spec {
            name: name.to_string(),
            keys,
            kind,
            param,
            lease: inner.options.lease,
            recheck: inner.options.recheck,
            invalid,
            entry: Default::default(),
        };
        Prim {
            inner,
            spec: Arc::new(spec),
        }
    }

    /// Opens (creates or validates) the primitive `name` of `kind` with `param`.
    #[allow(dead_code)]
    pub(crate) async fn open(
        client: Client,
        name: &str,
        kind: &'static str,
        param: u64,
    ) -> Result<Self, Error> {
        let prim = Prim::new(&client, name, kind, param);
        prim.stats().await?;
        Ok(prim)
    }

    /// The same handle, with every operation failing with `err` (a parameter no script could
    /// serve).
    pub(crate) fn invalid(&self, err: Error) -> Self {
        let s = &self.spec;
        Prim {
            inner: self.inner.clone(),
            spec: Arc::new(Spec {
                name: s.name.clone(),
                keys: s.keys.clone(),
                kind: s.kind,
                param: s.param,
                lease: s.lease,
                recheck: s.recheck,
                invalid: Some(err),
                entry: Default::default(),
            }),
        }
    }

    /// The script that takes a ticket for this kind.
    fn acquire_script(&self) -> &Script {
        match self.spec.kind {
            "event" | "result" | "barrier" => &self.inner.scripts.arrive,
            _ => &self.inner.scripts.of(self.spec.kind).acquire,
        }
    }

    /// The same primitive with another lease time for what it grants from now on.
    pub(crate) fn with_lease(&self, lease: Duration) -> Self {
        let s = &self.spec;
        Prim {
            inner: self.inner.clone(),
            spec: Arc::new(Spec {
                name: s.name.clone(),
                keys: s.keys.clone(),
                kind: s.kind,
                param: s.param,
                lease: lease.max(Duration::from_millis(10)),
                recheck: s.recheck,
                invalid: s.invalid.clone(),
                entry: Default::default(),
            }),
        }
    }

    fn until_lease(&self) -> Option<Instant> {
        Some(Instant::now() + self.spec.lease)
    }

    /// `[cap, used, waiting, holders]`, after settling expiries.
    pub(crate) async fn stats(&self) -> Result<[u64; 4], Error> {
        let until = Some(Instant::now() + self.inner.options.response_timeout * 2);
        let r = self
            .inner
            .link
            .eval(
                &self.inner.scripts.of(self.spec.kind).stats,
                &self.spec,
                &[],
                until,
                false,
            )
            .await?;
        let mut out = [0u64; 4];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = u64::try_from(reply(&r, i)?).map_err(|_| Error::protocol("negative count"))?;
        }
        Ok(out)
    }

    /// Adds `k` units of capacity outright (a guardless `release()`).
    pub(crate) async fn add(&self, k: u64) -> Result<(), Error> {
        self.inner
            .link
            .eval(
                &self.inner.scripts.of(self.spec.kind).add,
                &self.spec,
                &[k.to_string()],
                self.until_lease(),
                false,
            )
            .await
            .map(drop)
    }

    /// Takes `n` units under a lease: [`wait_ticket`](Self::wait_ticket), then a holder the
    /// keeper renews.
    pub(crate) async fn acquire(
        &self,
        n: u64,
        deadline: Option<Instant>,
    ) -> Result<Holding, Error> {
        Ok(self.wait_ticket(n, deadline).await?.hold())
    }

    /// The one wait of the engine: a ticket for `n` units, in line until Redis grants it, or
    /// until `deadline` (one try, nothing registered, if it has passed already). What is
    /// granted comes back as a [`Grant`], which the primitive turns into what it hands out.
    pub(crate) async fn wait_ticket(
        &self,
        n: u64,
        deadline: Option<Instant>,
    ) -> Result<Grant, Error> {
        self.wait_ticket_with(n, deadline, &[]).await
    }

    /// [`wait_ticket`](Self::wait_ticket) with `extra` arguments for the acquire script after
    /// the engine's own (a queue's put sends its item so).
    pub(crate) async fn wait_ticket_with(
        &self,
        n: u64,
        deadline: Option<Instant>,
        extra: &[String],
    ) -> Result<Grant, Error> {
        if deadline.is_some_and(|at| at <= Instant::now()) {
            return self.try_ticket(n, extra).await;
        }
        loop {
            let id = self.inner.next_id();
            let sent = Instant::now();
            let ticket = Ticket {
                prim: self.clone(),
                id: id.clone(),
                armed: true,
                sent,
            };
            let args = self.acquire_args(&id, n, false, extra);
            let send = self.inner.link.eval_as::<Vec<redis::Value>>(
                self.acquire_script(),
                &self.spec,
                &args,
                deadline,
                true,
            );
            // A slow or paused server does not hold the wait past its deadline: the request
            // stays sent, and the withdraw below runs after it on the same connection.
            let r = match deadline {
                Some(at) => tokio::time::timeout_at(at, send)
                    .await
                    .unwrap_or(Err(Error::Timeout)),
                None => send.await,
            };
            let r = match r {
                Err(Error::Timeout) => return ticket.timeout(n).await,
                other => other?,
            };
            let (state, value, payload) = acquire_reply(r)?;
            let wake = match (state, value) {
                (1, token) => {
                    let mut grant = ticket.granted(as_token(token)?, n, sent);
                    grant.payload = payload;
                    return Ok(grant);
                }
                (0, wake) => hint_of(wake),
                (-2, _) => {
                    // Retried past the ticket's liveness (a long outage or pause): Redis swept
                    // and tombstoned it. Nothing is held; take a new ticket.
                    ticket.disarm();
                    continue;
                }
                _ => return Err(Error::protocol("unexpected acquire reply")),
            };
            // In line: from here hints, re-checks and the subscription work for this waiter. A
            // hint that came before this (from a grant right after the acquire) was kept by
            // the hub for it.
            let notify = self.inner.hub.add_waiter(&self.spec, &id, sent, wake);
            loop {
                match self.inner.hub.state(&id) {
                    Some(SlotState::Granted { token, basis }) => {
                        return Ok(ticket.granted(token, n, basis));
                    }
                    Some(SlotState::Gone) | None => break, // drop withdraws; take a new ticket
                    Some(SlotState::Waiting) => {}
                }
                let notified = notify.notified();
                match deadline {
                    Some(at) => tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(at) => return ticket.timeout(n).await,
                    },
                    None => notified.await,
                }
            }
        }
    }

    fn acquire_args(&self, id: &str, n: u64, try_once: bool, extra: &[String]) -> Vec<String> {
        let mut args = vec![
            id.to_string(),
            n.to_string(),
            self.spec.lease_ms().to_string(),
            if try_once { "1" } else { "0" }.to_string(),
            self.spec.keys.hint().to_string(),
        ];
        args.extend_from_slice(extra);
        args
    }

    /// One try, nothing registered: granted, or [`Error::Timeout`].
    async fn try_ticket(&self, n: u64, extra: &[String]) -> Result<Grant, Error> {
        let id = self.inner.next_id();
        let sent = Instant::now();
        let args = self.acquire_args(&id, n, true, extra);
        // Armed from here: if the reply is lost, the script may still have run, and dropping
        // the ticket withdraws it (releasing a grant).
        let ticket = Ticket {
            prim: self.clone(),
            id,
            armed: true,
            sent,
        };
        let r = self
            .inner
            .link
            .eval_once_as::<Vec<redis::Value>>(self.acquire_script(), &self.spec, &args)
            .await?;
        let (state, value, payload) = acquire_reply(r)?;
        match (state, value) {
            (1, token) => {
                let mut grant = ticket.granted(as_token(token)?, n, sent);
                grant.payload = payload;
                Ok(grant)
            }
            (-1, _) => {
                ticket.disarm();
                Err(Error::Timeout)
            }
            _ => Err(Error::protocol("unexpected acquire reply")),
        }
    }

    fn hold(&self, id: String, token: u64, n: u64, basis: Instant) -> Holding {
        let lease = Arc::new(LeaseState::new(self.spec.lease, basis));
        self.inner.hub.add_holder(&self.spec, &id, lease.clone());
        Holding {
            prim: self.clone(),
            id,
            token,
            n,
            lease,
            done: false,
        }
    }
}

/// An acquire script's reply: `{state, value}`, and a queue's delivery made at once adds the
/// item's payload (so a `get` needs no second script).
fn acquire_reply(r: Vec<redis::Value>) -> Result<(i64, i64, Option<Vec<u8>>), Error> {
    let mut r = r.into_iter();
    let mut int = || match r.next() {
        Some(redis::Value::Int(v)) => Ok(v),
        _ => Err(Error::protocol("unexpected acquire reply")),
    };
    let (state, value) = (int()?, int()?);
    let payload = match r.next() {
        Some(redis::Value::BulkString(bytes)) => Some(bytes),
        _ => None,
    };
    Ok((state, value, payload))
}

/// A release script's reply: `{1|0, n}` (released, or it held nothing), and from the capacity
/// kinds the grant hints the release published, applied here at once (a waiter of this client
/// granted by its own release need not wait for the pub/sub message).
pub(crate) fn released(hub: &Hub, r: Vec<redis::Value>) -> Result<bool, Error> {
    let mut r = r.into_iter();
    let ok = match r.next() {
        Some(redis::Value::Int(v)) => v == 1,
        _ => return Err(Error::protocol("unexpected release reply")),
    };
    if let Some(redis::Value::BulkString(hinted)) = r.nth(1)
        && !hinted.is_empty()
    {
        hub.on_hint(&hinted);
    }
    Ok(ok)
}

fn as_token(token: i64) -> Result<u64, Error> {
    u64::try_from(token).map_err(|_| Error::protocol("negative fencing token"))
}

fn hint_of(ms: i64) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

/// A ticket in line. Dropped while armed, it withdraws in the background (passing on a grant).
struct Ticket {
    prim: Prim,
    id: String,
    armed: bool,
    /// When its acquire was sent: a lower bound of any grant's server time.
    sent: Instant,
}

impl Ticket {
    /// Redis granted this ticket: it leaves the local line; what was granted is still
    /// withdrawn (released) if the [`Grant`] is dropped unused.
    fn granted(self, token: u64, n: u64, basis: Instant) -> Grant {
        self.prim.inner.hub.remove_waiter(&self.id);
        Grant {
            ticket: self,
            token,
            n,
            basis,
            payload: None,
        }
    }

    /// Nothing to withdraw any more.
    fn disarm(mut self) {
        self.armed = false;
        self.prim.inner.hub.remove_waiter(&self.id);
    }

    /// The deadline passed: withdraw, keeping a grant that won the race.
    async fn timeout(self, n: u64) -> Result<Grant, Error> {
        let prim = self.prim.clone();
        // A grant found by the withdraw happened after the ticket was last seen waiting.
        let basis = prim.inner.hub.basis(&self.id).unwrap_or(self.sent);
        let args = [
            self.id.clone(),
            "keep".to_string(),
            prim.spec.lease_ms().to_string(),
        ];
        let until = Some(Instant::now() + prim.inner.options.response_timeout);
        match prim
            .inner
            .link
            .eval(
                &prim.inner.scripts.of(prim.spec.kind).withdraw,
                &prim.spec,
                &args,
                until,
                false,
            )
            .await
        {
            Ok(r) => match (reply(&r, 0)?, reply(&r, 1)?) {
                (1, token) => Ok(self.granted(as_token(token)?, n, basis)),
                _ => {
                    self.disarm();
                    Err(Error::Timeout)
                }
            },
            // Still armed: the drop withdraws in the background.
            Err(_) => Err(Error::Timeout),
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.armed {
            self.prim.inner.hub.remove_waiter(&self.id);
            let _ = self.prim.inner.jobs.send(Job::Withdraw {
                spec: self.prim.spec.clone(),
                id: std::mem::take(&mut self.id),
            });
        }
    }
}

/// What Redis granted a ticket: its id, the fencing token, and `basis`, an instant no later
/// than the grant's server time (the lease's local validity counts from it). Dropped unused,
/// it is withdrawn in the background, which releases it.
///
/// A capacity primitive turns it into a [`Holding`] ([`hold`](Self::hold)); a primitive whose
/// grants are completions rather than leases (an event's wait, a barrier's arrival) consumes
/// it with [`complete`](Self::complete).
pub(crate) struct Grant {
    ticket: Ticket,
    token: u64,
    n: u64,
    basis: Instant,
    /// A queue's delivery made by the acquire itself: the item's payload.
    payload: Option<Vec<u8>>,
}

impl Grant {
    /// The fencing token (or, for completions, the value the script granted with).
    #[allow(dead_code)]
    pub(crate) fn token(&self) -> u64 {
        self.token
    }

    /// The payload that came with the grant (a queue's delivery made at once), if any.
    pub(crate) fn take_payload(&mut self) -> Option<Vec<u8>> {
        self.payload.take()
    }

    /// Holds it under a lease that the keeper renews until the [`Holding`] is released.
    pub(crate) fn hold(mut self) -> Holding {
        self.ticket.armed = false;
        let id = std::mem::take(&mut self.ticket.id);
        self.ticket.prim.hold(id, self.token, self.n, self.basis)
    }

    /// Consumes a grant that leaves nothing held in Redis.
    pub(crate) fn complete(self) -> u64 {
        self.ticket.disarm();
        self.token
    }
}

/// Something held under a lease: what every guard wraps. Dropped, it stops renewing at once and
/// releases in the background.
pub(crate) struct Holding {
    prim: Prim,
    id: String,
    token: u64,
    n: u64,
    lease: Arc<LeaseState>,
    done: bool,
}

impl Holding {
    /// The holder id in Redis.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn token(&self) -> u64 {
        self.token
    }

    pub(crate) fn n(&self) -> u64 {
        self.n
    }

    pub(crate) fn is_lost(&self) -> bool {
        self.lease.is_lost()
    }

    pub(crate) async fn lost(&self) {
        self.lease.lost().await
    }

    /// Releases (or with `forget`, releases and lowers the capacity by `n`) and reports:
    /// [`Error::LeaseLost`] if Redis no longer had it.
    pub(crate) async fn release(mut self, forget: bool) -> Result<(), Error> {
        let prim = self.prim.clone();
        prim.inner.hub.remove_holder(&prim.spec, &self.id);
        let args = [self.id.clone(), if forget { "1" } else { "0" }.to_string()];
        let until = Some(Instant::now() + prim.spec.lease);
        let result = prim
            .inner
            .link
            .eval_as::<Vec<redis::Value>>(
                &prim.inner.scripts.of(prim.spec.kind).release,
                &prim.spec,
                &args,
                until,
                false,
            )
            .await
            .and_then(|r| released(&prim.inner.hub, r));
        // Until here, dropping this future drops `self` undone: a background release follows
        // (releasing twice is a no-op).
        self.done = true;
        match result {
            Ok(true) => {
                self.lease.mark_lost();
                Ok(())
            }
            Ok(false) => {
                self.lease.mark_lost();
                Err(Error::LeaseLost)
            }
            Err(err) => {
                if !forget {
                    let _ = prim.inner.jobs.send(Job::Release {
                        spec: prim.spec.clone(),
                        id: std::mem::take(&mut self.id),
                    });
                }
                Err(err)
            }
        }
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        if !self.done {
            let prim = &self.prim;
            prim.inner.hub.remove_holder(&prim.spec, &self.id);
            let _ = prim.inner.jobs.send(Job::Release {
                spec: prim.spec.clone(),
                id: std::mem::take(&mut self.id),
            });
        }
    }
}
