//! What the queue test files share: run a body once per queue order, pick the expectation
//! for the order at hand, and fail a hung test instead of hanging.
#![allow(dead_code, unused_macros, unused_imports)]

/// The queue order a `for_each_order!` module tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Fifo,
    Lifo,
    Priority,
}

/// The expectation for this queue kind.
pub fn pick<T>(kind: Kind, fifo: T, lifo: T, priority: T) -> T {
    match kind {
        Kind::Fifo => fifo,
        Kind::Lifo => lifo,
        Kind::Priority => priority,
    }
}

/// Fails a test that would otherwise hang (a lost wake-up) instead of hanging.
pub async fn watchdog<F: std::future::Future>(f: F) -> F::Output {
    tokio::time::timeout(std::time::Duration::from_secs(30), f)
        .await
        .expect("watchdog: the test hung (a lost wake-up?)")
}

/// Expands its body three times, in modules `fifo`, `lifo` and `priority`, each with `Q<T>`
/// the queue type and `KIND` its order. `Kind` must be in scope where it is used.
macro_rules! for_each_order {
    ($($body:tt)*) => {
        mod fifo {
            #[allow(unused_imports)]
            use super::*;
            #[allow(dead_code)]
            type Q<T> = toro_sync::Queue<T>;
            #[allow(dead_code)]
            const KIND: Kind = Kind::Fifo;
            $($body)*
        }
        mod lifo {
            #[allow(unused_imports)]
            use super::*;
            #[allow(dead_code)]
            type Q<T> = toro_sync::LifoQueue<T>;
            #[allow(dead_code)]
            const KIND: Kind = Kind::Lifo;
            $($body)*
        }
        mod priority {
            #[allow(unused_imports)]
            use super::*;
            #[allow(dead_code)]
            type Q<T> = toro_sync::PriorityQueue<T>;
            #[allow(dead_code)]
            const KIND: Kind = Kind::Priority;
            $($body)*
        }
    };
}

pub(crate) use for_each_order;
