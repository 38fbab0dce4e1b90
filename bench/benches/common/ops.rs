//! The Redis tier's operations and their floors, shared by `benches/redis.rs` and
//! `examples/redis_scripts.rs`: what each peer does for one lock/unlock, one permit, one
//! queue item.

use redis::AsyncTypedCommands;
use redis::aio::MultiplexedConnection;

/// A lock as raw commands: `SET key token NX PX` to take it, a compare-and-delete script
/// (`EVALSHA` once loaded) to give it back. Two round trips per lock/unlock.
#[derive(Clone)]
pub struct RawLock {
    pub conn: MultiplexedConnection,
    pub key: String,
    unlock: redis::Script,
}

impl RawLock {
    pub fn new(conn: MultiplexedConnection, key: &str) -> RawLock {
        RawLock {
            conn,
            key: key.to_string(),
            unlock: redis::Script::new(
                "if redis.call('get', KEYS[1]) == ARGV[1] then \
                 return redis.call('del', KEYS[1]) else return 0 end",
            ),
        }
    }

    /// One `SET NX PX`: whether the lock was taken.
    pub async fn try_lock(&mut self, token: &str) -> bool {
        let opts = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(30_000));
        let reply: Option<String> = redis::cmd("SET")
            .arg(&self.key)
            .arg(token)
            .arg(opts)
            .query_async(&mut self.conn)
            .await
            .expect("SET NX PX");
        reply.is_some()
    }

    /// The compare-and-delete script.
    pub async fn unlock(&mut self, token: &str) {
        let deleted: i64 = self
            .unlock
            .key(&self.key)
            .arg(token)
            .invoke_async(&mut self.conn)
            .await
            .expect("compare-and-delete");
        assert_eq!(deleted, 1, "the raw lock was not ours");
    }

    /// Spins (`SET NX`, yield, again) until the lock is taken.
    pub async fn lock(&mut self, token: &str) {
        while !self.try_lock(token).await {
            tokio::task::yield_now().await;
        }
    }
}

/// A counting semaphore as one script each way: `INCR` and back off past the limit to take a
/// permit, `DECR` to return it.
#[derive(Clone)]
pub struct RawPermits {
    pub conn: MultiplexedConnection,
    pub key: String,
    pub permits: u64,
    acquire: redis::Script,
    release: redis::Script,
}

impl RawPermits {
    pub fn new(conn: MultiplexedConnection, key: &str, permits: u64) -> RawPermits {
        RawPermits {
            conn,
            key: key.to_string(),
            permits,
            acquire: redis::Script::new(
                "local n = redis.call('incr', KEYS[1]) \
                 if n <= tonumber(ARGV[1]) then return 1 end \
                 redis.call('decr', KEYS[1]) return 0",
            ),
            release: redis::Script::new("return redis.call('decr', KEYS[1])"),
        }
    }

    /// One acquire script: whether a permit was taken.
    pub async fn try_acquire(&mut self) -> bool {
        let got: i64 = self
            .acquire
            .key(&self.key)
            .arg(self.permits)
            .invoke_async(&mut self.conn)
            .await
            .expect("acquire script");
        got == 1
    }

    /// Spins (acquire script, yield, again) until a permit is taken.
    pub async fn acquire(&mut self) {
        while !self.try_acquire().await {
            tokio::task::yield_now().await;
        }
    }

    /// One release script.
    pub async fn release(&mut self) {
        let _: i64 = self
            .release
            .key(&self.key)
            .invoke_async(&mut self.conn)
            .await
            .expect("release script");
    }
}

/// A reliable queue as raw commands: `LPUSH` to put, `LMOVE` into a processing list to get,
/// `LREM` from it when done. Three round trips per item.
#[derive(Clone)]
pub struct RawQueue {
    pub conn: MultiplexedConnection,
    pub key: String,
    pub processing: String,
}

impl RawQueue {
    pub fn new(conn: MultiplexedConnection, key: &str) -> RawQueue {
        RawQueue {
            conn,
            key: key.to_string(),
            processing: format!("{key}:processing"),
        }
    }

    pub async fn put(&mut self, item: &[u8]) {
        self.conn.lpush(&self.key, item).await.expect("LPUSH");
    }

    /// `LMOVE` one item into the processing list (`None` when empty).
    pub async fn get(&mut self) -> Option<Vec<u8>> {
        redis::cmd("LMOVE")
            .arg(&self.key)
            .arg(&self.processing)
            .arg("RIGHT")
            .arg("LEFT")
            .query_async(&mut self.conn)
            .await
            .expect("LMOVE")
    }

    pub async fn task_done(&mut self, item: &[u8]) {
        let removed = self
            .conn
            .lrem(&self.processing, 1, item)
            .await
            .expect("LREM");
        assert_eq!(removed, 1, "the raw queue lost an item");
    }
}
