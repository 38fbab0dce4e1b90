//! Model-based test of `RwLock`: random sequences of operations run against the real lock
//! (`max_readers` 1 to 3), its futures polled by hand with counting wakers, and against a plain
//! sequential model written from the contract in the crate docs of `RwLock`: `max_readers` read
//! slots, a read takes one and a write all of them in one request, requests are granted whole
//! and strictly in FIFO order (write-preferring: a read behind a queued write waits),
//! `try_read` and `try_write` never barge past a queued request, and a request that leaves the
//! line (dropped, or its deadline fired) holds nothing and lets those behind it through.
//!
//! After every operation: its outcome, every waker's wake-up count (a future is woken exactly
//! when the model grants it) and `waiters()` must match the model; `TryRead`/`TryWrite`
//! operations probe the free slots.
//!
//! 1000 cases of up to 60 operations (`PROPTEST_CASES` overrides the count).

mod model_kit;

use std::collections::VecDeque;
use std::task::Poll;

use model_kit::{MAX_OPS, Wakers, config, expire, pick, pick_where, poll, try_once};
use proptest::prelude::*;
use toro_sync::future::{RwLockRead, RwLockWrite};
use toro_sync::{RwLock, RwLockReadGuard, RwLockWriteGuard, Timeout};

#[derive(Clone, Debug)]
enum Op {
    /// Create a `read()` future.
    Read,
    /// Create a `write()` future.
    Write,
    Poll(usize),
    PollNewWaker(usize),
    TryOnce(usize),
    Drop(usize),
    Expire(usize),
    /// `try_read()`; keep the guard or drop it at once.
    TryRead(bool),
    /// `try_write()`; keep the guard or drop it at once.
    TryWrite(bool),
    DropGuard(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Read),
        2 => Just(Op::Write),
        6 => (0usize..64).prop_map(Op::Poll),
        1 => (0usize..64).prop_map(Op::PollNewWaker),
        1 => (0usize..64).prop_map(Op::TryOnce),
        2 => (0usize..64).prop_map(Op::Drop),
        2 => (0usize..64).prop_map(Op::Expire),
        2 => any::<bool>().prop_map(Op::TryRead),
        1 => any::<bool>().prop_map(Op::TryWrite),
        4 => (0usize..64).prop_map(Op::DropGuard),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Out {
    Pending,
    Read,
    Write,
    Timeout,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum St {
    Created,
    Pending,
    Granted,
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
    max_readers: usize,
    free: usize,
    queue: VecDeque<usize>,
    futs: Vec<MFut>,
    /// Guards held by the test: how many slots each holds.
    held: Vec<Kind>,
    /// Write guards handed out so far (each adds one to the value, wrapping).
    writes: u8,
    next_id: usize,
}

impl Model {
    fn need(&self, kind: Kind) -> usize {
        match kind {
            Kind::Read => 1,
            Kind::Write => self.max_readers,
        }
    }

    fn fut(&mut self, id: usize) -> &mut MFut {
        self.futs.iter_mut().find(|f| f.id == id).unwrap()
    }

    fn settle(&mut self, wakers: &mut Wakers) {
        while let Some(&id) = self.queue.front() {
            let kind = self.fut(id).kind;
            let need = self.need(kind);
            if need > self.free {
                break;
            }
            self.free -= need;
            self.queue.pop_front();
            let f = self.fut(id);
            f.st = St::Granted;
            wakers.expect_wake(f.waker);
        }
    }

    fn try_now(&mut self, kind: Kind) -> bool {
        let need = self.need(kind);
        let ok = self.queue.is_empty() && self.free >= need;
        if ok {
            self.free -= need;
        }
        ok
    }

    fn release(&mut self, kind: Kind, wakers: &mut Wakers) {
        self.free += self.need(kind);
        self.settle(wakers);
    }

    /// The test now holds a guard of `kind` (a write guard adds one to the value).
    fn got(&mut self, kind: Kind) {
        self.held.push(kind);
        if kind == Kind::Write {
            self.writes = self.writes.wrapping_add(1);
        }
    }

    fn poll(&mut self, k: usize) -> Out {
        let (kind, st) = (self.futs[k].kind, self.futs[k].st);
        match st {
            St::Created if self.try_now(kind) => out(kind),
            St::Created => {
                self.futs[k].st = St::Pending;
                self.queue.push_back(self.futs[k].id);
                Out::Pending
            }
            St::Pending => Out::Pending,
            St::Granted => out(kind),
        }
    }

    fn leave(&mut self, k: usize, expiry: bool, wakers: &mut Wakers) -> Out {
        let (id, kind) = (self.futs[k].id, self.futs[k].kind);
        match self.futs[k].st {
            St::Created => {}
            St::Pending => {
                self.queue.retain(|&x| x != id);
                self.settle(wakers);
            }
            St::Granted if expiry => return out(kind),
            St::Granted => self.release(kind, wakers),
        }
        Out::Timeout
    }
}

fn out(kind: Kind) -> Out {
    match kind {
        Kind::Read => Out::Read,
        Kind::Write => Out::Write,
    }
}

enum SFut<'a> {
    Read(RwLockRead<'a, u8>),
    Write(RwLockWrite<'a, u8>),
}

enum Guard<'a> {
    Read(RwLockReadGuard<'a, u8>),
    // Held only to be dropped later.
    Write(#[allow(dead_code)] RwLockWriteGuard<'a, u8>),
}

fn read_out<'a>(r: Result<RwLockReadGuard<'a, u8>, Timeout>, held: &mut Vec<Guard<'a>>) -> Out {
    match r {
        Ok(g) => {
            held.push(Guard::Read(g));
            Out::Read
        }
        Err(Timeout) => Out::Timeout,
    }
}

fn write_out<'a>(r: Result<RwLockWriteGuard<'a, u8>, Timeout>, held: &mut Vec<Guard<'a>>) -> Out {
    match r {
        Ok(mut g) => {
            *g = g.wrapping_add(1);
            held.push(Guard::Write(g));
            Out::Write
        }
        Err(Timeout) => Out::Timeout,
    }
}

fn run(max_readers: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let lock = RwLock::with_max_readers(0u8, max_readers);
    let mut wakers = Wakers::default();
    let mut futs: Vec<SFut<'_>> = Vec::new();
    let mut held: Vec<Guard<'_>> = Vec::new();
    let mut model = Model {
        max_readers,
        free: max_readers,
        queue: VecDeque::new(),
        futs: Vec::new(),
        held: Vec::new(),
        writes: 0,
        next_id: 0,
    };

    for (step, op) in ops.iter().enumerate() {
        macro_rules! ctx {
            () => {
                format!("step {step}: {op:?}\nmodel: {model:?}")
            };
        }
        match *op {
            Op::Read | Op::Write => {
                let kind = if let Op::Read = op {
                    futs.push(SFut::Read(lock.read()));
                    Kind::Read
                } else {
                    futs.push(SFut::Write(lock.write()));
                    Kind::Write
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
                    SFut::Read(f) => match poll(f, &wakers, w) {
                        Poll::Ready(g) => read_out(Ok(g), &mut held),
                        Poll::Pending => Out::Pending,
                    },
                    SFut::Write(f) => match poll(f, &wakers, w) {
                        Poll::Ready(g) => write_out(Ok(g), &mut held),
                        Poll::Pending => Out::Pending,
                    },
                };
                let expected = model.poll(k);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if expected != Out::Pending {
                    model.got(model.futs[k].kind);
                    model.futs.remove(k);
                    futs.remove(k);
                }
            }
            Op::TryOnce(i) => {
                let Some(k) = pick_where(i, futs.len(), |k| model.futs[k].st == St::Created) else {
                    continue;
                };
                let real = match &mut futs[k] {
                    SFut::Read(f) => read_out(try_once(f), &mut held),
                    SFut::Write(f) => write_out(try_once(f), &mut held),
                };
                let kind = model.futs[k].kind;
                let expected = if model.try_now(kind) {
                    model.got(kind);
                    out(kind)
                } else {
                    Out::Timeout
                };
                prop_assert_eq!(real, expected, "{}", ctx!());
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
                let Some(k) = pick_where(i, futs.len(), |k| model.futs[k].st != St::Created) else {
                    continue;
                };
                let real = match &mut futs[k] {
                    SFut::Read(f) => read_out(expire(f), &mut held),
                    SFut::Write(f) => write_out(expire(f), &mut held),
                };
                let expected = model.leave(k, true, &mut wakers);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if expected != Out::Timeout {
                    model.got(model.futs[k].kind);
                }
                model.futs.remove(k);
                futs.remove(k);
            }
            Op::TryRead(keep) | Op::TryWrite(keep) => {
                let kind = if let Op::TryRead(_) = op {
                    Kind::Read
                } else {
                    Kind::Write
                };
                let real = match kind {
                    Kind::Read => lock.try_read().map(Guard::Read),
                    Kind::Write => lock.try_write().map(|mut g| {
                        *g = g.wrapping_add(1);
                        Guard::Write(g)
                    }),
                };
                let expected = model.try_now(kind);
                prop_assert_eq!(real.is_some(), expected, "{}", ctx!());
                if let Some(g) = real {
                    model.got(kind);
                    if keep {
                        held.push(g);
                    } else {
                        drop(g);
                        model.held.pop();
                        model.release(kind, &mut wakers);
                    }
                }
            }
            Op::DropGuard(i) => {
                let Some(k) = pick(i, held.len()) else {
                    continue;
                };
                if let Guard::Read(g) = &held[k] {
                    prop_assert_eq!(**g, model.writes, "a reader sees the last write {}", ctx!());
                }
                drop(held.remove(k));
                let kind = model.held.remove(k);
                model.release(kind, &mut wakers);
            }
        }
        wakers
            .check()
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", ctx!())))?;
        prop_assert_eq!(lock.waiters(), model.queue.len(), "waiters() {}", ctx!());
        let readers = model.held.iter().filter(|&&k| k == Kind::Read).count();
        let writers = model.held.len() - readers;
        prop_assert!(
            writers == 0 || (writers == 1 && readers == 0),
            "model: exclusive writer {}",
            ctx!()
        );
        prop_assert!(readers <= max_readers, "model: max_readers {}", ctx!());
    }

    // Dropping everything frees every slot: a writer gets in at once.
    drop(futs);
    drop(held);
    prop_assert_eq!(lock.waiters(), 0);
    prop_assert!(lock.try_write().is_some());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn rwlock_matches_model(
        max_readers in 1usize..=3,
        ops in prop::collection::vec(op(), 1..=MAX_OPS),
    ) {
        run(max_readers, &ops)?;
    }
}
