//! Test support: one private `redis-server` per test binary, on a free loopback port, in a
//! temporary directory, killed when the test binary exits (however it exits). For the TLS
//! tests, private servers that speak only TLS, with certificates made at test time by the
//! `openssl` command-line tool.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
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
fn spawn_server(port: u16, dir: &Path) -> Option<u32> {
    spawn_redis(dir, vec!["--port".into(), port.to_string()])
}

/// Spawns `redis-server` in `dir` on loopback, with `extra` arguments (its ports, TLS).
fn spawn_redis(dir: &Path, extra: Vec<String>) -> Option<u32> {
    let binary = find_redis_server();
    let (tx, rx) = mpsc::channel();
    let dir = dir.to_path_buf();
    std::thread::spawn(move || {
        let mut command = Command::new(&binary);
        command
            .args(["--bind", "127.0.0.1"])
            .args(&extra)
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

/// A private `redis-server` that speaks only TLS (`--port 0`), its certificates issued by the
/// test CA of [`certs`]. Killed when the test binary exits.
pub struct TlsServer {
    pub port: u16,
    pub dir: PathBuf,
}

impl TlsServer {
    /// `rediss://127.0.0.1:<port>`, with `userinfo` (`user:password@`, or empty).
    pub fn url(&self, userinfo: &str) -> String {
        format!("rediss://{userinfo}127.0.0.1:{}", self.port)
    }

    /// The same port with `redis://` (no TLS).
    pub fn plain_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// How a [`TlsServer`] treats clients.
pub struct TlsServerConfig {
    /// `--tls-auth-clients`: `no`, `optional` or `yes` (a client certificate is required).
    pub auth_clients: &'static str,
    /// `--requirepass`, if any.
    pub requirepass: Option<&'static str>,
    /// A one-node Redis Cluster (`--cluster-enabled yes --tls-cluster yes`) serving every
    /// slot, instead of a plain server.
    pub cluster: bool,
}

/// Starts a private TLS server (a fresh one per call).
pub fn start_tls_server(config: &TlsServerConfig) -> TlsServer {
    find_redis_server();
    let certs = certs();
    let mut last_log = PathBuf::new();
    for _attempt in 0..5 {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("toro-redis-tls-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let log = dir.join("redis.log");
        let _ = std::fs::remove_file(&log);
        let path = |name: &str| certs.dir.join(name).display().to_string();
        let mut args = vec![
            "--port".to_string(),
            "0".into(),
            "--tls-port".into(),
            port.to_string(),
            "--tls-cert-file".into(),
            path("server.crt"),
            "--tls-key-file".into(),
            path("server.key"),
            "--tls-ca-cert-file".into(),
            path("ca.crt"),
            "--tls-auth-clients".into(),
            config.auth_clients.into(),
            "--logfile".into(),
            log.display().to_string(),
        ];
        if let Some(password) = config.requirepass {
            args.extend(["--requirepass".to_string(), password.to_string()]);
        }
        if config.cluster {
            args.extend([
                "--cluster-enabled".to_string(),
                "yes".into(),
                "--tls-cluster".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                dir.join("nodes.conf").display().to_string(),
                // The default bus port (port + 10000) may be out of range.
                "--cluster-port".into(),
                free_port().to_string(),
            ]);
        }
        let Some(pid) = spawn_redis(&dir, args) else {
            panic!("could not spawn redis-server");
        };
        if wait_ready(pid, &log) {
            if config.cluster {
                tls_cli(port, config, &["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
                let deadline = Instant::now() + Duration::from_secs(10);
                while !tls_cli(port, config, &["CLUSTER", "INFO"]).contains("cluster_state:ok") {
                    assert!(
                        Instant::now() < deadline,
                        "the one-node cluster never got ready"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            return TlsServer { port, dir };
        }
        last_log = log;
        // The port was probably taken meanwhile (the server exits): try another.
        // SAFETY: kill on the pid of the server just spawned.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
    let log = std::fs::read_to_string(&last_log).unwrap_or_default();
    panic!(
        "a TLS redis-server did not start on a loopback port (it needs a redis-server built \
         with TLS, as Debian's is); its last log:\n{log}"
    );
}

/// Runs `redis-cli --tls` against the TLS server on `port`; its output.
fn tls_cli(port: u16, config: &TlsServerConfig, args: &[&str]) -> String {
    let mut command = Command::new("redis-cli");
    command
        .args(["--tls", "--cacert"])
        .arg(certs().dir.join("ca.crt"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string()]);
    if let Some(password) = config.requirepass {
        command.env("REDISCLI_AUTH", password);
    }
    let output = command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli (installed with redis-server)");
    assert!(
        output.status.success(),
        "redis-cli {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Waits until the server's log says it accepts connections: a plain PING cannot reach a
/// TLS-only server. `false` if it exited first (e.g. its port was taken) or took too long.
fn wait_ready(pid: u32, log: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("Ready to accept connections") {
            return true;
        }
        // SAFETY: signal 0 only checks that the process (our child, reaped once it exits)
        // exists.
        if unsafe { libc::kill(pid as i32, 0) } != 0 {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The certificates of this test binary's TLS servers and clients, PEM files in `dir`:
/// `ca.crt` (the test CA), `server.crt`/`server.key` (for `127.0.0.1` and `localhost`,
/// issued by the CA), `client.crt`/`client.key` (a client certificate issued by the CA), and
/// `rogue-ca.crt` (a CA that issued nothing here). P-256 keys, valid for two days.
pub struct Certs {
    pub dir: PathBuf,
}

impl Certs {
    /// The contents of one of the files.
    pub fn pem(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(name)).expect("certificate file")
    }
}

static CERTS: OnceLock<Certs> = OnceLock::new();

/// The certificates, made on first use with the `openssl` command-line tool.
pub fn certs() -> &'static Certs {
    CERTS.get_or_init(make_certs)
}

const OPENSSL_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
";

fn make_certs() -> Certs {
    let dir = std::env::temp_dir().join(format!("toro-redis-tls-certs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("openssl.cnf"), OPENSSL_CONFIG).expect("openssl config");
    let new_key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for (name, subject) in [
        ("ca", "/CN=toro-sync test CA"),
        ("rogue-ca", "/CN=rogue CA"),
    ] {
        let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
        let mut args = vec![
            "req",
            "-x509",
            "-config",
            "openssl.cnf",
            "-extensions",
            "ca",
        ];
        args.extend(new_key);
        args.extend([
            "-keyout", &key, "-out", &crt, "-days", "2", "-subj", subject,
        ]);
        openssl(&dir, &args);
    }
    for (serial, name, subject) in [
        ("2", "server", "/CN=localhost"),
        ("3", "client", "/CN=toro-client"),
    ] {
        let (key, csr, crt) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
        );
        let mut args = vec!["req", "-new", "-config", "openssl.cnf"];
        args.extend(new_key);
        args.extend(["-keyout", &key, "-out", &csr, "-subj", subject]);
        openssl(&dir, &args);
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-set_serial",
                serial,
                "-days",
                "2",
                "-extfile",
                "openssl.cnf",
                "-extensions",
                name,
                "-out",
                &crt,
            ],
        );
    }
    Certs { dir }
}

/// Runs the `openssl` command-line tool in `dir`; panics with its error output on failure.
fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "running `openssl` failed ({err}); the TLS tests make their certificates with \
                 it: install it with `apt-get install openssl` (Debian/Ubuntu)"
            )
        });
    assert!(
        output.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}
