//! `cargo run --release -p toro-spider`: serve a generated site on 127.0.0.1 and crawl it.
//!
//! With `--start-url URL`, crawl that site instead (same scheme, host and port only, at most
//! `--pages` URLs). `--help` lists every flag.
//!
//! With `--redis URL` (or `--local-redis`: a private `redis-server` for the run), crawl with
//! `--workers N` worker processes sharing the URL queue, the visited set and the cap on
//! fetches in flight in Redis (see `toro_spider::distributed`). A worker is this binary again
//! with the hidden `--worker ID` flag.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::MultiProgress;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Url;
use tokio::sync::{mpsc, oneshot};
use toro_spider::crawl::{CrawlConfig, Crawler, Outcome, Progress, Report};
use toro_spider::distributed::{self, Coordinator, LocalRedis, WorkerConfig};
use toro_spider::site::{self, Site, SiteConfig};
use toro_sync::Event;

/// Crawl a generated site (or any site) with toro-sync: a JoinableQueue of URLs, a
/// BoundedSemaphore capping the fetches in flight, a deadline on every fetch and on the crawl.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Fetches in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Pages of the generated site; with --start-url, the most URLs to fetch.
    #[arg(long, default_value_t = 2000)]
    pages: usize,
    /// Seed of the generated site.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Deadline of each fetch, in milliseconds. The generated site's slow pages take three
    /// times as long.
    #[arg(long, default_value_t = 1000)]
    fetch_timeout_ms: u64,
    /// Deadline of the whole crawl, in seconds.
    #[arg(long, default_value_t = 60)]
    crawl_timeout_s: u64,
    /// Crawl this site instead of the generated one (links to the same host only).
    #[arg(long)]
    start_url: Option<Url>,
    /// Crawl with --workers processes sharing the URL queue, the visited set and the cap on
    /// fetches in flight (--concurrency, over all workers) on the Redis server at this URL.
    #[arg(long, value_name = "URL", conflicts_with = "local_redis")]
    redis: Option<String>,
    /// As --redis, on a private redis-server (from PATH) started on a free 127.0.0.1 port for
    /// this run and stopped at its end.
    #[arg(long)]
    local_redis: bool,
    /// Worker processes, with --redis or --local-redis.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// With --redis or --local-redis: the lease of each URL a worker takes and of each fetch
    /// permit, in milliseconds. A worker that dies holds them this long at most.
    #[arg(long, default_value_t = 10_000)]
    lease_ms: u64,
    /// The interval of the plain progress lines, in milliseconds.
    #[arg(long, default_value_t = 1000, hide = true)]
    progress_ms: u64,
    /// Run as worker ID of a crawl on Redis (set by the parent process).
    #[arg(long, hide = true, value_name = "ID")]
    worker: Option<usize>,
    /// The key prefix of the crawl on Redis (set by the parent process).
    #[arg(long, hide = true)]
    prefix: Option<String>,
    /// The most URLs to put over all workers (set by the parent process).
    #[arg(long, hide = true)]
    max_urls: Option<u64>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.concurrency == 0 || args.pages == 0 || args.fetch_timeout_ms == 0 {
        eprintln!("error: --concurrency, --pages and --fetch-timeout-ms must be at least 1");
        return ExitCode::from(2);
    }
    let fetch_timeout = Duration::from_millis(args.fetch_timeout_ms);
    if let Some(id) = args.worker {
        return worker(id, &args).await;
    }
    let redis_mode = args.redis.is_some() || args.local_redis;
    if redis_mode && (args.workers == 0 || args.lease_ms < 10) {
        eprintln!("error: --workers must be at least 1 and --lease-ms at least 10");
        return ExitCode::from(2);
    }

    // The site: the generated one on loopback, or the one given.
    let mut generated = None;
    let (start, max_urls) = match args.start_url.clone() {
        Some(url) => {
            println!("crawling {url} (at most {} URLs)", args.pages);
            (url, Some(args.pages))
        }
        None => {
            let mut config = SiteConfig::new(args.pages, args.seed);
            config.slow_delay = fetch_timeout * 3;
            let site = Arc::new(Site::generate(config));
            let server = match site::serve(site.clone()).await {
                Ok(server) => server,
                Err(e) => {
                    eprintln!("error: cannot serve the generated site on 127.0.0.1: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let slow = site.pages.iter().filter(|p| p.slow).count();
            println!(
                "serving a generated site on http://{}: {} pages (seed {}), {slow} of them slow ({} ms > the {} ms fetch deadline)",
                server.addr(),
                args.pages,
                args.seed,
                site.config.slow_delay.as_millis(),
                args.fetch_timeout_ms,
            );
            let start = Url::parse(&server.start_url()).expect("a valid URL");
            generated = Some((site, server));
            (start, None)
        }
    };
    println!(
        "crawling with concurrency {}, fetch deadline {} ms, crawl deadline {} s",
        args.concurrency, args.fetch_timeout_ms, args.crawl_timeout_s
    );

    if redis_mode {
        return run_distributed(&args, start, max_urls, generated.as_ref()).await;
    }

    let crawler = match Crawler::new(CrawlConfig {
        start,
        concurrency: args.concurrency,
        fetch_timeout,
        crawl_timeout: Duration::from_secs(args.crawl_timeout_s),
        max_urls,
    }) {
        Ok(crawler) => crawler,
        Err(e) => {
            eprintln!("error: cannot build the HTTP client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = Arc::new(Event::new());
    let display = tokio::spawn(show_progress(crawler.progress(), stop.clone()));
    let report = crawler.run().await;
    stop.set();
    let _ = display.await;

    println!("{}", report.summary());
    let errors = report
        .fetched
        .iter()
        .filter_map(|(url, outcome)| match outcome {
            Outcome::Error(e) => Some((url, e)),
            _ => None,
        });
    for (url, e) in errors.take(5) {
        println!("  error: {url}: {e}");
    }
    let ok = match &generated {
        Some((site, server)) if report.finished => check(site, server, &report, 0),
        _ => report.finished,
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Shows the crawl's progress until `stop` is set: a progress bar on a terminal, else a line
/// a second. The wait between updates is `stop.wait().deadline(..)`: a sleep that ends early.
async fn show_progress(progress: Arc<Progress>, stop: Arc<Event>) {
    let started = Instant::now();
    if std::io::stdout().is_terminal() {
        let bar = ProgressBar::new(1).with_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} URLs fetched: {msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        loop {
            bar.set_length(
                progress
                    .discovered
                    .load(std::sync::atomic::Ordering::Relaxed) as u64,
            );
            bar.set_position(progress.done() as u64);
            bar.set_message(progress.breakdown());
            if stop
                .wait()
                .deadline(Duration::from_millis(100))
                .await
                .is_ok()
            {
                break;
            }
        }
        bar.finish_and_clear();
    } else {
        while stop.wait().deadline(Duration::from_secs(1)).await.is_err() {
            println!(
                "[{:>5.1} s] {}",
                started.elapsed().as_secs_f64(),
                progress.line()
            );
        }
    }
}

/// For the generated site, after `join` returned: did the crawl fetch exactly what it should,
/// each URL once? The server may have seen at most `refetches` extra requests, each for a
/// reachable page (a worker that died while fetching a page: the page is fetched again).
fn check(site: &Site, server: &site::Server, report: &Report, refetches: u64) -> bool {
    let reach = site.reachable();
    let mut extra = 0;
    let hits_ok = (0..site.pages.len()).all(|i| {
        let expected = reach.pages.contains(&i) || reach.slow.contains(&i);
        let hits = server.hits().page(i);
        extra += u64::from(hits.saturating_sub(1));
        if expected { hits >= 1 } else { hits == 0 }
    }) && extra <= refetches;
    let problems = [
        (report.pages == reach.pages.len(), "pages fetched"),
        (report.timeouts == reach.slow.len(), "timeouts"),
        (report.not_found == reach.missing.len(), "404s"),
        (report.errors == 0, "other errors"),
        (hits_ok, "requests per page"),
    ];
    let wrong: Vec<&str> = problems
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, what)| *what)
        .collect();
    if wrong.is_empty() {
        println!(
            "check: all {} reachable pages fetched exactly once; {} slow pages timed out; {} distinct 404s",
            reach.pages.len(),
            reach.slow.len(),
            reach.missing.len()
        );
        if extra > 0 {
            println!(
                "check: {extra} pages requested again after a redelivery (their first fetch died with its worker)"
            );
        }
        true
    } else {
        eprintln!(
            "check failed: {} differ from the site's reachability",
            wrong.join(", ")
        );
        false
    }
}

/// `--worker ID`: one worker process of a crawl on Redis, started by the parent.
async fn worker(id: usize, args: &Args) -> ExitCode {
    let (Ok(redis_url), Some(prefix), Some(start)) = (
        std::env::var(distributed::REDIS_URL_ENV),
        args.prefix.clone(),
        args.start_url.clone(),
    ) else {
        eprintln!(
            "[worker {id}] error: a worker needs --prefix, --start-url and {} (set by the parent)",
            distributed::REDIS_URL_ENV
        );
        return ExitCode::from(2);
    };
    watch_parent(id);
    let config = WorkerConfig {
        id,
        redis_url,
        prefix,
        start,
        concurrency: args.concurrency as u64,
        lease: Duration::from_millis(args.lease_ms),
        fetch_timeout: Duration::from_millis(args.fetch_timeout_ms),
        max_urls: args.max_urls,
    };
    match distributed::run_worker(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("[worker {id}] error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A worker's stdin is a pipe from its parent, which never writes to it: end of file means
/// the parent is gone, and so is the crawl.
fn watch_parent(id: usize) {
    std::thread::spawn(move || {
        let mut byte = [0u8; 1];
        loop {
            match std::io::stdin().read(&mut byte) {
                Ok(0) | Err(_) => {
                    eprintln!("[worker {id}] the parent process is gone: stopping");
                    std::process::exit(3);
                }
                Ok(_) => {}
            }
        }
    });
}

/// How a worker process ended.
type Exit = (usize, std::io::Result<std::process::ExitStatus>);

/// `--redis URL` / `--local-redis`: serve (done by the caller), seed the queue in Redis, start
/// the worker processes, show their progress, wait for `join`, then report and check.
async fn run_distributed(
    args: &Args,
    start: Url,
    max_urls: Option<usize>,
    generated: Option<&(Arc<Site>, site::Server)>,
) -> ExitCode {
    let mut private = None;
    let url = match &args.redis {
        Some(url) => url.clone(),
        None => match LocalRedis::start() {
            Ok(server) => {
                println!(
                    "started a private redis-server on 127.0.0.1:{}",
                    server.port()
                );
                let url = server.url();
                private = Some(server);
                url
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let prefix = distributed::fresh_prefix();
    let lease = Duration::from_millis(args.lease_ms);
    let permits = args.concurrency as u64;
    let coordinator = match Coordinator::connect(&url, &prefix, permits, lease).await {
        Ok(coordinator) => Arc::new(coordinator),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "redis mode: {} worker processes, keys under {prefix:?}, at most {permits} fetches in flight over all workers, lease {} ms",
        args.workers, args.lease_ms
    );
    let started = Instant::now();
    if let Err(e) = coordinator.seed(&start).await {
        eprintln!("error: {e}");
        let _ = coordinator.cleanup().await;
        return ExitCode::FAILURE;
    }

    // The workers: this binary again, with --worker.
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: cannot find the spider's own binary: {e}");
            let _ = coordinator.cleanup().await;
            return ExitCode::FAILURE;
        }
    };
    let (exits_tx, mut exits) = mpsc::unbounded_channel::<Exit>();
    let mut kills = Vec::new();
    for id in 1..=args.workers {
        let mut command = tokio::process::Command::new(&exe);
        command
            .arg("--worker")
            .arg(id.to_string())
            .arg("--prefix")
            .arg(&prefix)
            .arg("--start-url")
            .arg(start.as_str())
            .arg("--concurrency")
            .arg(args.concurrency.to_string())
            .arg("--lease-ms")
            .arg(args.lease_ms.to_string())
            .arg("--fetch-timeout-ms")
            .arg(args.fetch_timeout_ms.to_string())
            .env(distributed::REDIS_URL_ENV, &url)
            // Never written: the worker stops when it reads end of file (the parent died).
            .stdin(std::process::Stdio::piped())
            .kill_on_drop(true);
        if let Some(max) = max_urls {
            command.arg("--max-urls").arg(max.to_string());
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                eprintln!("error: cannot start worker {id}: {e}");
                break;
            }
        };
        println!("started worker {id} (pid {})", child.id().unwrap_or(0));
        let (kill, killed) = oneshot::channel::<()>();
        kills.push(kill);
        let exits_tx = exits_tx.clone();
        let stdin = child.stdin.take();
        tokio::spawn(async move {
            let _stdin = stdin; // open while the worker runs
            let status = tokio::select! {
                status = child.wait() => status,
                Ok(()) = killed => {
                    let _ = child.kill().await;
                    child.wait().await
                }
            };
            let _ = exits_tx.send((id, status));
        });
    }
    drop(exits_tx);
    let spawned = kills.len();

    let stop = Arc::new(Event::new());
    let display = tokio::spawn(show_workers(
        coordinator.clone(),
        spawned,
        Duration::from_millis(args.progress_ms.max(10)),
        stop.clone(),
    ));

    // toro: `yield q.join(deadline=...)`, but also stop waiting if every worker is gone.
    let mut ended = Vec::new();
    let finished = {
        let join = coordinator.join(Duration::from_secs(args.crawl_timeout_s));
        tokio::pin!(join);
        loop {
            tokio::select! {
                joined = &mut join => break match joined {
                    Ok(()) => true,
                    Err(e) if e.is_timeout() => false,
                    Err(e) => {
                        eprintln!("error: join: {e}");
                        false
                    }
                },
                Some(exit) = exits.recv() => {
                    ended.push(exit);
                    if ended.len() == spawned {
                        eprintln!("error: every worker ended before the crawl did");
                        break false;
                    }
                }
            }
        }
    };
    let elapsed = started.elapsed();
    let mut ok = true;
    if !finished && let Err(e) = coordinator.stop().await {
        eprintln!("error: {e}");
        ok = false;
    }
    if let Err(e) = coordinator.close().await {
        eprintln!("error: {e}");
        ok = false;
    }
    // The workers end once the queue is closed and their fetches are over.
    let grace = Duration::from_millis(args.fetch_timeout_ms) + lease + Duration::from_secs(10);
    let until = tokio::time::Instant::now() + grace;
    while ended.len() < spawned {
        match tokio::time::timeout_at(until, exits.recv()).await {
            Ok(Some(exit)) => ended.push(exit),
            Ok(None) => break,
            Err(_) => {
                eprintln!(
                    "error: workers still running {} s after the crawl ended: killing them",
                    grace.as_secs()
                );
                ok = false;
                for kill in kills.drain(..) {
                    let _ = kill.send(());
                }
            }
        }
    }
    stop.set();
    let _ = display.await;

    ended.sort_by_key(|(id, _)| *id);
    for (id, status) in &ended {
        match status {
            Ok(status) if status.success() => {}
            // Killed from outside (a test's kill -9, an operator): its work was redelivered.
            Ok(status) if status.code().is_none() => {
                println!("worker {id} was killed ({status}): its URLs were redelivered")
            }
            Ok(status) => {
                eprintln!("error: worker {id} failed: {status}");
                ok = false;
            }
            Err(e) => {
                eprintln!("error: worker {id}: {e}");
                ok = false;
            }
        }
    }

    let result = coordinator.report(elapsed, finished).await;
    let permits_back = coordinator
        .permits_back(lease * 2 + Duration::from_secs(2))
        .await;
    let ok = match result {
        Ok(report) => ok & report_and_check(&report, permits_back, permits, generated),
        Err(e) => {
            eprintln!("error: {e}");
            false
        }
    };
    let ok = match coordinator.cleanup().await {
        Ok(n) => {
            println!("deleted the run's {n} keys");
            ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            false
        }
    };
    drop(coordinator);
    if let Some(server) = private.take() {
        drop(server);
        println!("stopped the private redis-server");
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints the summary of a crawl on Redis, and checks it: all permits back, no dead letters,
/// and for the generated site, every reachable page recorded exactly once.
fn report_and_check(
    report: &distributed::DistributedReport,
    permits_back: Result<u64, String>,
    permits: u64,
    generated: Option<&(Arc<Site>, site::Server)>,
) -> bool {
    let mut ok = true;

    println!("{}", report.summary());
    let errors = report
        .report
        .fetched
        .iter()
        .filter_map(|(url, outcome)| match outcome {
            Outcome::Error(e) => Some((url, e)),
            _ => None,
        });
    for (url, e) in errors.take(5) {
        println!("  error: {url}: {e}");
    }
    match permits_back {
        Ok(free) if free == permits => println!("permits: all {permits} back"),
        Ok(free) => {
            eprintln!("error: only {free} of {permits} permits back");
            ok = false;
        }
        Err(e) => {
            eprintln!("error: {e}");
            ok = false;
        }
    }
    if report.dead_letters > 0 {
        eprintln!("error: {} URLs in the dead letters", report.dead_letters);
        ok = false;
    }
    ok & match generated {
        Some((site, server)) if report.report.finished => {
            check(site, server, &report.report, report.redeliveries)
        }
        _ => report.report.finished,
    }
}

/// Shows each worker's progress, read from Redis, until `stop` is set: a bar for the whole
/// crawl and a line per worker on a terminal, else a line per worker (prefixed by its id) at
/// each `every`.
async fn show_workers(
    coordinator: Arc<Coordinator>,
    workers: usize,
    every: Duration,
    stop: Arc<Event>,
) {
    let started = Instant::now();
    let terminal = std::io::stdout().is_terminal();
    let multi = MultiProgress::new();
    let mut bars = Vec::new();
    if terminal {
        let total = multi.add(
            ProgressBar::new(1).with_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} URLs fetched",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            ),
        );
        bars.push(total);
        for id in 1..=workers {
            let bar = multi.add(ProgressBar::new(1).with_style(
                ProgressStyle::with_template("  worker {prefix}: {msg}").expect("a valid template"),
            ));
            bar.set_prefix(id.to_string());
            bars.push(bar);
        }
    }
    let tick = if terminal {
        Duration::from_millis(100)
    } else {
        every
    };
    loop {
        let stopping = stop.wait().deadline(tick).await.is_ok();
        let discovered = coordinator.discovered().await.unwrap_or(0);
        let mut done = 0;
        for id in 1..=workers {
            let Ok(progress) = coordinator.progress(id).await else {
                continue;
            };
            done += progress.done();
            if let Some(bar) = bars.get(id) {
                bar.set_message(progress.line());
            } else if !stopping {
                println!(
                    "[worker {id}] [{:>5.1} s] {}",
                    started.elapsed().as_secs_f64(),
                    progress.line()
                );
            }
        }
        if let Some(total) = bars.first() {
            total.set_length(discovered);
            total.set_position(done);
        } else if !stopping {
            println!(
                "[all] [{:>5.1} s] {done} of {discovered} URLs fetched",
                started.elapsed().as_secs_f64()
            );
        }
        if stopping {
            break;
        }
    }
    for bar in bars {
        bar.finish_and_clear();
    }
}
