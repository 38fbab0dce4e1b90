//! The keeper: one background task per [`Client`](crate::Client). It
//!
//! * renews the leases of every live guard, by unique holder id, in one script per primitive
//!   every third of the lease (a holder Redis no longer knows is reported lost);
//! * re-checks the waiting tickets of every primitive in one script (which also renews their
//!   liveness): every re-check interval, at the wake hint, and at once after a reconnect;
//! * runs the background releases of dropped guards and the withdrawals of dropped waits,
//!   retrying them until the lease would have ended them anyway;
//! * pings the subscriber connection so that a lost one reconnects (and re-subscribes);
//! * runs the subscription task: the subscriber connection `SSUBSCRIBE`s to a primitive's
//!   hint channel once one of the client's waiters is in line there, and `SUNSUBSCRIBE`s one
//!   re-check interval after the last one left.
//!
//! It ends when the last handle of its client is gone.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::client::Options;
use crate::conn::Conn;
use crate::engine::{Link, Spec};
use crate::hub::{Due, Hub};
use crate::scripts::Scripts;

/// Background work sent by guards and waits being dropped.
pub(crate) enum Job {
    /// Release holder `id` (a guard was dropped).
    Release { spec: Arc<Spec>, id: String },
    /// Withdraw ticket `id`, releasing it if it was granted (a wait was dropped).
    Withdraw { spec: Arc<Spec>, id: String },
}

pub(crate) struct Keeper {
    pub(crate) link: Link,
    pub(crate) subscriber: Conn,
    pub(crate) scripts: Arc<Scripts>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) options: Options,
    pub(crate) jobs: mpsc::UnboundedReceiver<Job>,
}

pub(crate) fn spawn(keeper: Keeper) {
    tokio::spawn(keeper.run());
}

impl Keeper {
    async fn run(mut self) {
        let subscriptions = tokio::spawn(subscriptions(
            self.hub.clone(),
            self.subscriber.clone(),
            self.options.recheck,
        ));
        self.serve().await;
        subscriptions.abort();
    }

    async fn serve(&mut self) {
        let mut next_ping = Instant::now() + self.options.recheck;
        loop {
            let next = self.hub.next_due(self.options.recheck).min(next_ping);
            tokio::select! {
                job = self.jobs.recv() => match job {
                    Some(job) => self.background(job),
                    None => break,
                },
                _ = self.hub.kick.notified() => {}
                _ = tokio::time::sleep_until(next) => {}
            }
            for due in self.hub.take_due() {
                self.work(due).await;
            }
            if Instant::now() >= next_ping {
                next_ping = Instant::now() + self.options.recheck;
                let mut sub = self.subscriber.clone();
                // A failed ping makes the manager reconnect; the result itself does not matter.
                let _ = redis::cmd("PING").query_async::<()>(&mut sub).await;
            }
        }
    }

    /// A release or withdrawal, on its own task so that a slow one delays nothing.
    fn background(&self, job: Job) {
        let link = self.link.clone();
        let scripts = self.scripts.clone();
        let hub = self.hub.clone();
        tokio::spawn(async move {
            let (script, spec, args) = match job {
                Job::Release { spec, id } => {
                    let args = [id, "0".to_string()];
                    let until = Some(Instant::now() + spec.lease);
                    let script = &scripts.of(spec.kind).release;
                    // Past the lease, Redis has let it go by itself.
                    if let Ok(r) = link
                        .eval_as::<Vec<redis::Value>>(script, &spec, &args, until, false)
                        .await
                    {
                        let _ = crate::engine::released(&hub, r);
                    }
                    return;
                }
                Job::Withdraw { spec, id } => {
                    let lease = spec.lease_ms().to_string();
                    (
                        &scripts.of(spec.kind).withdraw,
                        spec,
                        vec![id, "release".to_string(), lease],
                    )
                }
            };
            let until = Some(Instant::now() + spec.lease);
            // Past the lease, Redis has let it go by itself.
            let _ = link.eval(script, &spec, &args, until, false).await;
        });
    }

    async fn work(&self, due: Due) {
        if !due.renew.is_empty() {
            self.renew(&due.spec, &due.renew).await;
        }
        if !due.check.is_empty() {
            self.check(&due.spec, &due.check).await;
        }
    }

    async fn renew(&self, spec: &Arc<Spec>, ids: &[String]) {
        let sent = Instant::now();
        match self
            .link
            .eval_once(&self.scripts.of(spec.kind).renew, spec, ids)
            .await
        {
            Ok(r) => {
                for (id, alive) in ids.iter().zip(r) {
                    if let Some(lease) = self.hub.lease_of(spec, id) {
                        if alive == 1 {
                            lease.renewed(sent);
                        } else {
                            lease.mark_lost();
                            self.hub.remove_holder(spec, id);
                        }
                    }
                }
            }
            Err(_) => self.hub.retry_soon(spec, true),
        }
    }

    async fn check(&self, spec: &Arc<Spec>, ids: &[String]) {
        let sent = Instant::now();
        match self
            .link
            .eval_once(&self.scripts.of(spec.kind).status, spec, ids)
            .await
        {
            Ok(r) if r.len() == ids.len() * 2 + 1 => {
                let hint = u64::try_from(r[r.len() - 1])
                    .ok()
                    .map(Duration::from_millis);
                for (i, id) in ids.iter().enumerate() {
                    match (r[2 * i], r[2 * i + 1]) {
                        (1, token) => match u64::try_from(token) {
                            Ok(token) => self.hub.granted(id, token),
                            Err(_) => self.hub.gone(id),
                        },
                        (0, _) => self.hub.queued(id, sent, hint),
                        _ => self.hub.gone(id),
                    }
                }
            }
            _ => self.hub.retry_soon(spec, false),
        }
    }
}

/// The subscription task: keeps the subscriber connection's shard channels as the hub wants
/// them (one at a time, so a subscribe and an unsubscribe of one channel never cross). A
/// failed (un)subscribe is tried again after a moment; meanwhile the waiters' re-checks carry
/// them.
async fn subscriptions(hub: Arc<Hub>, mut conn: Conn, linger: Duration) {
    loop {
        let plan = hub.sub_plan(linger);
        let mut failed = false;
        for channel in &plan.subscribe {
            match conn.ssubscribe(channel).await {
                Ok(()) => {
                    hub.sub_done(channel, true);
                    hub.recheck_channel(channel.as_bytes());
                }
                Err(_) => failed = true,
            }
        }
        for channel in &plan.unsubscribe {
            match conn.sunsubscribe(channel).await {
                Ok(()) => hub.sub_done(channel, false),
                Err(_) => failed = true,
            }
        }
        let mut next = plan.next;
        if failed {
            let soon = Instant::now() + Duration::from_millis(200);
            next = Some(next.map_or(soon, |at| at.min(soon)));
        }
        let kicked = hub.sub_kick.notified();
        match next {
            Some(at) => tokio::select! {
                _ = kicked => {}
                _ = tokio::time::sleep_until(at) => {}
            },
            None => kicked.await,
        }
    }
}
