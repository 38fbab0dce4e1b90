//! Model-based test of `Event`: random sequences of operations run against the real event, its
//! futures polled by hand with counting wakers, and against a plain sequential model written
//! from the contract in the crate docs of `Event`: a flag, a count of `set` calls, and the
//! registered waiters. `set` releases every registered waiter and every `wait()` future created
//! before it (even if first polled after a `clear`); a wait completes at once while the flag is
//! set; `clear` releases nobody and strands nobody.
//!
//! After every operation: its outcome, every waker's wake-up count (a future is woken exactly
//! when a `set` releases it, and only through its current waker), `is_set()` and `waiters()`
//! must match the model.
//!
//! 1000 cases of up to 60 operations (`PROPTEST_CASES` overrides the count).

mod model_kit;

use std::collections::VecDeque;
use std::task::Poll;

use model_kit::{MAX_OPS, Wakers, config, expire, pick, pick_where, poll, try_once};
use proptest::prelude::*;
use toro_sync::future::EventWait;
use toro_sync::{Event, Timeout};

#[derive(Clone, Debug)]
enum Op {
    /// Create a `wait()` future.
    Wait,
    Poll(usize),
    PollNewWaker(usize),
    TryOnce(usize),
    Drop(usize),
    Expire(usize),
    Set,
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Wait),
        6 => (0usize..64).prop_map(Op::Poll),
        1 => (0usize..64).prop_map(Op::PollNewWaker),
        1 => (0usize..64).prop_map(Op::TryOnce),
        2 => (0usize..64).prop_map(Op::Drop),
        2 => (0usize..64).prop_map(Op::Expire),
        2 => Just(Op::Set),
        3 => Just(Op::Clear),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Out {
    Pending,
    Done,
    Timeout,
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
    st: St,
    waker: usize,
    /// `set` calls made before this future was created.
    sets: usize,
}

#[derive(Debug, Default)]
struct Model {
    set: bool,
    sets: usize,
    waiting: VecDeque<usize>,
    futs: Vec<MFut>,
    next_id: usize,
}

impl Model {
    fn set(&mut self, wakers: &mut Wakers) {
        self.set = true;
        self.sets += 1;
        while let Some(id) = self.waiting.pop_front() {
            let f = self.futs.iter_mut().find(|f| f.id == id).unwrap();
            f.st = St::Granted;
            wakers.expect_wake(f.waker);
        }
    }

    fn ready_now(&self, k: usize) -> bool {
        self.set || self.sets != self.futs[k].sets
    }

    fn poll(&mut self, k: usize) -> Out {
        match self.futs[k].st {
            St::Created if self.ready_now(k) => Out::Done,
            St::Created => {
                self.futs[k].st = St::Pending;
                self.waiting.push_back(self.futs[k].id);
                Out::Pending
            }
            St::Pending => Out::Pending,
            St::Granted => Out::Done,
        }
    }

    fn leave(&mut self, k: usize, expiry: bool) -> Out {
        let id = self.futs[k].id;
        match self.futs[k].st {
            St::Granted if expiry => Out::Done,
            _ => {
                self.waiting.retain(|&x| x != id);
                Out::Timeout
            }
        }
    }
}

fn timed(r: Result<(), Timeout>) -> Out {
    match r {
        Ok(()) => Out::Done,
        Err(Timeout) => Out::Timeout,
    }
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let event = Event::new();
    let mut wakers = Wakers::default();
    let mut futs: Vec<EventWait<'_>> = Vec::new();
    let mut model = Model::default();

    for (step, op) in ops.iter().enumerate() {
        macro_rules! ctx {
            () => {
                format!("step {step}: {op:?}\nmodel: {model:?}")
            };
        }
        match *op {
            Op::Wait => {
                let waker = wakers.fresh();
                model.futs.push(MFut {
                    id: model.next_id,
                    st: St::Created,
                    waker,
                    sets: model.sets,
                });
                model.next_id += 1;
                futs.push(event.wait());
            }
            Op::Poll(i) | Op::PollNewWaker(i) => {
                let Some(k) = pick(i, futs.len()) else {
                    continue;
                };
                if let Op::PollNewWaker(_) = op {
                    model.futs[k].waker = wakers.fresh();
                }
                let real = match poll(&mut futs[k], &wakers, model.futs[k].waker) {
                    Poll::Ready(()) => Out::Done,
                    Poll::Pending => Out::Pending,
                };
                let expected = model.poll(k);
                prop_assert_eq!(real, expected, "{}", ctx!());
                if expected != Out::Pending {
                    model.futs.remove(k);
                    drop(futs.remove(k));
                }
            }
            Op::TryOnce(i) => {
                let Some(k) = pick_where(i, futs.len(), |k| model.futs[k].st == St::Created) else {
                    continue;
                };
                let real = timed(try_once(&mut futs[k]));
                let expected = if model.ready_now(k) {
                    Out::Done
                } else {
                    Out::Timeout
                };
                prop_assert_eq!(real, expected, "{}", ctx!());
                model.futs.remove(k);
                drop(futs.remove(k));
            }
            Op::Drop(i) => {
                let Some(k) = pick(i, futs.len()) else {
                    continue;
                };
                drop(futs.remove(k));
                model.leave(k, false);
                model.futs.remove(k);
            }
            Op::Expire(i) => {
                let Some(k) = pick_where(i, futs.len(), |k| model.futs[k].st != St::Created) else {
                    continue;
                };
                let real = timed(expire(&mut futs[k]));
                let expected = model.leave(k, true);
                prop_assert_eq!(real, expected, "{}", ctx!());
                model.futs.remove(k);
                drop(futs.remove(k));
            }
            Op::Set => {
                event.set();
                model.set(&mut wakers);
            }
            Op::Clear => {
                event.clear();
                model.set = false;
            }
        }
        wakers
            .check()
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", ctx!())))?;
        prop_assert_eq!(event.is_set(), model.set, "is_set() {}", ctx!());
        prop_assert_eq!(event.waiters(), model.waiting.len(), "waiters() {}", ctx!());
    }

    drop(futs);
    prop_assert_eq!(event.waiters(), 0);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn event_matches_model(ops in prop::collection::vec(op(), 1..=MAX_OPS)) {
        run(&ops)?;
    }
}
