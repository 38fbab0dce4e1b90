//! Two worker processes share a fair Mutex (with fencing tokens) and a Semaphore in Redis.
//!
//! ```sh
//! cargo run --release -p toro-sync-redis --example jobs
//! ```
//!
//! Uses the server at `REDIS_URL` if set; otherwise starts a private `redis-server` (from
//! `PATH`) on a free loopback port and stops it at the end. The example then runs itself twice
//! more as worker processes (`JOBS_WORKER=a|b`). The workers meet at a `Barrier`, then each
//! runs jobs that
//!
//! * append to a shared ledger under the `Mutex`, passing the guard's fencing token to a
//!   "storage" that refuses tokens older than the newest it has seen, and
//! * upload under a `Semaphore` of 2 permits shared by both processes (3 tasks each), counting
//!   how many uploads run at once across the processes.
//!
//! The parent checks the outcome (every ledger write accepted, in token order; never more than
//! 2 uploads at once) and exits 0.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use toro_sync_redis::Client;

const LEDGER_WRITES: u64 = 5;
const UPLOAD_TASKS: u64 = 3;
const UPLOADS_PER_TASK: u64 = 4;
const PERMITS: u64 = 2;

/// The "storage": accepts a write only with a token above the newest it has seen.
const FENCED_APPEND: &str = r"
local last = tonumber(redis.call('HGET', KEYS[1], 'token') or '0')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'token', ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
return 1";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Ok(role) = std::env::var("JOBS_WORKER") {
        let url = std::env::var("JOBS_URL").expect("JOBS_URL");
        let prefix = std::env::var("JOBS_PREFIX").expect("JOBS_PREFIX");
        worker(&role, &url, &prefix).await;
        return;
    }

    let mut private = None;
    let url = match std::env::var("REDIS_URL") {
        Ok(url) => url,
        Err(_) => {
            let server = PrivateRedis::start();
            let url = server.url();
            private = Some(server);
            url
        }
    };
    // A fresh key prefix per run, so that a shared server's other data is never touched.
    let prefix = format!("toro-example:{}:", std::process::id());
    println!(
        "redis at {} ({})",
        url.rsplit('@').next().unwrap_or(&url),
        if private.is_some() {
            "private redis-server"
        } else {
            "REDIS_URL"
        }
    );

    let exe = std::env::current_exe().expect("the example's own path");
    let mut children: Vec<(String, Child)> = ["a", "b"]
        .iter()
        .map(|role| {
            let child = Command::new(&exe)
                .env("JOBS_WORKER", role)
                .env("JOBS_URL", &url)
                .env("JOBS_PREFIX", &prefix)
                .stdout(Stdio::inherit())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn a worker process");
            println!("started worker {role} (pid {})", child.id());
            (role.to_string(), child)
        })
        .collect();
    for (role, child) in &mut children {
        let status = child.wait().expect("wait for a worker");
        assert!(status.success(), "worker {role} failed: {status}");
    }

    // Check what the two processes did together.
    let mut conn = redis::Client::open(url.as_str())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let ledger: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("{prefix}ledger"))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .expect("read the ledger");
    let rejected: u64 = get_u64(&mut conn, &format!("{prefix}rejected")).await;
    let peak: u64 = get_u64(&mut conn, &format!("{prefix}uploads-peak")).await;
    let uploads: u64 = get_u64(&mut conn, &format!("{prefix}uploads-done")).await;
    println!(
        "ledger: {} entries ({} rejected), uploads: {uploads} done, at most {peak} at once",
        ledger.len(),
        rejected
    );
    assert_eq!(
        ledger.len() as u64,
        2 * LEDGER_WRITES,
        "every write accepted"
    );
    assert_eq!(rejected, 0, "no stale token");
    assert!(
        ledger.iter().any(|e| e.starts_with("a ")) && ledger.iter().any(|e| e.starts_with("b ")),
        "both processes wrote"
    );
    assert_eq!(uploads, 2 * UPLOAD_TASKS * UPLOADS_PER_TASK);
    assert!(peak <= PERMITS, "never more than {PERMITS} uploads at once");

    // Leave a shared server as it was.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
    }
    drop(private);
    println!("ok");
}

async fn get_u64(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> u64 {
    let value: Option<u64> = redis::cmd("GET")
        .arg(key)
        .query_async(conn)
        .await
        .expect("GET");
    value.unwrap_or(0)
}

async fn worker(role: &str, url: &str, prefix: &str) {
    let client = Client::builder(url)
        .prefix(prefix)
        .lease(Duration::from_secs(5))
        .connect()
        .await
        .expect("worker connects");
    let raw = redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect");

    // Start together: a barrier of the two processes.
    let start = client.barrier("start", 2);
    let met = start
        .wait()
        .deadline(Duration::from_secs(30))
        .await
        .expect("both workers arrive");
    println!(
        "[{role}] met the other worker at the barrier{}",
        if met.is_leader() { " (leader)" } else { "" }
    );

    let ledger = {
        let client = client.clone();
        let mut raw = raw.clone();
        let role = role.to_string();
        let prefix = prefix.to_string();
        tokio::spawn(async move {
            let mutex = client.mutex("ledger");
            let append = redis::Script::new(FENCED_APPEND);
            for i in 0..LEDGER_WRITES {
                let guard = mutex
                    .lock()
                    .deadline(Duration::from_secs(30))
                    .await
                    .expect("the ledger lock");
                let token = guard.fencing_token();
                let accepted: i64 = append
                    .key(format!("{prefix}ledger-meta"))
                    .key(format!("{prefix}ledger"))
                    .arg(token)
                    .arg(format!("{role} {i}"))
                    .invoke_async(&mut raw)
                    .await
                    .expect("fenced append");
                if accepted != 1 {
                    let _: u64 = redis::cmd("INCR")
                        .arg(format!("{prefix}rejected"))
                        .query_async(&mut raw)
                        .await
                        .expect("INCR");
                }
                println!(
                    "[{role}] ledger write {i} with fencing token {token}: {}",
                    if accepted == 1 {
                        "accepted"
                    } else {
                        "REJECTED"
                    }
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
                guard.release().await.expect("release the ledger lock");
            }
        })
    };

    let uploads = client.semaphore("uploads", PERMITS);
    let mut tasks = Vec::new();
    for t in 0..UPLOAD_TASKS {
        let uploads = uploads.clone();
        let mut raw = raw.clone();
        let role = role.to_string();
        let prefix = prefix.to_string();
        tasks.push(tokio::spawn(async move {
            for _ in 0..UPLOADS_PER_TASK {
                let permit = uploads
                    .acquire()
                    .deadline(Duration::from_secs(30))
                    .await
                    .expect("an upload permit");
                let now: u64 = redis::cmd("INCR")
                    .arg(format!("{prefix}uploads-running"))
                    .query_async(&mut raw)
                    .await
                    .expect("INCR");
                let _: () = redis::Script::new(
                    "local p = tonumber(redis.call('GET', KEYS[1]) or '0') \
                     if tonumber(ARGV[1]) > p then redis.call('SET', KEYS[1], ARGV[1]) end",
                )
                .key(format!("{prefix}uploads-peak"))
                .arg(now)
                .invoke_async(&mut raw)
                .await
                .expect("peak");
                tokio::time::sleep(Duration::from_millis(15)).await;
                let _: u64 = redis::cmd("DECR")
                    .arg(format!("{prefix}uploads-running"))
                    .query_async(&mut raw)
                    .await
                    .expect("DECR");
                let _: u64 = redis::cmd("INCR")
                    .arg(format!("{prefix}uploads-done"))
                    .query_async(&mut raw)
                    .await
                    .expect("INCR");
                permit.release().await.expect("return the permit");
            }
            println!("[{role}] upload task {t} done: {UPLOADS_PER_TASK} uploads");
        }));
    }
    for task in tasks {
        task.await.expect("upload task");
    }
    ledger.await.expect("ledger task");
    println!("[{role}] done");
}

/// A `redis-server` of our own on a free loopback port, in a temporary directory, without
/// persistence; killed when dropped.
struct PrivateRedis {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl PrivateRedis {
    fn start() -> Self {
        let found = std::env::var_os("PATH")
            .map(|path| {
                std::env::split_paths(&path)
                    .map(|dir| dir.join("redis-server"))
                    .any(|candidate| candidate.is_file())
            })
            .unwrap_or(false);
        assert!(
            found,
            "redis-server is not on PATH: install it (`apt-get install redis-server`) or set \
             REDIS_URL"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = std::env::temp_dir().join(format!("toro-jobs-example-{port}"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            .args(["--maxmemory-policy", "noeviction"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let server = PrivateRedis { child, port, dir };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
