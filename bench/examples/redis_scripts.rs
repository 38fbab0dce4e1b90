//! Counts the Redis commands and scripts each operation of the Redis tier costs, and those of
//! its floors and peers: `CONFIG RESETSTAT`, N operations, then the `INFO commandstats` delta
//! divided by N (the stats calls themselves left out). One private redis-server, as in
//! `benches/redis.rs`.
//!
//! `cargo run --release -p toro-sync-bench --example redis_scripts`

#[path = "../benches/common/ops.rs"]
#[allow(dead_code)]
mod ops;
#[path = "../benches/common/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use rsmq_async::{Rsmq, RsmqConnection};

const N: u64 = 200;

async fn reset(stats: &mut MultiplexedConnection) {
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query_async(stats)
        .await
        .unwrap();
}

/// Commands run since the last reset, by name, without the stats connection's own, and the
/// server time spent in scripts (µs).
async fn commands(stats: &mut MultiplexedConnection) -> (BTreeMap<String, u64>, u64) {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(stats)
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    let mut script_usec = 0;
    for line in info.lines() {
        let Some(rest) = line.strip_prefix("cmdstat_") else {
            continue;
        };
        let (name, fields) = rest.split_once(':').unwrap();
        let calls: u64 = fields
            .split(',')
            .find_map(|f| f.strip_prefix("calls="))
            .unwrap()
            .parse()
            .unwrap();
        if matches!(name, "evalsha" | "eval" | "fcall") {
            script_usec += fields
                .split(',')
                .find_map(|f| f.strip_prefix("usec="))
                .unwrap()
                .parse::<u64>()
                .unwrap();
        }
        let calls = match name {
            "config|resetstat" | "config" | "info" => continue,
            _ => calls,
        };
        out.insert(name.to_string(), calls);
    }
    (out, script_usec)
}

async fn report(stats: &mut MultiplexedConnection, what: &str) {
    let (counts, script_usec) = commands(stats).await;
    let total: u64 = counts.values().sum();
    let scripts: u64 = counts
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "evalsha" | "eval" | "fcall" | "evalsha_ro"))
        .map(|(_, v)| v)
        .sum();
    let detail: Vec<String> = counts
        .iter()
        .map(|(k, v)| format!("{k} {:.2}", *v as f64 / N as f64))
        .collect();
    println!(
        "| {what} | {:.2} | {:.2} | {:.1} | {} |",
        total as f64 / N as f64,
        scripts as f64 / N as f64,
        script_usec as f64 / N as f64,
        detail.join(", ")
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let server = server::Server::start();
    let redis_client = redis::Client::open(server.url.as_str()).unwrap();
    let mut stats = redis_client
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let conn = redis_client
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let client = toro_sync_redis::Client::builder(&server.url)
        .lease(Duration::from_secs(30))
        .connect()
        .await
        .unwrap();

    println!(
        "| operation (per op, {N} ops) | commands (incl. inside scripts) | scripts | \
         server µs in scripts | by command |"
    );
    println!("|---|---|---|---|---|");

    // toro-sync-redis: each primitive opened and warmed once first.
    let mutex = client.mutex("count-lock");
    mutex.lock().await.unwrap().release().await.unwrap();
    reset(&mut stats).await;
    for _ in 0..N {
        mutex.lock().await.unwrap().release().await.unwrap();
    }
    report(&mut stats, "toro-sync-redis lock + release").await;

    let sem = client.semaphore("count-sem", 8);
    sem.acquire().await.unwrap().release().await.unwrap();
    reset(&mut stats).await;
    for _ in 0..N {
        sem.acquire().await.unwrap().release().await.unwrap();
    }
    report(&mut stats, "toro-sync-redis permit acquire + release").await;

    let q = client.queue::<u64>("count-queue");
    q.put(0).await.unwrap();
    q.get().await.unwrap().task_done().await.unwrap();
    reset(&mut stats).await;
    for i in 0..N {
        q.put(i).await.unwrap();
    }
    report(&mut stats, "toro-sync-redis queue put").await;
    let mut deliveries = Vec::new();
    reset(&mut stats).await;
    for _ in 0..N {
        deliveries.push(q.get().await.unwrap());
    }
    report(&mut stats, "toro-sync-redis queue get").await;
    reset(&mut stats).await;
    for d in deliveries {
        d.task_done().await.unwrap();
    }
    report(&mut stats, "toro-sync-redis queue task_done").await;

    // Floors.
    let mut raw = ops::RawLock::new(conn.clone(), "count-raw-lock");
    raw.lock("warm").await;
    raw.unlock("warm").await;
    reset(&mut stats).await;
    for _ in 0..N {
        raw.lock("t").await;
        raw.unlock("t").await;
    }
    report(&mut stats, "floor: SET NX PX + EVALSHA").await;

    let mut raw = ops::RawPermits::new(conn.clone(), "count-raw-sem", 8);
    raw.acquire().await;
    raw.release().await;
    reset(&mut stats).await;
    for _ in 0..N {
        raw.acquire().await;
        raw.release().await;
    }
    report(&mut stats, "floor: permit script each way").await;

    let mut raw = ops::RawQueue::new(conn.clone(), "count-raw-queue");
    reset(&mut stats).await;
    for i in 0..N {
        raw.put(&i.to_le_bytes()).await;
        let item = raw.get().await.unwrap();
        raw.task_done(&item).await;
    }
    report(&mut stats, "floor: LPUSH + LMOVE + LREM").await;

    // Peers.
    let lm = rslock::LockManager::from_clients(vec![redis_client.clone()]);
    let l = lm
        .lock(b"count-rslock", Duration::from_secs(30))
        .await
        .unwrap();
    lm.unlock(&l).await;
    reset(&mut stats).await;
    for _ in 0..N {
        let l = lm
            .lock(b"count-rslock", Duration::from_secs(30))
            .await
            .unwrap();
        lm.unlock(&l).await;
    }
    report(&mut stats, "rslock lock + unlock").await;

    let mut rsmq = Rsmq::new_with_connection(conn.clone(), false, None)
        .await
        .unwrap();
    rsmq.create_queue("countq", None, None, None).await.unwrap();
    reset(&mut stats).await;
    for i in 0..N {
        rsmq.send_message("countq", i.to_le_bytes().to_vec(), None)
            .await
            .unwrap();
        let m = rsmq
            .receive_message::<Vec<u8>>("countq", None)
            .await
            .unwrap()
            .unwrap();
        rsmq.delete_message("countq", &m.id).await.unwrap();
    }
    report(&mut stats, "rsmq_async send + receive + delete").await;

    drop(client);
    drop(server);
}
