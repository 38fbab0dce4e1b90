//! The essentials against a real Redis Cluster: a private three-master cluster (three
//! `redis-server --cluster-enabled yes` on loopback, joined by `redis-cli --cluster create`),
//! started once per test binary and killed when it exits. Mutual exclusion with increasing
//! fencing tokens, FIFO waiters woken by hints (sharded pub/sub, subscribed on the node of the
//! primitive's slot), a semaphore's bound, and a queue's FIFO put/get/task_done/join, on
//! primitives whose slots are served by different nodes.
//!
//! Run: `cargo test -p toro-sync-redis --features cluster --test cluster`.

#![cfg(feature = "cluster")]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use redis::Value;
use toro_sync_redis::Client;

/// The private cluster of this test binary: the client ports of its three masters.
struct Cluster {
    ports: Vec<u16>,
}

impl Cluster {
    fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect()
    }
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(start_cluster)
}

fn find(binary: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(binary);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "{binary} is not on PATH; the cluster tests need redis-server and redis-cli (7.0 or \
         newer). Install them with `apt-get install redis-server` (Debian/Ubuntu)."
    );
}

/// A free loopback port (the OS picks it; it stays free with high probability).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local addr").port()
}

/// Spawns one cluster node from a thread that lives as long as the process, with the
/// parent-death signal set: when the test binary exits (or is killed), so does the node.
fn spawn_node(port: u16, bus_port: u16, dir: &Path) {
    let binary = find("redis-server");
    let dir = dir.to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut command = Command::new(&binary);
        command
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--cluster-enabled", "yes", "--cluster-config-file"])
            .arg(dir.join("nodes.conf"))
            .args(["--cluster-port", &bus_port.to_string()])
            .arg("--dir")
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            .args(["--maxmemory-policy", "noeviction", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        match command.spawn() {
            Ok(mut child) => {
                let _ = tx.send(true);
                let _ = child.wait();
            }
            Err(err) => {
                eprintln!("spawning redis-server: {err}");
                let _ = tx.send(false);
            }
        }
        // Keep this thread (the child's parent) alive until the process exits.
        loop {
            std::thread::park();
        }
    });
    assert!(rx.recv().unwrap_or(false), "could not spawn redis-server");
}

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new(find("redis-cli"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("run redis-cli");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_for(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let end = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < end, "{what} within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start_cluster() -> Cluster {
    find("redis-server");
    find("redis-cli");
    let started = Instant::now();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let root = std::env::temp_dir().join(format!("toro-redis-cluster-{}", std::process::id()));
    for &port in &ports {
        let dir = root.join(port.to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        spawn_node(port, free_port(), &dir);
    }
    for &port in &ports {
        wait_for("a node answers PING", Duration::from_secs(10), || {
            cli(port, &["PING"]).trim() == "PONG"
        });
    }
    let nodes: Vec<String> = ports
        .iter()
        .map(|port| format!("127.0.0.1:{port}"))
        .collect();
    let out = Command::new(find("redis-cli"))
        .arg("--cluster")
        .arg("create")
        .args(&nodes)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .output()
        .expect("run redis-cli --cluster create");
    assert!(
        out.status.success(),
        "redis-cli --cluster create failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for &port in &ports {
        wait_for("cluster_state:ok", Duration::from_secs(30), || {
            cli(port, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
        });
    }
    eprintln!(
        "cluster of 3 masters on ports {ports:?} ready in {:?}",
        started.elapsed()
    );
    Cluster { ports }
}

/// A cluster client with short timings: lease 30 s, re-check `recheck`.
async fn client(recheck: Duration) -> Client {
    let urls = cluster().urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    Client::cluster_builder(&urls)
        .recheck_interval(recheck)
        .connect()
        .await
        .expect("connect to the test cluster")
}

fn unique(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The client port of the master serving `slot`, from `CLUSTER SLOTS`.
async fn owner_of_slot(slot: i64) -> u16 {
    let url = cluster().urls()[0].clone();
    let mut conn = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let slots: Value = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query_async(&mut conn)
        .await
        .unwrap();
    let Value::Array(ranges) = slots else {
        panic!("CLUSTER SLOTS: {slots:?}");
    };
    for range in ranges {
        let Value::Array(parts) = range else { continue };
        let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(master))) =
            (parts.first(), parts.get(1), parts.get(2))
        else {
            continue;
        };
        if (*start..=*end).contains(&slot)
            && let Some(Value::Int(port)) = master.get(1)
        {
            return u16::try_from(*port).unwrap();
        }
    }
    panic!("no master serves slot {slot}");
}

/// The master serving the primitive `name`'s keys (default prefix).
async fn owner(name: &str) -> u16 {
    let slot: i64 = cli(
        cluster().ports[0],
        &["CLUSTER", "KEYSLOT", &format!("toro:{{{name}}}:m")],
    )
    .trim()
    .parse()
    .expect("CLUSTER KEYSLOT");
    owner_of_slot(slot).await
}

/// One name (made from `base`) per master: primitives on every node of the cluster.
async fn names_on_every_node(base: &str) -> Vec<String> {
    let mut by_node = std::collections::BTreeMap::new();
    for i in 0..200 {
        let name = format!("{}-{i}", unique(base));
        by_node.entry(owner(&name).await).or_insert(name);
        if by_node.len() == 3 {
            return by_node.into_values().collect();
        }
    }
    panic!("no names on three different masters");
}

/// `key` exists on the master serving it (asked there directly, not through the cluster
/// client).
fn exists_on(port: u16, key: &str) -> bool {
    cli(port, &["EXISTS", key]).trim() == "1"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_exclusion_and_increasing_tokens_on_every_node() {
    let a = client(Duration::from_millis(200)).await;
    let b = client(Duration::from_millis(200)).await;
    for name in names_on_every_node("mutex").await {
        let node = owner(&name).await;
        let inside = Arc::new(AtomicU64::new(0));
        let tokens = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, c) in [&a, &b, &a, &b].into_iter().enumerate() {
            let mutex = c.mutex(&name);
            let inside = inside.clone();
            let tokens = tokens.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..5 {
                    let guard = mutex
                        .lock()
                        .deadline(Duration::from_secs(20))
                        .await
                        .unwrap();
                    assert_eq!(
                        inside.fetch_add(1, Ordering::SeqCst),
                        0,
                        "task {i}: two holders"
                    );
                    tokens.lock().unwrap().push(guard.fencing_token());
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    guard.release().await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let tokens = tokens.lock().unwrap().clone();
        assert_eq!(tokens.len(), 20);
        assert!(
            tokens.windows(2).all(|w| w[0] < w[1]),
            "fencing tokens increase in grant order: {tokens:?}"
        );
        assert!(
            exists_on(node, &format!("toro:{{{name}}}:m")),
            "{name}'s keys live on the master serving its slot (port {node})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_are_served_in_fifo_order_by_hints() {
    // A 30 s re-check: each hand-off below must come from its grant hint (sharded pub/sub on
    // the primitive's hint channel, served by the node of its slot), not from a re-check.
    let holder = client(Duration::from_secs(30)).await;
    let waiters = [
        client(Duration::from_secs(30)).await,
        client(Duration::from_secs(30)).await,
    ];
    for name in names_on_every_node("fifo").await {
        let mutex = holder.mutex(&name);
        let guard = mutex.lock().await.unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5u64 {
            let m = waiters[i as usize % 2].mutex(&name);
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                let g = m.lock().deadline(Duration::from_secs(10)).await.unwrap();
                order.lock().unwrap().push(i);
                g.release().await.unwrap();
            }));
            // The next waiter lines up only once this one is in line.
            let end = Instant::now() + Duration::from_secs(5);
            while mutex.waiters().await.unwrap() < i + 1 {
                assert!(Instant::now() < end, "waiter {i} in line");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let released = Instant::now();
        guard.release().await.unwrap();
        for task in tasks {
            task.await.unwrap();
        }
        let took = released.elapsed();
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4], "{name}: FIFO");
        assert!(
            took < Duration::from_secs(5),
            "{name}: five hand-offs by hint took {took:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semaphore_permits_are_bounded() {
    let a = client(Duration::from_millis(200)).await;
    let b = client(Duration::from_millis(200)).await;
    for name in names_on_every_node("sem").await {
        let inside = Arc::new(AtomicU64::new(0));
        let peak = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for i in 0..6 {
            let sem = if i % 2 == 0 { &a } else { &b }.semaphore(&name, 2);
            let inside = inside.clone();
            let peak = peak.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..3 {
                    let permit = sem
                        .acquire()
                        .deadline(Duration::from_secs(20))
                        .await
                        .unwrap();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    assert!(now <= 2, "{now} permits held of 2");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    permit.release().await.unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            peak.load(Ordering::SeqCst),
            2,
            "{name}: both permits were used"
        );
        assert_eq!(a.semaphore(&name, 2).available().await.unwrap(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_fifo_put_get_task_done_join() {
    let producer = client(Duration::from_millis(200)).await;
    let consumer = client(Duration::from_millis(200)).await;
    for name in names_on_every_node("queue").await {
        let node = owner(&name).await;
        let q = producer.queue::<String>(&name);
        for i in 0..10 {
            q.put(format!("item {i}")).await.unwrap();
        }
        assert!(
            exists_on(node, &format!("toro:{{{name}}}:m")),
            "{name}'s keys live on port {node}"
        );
        // A getter waiting on an empty line is handed the next put.
        let cq = consumer.queue::<String>(&name);
        let mut got = Vec::new();
        for _ in 0..10 {
            let d = cq.get().deadline(Duration::from_secs(10)).await.unwrap();
            got.push(d.item().clone());
            d.task_done().await.unwrap();
        }
        let expected: Vec<String> = (0..10).map(|i| format!("item {i}")).collect();
        assert_eq!(got, expected, "{name}: FIFO");

        let waiting = tokio::spawn({
            let cq = cq.clone();
            async move { cq.get().deadline(Duration::from_secs(10)).await.unwrap() }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        q.put("late".to_string()).await.unwrap();
        let late = waiting.await.unwrap();
        assert_eq!(late.item(), "late");

        // join waits for the delivery in flight.
        let join = tokio::spawn({
            let q = q.clone();
            async move { q.join().deadline(Duration::from_secs(10)).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!join.is_finished(), "join returned with a task unfinished");
        late.task_done().await.unwrap();
        join.await.unwrap().unwrap();
        assert_eq!(q.unfinished_tasks().await.unwrap(), 0);
    }
}

/// Subscribers of the shard channel `channel` on the node at `port` (asked there directly).
fn shard_subscribers_on(port: u16, channel: &str) -> i64 {
    let out = cli(port, &["PUBSUB", "SHARDNUMSUB", channel]);
    out.lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or_else(|| panic!("PUBSUB SHARDNUMSUB on {port}: {out:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hints_arrive_over_sharded_pubsub_on_the_slots_node() {
    // The waiter's client re-checks every 60 s only (its 300 s lease keeps the liveness
    // re-check as far off): within this test, only a hint can wake it. Its subscriber's first
    // connection is to the first node; the primitives below live on every node.
    let holder = client(Duration::from_millis(200)).await;
    let urls = cluster().urls();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let waiter_client = Client::cluster_builder(&urls)
        .lease(Duration::from_secs(300))
        .recheck_interval(Duration::from_secs(60))
        .connect()
        .await
        .unwrap();
    let mut elsewhere = 0;
    for name in names_on_every_node("shard").await {
        let node = owner(&name).await;
        if node != cluster().ports[0] {
            elsewhere += 1;
        }
        let channel = format!("toro:{{{name}}}:hint");
        let mutex = holder.mutex(&name);
        let held = mutex.lock().await.unwrap();
        let waiting = waiter_client.mutex(&name);
        let waiter =
            tokio::spawn(async move { waiting.lock().deadline(Duration::from_secs(20)).await });
        let end = Instant::now() + Duration::from_secs(5);
        while mutex.waiters().await.unwrap() != 1 || shard_subscribers_on(node, &channel) != 1 {
            assert!(
                Instant::now() < end,
                "{name}: the waiter's client subscribes to {channel} on port {node}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for &port in &cluster().ports {
            if port != node {
                assert_eq!(
                    shard_subscribers_on(port, &channel),
                    0,
                    "{channel} is subscribed only on the node serving its slot ({node})"
                );
            }
        }
        // Let the re-check that follows the subscription run while the lock is still held.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let released = Instant::now();
        held.release().await.unwrap();
        let guard = waiter.await.unwrap().unwrap();
        let took = released.elapsed();
        assert!(
            took < Duration::from_secs(3),
            "{name} (port {node}): woken {took:?} after the release; a re-check takes 60 s"
        );
        guard.release().await.unwrap();
    }
    assert!(
        elsewhere >= 2,
        "primitives on the nodes other than the first"
    );
}
