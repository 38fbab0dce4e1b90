//! Executor matrix: the Semaphore, Mutex and Condition + Mutex stress bodies of `stress_kit` on
//! `futures`' `ThreadPool` (4 threads, no tokio anywhere: deadlines fire on the crate's
//! async-io timer), and on a 4-worker tokio runtime with tasks killed by `JoinHandle::abort()`
//! from a separate task while they wait or hold (the future is dropped on whichever worker runs
//! it, possibly while another grants to it). Conservation holds and nobody is left registered
//! at the end.
//!
//! Sizes and seeds as in `stress.rs` (`TORO_STRESS_SCALE`, `TORO_STRESS_SEED`).

mod stress_kit;

use futures::executor::block_on;
use stress_kit::{Exec, Pool, Tokio, condition_body, mutex_body, semaphore_body, total_ops};

const POOL_THREADS: usize = 4;

#[test]
fn semaphore_on_thread_pool() {
    block_on(semaphore_body(Pool::new(POOL_THREADS)));
}

#[test]
fn mutex_on_thread_pool() {
    block_on(mutex_body(Pool::new(POOL_THREADS)));
}

#[test]
fn condition_mutex_on_thread_pool() {
    block_on(condition_body(Pool::new(POOL_THREADS)));
}

/// The aborter must actually have killed tasks mid-way for the run to mean anything.
fn check_aborts(exec: &Tokio) {
    exec.stop_aborting();
    let aborted = exec.aborted();
    println!("{}: {aborted} tasks aborted", exec.name());
    if total_ops() >= 10_000 {
        assert!(aborted > 0, "no task was aborted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn semaphore_with_aborts() {
    let exec = Tokio::aborting(stress_kit::seed());
    semaphore_body(exec.clone()).await;
    check_aborts(&exec);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mutex_with_aborts() {
    let exec = Tokio::aborting(stress_kit::seed() ^ 1);
    mutex_body(exec.clone()).await;
    check_aborts(&exec);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn condition_mutex_with_aborts() {
    let exec = Tokio::aborting(stress_kit::seed() ^ 2);
    condition_body(exec.clone()).await;
    check_aborts(&exec);
}
