//! Redis killed (SIGKILL) and restarted mid-run with `appendonly yes` + `appendfsync always`:
//! no item whose put was acknowledged is lost; every one is delivered and `join()` ends. Its own
//! test binary, with its own persistent server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex as StdMutex, mpsc};
use std::time::{Duration, Instant};

use toro_sync_redis::{Client, Error};

fn redis_server() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|p| p.is_file())
        .expect(
            "redis-server is not on PATH; these tests need a real Redis (7.0 or newer). \
             Install it with `apt-get install redis-server` (Debian/Ubuntu).",
        )
}

/// Spawns a persistent server (killed with this process), returns its pid.
fn spawn(port: u16, dir: &Path) -> u32 {
    let binary = redis_server();
    let dir = dir.to_path_buf();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut command = Command::new(binary);
        command
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(&dir)
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
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
        let mut child = command.spawn().expect("spawn redis-server");
        tx.send(child.id()).unwrap();
        let _ = child.wait();
        loop {
            std::thread::park();
        }
    });
    rx.recv().unwrap()
}

fn ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut buf).is_ok()
        && &buf == b"+PONG\r\n"
}

fn wait_ping(port: u16) {
    let end = Instant::now() + Duration::from_secs(20);
    while !ping(port) {
        assert!(Instant::now() < end, "redis-server does not answer");
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn connect(url: &str) -> Client {
    Client::builder(url)
        .lease(Duration::from_millis(500))
        .recheck_interval(Duration::from_millis(100))
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_puts_survive_a_redis_crash_with_aof() {
    const PER: u32 = 300;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = std::env::temp_dir().join(format!("toro-redis-aof-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pid = spawn(port, &dir);
    wait_ping(port);
    let url = format!("redis://127.0.0.1:{port}");
    let name = "aof-queue";

    let acked = Arc::new(StdMutex::new(Vec::new()));
    let delivered = Arc::new(StdMutex::new(Vec::new()));
    let mut producers = Vec::new();
    for p in 0..2u32 {
        let client = connect(&url).await;
        let acked = acked.clone();
        producers.push(tokio::spawn(async move {
            let q = client.queue::<u32>(name);
            for i in p * PER..(p + 1) * PER {
                let mut item = i;
                // A put that fails gives the item back: put it again (at-least-once).
                loop {
                    match q.put(item).deadline(Duration::from_secs(2)).await {
                        Ok(()) => break,
                        Err(e) => item = e.into_inner(),
                    }
                }
                acked.lock().unwrap().push(i);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    let mut consumers = Vec::new();
    for _ in 0..2 {
        let client = connect(&url).await;
        let delivered = delivered.clone();
        consumers.push(tokio::spawn(async move {
            let q = client.queue::<u32>(name);
            loop {
                match q.get().deadline(Duration::from_secs(2)).await {
                    Ok(d) => {
                        delivered.lock().unwrap().push((*d, d.attempt()));
                        // A failed done: the item comes again after its lease.
                        let _ = d.task_done().await;
                    }
                    Err(Error::Closed) => break,
                    Err(_) => {}
                }
            }
        }));
    }

    // Mid-run: SIGKILL, then a restart on the same port and directory (the AOF is replayed).
    while acked.lock().unwrap().len() < 200 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let acked_at_kill = acked.lock().unwrap().len();
    // SAFETY: kill on the pid of the server this test spawned.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }
    let restart_dir = dir.clone();
    let new_pid = tokio::task::spawn_blocking(move || {
        let dir = restart_dir;
        while ping(port) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(300));
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let pid = spawn(port, &dir);
            let up = Instant::now() + Duration::from_secs(3);
            while Instant::now() < up && !ping(port) {
                std::thread::sleep(Duration::from_millis(20));
            }
            if ping(port) {
                break pid;
            }
            assert!(Instant::now() < end, "could not restart redis-server");
        }
    })
    .await
    .unwrap();

    for p in producers {
        p.await.unwrap();
    }
    let client = connect(&url).await;
    let q = client.queue::<u32>(name);
    q.join().deadline(Duration::from_secs(60)).await.unwrap();
    q.close().await.unwrap();
    for c in consumers {
        tokio::time::timeout(Duration::from_secs(30), c)
            .await
            .expect("consumers end after close")
            .unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let delivered = delivered.lock().unwrap().clone();
    assert_eq!(acked.len() as u32, 2 * PER);
    let seen: std::collections::HashSet<u32> = delivered.iter().map(|(i, _)| *i).collect();
    let lost: Vec<u32> = acked
        .iter()
        .copied()
        .filter(|i| !seen.contains(i))
        .collect();
    assert!(
        lost.is_empty(),
        "acknowledged items never delivered: {lost:?}"
    );
    let redelivered = delivered.iter().filter(|(_, a)| *a > 1).count();
    let duplicates = delivered.len() - seen.len();
    eprintln!(
        "{} acked ({acked_at_kill} before the kill), {} deliveries, {redelivered} redeliveries, {duplicates} duplicates",
        acked.len(),
        delivered.len()
    );
    assert_eq!(q.unfinished_tasks().await.unwrap(), 0);

    // A put that cannot reach Redis gives its item back; a get fails retryably or by deadline.
    // SAFETY: kill on the pid of the server this test spawned.
    unsafe {
        libc::kill(new_pid as i32, libc::SIGKILL);
    }
    while ping(port) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let q = client.queue::<u32>("aof-down");
    let err = q
        .put(7)
        .deadline(Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(err.is_timeout() || err.error.is_retryable(), "{err:?}");
    assert_eq!(err.item, 7);
    let err = q
        .get()
        .deadline(Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(err.is_timeout() || err.is_retryable(), "{err:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
