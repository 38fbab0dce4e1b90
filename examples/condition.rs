//! toro's "Wait / Notify" example: a waiter waits on a Condition, a notifier notifies it.
//!
//! The notifier finishes its own code before the waiter resumes, so this prints:
//!
//! ```text
//! I'll wait right here
//! About to notify
//! Done notifying
//! I'm done waiting
//! ```
//!
//! Run with `cargo run --release --example condition`.

use std::sync::Arc;
use std::time::Duration;

use toro_sync::Condition;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let condition = Arc::new(Condition::new());

    let waiter = tokio::spawn({
        let condition = condition.clone();
        async move {
            println!("I'll wait right here");
            condition.wait().await;
            println!("I'm done waiting");
        }
    });

    let notifier = tokio::spawn({
        let condition = condition.clone();
        async move {
            // Let the waiter register first (a Condition stores no notification).
            while condition.waiters() == 0 {
                tokio::task::yield_now().await;
            }
            println!("About to notify");
            condition.notify_one();
            println!("Done notifying");
        }
    });

    // Both finish well within a second; the deadline only guards against a hang.
    let all = async {
        waiter.await.unwrap();
        notifier.await.unwrap();
    };
    tokio::time::timeout(Duration::from_secs(1), all)
        .await
        .expect("the waiter was notified");
}
