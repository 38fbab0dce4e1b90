//! The crawl across processes on a real `redis-server` (started by each test on a free
//! loopback port): the spider binary as parent, its worker processes, the generated
//! 2,000-page site. These tests need `redis-server` on PATH and fail (never skip) without it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use toro_spider::distributed::{LocalRedis, redis_server_on_path};

const SPIDER: &str = env!("CARGO_BIN_EXE_toro-spider");
const TEST_DEADLINE: Duration = Duration::from_secs(55);

fn redis() -> LocalRedis {
    assert!(
        redis_server_on_path(),
        "these tests need redis-server on PATH: `apt-get install redis-server`"
    );
    LocalRedis::start().unwrap_or_else(|e| panic!("{e}"))
}

/// The number of keys in the server's database 0 (RESP by hand: `DBSIZE`).
fn dbsize(redis: &LocalRedis) -> u64 {
    let mut conn = TcpStream::connect(("127.0.0.1", redis.port())).unwrap();
    conn.write_all(b"*1\r\n$6\r\nDBSIZE\r\n").unwrap();
    let mut reply = [0u8; 64];
    let n = conn.read(&mut reply).unwrap();
    let reply = std::str::from_utf8(&reply[..n]).unwrap();
    reply.trim().trim_start_matches(':').parse().unwrap()
}

/// A running spider parent, its stdout lines arriving on a channel (and echoed for the log).
struct Spider {
    child: std::process::Child,
    lines: mpsc::Receiver<String>,
    output: Vec<String>,
    started: Instant,
}

impl Spider {
    fn start(args: &[&str]) -> Spider {
        let mut child = Command::new(SPIDER)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the spider");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                println!("| {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Spider {
            child,
            lines,
            output: Vec::new(),
            started: Instant::now(),
        }
    }

    /// The next line of output, or `None` at the end of it; panics past the test's deadline.
    fn next_line(&mut self) -> Option<String> {
        let left = TEST_DEADLINE.saturating_sub(self.started.elapsed());
        match self.lines.recv_timeout(left) {
            Ok(line) => {
                self.output.push(line.clone());
                Some(line)
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = self.child.kill(); // its workers stop when their stdin closes
                panic!("the spider ran longer than {TEST_DEADLINE:?}");
            }
        }
    }

    /// Reads the rest of the output and waits for the exit.
    fn finish(mut self) -> (ExitStatus, Vec<String>) {
        while self.next_line().is_some() {}
        let status = self.child.wait().unwrap();
        (status, self.output)
    }
}

/// The summary line's `N redeliveries` and `URLs per worker [1: a, 2: b, ...]`.
fn parse_summary(output: &[String]) -> (u64, Vec<(usize, usize)>) {
    let summary = output
        .iter()
        .find(|l| l.starts_with("summary:"))
        .expect("a summary line");
    let redeliveries = summary
        .split("; ")
        .find_map(|part| part.strip_suffix(" redeliveries"))
        .expect("redeliveries in the summary")
        .parse()
        .unwrap();
    let per_worker = summary
        .split_once("URLs per worker [")
        .and_then(|(_, rest)| rest.strip_suffix(']'))
        .expect("per-worker counts in the summary")
        .split(", ")
        .map(|entry| {
            let (id, n) = entry.split_once(": ").unwrap();
            (id.parse().unwrap(), n.parse().unwrap())
        })
        .collect();
    (redeliveries, per_worker)
}

fn assert_checked(output: &[String]) {
    assert!(
        output
            .iter()
            .any(|l| l.starts_with("check: all")
                && l.contains("reachable pages fetched exactly once")),
        "the crawl matches the site"
    );
    assert!(
        output.iter().any(|l| l == "permits: all 32 back"),
        "every permit back"
    );
    assert!(
        output
            .iter()
            .any(|l| l.contains("join returned: every URL found was fetched")),
        "join returned"
    );
}

#[test]
fn four_worker_processes_record_every_reachable_page_exactly_once() {
    let redis = redis();
    let url = redis.url();
    let spider = Spider::start(&["--redis", &url, "--workers", "4"]);
    let started = spider.started;
    let (status, output) = spider.finish();
    println!("took {:?}", started.elapsed());
    assert!(status.success(), "the spider failed: {status}");
    assert_checked(&output);
    let (redeliveries, per_worker) = parse_summary(&output);
    assert_eq!(redeliveries, 0, "no worker died: nothing redelivered");
    assert_eq!(
        per_worker.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [1, 2, 3, 4],
        "every worker recorded URLs"
    );
    assert!(per_worker.iter().all(|&(_, n)| n > 0));
    // Without redeliveries, the server saw each reachable page exactly once (the check says
    // so, with no page requested again).
    assert!(!output.iter().any(|l| l.contains("requested again")));
    assert_eq!(dbsize(&redis), 0, "the run's keys are deleted");
}

#[test]
fn a_worker_killed_mid_crawl_changes_nothing() {
    let redis = redis();
    let url = redis.url();
    let mut spider = Spider::start(&[
        "--redis",
        &url,
        "--workers",
        "4",
        "--lease-ms",
        "500",
        "--progress-ms",
        "100",
    ]);

    // Wait until worker 2 is well into the crawl with fetches in flight, then kill -9 it.
    let victim = 2;
    let mut pid = None;
    let killed_at = loop {
        let line = spider
            .next_line()
            .expect("the spider ended before worker 2 was seen mid-crawl");
        if let Some(rest) = line.strip_prefix(&format!("started worker {victim} (pid ")) {
            pid = Some(rest.trim_end_matches(')').to_owned());
        }
        let Some(progress) = line.strip_prefix(&format!("[worker {victim}] ")) else {
            continue;
        };
        // "[  1.2 s] 86 fetched, 7 in flight: ..."
        let numbers: Vec<u64> = progress
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let (fetched, in_flight) = (numbers[2], numbers[3]);
        if fetched >= 100 && in_flight >= 3 {
            let pid = pid.as_deref().expect("worker 2's pid was printed");
            let status = Command::new("kill").args(["-9", pid]).status().unwrap();
            assert!(status.success(), "kill -9 {pid}");
            println!("killed worker {victim} (pid {pid}) with {in_flight} fetches in flight");
            break Instant::now();
        }
    };

    let (status, output) = spider.finish();
    println!("the crawl ended {:?} after the kill", killed_at.elapsed());
    assert!(status.success(), "the spider failed: {status}");
    assert!(
        output
            .iter()
            .any(|l| l.starts_with(&format!("worker {victim} was killed"))),
        "the parent saw worker {victim} die"
    );
    assert_checked(&output);
    let (redeliveries, per_worker) = parse_summary(&output);
    assert!(
        redeliveries >= 1,
        "the killed worker's URLs were redelivered"
    );
    println!("{redeliveries} redeliveries; per worker {per_worker:?}");
    assert_eq!(dbsize(&redis), 0, "the run's keys are deleted");
}

#[test]
fn local_redis_without_redis_server_says_how_to_install_it() {
    let output = Command::new(SPIDER)
        .args(["--local-redis", "--pages", "10"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("apt-get install redis-server"),
        "stderr: {stderr}"
    );
}

/// The window a kill can hit between claiming a link (`HSETNX visited`) and putting it: the
/// first attempt at page 0 claims its links and dies before putting any (simulated: claims
/// written by hand, the delivery given back). The redelivered page puts them again, so the
/// crawl is still complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_redelivered_after_claiming_its_links_puts_them_again() {
    use toro_spider::crawl::extract_links;
    use toro_spider::distributed::{
        Coordinator, QUEUE, SpiderKeys, WorkerConfig, fresh_prefix, run_worker,
    };
    use toro_spider::site::{self, Site, SiteConfig};

    let redis = redis();
    let url = redis.url();
    let mut config = SiteConfig::new(300, 42);
    config.slow_delay = Duration::from_secs(60);
    let site = std::sync::Arc::new(Site::generate(config));
    let reach = site.reachable();
    let server = site::serve(site.clone()).await.unwrap();
    let start = reqwest::Url::parse(&server.start_url()).unwrap();

    let prefix = fresh_prefix();
    let lease = Duration::from_secs(5);
    let coordinator = Coordinator::connect(&url, &prefix, 4, lease).await.unwrap();
    coordinator.seed(&start).await.unwrap();

    // The first attempt: taken, links claimed for page 0, then given back unfinished.
    let client = toro_sync_redis::Client::builder(&url)
        .prefix(&prefix)
        .connect()
        .await
        .unwrap();
    let queue = client.queue::<String>(QUEUE);
    let first = queue.get().await.unwrap();
    assert_eq!((first.attempt(), first.item()), (1, &start.to_string()));
    let keys = SpiderKeys::new(&prefix);
    let mut raw = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: i64 = redis::cmd("SADD")
        .arg(keys.taken())
        .arg(start.as_str())
        .query_async(&mut raw)
        .await
        .unwrap();
    let links = extract_links(&start, &site.render(0));
    let mut claimed = 0;
    for link in links.iter().filter(|l| l.origin() == start.origin()) {
        let new: i64 = redis::cmd("HSETNX")
            .arg(keys.visited())
            .arg(link.as_str())
            .arg(start.as_str())
            .query_async(&mut raw)
            .await
            .unwrap();
        claimed += new;
    }
    assert!(claimed >= 3, "page 0's children are claimed: {claimed}");
    first.retry().await.unwrap();

    let worker = tokio::spawn(run_worker(WorkerConfig {
        id: 1,
        redis_url: url.clone(),
        prefix: prefix.clone(),
        start: start.clone(),
        concurrency: 4,
        lease,
        fetch_timeout: Duration::from_secs(2),
        max_urls: None,
    }));
    let started = Instant::now();
    coordinator.join(Duration::from_secs(40)).await.unwrap();
    coordinator.close().await.unwrap();
    worker.await.unwrap().unwrap();
    let report = coordinator.report(started.elapsed(), true).await.unwrap();
    println!("{}", report.summary());
    assert_eq!(report.redeliveries, 1, "page 0 was delivered twice");
    assert_eq!(report.report.pages, reach.pages.len(), "pages");
    assert_eq!(report.report.timeouts, reach.slow.len(), "timeouts");
    assert_eq!(report.report.not_found, reach.missing.len(), "404s");
    assert_eq!(report.report.errors, 0);
    assert_eq!(report.dead_letters, 0);
    for i in 0..site.pages.len() {
        let expected = reach.pages.contains(&i) || reach.slow.contains(&i);
        assert_eq!(server.hits().page(i), u32::from(expected), "page {i}");
    }
    drop((queue, client));
    coordinator.cleanup().await.unwrap();
    assert_eq!(dbsize(&redis), 0, "the run's keys are deleted");
}
