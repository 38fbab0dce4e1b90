//! The local book of one client: its waiting tickets (with the slot each waiter watches), the
//! leases its guards hold, and when the keeper must next renew or re-check each primitive.
//!
//! Three things feed a waiter's slot, all through here: the reply of its own acquire script,
//! a grant hint published by whichever script granted it (on the primitive's sharded hint
//! channel), and the keeper's batched re-check of the primitive. The slot only records what
//! Redis already decided, so a lost hint delays a waiter and never strands it.
//!
//! The book also says which hint channels the subscriber connection should listen on: a
//! primitive's, from its first local waiter that Redis put in line (an uncontended wait never
//! subscribes) until its last waiter left and one re-check interval passed without another
//! (so a steady hand-off does not subscribe and unsubscribe every time).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::engine::Spec;
use crate::lease::LeaseState;

/// What a waiter's slot knows about its ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotState {
    /// Waiting in line (as far as this process knows).
    Waiting,
    /// Granted with this fencing token; the grant happened no earlier than `basis`.
    Granted { token: u64, basis: Instant },
    /// Redis does not know the ticket any more (its liveness ran out, e.g. the process was
    /// paused past its lease): the waiter must take a new ticket.
    Gone,
}

struct Slot {
    state: SlotState,
    notify: Arc<Notify>,
    /// When the newest request that found the ticket still waiting was sent: a lower bound
    /// of the grant's server time.
    last_queued: Instant,
    /// Redis has answered for this ticket at least once (its acquire ran). Until then, a
    /// re-check that does not find it means nothing: the acquire may still be on its way.
    confirmed: bool,
    entry: String,
    /// The primitive's hint channel.
    channel: String,
}

/// The subscription to one primitive's hint channel.
#[derive(Default)]
struct Sub {
    /// Local waiters on the primitive.
    waiters: usize,
    /// One of them was put in line: hints are wanted.
    wanted: bool,
    /// The subscriber connection is subscribed (SSUBSCRIBE confirmed, no SUNSUBSCRIBE since).
    subscribed: bool,
    /// When the last waiter left: the subscription lingers until one re-check interval later.
    idle_since: Option<Instant>,
}

/// Everything one client holds or waits for on one primitive (per lease time).
pub(crate) struct Entry {
    pub(crate) spec: Arc<Spec>,
    pub(crate) holders: HashMap<String, Arc<LeaseState>>,
    pub(crate) waiting: HashSet<String>,
    pub(crate) next_renew: Instant,
    pub(crate) next_check: Instant,
}

#[derive(Default)]
struct Book {
    slots: HashMap<String, Slot>,
    entries: HashMap<String, Entry>,
    subs: HashMap<String, Sub>,
    /// Grant hints for this client's tickets that came before their slots (a grant right
    /// after the acquire, its hint faster than the acquire's reply), newest last, bounded.
    early: VecDeque<(String, u64)>,
}

/// How many early hints the book keeps.
const EARLY: usize = 256;

/// The book, and the keeper's alarm.
pub(crate) struct Hub {
    book: Mutex<Book>,
    /// `<client id>:`, the start of every ticket id of this client.
    own: String,
    /// Wakes the keeper when its schedule may have moved earlier.
    pub(crate) kick: Notify,
    /// Wakes the subscription task when a channel should be subscribed.
    pub(crate) sub_kick: Notify,
}

/// The subscription task's due work.
pub(crate) struct SubPlan {
    pub(crate) subscribe: Vec<String>,
    pub(crate) unsubscribe: Vec<String>,
    /// When a lingering subscription ends, if one does.
    pub(crate) next: Option<Instant>,
}

/// The keeper's due work on one primitive.
pub(crate) struct Due {
    pub(crate) spec: Arc<Spec>,
    pub(crate) renew: Vec<String>,
    pub(crate) check: Vec<String>,
}

impl Hub {
    pub(crate) fn new(client_id: &str) -> Self {
        Hub {
            book: Mutex::new(Book::default()),
            own: format!("{client_id}:"),
            kick: Notify::new(),
            sub_kick: Notify::new(),
        }
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        // Nothing under this lock can panic half-way; recover from poisoning regardless.
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entry<'a>(book: &'a mut Book, spec: &Arc<Spec>) -> &'a mut Entry {
        let key = spec.entry_key();
        if !book.entries.contains_key(key) {
            let now = Instant::now();
            book.entries.insert(
                key.to_string(),
                Entry {
                    spec: spec.clone(),
                    holders: HashMap::new(),
                    waiting: HashSet::new(),
                    next_renew: now + spec.renew_every(),
                    next_check: now + spec.check_every(),
                },
            );
        }
        book.entries.get_mut(key).expect("inserted above")
    }

    fn gc(book: &mut Book, key: &str) {
        if let Some(entry) = book.entries.get(key)
            && entry.holders.is_empty()
            && entry.waiting.is_empty()
        {
            book.entries.remove(key);
        }
    }

    /// Registers a waiter that Redis put in line (its acquire, sent at `sent`, answered
    /// *queued*; `wake`: the time until the earliest expiry that could free it). A hint that
    /// came before is applied at once.
    pub(crate) fn add_waiter(
        &self,
        spec: &Arc<Spec>,
        id: &str,
        sent: Instant,
        wake: Option<Duration>,
    ) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        let mut guard = self.book();
        let book = &mut *guard;
        let entry = Self::entry(book, spec);
        entry.waiting.insert(id.to_string());
        let channel = spec.keys.hint().to_string();
        let sub = book.subs.entry(channel.clone()).or_default();
        sub.waiters += 1;
        sub.idle_since = None;
        book.slots.insert(
            id.to_string(),
            Slot {
                state: SlotState::Waiting,
                notify: notify.clone(),
                last_queued: sent,
                confirmed: true,
                entry: spec.entry_key().to_string(),
                channel,
            },
        );
        let early = book
            .early
            .iter()
            .position(|(early, _)| early == id)
            .and_then(|i| book.early.remove(i));
        drop(guard);
        self.queued(id, sent, wake);
        if let Some((_, token)) = early {
            self.granted(id, token);
        }
        notify
    }

    /// Forgets a waiter (granted, withdrawn or gone).
    pub(crate) fn remove_waiter(&self, id: &str) {
        let mut book = self.book();
        if let Some(slot) = book.slots.remove(id) {
            if let Some(entry) = book.entries.get_mut(&slot.entry) {
                entry.waiting.remove(id);
            }
            Self::gc(&mut book, &slot.entry);
            if let Some(sub) = book.subs.get_mut(&slot.channel) {
                sub.waiters = sub.waiters.saturating_sub(1);
                if sub.waiters == 0 {
                    if sub.wanted {
                        // Subscribed or being subscribed: the subscription task lets it go
                        // after the linger.
                        sub.idle_since = Some(Instant::now());
                        drop(book);
                        self.sub_kick.notify_one();
                    } else {
                        book.subs.remove(&slot.channel);
                    }
                }
            }
        }
    }

    /// A lower bound of the server time of any grant to `id` not yet seen: when it was last
    /// known to be waiting.
    pub(crate) fn basis(&self, id: &str) -> Option<Instant> {
        self.book().slots.get(id).map(|slot| match slot.state {
            SlotState::Granted { basis, .. } => basis,
            _ => slot.last_queued,
        })
    }

    /// The slot's state.
    pub(crate) fn state(&self, id: &str) -> Option<SlotState> {
        self.book().slots.get(id).map(|slot| slot.state)
    }

    /// Redis answered, for a request sent at `sent`, that `id` is still waiting; `hint` is
    /// the time until the earliest expiry that could change that.
    pub(crate) fn queued(&self, id: &str, sent: Instant, hint: Option<Duration>) {
        let mut guard = self.book();
        let book = &mut *guard;
        let Some(slot) = book.slots.get_mut(id) else {
            return;
        };
        slot.last_queued = slot.last_queued.max(sent);
        slot.confirmed = true;
        let key = slot.entry.clone();
        if let Some(sub) = book.subs.get_mut(&slot.channel)
            && !sub.wanted
        {
            sub.wanted = true;
            if !sub.subscribed {
                self.sub_kick.notify_one();
            }
        }
        if let (Some(hint), Some(entry)) = (hint, book.entries.get_mut(&key)) {
            let at = Instant::now() + hint;
            if at < entry.next_check {
                entry.next_check = at;
                drop(guard);
                self.kick.notify_one();
            }
        }
    }

    /// Redis granted `id` with `token`. Without a slot (yet), a hint of this client's own
    /// is kept for the slot to come.
    pub(crate) fn granted(&self, id: &str, token: u64) {
        let mut book = self.book();
        match book.slots.get_mut(id) {
            Some(slot) if slot.state == SlotState::Waiting => {
                slot.state = SlotState::Granted {
                    token,
                    basis: slot.last_queued,
                };
                slot.notify.notify_one();
            }
            Some(_) => {}
            None if id.starts_with(&self.own) => {
                if book.early.len() == EARLY {
                    book.early.pop_front();
                }
                book.early.push_back((id.to_string(), token));
            }
            None => {}
        }
    }

    /// Redis does not know `id` (ignored before its acquire was answered).
    pub(crate) fn gone(&self, id: &str) {
        let mut book = self.book();
        if let Some(slot) = book.slots.get_mut(id)
            && slot.state == SlotState::Waiting
            && slot.confirmed
        {
            slot.state = SlotState::Gone;
            slot.notify.notify_one();
        }
    }

    /// A hint message: lines of `<id> <token>`. Anything malformed is ignored (the re-check
    /// is the authority).
    pub(crate) fn on_hint(&self, body: &[u8]) {
        let Ok(text) = std::str::from_utf8(body) else {
            return;
        };
        for line in text.lines() {
            let mut parts = line.split(' ');
            if let (Some(id), Some(token), None) = (parts.next(), parts.next(), parts.next())
                && id.starts_with(&self.own)
                && let Ok(token) = token.parse::<u64>()
            {
                self.granted(id, token);
            }
        }
    }

    /// The subscriber connection is subscribed to `channel`: re-check the primitive's waiters
    /// at once, since a grant made before the subscription took effect sent its hint to
    /// nobody.
    pub(crate) fn recheck_channel(&self, channel: &[u8]) {
        let now = Instant::now();
        let mut any = false;
        for entry in self.book().entries.values_mut() {
            if !entry.waiting.is_empty() && entry.spec.keys.hint().as_bytes() == channel {
                entry.next_check = now;
                any = true;
            }
        }
        if any {
            self.kick.notify_one();
        }
    }

    /// The channels to subscribe to and to leave now: wanted with waiters (or lingering for
    /// `linger` after the last left) but not subscribed, and subscribed past their linger.
    pub(crate) fn sub_plan(&self, linger: Duration) -> SubPlan {
        let now = Instant::now();
        let mut plan = SubPlan {
            subscribe: Vec::new(),
            unsubscribe: Vec::new(),
            next: None,
        };
        let mut book = self.book();
        book.subs.retain(|channel, sub| {
            let lingering = sub.idle_since.map(|at| at + linger);
            let want = sub.wanted && (sub.waiters > 0 || lingering.is_some_and(|end| end > now));
            match (want, sub.subscribed) {
                (true, false) => plan.subscribe.push(channel.clone()),
                (false, true) => plan.unsubscribe.push(channel.clone()),
                (false, false) => return sub.waiters > 0,
                (true, true) => {}
            }
            if sub.waiters == 0
                && let Some(end) = lingering
            {
                plan.next = Some(plan.next.map_or(end, |next: Instant| next.min(end)));
            }
            true
        });
        plan
    }

    /// The subscription task subscribed to (or left) `channel`.
    pub(crate) fn sub_done(&self, channel: &str, subscribed: bool) {
        let mut book = self.book();
        if let Some(sub) = book.subs.get_mut(channel) {
            sub.subscribed = subscribed;
            if !subscribed {
                if sub.waiters == 0 {
                    book.subs.remove(channel);
                } else {
                    // A waiter came while it was being left: subscribe again.
                    drop(book);
                    self.sub_kick.notify_one();
                }
            }
        }
    }

    /// After a (re)connection: re-check every waiter at once.
    pub(crate) fn recheck_all(&self) {
        let now = Instant::now();
        for entry in self.book().entries.values_mut() {
            entry.next_check = now;
        }
        self.kick.notify_one();
    }

    /// A guard now holds a lease: the keeper renews it until removed.
    pub(crate) fn add_holder(&self, spec: &Arc<Spec>, id: &str, lease: Arc<LeaseState>) {
        let mut book = self.book();
        Self::entry(&mut book, spec)
            .holders
            .insert(id.to_string(), lease);
    }

    /// The guard is going: no renewal of `id` may follow.
    pub(crate) fn remove_holder(&self, spec: &Spec, id: &str) {
        let key = spec.entry_key();
        let mut book = self.book();
        if let Some(entry) = book.entries.get_mut(key) {
            entry.holders.remove(id);
        }
        Self::gc(&mut book, key);
    }

    /// The lease of `id`, if a guard holds it.
    pub(crate) fn lease_of(&self, spec: &Spec, id: &str) -> Option<Arc<LeaseState>> {
        let book = self.book();
        book.entries.get(spec.entry_key())?.holders.get(id).cloned()
    }

    /// When the keeper must next act (at most `idle` from now).
    pub(crate) fn next_due(&self, idle: Duration) -> Instant {
        let mut next = Instant::now() + idle;
        for entry in self.book().entries.values() {
            if !entry.holders.is_empty() {
                next = next.min(entry.next_renew);
            }
            if !entry.waiting.is_empty() {
                next = next.min(entry.next_check);
            }
        }
        next
    }

    /// The work due now; reschedules it as done (a failure reschedules it sooner).
    pub(crate) fn take_due(&self) -> Vec<Due> {
        let now = Instant::now();
        let mut out = Vec::new();
        for entry in self.book().entries.values_mut() {
            let mut due = Due {
                spec: entry.spec.clone(),
                renew: Vec::new(),
                check: Vec::new(),
            };
            if !entry.holders.is_empty() && entry.next_renew <= now {
                due.renew = entry.holders.keys().cloned().collect();
                entry.next_renew = now + entry.spec.renew_every();
            }
            if !entry.waiting.is_empty() && entry.next_check <= now {
                due.check = entry.waiting.iter().cloned().collect();
                entry.next_check = now + entry.spec.check_every();
            }
            if !due.renew.is_empty() || !due.check.is_empty() {
                out.push(due);
            }
        }
        out
    }

    /// A renewal or re-check of `spec` failed: try again soon.
    pub(crate) fn retry_soon(&self, spec: &Spec, renew: bool) {
        let soon = Instant::now() + spec.retry_after();
        if let Some(entry) = self.book().entries.get_mut(spec.entry_key()) {
            if renew {
                entry.next_renew = entry.next_renew.min(soon);
            } else {
                entry.next_check = entry.next_check.min(soon);
            }
        }
    }
}
