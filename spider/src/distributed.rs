//! The crawl across processes, on Redis: `toro-spider --redis URL --workers N` (or
//! `--local-redis`).
//!
//! The parent process serves the site, [seeds](Coordinator::seed) the queue and starts `N`
//! worker processes (the spider binary again, with a hidden `--worker` flag), each running
//! [`run_worker`]. What the single-process crawl keeps in memory lives in Redis, under a key
//! prefix fresh for each run:
//!
//! * the URL queue: a toro-sync-redis [`Queue<String>`] (`urls`). A worker's
//!   [`Delivery`] is a lease renewed while the worker lives; a worker that dies loses its
//!   items only until the lease runs out, then they are delivered again (`attempt() > 1`).
//!   The parent's [`Queue::join`] returns once every URL put was done.
//! * the cap on fetches in flight, across all workers: a toro-sync-redis [`Semaphore`]
//!   (`fetches`), each permit a lease too, so a dead worker's permits come back.
//! * the visited set and the crawl's record: plain Redis keys under the same prefix, with
//!   their own hash tag (`<prefix>{spider}:…`), written with the `redis` crate on a
//!   connection of the spider's own (toro-sync-redis does not expose its connection, and has
//!   no set primitive). See [`SpiderKeys`].
//!
//! # At least once, recorded once
//!
//! A delivery can be processed twice: its worker may die after fetching, after putting some of
//! the page's links, or after recording it. Each step is made safe to repeat:
//!
//! * **Links.** `HSETNX visited <link> <page>` claims a link for the page that found it; only
//!   the claimant puts it. A redelivered page puts again the links it had claimed (its first
//!   attempt may have died between claim and put), which can put a link twice.
//! * **Duplicates.** A first delivery (`attempt() == 1`) starts with `SADD taken <url>`; a URL
//!   already taken is a duplicate put and is only marked done.
//! * **Record.** `HSETNX fetched <url> <worker>|<outcome>` records each URL once. A
//!   redelivered URL that is already recorded was fully processed (the record comes last) and
//!   is only marked done, without being fetched again.
//!
//! So every reachable URL is recorded exactly once, whatever dies when. A page whose worker
//! died while fetching it is fetched again (the server sees it twice); the summary counts the
//! redeliveries.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use reqwest::Url;
use tokio::task::JoinSet;
use toro_sync_redis::{Client, Delivery, Error, Queue, Semaphore, SemaphorePermit};

use crate::crawl::{self, Fetched, Outcome, Report};

/// The name of the URL queue.
pub const QUEUE: &str = "urls";
/// The name of the semaphore capping the fetches in flight.
pub const SEMAPHORE: &str = "fetches";
/// The name of the event the parent sets when the crawl deadline passes: workers stop
/// taking URLs (the single-process crawl aborts its dispatcher).
pub const STOP: &str = "stop";
/// The environment variable that passes the Redis URL to a worker process (not its command
/// line, where a password would show in the process list).
pub const REDIS_URL_ENV: &str = "TORO_SPIDER_REDIS_URL";

/// What to say when `redis-server` is missing.
pub const NO_REDIS_SERVER: &str = "redis-server is not on PATH: install it \
    (`apt-get install redis-server`) or pass --redis URL";

/// A fresh key prefix for one run: `toro-spider:<pid>:<nanos>:`.
pub fn fresh_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("toro-spider:{}:{nanos}:", std::process::id())
}

/// The spider's own keys (besides those of the queue and the semaphore), all under the run's
/// prefix with the hash tag `{spider}`.
#[derive(Clone, Debug)]
pub struct SpiderKeys {
    prefix: String,
}

impl SpiderKeys {
    /// The keys under `prefix`.
    pub fn new(prefix: &str) -> Self {
        SpiderKeys {
            prefix: prefix.to_owned(),
        }
    }

    fn key(&self, suffix: &str) -> String {
        format!("{}{{spider}}:{suffix}", self.prefix)
    }

    /// Hash: every URL ever put (or refused by the URL budget) → the page that found it.
    pub fn visited(&self) -> String {
        self.key("visited")
    }

    /// Set: URLs whose first delivery was taken by a worker.
    pub fn taken(&self) -> String {
        self.key("taken")
    }

    /// Hash: every URL processed → `<worker>|<outcome>`.
    pub fn fetched(&self) -> String {
        self.key("fetched")
    }

    /// Counter: URLs put.
    pub fn discovered(&self) -> String {
        self.key("discovered")
    }

    /// Counter: deliveries with `attempt() > 1`.
    pub fn redeliveries(&self) -> String {
        self.key("redeliveries")
    }

    /// Hash: worker `id`'s progress counters, written by the worker a few times a second.
    pub fn worker(&self, id: usize) -> String {
        self.key(&format!("worker:{id}"))
    }
}

fn redis_error(what: &str) -> impl Fn(redis::RedisError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn toro_error(what: &str) -> impl Fn(Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

async fn raw_connection(url: &str) -> Result<MultiplexedConnection, String> {
    redis::Client::open(url)
        .map_err(redis_error("bad Redis URL"))?
        .get_multiplexed_async_connection()
        .await
        .map_err(redis_error("cannot connect to Redis"))
}

async fn connect(url: &str, prefix: &str, lease: Duration) -> Result<Client, String> {
    Client::builder(url)
        .prefix(prefix)
        .lease(lease)
        // Workers waiting on an empty queue learn of its close within this.
        .recheck_interval(Duration::from_millis(250))
        .connect()
        .await
        .map_err(toro_error("cannot connect to Redis"))
}

fn encode(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Page => "page".into(),
        Outcome::NotFound => "404".into(),
        Outcome::Timeout => "timeout".into(),
        Outcome::Error(e) => format!("error:{e}"),
    }
}

fn decode(outcome: &str) -> Outcome {
    match outcome {
        "page" => Outcome::Page,
        "404" => Outcome::NotFound,
        "timeout" => Outcome::Timeout,
        other => Outcome::Error(other.strip_prefix("error:").unwrap_or(other).to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// The parent's side.

/// The parent's handles on a run's Redis state.
pub struct Coordinator {
    client: Client,
    raw: MultiplexedConnection,
    keys: SpiderKeys,
    prefix: String,
    queue: Queue<String>,
    semaphore: Semaphore,
    permits: u64,
}

/// One worker's progress, as it last wrote it.
#[derive(Clone, Debug, Default)]
pub struct WorkerProgress {
    /// Successful fetches recorded.
    pub pages: u64,
    /// 404s recorded.
    pub not_found: u64,
    /// Other errors recorded.
    pub errors: u64,
    /// Timeouts recorded.
    pub timeouts: u64,
    /// Deliveries it is working on.
    pub in_flight: u64,
    /// Redelivered items it received.
    pub redeliveries: u64,
}

impl WorkerProgress {
    /// URLs recorded.
    pub fn done(&self) -> u64 {
        self.pages + self.not_found + self.errors + self.timeouts
    }

    /// One line: what is done and in flight.
    pub fn line(&self) -> String {
        format!(
            "{} fetched, {} in flight: {} pages, {} 404s, {} other errors, {} timeouts, {} redelivered to it",
            self.done(),
            self.in_flight,
            self.pages,
            self.not_found,
            self.errors,
            self.timeouts,
            self.redeliveries
        )
    }
}

/// What a crawl across processes did, read back from Redis.
#[derive(Debug)]
pub struct DistributedReport {
    /// As the single-process crawl's, from the record in Redis.
    pub report: Report,
    /// URLs recorded per worker id.
    pub per_worker: BTreeMap<usize, usize>,
    /// Deliveries with `attempt() > 1`.
    pub redeliveries: u64,
    /// Items left in the queue's dead letters (0 in a good crawl).
    pub dead_letters: usize,
}

impl DistributedReport {
    /// The summary line: the single-process one, then the redeliveries and the URLs recorded
    /// per worker.
    pub fn summary(&self) -> String {
        let workers: Vec<String> = self
            .per_worker
            .iter()
            .map(|(id, n)| format!("{id}: {n}"))
            .collect();
        format!(
            "{}; {} redeliveries; URLs per worker [{}]",
            self.report.summary(),
            self.redeliveries,
            workers.join(", ")
        )
    }
}

impl Coordinator {
    /// Connects, and opens (creating) the queue and the semaphore of `permits` permits.
    ///
    /// # Errors
    ///
    /// If Redis cannot be reached, or a primitive exists with other parameters.
    pub async fn connect(
        url: &str,
        prefix: &str,
        permits: u64,
        lease: Duration,
    ) -> Result<Self, String> {
        let client = connect(url, prefix, lease).await?;
        let raw = raw_connection(url).await?;
        let queue = client
            .queue::<String>(QUEUE)
            .await
            .map_err(toro_error("cannot open the URL queue"))?;
        let semaphore = client
            .semaphore(SEMAPHORE, permits)
            .await
            .map_err(toro_error("cannot open the semaphore"))?;
        Ok(Coordinator {
            client,
            raw,
            keys: SpiderKeys::new(prefix),
            prefix: prefix.to_owned(),
            queue,
            semaphore,
            permits,
        })
    }

    /// Marks `start` visited and puts it on the queue.
    ///
    /// # Errors
    ///
    /// If Redis fails.
    pub async fn seed(&self, start: &Url) -> Result<(), String> {
        let mut raw = self.raw.clone();
        let _: i64 = redis::cmd("HSETNX")
            .arg(self.keys.visited())
            .arg(start.as_str())
            .arg("")
            .query_async(&mut raw)
            .await
            .map_err(redis_error("seed"))?;
        let _: i64 = redis::cmd("INCR")
            .arg(self.keys.discovered())
            .query_async(&mut raw)
            .await
            .map_err(redis_error("seed"))?;
        self.queue
            .put(start.to_string())
            .await
            .map_err(|e| format!("seed: {e}"))
    }

    /// Waits until every URL put was done (in any worker), for at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], or Redis failing.
    pub async fn join(&self, timeout: Duration) -> Result<(), Error> {
        self.queue.join().deadline(timeout).await
    }

    /// Tells the workers to stop taking URLs (the crawl deadline passed).
    ///
    /// # Errors
    ///
    /// If Redis fails.
    pub async fn stop(&self) -> Result<(), String> {
        self.client
            .event(STOP)
            .set()
            .await
            .map_err(toro_error("cannot stop the workers"))
    }

    /// Closes the queue: workers waiting for a URL stop.
    ///
    /// # Errors
    ///
    /// If Redis fails.
    pub async fn close(&self) -> Result<(), String> {
        self.queue
            .close()
            .await
            .map_err(toro_error("cannot close the queue"))
    }

    /// URLs put so far.
    ///
    /// # Errors
    ///
    /// If Redis fails.
    pub async fn discovered(&self) -> Result<u64, String> {
        let mut raw = self.raw.clone();
        let n: Option<u64> = redis::cmd("GET")
            .arg(self.keys.discovered())
            .query_async(&mut raw)
            .await
            .map_err(redis_error("progress"))?;
        Ok(n.unwrap_or(0))
    }

    /// Worker `id`'s progress as it last wrote it.
    ///
    /// # Errors
    ///
    /// If Redis fails.
    pub async fn progress(&self, id: usize) -> Result<WorkerProgress, String> {
        let mut raw = self.raw.clone();
        let fields: HashMap<String, u64> = redis::cmd("HGETALL")
            .arg(self.keys.worker(id))
            .query_async(&mut raw)
            .await
            .map_err(redis_error("progress"))?;
        let get = |name: &str| fields.get(name).copied().unwrap_or(0);
        Ok(WorkerProgress {
            pages: get("pages"),
            not_found: get("not_found"),
            errors: get("errors"),
            timeouts: get("timeouts"),
            in_flight: get("in_flight"),
            redeliveries: get("redeliveries"),
        })
    }

    /// Waits (up to `timeout`) until every permit of the semaphore is free again: the
    /// permits of a killed worker come back when their leases run out. Returns the free
    /// permits at the end.
    ///
    /// # Errors
    ///
    /// If Redis fails.
    pub async fn permits_back(&self, timeout: Duration) -> Result<u64, String> {
        let until = Instant::now() + timeout;
        loop {
            let free = self
                .semaphore
                .available()
                .await
                .map_err(toro_error("semaphore"))?;
            if free >= self.permits || Instant::now() >= until {
                return Ok(free);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The crawl as recorded in Redis. `elapsed` and `finished` are the parent's.
    ///
    /// # Errors
    ///
    /// If Redis fails, or a recorded URL does not parse.
    pub async fn report(
        &self,
        elapsed: Duration,
        finished: bool,
    ) -> Result<DistributedReport, String> {
        let mut raw = self.raw.clone();
        let records: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(self.keys.fetched())
            .query_async(&mut raw)
            .await
            .map_err(redis_error("read the record"))?;
        let redeliveries: Option<u64> = redis::cmd("GET")
            .arg(self.keys.redeliveries())
            .query_async(&mut raw)
            .await
            .map_err(redis_error("read the record"))?;
        let mut fetched = Vec::with_capacity(records.len());
        let mut per_worker = BTreeMap::new();
        for (url, value) in records {
            let url = Url::parse(&url).map_err(|e| format!("recorded URL {url:?}: {e}"))?;
            let (worker, outcome) = value.split_once('|').unwrap_or(("0", &value));
            *per_worker.entry(worker.parse().unwrap_or(0)).or_default() += 1;
            fetched.push((url, decode(outcome)));
        }
        let count = |f: fn(&Outcome) -> bool| fetched.iter().filter(|(_, o)| f(o)).count();
        let report = Report {
            pages: count(|o| matches!(o, Outcome::Page)),
            not_found: count(|o| matches!(o, Outcome::NotFound)),
            errors: count(|o| matches!(o, Outcome::Error(_))),
            timeouts: count(|o| matches!(o, Outcome::Timeout)),
            elapsed,
            finished,
            fetched,
        };
        let dead_letters = self
            .queue
            .dead_letters()
            .await
            .map_err(toro_error("read the dead letters"))?
            .len();
        Ok(DistributedReport {
            report,
            per_worker,
            redeliveries: redeliveries.unwrap_or(0),
            dead_letters,
        })
    }

    /// Deletes every key of the run (everything under its prefix). Returns how many.
    ///
    /// # Errors
    ///
    /// If Redis fails.
    pub async fn cleanup(&self) -> Result<usize, String> {
        delete_prefix(&mut self.raw.clone(), &self.prefix).await
    }

    /// The client's handle (for its id in messages).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Deletes every key under `prefix` (SCAN, then DEL); returns how many.
async fn delete_prefix(raw: &mut MultiplexedConnection, prefix: &str) -> Result<usize, String> {
    let pattern = format!("{}*", glob_escape(prefix));
    let mut deleted = 0;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(raw)
            .await
            .map_err(redis_error("delete the run's keys"))?;
        if !keys.is_empty() {
            let n: usize = redis::cmd("DEL")
                .arg(&keys)
                .query_async(raw)
                .await
                .map_err(redis_error("delete the run's keys"))?;
            deleted += n;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}

fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A worker process.

/// What a worker process needs.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Its id, from 1: in its progress line and its records.
    pub id: usize,
    /// The Redis server.
    pub redis_url: String,
    /// The run's key prefix.
    pub prefix: String,
    /// The crawl's start: only links to its scheme, host and port are followed.
    pub start: Url,
    /// The permits of the shared semaphore: the most fetches in flight over all workers.
    pub concurrency: u64,
    /// The lease of its deliveries and permits.
    pub lease: Duration,
    /// The deadline of each fetch.
    pub fetch_timeout: Duration,
    /// The most URLs to put, over all workers (`None`: no limit).
    pub max_urls: Option<u64>,
}

#[derive(Default)]
struct Counters {
    pages: AtomicU64,
    not_found: AtomicU64,
    errors: AtomicU64,
    timeouts: AtomicU64,
    in_flight: AtomicU64,
    redeliveries: AtomicU64,
}

impl Counters {
    fn fields(&self) -> [(&'static str, u64); 6] {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            ("pages", get(&self.pages)),
            ("not_found", get(&self.not_found)),
            ("errors", get(&self.errors)),
            ("timeouts", get(&self.timeouts)),
            ("in_flight", get(&self.in_flight)),
            ("redeliveries", get(&self.redeliveries)),
        ]
    }
}

struct Worker {
    config: WorkerConfig,
    keys: SpiderKeys,
    queue: Queue<String>,
    raw: MultiplexedConnection,
    http: reqwest::Client,
    counters: Counters,
}

/// Runs a worker: takes a permit, then a URL, and processes it in a task of its own, until
/// the queue is closed and drained; then waits for its tasks and writes its progress a last
/// time.
///
/// # Errors
///
/// If Redis cannot be reached (or fails for longer than the primitives retry), or the HTTP
/// client cannot be built.
pub async fn run_worker(config: WorkerConfig) -> Result<(), String> {
    let client = connect(&config.redis_url, &config.prefix, config.lease).await?;
    let raw = raw_connection(&config.redis_url).await?;
    let queue = client.queue::<String>(QUEUE).lease(config.lease);
    let semaphore = client
        .semaphore(SEMAPHORE, config.concurrency)
        .with_lease(config.lease);
    let http = crawl::http_client(&config.start, config.concurrency as usize)
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let worker = Arc::new(Worker {
        keys: SpiderKeys::new(&config.prefix),
        config,
        queue,
        raw,
        http,
        counters: Counters::default(),
    });

    let reporter = tokio::spawn({
        let worker = worker.clone();
        async move {
            loop {
                let _ = worker.write_progress().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let stop = client.event(STOP);
    let mut stopped = std::pin::pin!(stop.wait());
    let mut tasks = JoinSet::new();
    let outcome = loop {
        let permit = tokio::select! {
            biased;
            _ = &mut stopped => break Ok(()),
            permit = semaphore.acquire() => match permit {
                Ok(permit) => permit,
                Err(e) => break Err(format!("acquire a fetch permit: {e}")),
            },
        };
        let delivery = tokio::select! {
            biased;
            _ = &mut stopped => {
                let _ = permit.release().await;
                break Ok(());
            }
            delivery = worker.queue.get() => delivery,
        };
        match delivery {
            Ok(delivery) => {
                tasks.spawn(worker.clone().process(delivery, permit));
            }
            Err(e) => {
                // Returned now rather than in the background: the process is about to end.
                let _ = permit.release().await;
                match e {
                    Error::Closed => break Ok(()), // closed and drained: the crawl is over
                    e => break Err(format!("get a URL: {e}")),
                }
            }
        }
        while tasks.try_join_next().is_some() {}
    };
    while tasks.join_next().await.is_some() {}
    reporter.abort();
    let _ = reporter.await;
    worker.write_progress().await?;
    outcome
}

/// Decrements a counter when dropped.
struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Worker {
    async fn write_progress(&self) -> Result<(), String> {
        let mut raw = self.raw.clone();
        let mut cmd = redis::cmd("HSET");
        cmd.arg(self.keys.worker(self.config.id));
        for (field, value) in self.counters.fields() {
            cmd.arg(field).arg(value);
        }
        cmd.query_async::<()>(&mut raw)
            .await
            .map_err(redis_error("write the progress"))
    }

    /// Processes one delivery, and returns the permit. On a Redis error the delivery is
    /// dropped, which gives the URL back to the queue.
    async fn process(self: Arc<Self>, delivery: Delivery<String>, permit: SemaphorePermit) {
        self.counters.in_flight.fetch_add(1, Ordering::Relaxed);
        let _in_flight = InFlight(&self.counters.in_flight);
        let url = delivery.item().clone();
        if let Err(e) = self.try_process(delivery).await {
            eprintln!("[worker {}] {url}: {e} (given back)", self.config.id);
        }
        let _ = permit.release().await;
    }

    async fn try_process(&self, delivery: Delivery<String>) -> Result<(), String> {
        let mut raw = self.raw.clone();
        let keys = &self.keys;
        let url_text = delivery.item().clone();
        let attempt = delivery.attempt();
        if attempt > 1 {
            self.counters.redeliveries.fetch_add(1, Ordering::Relaxed);
            let _: u64 = redis::cmd("INCR")
                .arg(keys.redeliveries())
                .query_async(&mut raw)
                .await
                .map_err(redis_error("count a redelivery"))?;
            let recorded: bool = redis::cmd("HEXISTS")
                .arg(keys.fetched())
                .arg(&url_text)
                .query_async(&mut raw)
                .await
                .map_err(redis_error("check the record"))?;
            if recorded {
                // Fully processed before its worker died: only the task_done was missing.
                return self.done(delivery).await;
            }
        } else {
            let first: bool = redis::cmd("SADD")
                .arg(keys.taken())
                .arg(&url_text)
                .query_async(&mut raw)
                .await
                .map_err(redis_error("take the URL"))?;
            if !first {
                // A second put of a URL (a redelivered page puts its links again).
                return self.done(delivery).await;
            }
        }

        let url = Url::parse(&url_text).map_err(|e| format!("bad URL on the queue: {e}"))?;
        let outcome = match crawl::fetch(&self.http, url, self.config.fetch_timeout).await {
            Fetched::Page(links) => {
                for link in links {
                    self.enqueue(&mut raw, link.as_str(), &url_text, attempt > 1)
                        .await?;
                }
                Outcome::Page
            }
            Fetched::NotFound => Outcome::NotFound,
            Fetched::Error(message) => Outcome::Error(message),
            Fetched::Timeout => Outcome::Timeout,
        };

        let recorded: bool = redis::cmd("HSETNX")
            .arg(keys.fetched())
            .arg(&url_text)
            .arg(format!("{}|{}", self.config.id, encode(&outcome)))
            .query_async(&mut raw)
            .await
            .map_err(redis_error("record the fetch"))?;
        if recorded {
            let counter = match outcome {
                Outcome::Page => &self.counters.pages,
                Outcome::NotFound => &self.counters.not_found,
                Outcome::Error(_) => &self.counters.errors,
                Outcome::Timeout => &self.counters.timeouts,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.done(delivery).await
    }

    async fn done(&self, delivery: Delivery<String>) -> Result<(), String> {
        delivery
            .task_done()
            .await
            .map(drop)
            .map_err(toro_error("task_done"))
    }

    /// Puts `link`, found on `page`, unless it was visited; on a redelivered page, also the
    /// links this page had claimed (their put may have been lost with the worker).
    async fn enqueue(
        &self,
        raw: &mut MultiplexedConnection,
        link: &str,
        page: &str,
        redelivered: bool,
    ) -> Result<(), String> {
        let keys = &self.keys;
        let claimed: bool = redis::cmd("HSETNX")
            .arg(keys.visited())
            .arg(link)
            .arg(page)
            .query_async(raw)
            .await
            .map_err(redis_error("visit a link"))?;
        if claimed {
            let n: u64 = redis::cmd("INCR")
                .arg(keys.discovered())
                .query_async(raw)
                .await
                .map_err(redis_error("count a link"))?;
            if self.config.max_urls.is_some_and(|max| n > max) {
                // Over the URL budget: visited, never put (and never put again).
                let _: () = redis::cmd("HSET")
                    .arg(keys.visited())
                    .arg(link)
                    .arg("")
                    .query_async(raw)
                    .await
                    .map_err(redis_error("visit a link"))?;
                return Ok(());
            }
        } else if redelivered {
            let owner: Option<String> = redis::cmd("HGET")
                .arg(keys.visited())
                .arg(link)
                .query_async(raw)
                .await
                .map_err(redis_error("visit a link"))?;
            if owner.as_deref() != Some(page) {
                return Ok(());
            }
        } else {
            return Ok(());
        }
        match self.queue.put(link.to_owned()).await {
            Ok(()) => Ok(()),
            // The crawl is over (its deadline passed): the link stays unfetched.
            Err(e) if e.is_closed() => Ok(()),
            Err(e) => Err(format!("put {link}: {e}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A private redis-server.

/// Whether `redis-server` is on `PATH`.
pub fn redis_server_on_path() -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join("redis-server").is_file())
    })
}

/// A `redis-server` of our own on a free 127.0.0.1 port, in a temporary directory, without
/// persistence; stopped (and its directory removed) when dropped.
pub struct LocalRedis {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl LocalRedis {
    /// Starts one and waits until it accepts connections.
    ///
    /// # Errors
    ///
    /// [`NO_REDIS_SERVER`] if `redis-server` is not on `PATH`; otherwise why it did not
    /// start.
    pub fn start() -> Result<Self, String> {
        if !redis_server_on_path() {
            return Err(NO_REDIS_SERVER.to_owned());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port on 127.0.0.1: {e}"))?
            .port();
        let dir =
            std::env::temp_dir().join(format!("toro-spider-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            .args(["--maxmemory-policy", "noeviction"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server: {e}"))?;
        let mut server = LocalRedis { child, port, dir };
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("redis-server exited at start: {status}"));
            }
            if Instant::now() >= until {
                return Err("redis-server did not accept connections within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn kill(&mut self) -> io::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        std::fs::remove_dir_all(&self.dir)
    }
}

impl Drop for LocalRedis {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip() {
        for outcome in [
            Outcome::Page,
            Outcome::NotFound,
            Outcome::Timeout,
            Outcome::Error("HTTP 500 | odd: text".into()),
        ] {
            assert_eq!(decode(&encode(&outcome)), outcome);
        }
    }

    #[test]
    fn keys_share_the_prefix_and_one_hash_tag() {
        let keys = SpiderKeys::new("toro-spider:1:2:");
        for key in [keys.visited(), keys.taken(), keys.fetched(), keys.worker(3)] {
            assert!(key.starts_with("toro-spider:1:2:{spider}:"), "{key}");
        }
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        assert!(fresh_prefix().starts_with(&format!("toro-spider:{}:", std::process::id())));
    }
}
