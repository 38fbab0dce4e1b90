#![cfg(loom)]
use loom::sync::Arc;
use loom::thread;
use toro_sync::Semaphore;

#[test]
fn smoke_semaphore_two_threads() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let s2 = sem.clone();
        let t = thread::spawn(move || {
            if let Some(p) = s2.try_acquire() {
                drop(p);
            }
        });
        if let Some(p) = sem.try_acquire() {
            drop(p);
        }
        t.join().unwrap();
        assert_eq!(sem.available(), 1);
    });
}
