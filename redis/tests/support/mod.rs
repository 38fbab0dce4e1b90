//! Test support: one private `redis-server` per test binary, on a free loopback port, in a
//! temporary directory, killed when the test binary exits (however it exits).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use toro_sync_redis::Client;

/// The private server of this test binary.
pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    pid: AtomicU32,
}

impl Server {
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: nothing saved) and starts a fresh one on the same port.
    pub fn restart(&self) {
        let pid = self.pid.load(Ordering::SeqCst);
        // SAFETY: kill on the pid of the server this process spawned.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while ping(self.port) {
            assert!(Instant::now() < deadline, "old server still answers");
            std::thread::sleep(Duration::from_millis(10));
        }
        loop {
            if let Some(pid) = spawn_server(self.port, &self.dir) {
                if wait_ping(self.port) {
                    self.pid.store(pid, Ordering::SeqCst);
                    return;
                }
                unsafe {
                    libc::kill(pid as i32, libc::SIGKILL);
                }
            }
            // The port may linger for a moment after the kill.
            assert!(Instant::now() < deadline, "could not restart redis-server");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// The server, started on first use.
pub fn server() -> &'static Server {
    SERVER.get_or_init(start)
}

fn find_redis_server() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join("redis-server");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "redis-server is not on PATH; these tests need a real Redis (7.0 or newer). \
         Install it with `apt-get install redis-server` (Debian/Ubuntu)."
    );
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local addr").port()
}

fn start() -> Server {
    // Fails here, on the test's thread, with the install hint when Redis is missing.
    find_redis_server();
    for _attempt in 0..5 {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("toro-redis-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let Some(pid) = spawn_server(port, &dir) else {
            panic!("could not spawn redis-server");
        };
        if wait_ping(port) {
            return Server {
                port,
                dir,
                pid: AtomicU32::new(pid),
            };
        }
        // The port was probably taken meanwhile: stop this one, try another.
        // SAFETY: kill on the pid of the server just spawned.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
    panic!("redis-server did not answer PING on a loopback port");
}

/// Spawns `redis-server` from a thread that lives as long as the process, with the
/// parent-death signal set: when the test binary exits (or is killed), so does Redis.
fn spawn_server(port: u16, dir: &std::path::Path) -> Option<u32> {
    let binary = find_redis_server();
    let (tx, rx) = mpsc::channel();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        let mut command = Command::new(&binary);
        command
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            .args(["--maxmemory-policy", "noeviction"])
            .args(["--enable-debug-command", "local", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child: Result<Child, _> = command.spawn();
        match child {
            Ok(mut child) => {
                let _ = tx.send(Some(child.id()));
                let _ = child.wait();
            }
            Err(err) => {
                eprintln!("spawning redis-server: {err}");
                let _ = tx.send(None);
            }
        }
        // Keep this thread (the child's parent) alive until the process exits.
        loop {
            std::thread::park();
        }
    });
    rx.recv().ok().flatten()
}

fn wait_ping(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if ping(port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    stream.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

/// A client on the test server with short timings: lease `lease`, re-check 100 ms.
pub async fn client_with_lease(lease: Duration) -> Client {
    Client::builder(&server().url())
        .lease(lease)
        .recheck_interval(Duration::from_millis(100))
        .connect()
        .await
        .expect("connect to the test server")
}

/// A client with the default lease (30 s) and a 100 ms re-check.
pub async fn client() -> Client {
    client_with_lease(Duration::from_secs(30)).await
}

/// A plain redis-rs connection, for looking at keys.
pub async fn raw() -> redis::aio::MultiplexedConnection {
    redis::Client::open(server().url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Counts of the waiting-ticket keys of primitive `name` (default prefix): (line, tickets,
/// liveness).
pub async fn ticket_keys(name: &str) -> (u64, u64, u64) {
    let mut conn = raw().await;
    let q: u64 = redis::cmd("ZCARD")
        .arg(format!("toro:{{{name}}}:q"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let t: u64 = redis::cmd("HLEN")
        .arg(format!("toro:{{{name}}}:t"))
        .query_async(&mut conn)
        .await
        .unwrap();
    let w: u64 = redis::cmd("ZCARD")
        .arg(format!("toro:{{{name}}}:w"))
        .query_async(&mut conn)
        .await
        .unwrap();
    (q, t, w)
}

/// Polls `check` (a Redis query, so no fast local spinning) every 10 ms until it is true or
/// `within` passes.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A worker process: this test binary run again with `TORO_WORKER=<role>`, only its
/// `worker_entry` test selected. Its stdout lines come back through `lines`.
pub struct Worker {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
}

impl Worker {
    pub fn spawn(role: &str, name: &str, lease_ms: u64) -> Worker {
        let exe = std::env::current_exe().expect("test binary path");
        let mut child = Command::new(exe)
            .args(["--exact", "worker_entry", "--nocapture", "--test-threads=1"])
            .env("TORO_WORKER", role)
            .env("TORO_URL", server().url())
            .env("TORO_NAME", name)
            .env("TORO_LEASE_MS", lease_ms.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn worker");
        let stdout = child.stdout.take().expect("worker stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may print `test worker_entry ... ` before the first line.
                if let Some(at) = line.find("WORKER ")
                    && tx.send(line[at + 7..].to_string()).is_err()
                {
                    break;
                }
            }
        });
        Worker { child, lines }
    }

    /// The next line the worker printed, within `within`.
    pub fn next_line(&self, within: Duration) -> String {
        self.lines
            .recv_timeout(within)
            .expect("worker line within the time limit")
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill on the pid of a child we spawned and have not reaped.
        let rc = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(rc, 0, "kill({signal})");
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The worker's settings, read from its environment.
pub fn worker_env() -> Option<(String, String, String, Duration)> {
    let role = std::env::var("TORO_WORKER").ok()?;
    let url = std::env::var("TORO_URL").ok()?;
    let name = std::env::var("TORO_NAME").ok()?;
    let lease = std::env::var("TORO_LEASE_MS").ok()?.parse().ok()?;
    Some((role, url, name, Duration::from_millis(lease)))
}

/// Prints a line the parent reads.
pub fn say(msg: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "WORKER {msg}");
    let _ = out.flush();
}
