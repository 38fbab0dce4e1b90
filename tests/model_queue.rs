//! Model-based test of the queues, all three orders: random sequences of operations run against
//! the real `Queue`, `LifoQueue` and `PriorityQueue` (bounded 1 to 3, or unbounded), their
//! futures polled by hand with counting wakers, and against a plain sequential model written
//! from the contract in the queue docs:
//!
//! * items in a `Vec` taken by the queue's order (front for FIFO, back for LIFO, lowest
//!   priority then oldest entry for priority), with FIFO lists of getters, putters (a put's
//!   item, or a slot reservation) and joiners;
//! * a put with waiting getters hands its item to the oldest; otherwise it is stored if there
//!   is room and no older putter waits, else it waits; a get on a full queue with waiting
//!   putters first moves the oldest putter's item in (when the queue is then within its
//!   capacity after the get), takes by the queue's order, then admits putters while there is
//!   room;
//! * an item handed to a getter that leaves without it goes to the next getter, else back to
//!   where the next get takes it first (its original place for priority);
//! * a batch (`try_get_many`, `try_put_many`) is that many `try_get`s / `try_put`s, stopping at
//!   the first that fails (a closed queue refuses even an empty batch of puts);
//! * a deadline that fires after a grant keeps the grant; a put that times out gives its item
//!   back; `task_done`/`join` count every item that entered; `close` fails waiting and later
//!   puts with their items, and later gets once the queue is empty; waiting gets fail once
//!   it is empty and no item handed to a getter can still come back.
//!
//! After every operation: its outcome (which item a get returned, which a failed put gave
//! back), every waker's wake-up count (a future is woken exactly when the model grants it),
//! `len()`, `is_empty()`, `is_full()`, `waiters()` (and getters/putters apart, from `Debug`),
//! `unfinished_tasks()` and `is_closed()` must match the model; at the end the queue drains in
//! the model's order.
//!
//! 1000 cases of up to 60 operations per order (`PROPTEST_CASES` overrides the count).

mod model_kit;

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fmt::Debug;
use std::task::Poll;

use model_kit::{MAX_OPS, Wakers, config, expire, pick, pick_where, poll, try_once};
use proptest::prelude::*;
use toro_sync::error::{GetError, PutError, TaskDoneError};
use toro_sync::future::{QueueGet, QueueJoin, QueuePut, QueueReserve};
use toro_sync::{
    Fifo, Lifo, LifoQueue, Priority, PriorityQueue, PutManyError, PutPermit, Queue, Timeout,
};

/// A queued item: ordered by priority alone, so equal priorities test FIFO among equals; the
/// id tells items apart.
#[derive(Clone, Copy, Debug)]
struct Item {
    prio: u8,
    id: u32,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.prio == other.prio
    }
}

impl Eq for Item {}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        self.prio.cmp(&other.prio)
    }
}

// ---------------------------------------------------------------------------------------------
// The three queues behind one interface.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    Fifo,
    Lifo,
    Priority,
}

trait Q: Debug + Sized {
    type O: toro_sync::Order<Item>;
    const ORDER: Order;
    fn make(capacity: Option<usize>) -> Self;
    fn put(&self, item: Item) -> QueuePut<'_, Item, Self::O>;
    fn get(&self) -> QueueGet<'_, Item, Self::O>;
    fn join(&self) -> QueueJoin<'_, Item, Self::O>;
    fn reserve(&self) -> QueueReserve<'_, Item, Self::O>;
    fn try_put(&self, item: Item) -> Result<(), PutError<Item>>;
    fn try_get(&self) -> Result<Item, GetError>;
    fn try_put_many(&self, items: Vec<Item>) -> Result<usize, PutManyError<Item>>;
    fn try_get_many(&self, buf: &mut Vec<Item>, limit: usize) -> Result<usize, GetError>;
    fn task_done(&self) -> Result<(), TaskDoneError>;
    fn close(&self);
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool;
    fn is_full(&self) -> bool;
    fn waiters(&self) -> usize;
    fn unfinished_tasks(&self) -> usize;
    fn is_closed(&self) -> bool;
}

macro_rules! impl_q {
    ($name:ident, $marker:ident, $order:expr) => {
        impl Q for $name<Item> {
            type O = $marker;
            const ORDER: Order = $order;
            fn make(capacity: Option<usize>) -> Self {
                match capacity {
                    Some(n) => $name::bounded(n),
                    None => $name::unbounded(),
                }
            }
            fn put(&self, item: Item) -> QueuePut<'_, Item, Self::O> {
                $name::put(self, item)
            }
            fn get(&self) -> QueueGet<'_, Item, Self::O> {
                $name::get(self)
            }
            fn join(&self) -> QueueJoin<'_, Item, Self::O> {
                $name::join(self)
            }
            fn reserve(&self) -> QueueReserve<'_, Item, Self::O> {
                $name::reserve(self)
            }
            fn try_put(&self, item: Item) -> Result<(), PutError<Item>> {
                $name::try_put(self, item)
            }
            fn try_get(&self) -> Result<Item, GetError> {
                $name::try_get(self)
            }
            fn try_put_many(&self, items: Vec<Item>) -> Result<usize, PutManyError<Item>> {
                $name::try_put_many(self, items)
            }
            fn try_get_many(&self, buf: &mut Vec<Item>, limit: usize) -> Result<usize, GetError> {
                $name::try_get_many(self, buf, limit)
            }
            fn task_done(&self) -> Result<(), TaskDoneError> {
                $name::task_done(self)
            }
            fn close(&self) {
                $name::close(self)
            }
            fn len(&self) -> usize {
                $name::len(self)
            }
            fn is_empty(&self) -> bool {
                $name::is_empty(self)
            }
            fn is_full(&self) -> bool {
                $name::is_full(self)
            }
            fn waiters(&self) -> usize {
                $name::waiters(self)
            }
            fn unfinished_tasks(&self) -> usize {
                $name::unfinished_tasks(self)
            }
            fn is_closed(&self) -> bool {
                $name::is_closed(self)
            }
        }
    };
}

impl_q!(Queue, Fifo, Order::Fifo);
impl_q!(LifoQueue, Lifo, Order::Lifo);
impl_q!(PriorityQueue, Priority, Order::Priority);

// ---------------------------------------------------------------------------------------------
// Operations.

#[derive(Clone, Debug)]
enum Op {
    /// Create a `put(item)` future, the item of this priority.
    Put(u8),
    /// Create a `get()` future.
    Get,
    /// Create a `join()` future.
    Join,
    /// Create a `reserve()` future.
    Reserve,
    Poll(usize),
    PollNewWaker(usize),
    TryOnce(usize),
    Drop(usize),
    Expire(usize),
    TryPut(u8),
    TryGet,
    /// `try_put_many` of items of these priorities.
    TryPutMany(Vec<u8>),
    /// `try_get_many` with this limit.
    TryGetMany(usize),
    TaskDone,
    Close,
    /// Fill the i-th reserved slot with an item of this priority.
    PermitPut(usize, u8),
    /// Give up the i-th reserved slot.
    DropPermit(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..3).prop_map(Op::Put),
        8 => Just(Op::Get),
        2 => Just(Op::Join),
        2 => Just(Op::Reserve),
        12 => (0usize..64).prop_map(Op::Poll),
        2 => (0usize..64).prop_map(Op::PollNewWaker),
        2 => (0usize..64).prop_map(Op::TryOnce),
        4 => (0usize..64).prop_map(Op::Drop),
        4 => (0usize..64).prop_map(Op::Expire),
        6 => (0u8..3).prop_map(Op::TryPut),
        5 => Just(Op::TryGet),
        3 => proptest::collection::vec(0u8..3, 0..4).prop_map(Op::TryPutMany),
        3 => (0usize..4).prop_map(Op::TryGetMany),
        4 => Just(Op::TaskDone),
        1 => Just(Op::Close),
        2 => ((0usize..8), (0u8..3)).prop_map(|(i, p)| Op::PermitPut(i, p)),
        1 => (0usize..8).prop_map(Op::DropPermit),
    ]
}

/// What an operation observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Out {
    Pending,
    /// A get returned this item.
    Got(u32),
    /// A put succeeded.
    Put,
    Joined,
    /// A slot was reserved.
    Reserved,
    Empty,
    /// `try_put` failed, giving back this item.
    Full(u32),
    Timeout,
    /// A put timed out, giving back this item.
    TimeoutItem(u32),
    Closed,
    /// A put failed on a closed queue, giving back this item.
    ClosedItem(u32),
}

fn get_out(r: Result<Item, GetError>) -> Out {
    match r {
        Ok(item) => Out::Got(item.id),
        Err(GetError::Empty) => Out::Empty,
        Err(GetError::Timeout) => Out::Timeout,
        Err(GetError::Closed) => Out::Closed,
    }
}

fn put_out(r: Result<(), PutError<Item>>) -> Out {
    match r {
        Ok(()) => Out::Put,
        Err(PutError::Full(item)) => Out::Full(item.id),
        Err(PutError::Timeout(item)) => Out::TimeoutItem(item.id),
        Err(PutError::Closed(item)) => Out::ClosedItem(item.id),
    }
}

fn join_out(r: Result<(), Timeout>) -> Out {
    match r {
        Ok(()) => Out::Joined,
        Err(Timeout) => Out::Timeout,
    }
}

fn reserve_out<'a, T: Q>(
    r: Result<PutPermit<'a, Item, T::O>, PutError<()>>,
    permits: &mut Vec<PutPermit<'a, Item, T::O>>,
) -> Out {
    match r {
        Ok(permit) => {
            permits.push(permit);
            Out::Reserved
        }
        Err(PutError::Timeout(())) => Out::Timeout,
        Err(PutError::Closed(())) => Out::Closed,
        Err(PutError::Full(())) => Out::Full(u32::MAX),
    }
}

// ---------------------------------------------------------------------------------------------
// The model.

#[derive(Clone, Copy, Debug)]
struct MItem {
    prio: u8,
    id: u32,
    /// Order of entry into the queue (stored or handed to a getter).
    seq: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Put(u8, u32),
    Get,
    Join,
    Reserve,
}

#[derive(Clone, Copy, Debug)]
enum Grant {
    Item(MItem),
    Closed,
    Done,
    Joined,
    Reserved,
}

#[derive(Clone, Copy, Debug)]
enum St {
    Created,
    Pending,
    Granted(Grant),
    /// Completed (about to be removed).
    Done,
}

#[derive(Debug)]
struct MFut {
    id: usize,
    kind: Kind,
    st: St,
    waker: usize,
}

#[derive(Debug)]
struct Model {
    order: Order,
    cap: usize,
    items: Vec<MItem>,
    reserved: usize,
    unfinished: usize,
    closed: bool,
    seq: u64,
    getters: VecDeque<usize>,
    putters: VecDeque<usize>,
    joiners: VecDeque<usize>,
    futs: Vec<MFut>,
    /// Reserved slots the test holds.
    permits: usize,
    next_id: usize,
    next_item: u32,
}

impl Model {
    fn new(order: Order, capacity: Option<usize>) -> Self {
        Model {
            order,
            cap: capacity.unwrap_or(usize::MAX),
            items: Vec::new(),
            reserved: 0,
            unfinished: 0,
            closed: false,
            seq: 0,
            getters: VecDeque::new(),
            putters: VecDeque::new(),
            joiners: VecDeque::new(),
            futs: Vec::new(),
            permits: 0,
            next_id: 0,
            next_item: 0,
        }
    }

    fn item(&mut self, prio: u8) -> (u8, u32) {
        self.next_item += 1;
        (prio, self.next_item)
    }

    fn fut(&mut self, id: usize) -> &mut MFut {
        self.futs.iter_mut().find(|f| f.id == id).unwrap()
    }

    fn grant(&mut self, id: usize, grant: Grant, wakers: &mut Wakers) {
        let f = self.fut(id);
        f.st = St::Granted(grant);
        wakers.expect_wake(f.waker);
    }

    fn has_room(&self) -> bool {
        self.items.len() + self.reserved < self.cap
    }

    fn pop(&mut self) -> Option<MItem> {
        if self.items.is_empty() {
            return None;
        }
        Some(match self.order {
            Order::Fifo => self.items.remove(0),
            Order::Lifo => self.items.pop().unwrap(),
            Order::Priority => {
                let (k, _) = self
                    .items
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, m)| (m.prio, m.seq))
                    .unwrap();
                self.items.remove(k)
            }
        })
    }

    /// An item enters the queue: counted unfinished, then to the oldest getter or stored.
    fn enter(&mut self, (prio, id): (u8, u32), wakers: &mut Wakers) {
        self.unfinished += 1;
        let m = MItem {
            prio,
            id,
            seq: self.seq,
        };
        self.seq += 1;
        match self.getters.pop_front() {
            Some(g) => self.grant(g, Grant::Item(m), wakers),
            None => self.items.push(m),
        }
    }

    /// An item a getter left without: to the next getter, else where the next get takes it
    /// first (its own place, for priority: its entry order is kept).
    fn give_back(&mut self, m: MItem, wakers: &mut Wakers) {
        match self.getters.pop_front() {
            Some(g) => self.grant(g, Grant::Item(m), wakers),
            None => match self.order {
                Order::Fifo => self.items.insert(0, m),
                Order::Lifo | Order::Priority => self.items.push(m),
            },
        }
    }

    /// Lets the oldest putter in (its item enters, or its slot is reserved).
    fn admit_putter(&mut self, wakers: &mut Wakers) -> bool {
        let Some(p) = self.putters.pop_front() else {
            return false;
        };
        match self.fut(p).kind {
            Kind::Put(prio, id) => {
                self.grant(p, Grant::Done, wakers);
                self.enter((prio, id), wakers);
            }
            Kind::Reserve => {
                self.grant(p, Grant::Reserved, wakers);
                self.reserved += 1;
            }
            kind => unreachable!("model: a putter of kind {kind:?}"),
        }
        true
    }

    fn fill(&mut self, wakers: &mut Wakers) {
        while self.has_room() && self.admit_putter(wakers) {}
    }

    fn put_now(&mut self, item: (u8, u32), wakers: &mut Wakers) -> Option<Out> {
        if self.closed {
            return Some(Out::ClosedItem(item.1));
        }
        if self.putters.is_empty() && (self.has_room() || !self.getters.is_empty()) {
            self.enter(item, wakers);
            return Some(Out::Put);
        }
        None
    }

    fn get_now(&mut self, wakers: &mut Wakers) -> Option<Out> {
        if !self.items.is_empty() {
            if !self.putters.is_empty() && self.items.len() + self.reserved <= self.cap {
                self.admit_putter(wakers);
            }
            let m = self.pop().unwrap();
            self.fill(wakers);
            return Some(Out::Got(m.id));
        }
        self.closed.then_some(Out::Closed)
    }

    fn reserve_now(&mut self) -> Option<Out> {
        if self.closed {
            return Some(Out::Closed);
        }
        if self.putters.is_empty() && self.has_room() {
            self.reserved += 1;
            return Some(Out::Reserved);
        }
        None
    }

    fn try_now(&mut self, kind: Kind, wakers: &mut Wakers) -> Option<Out> {
        match kind {
            Kind::Put(prio, id) => self.put_now((prio, id), wakers),
            Kind::Get => self.get_now(wakers),
            Kind::Join => (self.unfinished == 0).then_some(Out::Joined),
            Kind::Reserve => self.reserve_now(),
        }
    }

    fn poll(&mut self, k: usize, wakers: &mut Wakers) -> Out {
        let (id, kind, st) = (self.futs[k].id, self.futs[k].kind, self.futs[k].st);
        match st {
            St::Created => match self.try_now(kind, wakers) {
                Some(out) => out,
                None => {
                    self.futs[k].st = St::Pending;
                    match kind {
                        Kind::Put(..) | Kind::Reserve => self.putters.push_back(id),
                        Kind::Get => self.getters.push_back(id),
                        Kind::Join => self.joiners.push_back(id),
                    }
                    Out::Pending
                }
            },
            St::Pending => Out::Pending,
            St::Granted(grant) => self.take_grant(k, grant, wakers),
            St::Done => unreachable!("model: polled a completed future"),
        }
    }

    fn try_once(&mut self, k: usize, wakers: &mut Wakers) -> Out {
        let kind = self.futs[k].kind;
        self.try_now(kind, wakers).unwrap_or(match kind {
            Kind::Put(_, item) => Out::TimeoutItem(item),
            _ => Out::Timeout,
        })
    }

    fn leave(&mut self, k: usize, expiry: bool, wakers: &mut Wakers) -> Out {
        let (id, kind, st) = (self.futs[k].id, self.futs[k].kind, self.futs[k].st);
        let timeout = match kind {
            Kind::Put(_, item) => Out::TimeoutItem(item),
            _ => Out::Timeout,
        };
        match st {
            St::Created => timeout,
            St::Pending => {
                self.getters.retain(|&x| x != id);
                self.putters.retain(|&x| x != id);
                self.joiners.retain(|&x| x != id);
                timeout
            }
            St::Granted(grant) if expiry => self.take_grant(k, grant, wakers),
            St::Granted(grant) => {
                match grant {
                    Grant::Item(m) => self.give_back(m, wakers),
                    Grant::Reserved => {
                        self.reserved -= 1;
                        self.fill(wakers);
                    }
                    Grant::Closed | Grant::Done | Grant::Joined => {}
                }
                timeout
            }
            St::Done => unreachable!("model: a completed future left"),
        }
    }

    fn task_done(&mut self, wakers: &mut Wakers) -> bool {
        if self.unfinished == 0 {
            return false;
        }
        self.unfinished -= 1;
        if self.unfinished == 0 {
            while let Some(j) = self.joiners.pop_front() {
                self.grant(j, Grant::Joined, wakers);
            }
        }
        true
    }

    fn close(&mut self, wakers: &mut Wakers) {
        if self.closed {
            return;
        }
        self.closed = true;
        while let Some(p) = self.putters.pop_front() {
            self.grant(p, Grant::Closed, wakers);
        }
        self.end_getters_if_drained(wakers);
    }

    /// Items handed to getters that have not taken them (they may still come back).
    fn handed(&self) -> usize {
        self.futs
            .iter()
            .filter(|f| matches!(f.st, St::Granted(Grant::Item(_))))
            .count()
    }

    /// Closed, with no item left nor any handed out that could come back: the waiting
    /// getters fail.
    fn end_getters_if_drained(&mut self, wakers: &mut Wakers) {
        if self.closed && self.items.is_empty() && self.handed() == 0 {
            while let Some(g) = self.getters.pop_front() {
                self.grant(g, Grant::Closed, wakers);
            }
        }
    }

    /// Future `k` takes its grant.
    fn take_grant(&mut self, k: usize, grant: Grant, wakers: &mut Wakers) -> Out {
        self.futs[k].st = St::Done;
        if let Grant::Item(_) = grant {
            self.end_getters_if_drained(wakers);
        }
        granted(self.futs[k].kind, grant)
    }

    /// A reserved slot is filled.
    fn permit_put(&mut self, item: (u8, u32), wakers: &mut Wakers) -> Out {
        self.permits -= 1;
        self.reserved -= 1;
        if self.closed {
            return Out::ClosedItem(item.1);
        }
        self.enter(item, wakers);
        // Handed straight to a waiting getter, the item left the reserved slot free: a slot
        // freed while putters wait goes to the oldest of them.
        self.fill(wakers);
        Out::Put
    }

    fn drop_permit(&mut self, wakers: &mut Wakers) {
        self.permits -= 1;
        self.reserved -= 1;
        self.fill(wakers);
    }
}

fn granted(kind: Kind, grant: Grant) -> Out {
    match (kind, grant) {
        (Kind::Get, Grant::Item(m)) => Out::Got(m.id),
        (Kind::Get | Kind::Reserve, Grant::Closed) => Out::Closed,
        (Kind::Put(..), Grant::Done) => Out::Put,
        (Kind::Put(_, item), Grant::Closed) => Out::ClosedItem(item),
        (Kind::Join, Grant::Joined) => Out::Joined,
        (Kind::Reserve, Grant::Reserved) => Out::Reserved,
        (kind, grant) => unreachable!("model: {kind:?} granted {grant:?}"),
    }
}

/// A count from the queue's `Debug` (`getters: 2`), if it shows one.
fn debug_count(debug: &str, field: &str) -> Option<usize> {
    let rest = &debug[debug.find(&format!("{field}: "))? + field.len() + 2..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

// ---------------------------------------------------------------------------------------------
// The real queue.

enum SFut<'a, T: Q> {
    Put(QueuePut<'a, Item, T::O>),
    Get(QueueGet<'a, Item, T::O>),
    Join(QueueJoin<'a, Item, T::O>),
    Reserve(QueueReserve<'a, Item, T::O>),
}

fn run<T: Q>(capacity: Option<usize>, ops: &[Op]) -> Result<(), TestCaseError> {
    let queue = T::make(capacity);
    let mut wakers = Wakers::default();
    let mut futs: Vec<SFut<'_, T>> = Vec::new();
    let mut permits: Vec<PutPermit<'_, Item, T::O>> = Vec::new();
    let mut model = Model::new(T::ORDER, capacity);

    for (step, op) in ops.iter().enumerate() {
        macro_rules! ctx {
            () => {
                format!("step {step}: {op:?}\nmodel: {model:?}")
            };
        }
        match *op {
            Op::Put(_) | Op::Get | Op::Join | Op::Reserve => {
                let kind = match *op {
                    Op::Put(prio) => {
                        let (prio, id) = model.item(prio);
                        futs.push(SFut::Put(queue.put(Item { prio, id })));
                        Kind::Put(prio, id)
                    }
                    Op::Get => {
                        futs.push(SFut::Get(queue.get()));
                        Kind::Get
                    }
                    Op::Join => {
                        futs.push(SFut::Join(queue.join()));
                        Kind::Join
                    }
                    _ => {
                        futs.push(SFut::Reserve(queue.reserve()));
                        Kind::Reserve
                    }
                };
                let waker = wakers.fresh();
                model.futs.push(MFut {
                    id: model.next_id,
                    kind,
                    st: St::Created,
                    waker,
                });
                model.next_id += 1;
            }
            Op::Poll(i) | Op::PollNewWaker(i) => {
                let Some(k) = pick(i, futs.len()) else {
                    continue;
                };
                if let Op::PollNewWaker(_) = op {
                    model.futs[k].waker = wakers.fresh();
                }
                let w = model.futs[k].waker;
                let real = match &mut futs[k] {
                    SFut::Put(f) => match poll(f, &wakers, w) {
                        Poll::Ready(r) => put_out(r),
                        Poll::Pending => Out::Pending,
                    },
                    SFut::Get(f) => match poll(f, &wakers, w) {
                        Poll::Ready(r) => get_out(r),
                        Poll::Pending => Out::Pending,
                    },
                    SFut::Join(f) => match poll(f, &wakers, w) {
                        Poll::Ready(()) => Out::Joined,
                        Poll::Pending => Out::Pending,
                    },
                    SFut::Reserve(f) => match poll(f, &wakers, w) {
                        Poll::Ready(r) => reserve_out::<T>(r, &mut permits),
                        Poll::Pending => Out::Pending,
                    },
                };
                let expected = model.poll(k, &mut wakers);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if expected != Out::Pending {
                    if expected == Out::Reserved {
                        model.permits += 1;
                    }
                    model.futs.remove(k);
                    futs.remove(k);
                }
            }
            Op::TryOnce(i) => {
                let Some(k) =
                    pick_where(i, futs.len(), |k| matches!(model.futs[k].st, St::Created))
                else {
                    continue;
                };
                let real = match &mut futs[k] {
                    SFut::Put(f) => put_out(try_once(f)),
                    SFut::Get(f) => get_out(try_once(f)),
                    SFut::Join(f) => join_out(try_once(f)),
                    SFut::Reserve(f) => reserve_out::<T>(try_once(f), &mut permits),
                };
                let expected = model.try_once(k, &mut wakers);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if expected == Out::Reserved {
                    model.permits += 1;
                }
                model.futs.remove(k);
                futs.remove(k);
            }
            Op::Drop(i) => {
                let Some(k) = pick(i, futs.len()) else {
                    continue;
                };
                drop(futs.remove(k));
                model.leave(k, false, &mut wakers);
                model.futs.remove(k);
            }
            Op::Expire(i) => {
                let Some(k) =
                    pick_where(i, futs.len(), |k| !matches!(model.futs[k].st, St::Created))
                else {
                    continue;
                };
                let real = match &mut futs[k] {
                    SFut::Put(f) => put_out(expire(f)),
                    SFut::Get(f) => get_out(expire(f)),
                    SFut::Join(f) => join_out(expire(f)),
                    SFut::Reserve(f) => reserve_out::<T>(expire(f), &mut permits),
                };
                let expected = model.leave(k, true, &mut wakers);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if expected == Out::Reserved {
                    model.permits += 1;
                }
                model.futs.remove(k);
                futs.remove(k);
            }
            Op::TryPut(prio) => {
                let (prio, id) = model.item(prio);
                let real = put_out(queue.try_put(Item { prio, id }));
                let expected = model
                    .put_now((prio, id), &mut wakers)
                    .unwrap_or(Out::Full(id));
                prop_assert_eq!(real, expected, "{}", ctx!());
            }
            Op::TryGet => {
                let real = get_out(queue.try_get());
                let expected = model.get_now(&mut wakers).unwrap_or(Out::Empty);
                prop_assert_eq!(real, expected, "{}", ctx!());
            }
            Op::TryPutMany(ref prios) => {
                // The model: successive `try_put`s until one would wait or fail.
                let items: Vec<(u8, u32)> = prios.iter().map(|&p| model.item(p)).collect();
                let real =
                    queue.try_put_many(items.iter().map(|&(prio, id)| Item { prio, id }).collect());
                let real = match real {
                    Ok(n) => (n, Out::Put, Vec::new()),
                    Err(e) => {
                        let why = match e.rest {
                            PutError::Full(_) => Out::Full(0),
                            PutError::Closed(_) => Out::ClosedItem(0),
                            PutError::Timeout(_) => Out::Timeout,
                        };
                        (e.put, why, e.into_rest().iter().map(|i| i.id).collect())
                    }
                };
                let mut put = 0;
                // A closed queue refuses even an empty batch (as tokio's `reserve_many(0)`).
                let mut why = if model.closed {
                    Out::ClosedItem(0)
                } else {
                    Out::Put
                };
                let closed = model.closed;
                for &item in items.iter().take_while(|_| !closed) {
                    match model.put_now(item, &mut wakers) {
                        Some(Out::Put) => put += 1,
                        Some(Out::ClosedItem(_)) => {
                            why = Out::ClosedItem(0);
                            break;
                        }
                        None => {
                            why = Out::Full(0);
                            break;
                        }
                        Some(other) => unreachable!("model: put_now gave {other:?}"),
                    }
                }
                let rest: Vec<u32> = items[put..].iter().map(|&(_, id)| id).collect();
                prop_assert_eq!(real, (put, why, rest), "{}", ctx!());
            }
            Op::TryGetMany(limit) => {
                // The model: successive `try_get`s until one fails, up to `limit`.
                let mut buf = Vec::new();
                let real = queue.try_get_many(&mut buf, limit);
                let real_ids: Vec<u32> = buf.iter().map(|i| i.id).collect();
                let mut ids = Vec::new();
                let mut failed = None;
                for _ in 0..limit {
                    match model.get_now(&mut wakers) {
                        Some(Out::Got(id)) => ids.push(id),
                        Some(Out::Closed) => {
                            failed = Some(GetError::Closed);
                            break;
                        }
                        None => {
                            failed = Some(GetError::Empty);
                            break;
                        }
                        Some(other) => unreachable!("model: get_now gave {other:?}"),
                    }
                }
                let expected = match (ids.len(), failed) {
                    (0, Some(err)) => Err(err),
                    (n, _) => Ok(n),
                };
                prop_assert_eq!((real, real_ids), (expected, ids), "{}", ctx!());
            }
            Op::TaskDone => {
                let real = queue.task_done().is_ok();
                let expected = model.task_done(&mut wakers);
                prop_assert_eq!(real, expected, "task_done() accepted? {}", ctx!());
            }
            Op::Close => {
                queue.close();
                model.close(&mut wakers);
            }
            Op::PermitPut(i, prio) => {
                let Some(k) = pick(i, permits.len()) else {
                    continue;
                };
                let (prio, id) = model.item(prio);
                let real = put_out(permits.remove(k).put(Item { prio, id }));
                let expected = model.permit_put((prio, id), &mut wakers);
                prop_assert_eq!(real, expected, "{}", ctx!());
            }
            Op::DropPermit(i) => {
                let Some(k) = pick(i, permits.len()) else {
                    continue;
                };
                drop(permits.remove(k));
                model.drop_permit(&mut wakers);
            }
        }
        wakers
            .check()
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", ctx!())))?;
        prop_assert_eq!(queue.len(), model.items.len(), "len() {}", ctx!());
        prop_assert_eq!(
            queue.is_empty(),
            model.items.is_empty(),
            "is_empty() {}",
            ctx!()
        );
        prop_assert_eq!(queue.is_full(), !model.has_room(), "is_full() {}", ctx!());
        prop_assert_eq!(
            queue.waiters(),
            model.getters.len() + model.putters.len() + model.joiners.len(),
            "waiters() {}",
            ctx!()
        );
        let debug = format!("{queue:?}");
        if let Some(getters) = debug_count(&debug, "getters") {
            prop_assert_eq!(getters, model.getters.len(), "getters {}", ctx!());
        }
        if let Some(putters) = debug_count(&debug, "putters") {
            prop_assert_eq!(putters, model.putters.len(), "putters {}", ctx!());
        }
        prop_assert_eq!(
            queue.unfinished_tasks(),
            model.unfinished,
            "unfinished_tasks() {}",
            ctx!()
        );
        prop_assert_eq!(queue.is_closed(), model.closed, "is_closed() {}", ctx!());
        prop_assert_eq!(permits.len(), model.permits);
        // Invariants of the model itself (the queue docs: getters wait only while there is no
        // item; putters only while there is no room).
        prop_assert!(
            model.getters.is_empty() || model.items.is_empty(),
            "model: items present while a getter waits {}",
            ctx!()
        );
        prop_assert!(
            model.putters.is_empty() || !model.has_room(),
            "model: room while a putter waits {}",
            ctx!()
        );
    }

    // Drop every future and permit (in order, in both), then drain: the same items come out
    // in the same order.
    while !futs.is_empty() {
        drop(futs.remove(0));
        model.leave(0, false, &mut wakers);
        model.futs.remove(0);
    }
    while !permits.is_empty() {
        drop(permits.remove(0));
        model.drop_permit(&mut wakers);
    }
    prop_assert_eq!(queue.waiters(), 0);
    prop_assert_eq!(queue.len(), model.items.len());
    loop {
        let real = get_out(queue.try_get());
        let expected = model.get_now(&mut wakers).unwrap_or(Out::Empty);
        prop_assert_eq!(real, expected, "drain: model {:?}", model);
        if !matches!(real, Out::Got(_)) {
            break;
        }
    }
    prop_assert_eq!(queue.unfinished_tasks(), model.unfinished);
    Ok(())
}

fn capacity() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![1 => Just(None), 3 => (1usize..=3).prop_map(Some)]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fifo_queue_matches_model(
        capacity in capacity(),
        ops in prop::collection::vec(op(), 1..=MAX_OPS),
    ) {
        run::<Queue<Item>>(capacity, &ops)?;
    }

    #[test]
    fn lifo_queue_matches_model(
        capacity in capacity(),
        ops in prop::collection::vec(op(), 1..=MAX_OPS),
    ) {
        run::<LifoQueue<Item>>(capacity, &ops)?;
    }

    #[test]
    fn priority_queue_matches_model(
        capacity in capacity(),
        ops in prop::collection::vec(op(), 1..=MAX_OPS),
    ) {
        run::<PriorityQueue<Item>>(capacity, &ops)?;
    }
}

/// The queue docs' Fairness: a freed queue slot is handed straight to the oldest waiting
/// putter; putters wait only while there is no room. Found by the model: filling a reserved
/// slot (a `reserve()` permit, or a sink's `poll_ready` + `start_send`) while a getter waits
/// hands the item to the getter and frees the slot, but a put already waiting is not let in: it
/// stays pending on an empty queue with room, and a later `get` then waits beside it (a
/// deadlock if nothing else happens). The implementation's `put_reserved` does not call `fill`
/// after `enter`.
#[test]
fn filling_a_reserved_slot_for_a_waiting_getter_lets_a_waiting_put_in() {
    let mut wakers = Wakers::default();
    let w = wakers.fresh();

    let queue = Queue::<u32>::bounded(1);
    let permit = try_once(&mut queue.reserve()).expect("an empty queue has room");
    let mut put = queue.put(1);
    let mut get = queue.get();
    assert!(
        poll(&mut put, &wakers, w).is_pending(),
        "the only slot is reserved"
    );
    assert!(
        poll(&mut get, &wakers, w).is_pending(),
        "the queue is empty"
    );
    permit.put(2).unwrap();
    assert_eq!(poll(&mut get, &wakers, w), Poll::Ready(Ok(2)));
    // The slot is free again: the waiting put's 1 should be in, for the next get to take.
    let mut next = queue.get();
    assert_eq!(
        poll(&mut next, &wakers, w),
        Poll::Ready(Ok(1)),
        "reserve(): a get waits beside a waiting put, the queue empty with room ({queue:?})"
    );
    assert_eq!(poll(&mut put, &wakers, w), Poll::Ready(Ok(())));
}

/// The same through a sink, the public surface for reservations: `poll_ready` reserves the
/// slot, `start_send` fills it.
#[test]
fn filling_a_sinks_slot_for_a_waiting_getter_lets_a_waiting_put_in() {
    use futures::Sink;
    use std::pin::Pin;
    use std::task::Context;

    let mut wakers = Wakers::default();
    let w = wakers.fresh();
    let queue = Queue::<u32>::bounded(1);
    let mut sink = queue.sink();
    let mut cx = Context::from_waker(wakers.waker(w));
    assert!(matches!(
        Pin::new(&mut sink).poll_ready(&mut cx),
        Poll::Ready(Ok(()))
    ));
    let mut put = queue.put(1);
    let mut get = queue.get();
    assert!(
        poll(&mut put, &wakers, w).is_pending(),
        "the only slot is reserved"
    );
    assert!(
        poll(&mut get, &wakers, w).is_pending(),
        "the queue is empty"
    );
    assert!(Pin::new(&mut sink).start_send(2).is_ok());
    assert_eq!(poll(&mut get, &wakers, w), Poll::Ready(Ok(2)));
    assert_eq!(
        poll(&mut put, &wakers, w),
        Poll::Ready(Ok(())),
        "sink: a put still waits on an empty queue with room ({queue:?})"
    );
}
