//! `cargo run --release -p toro-spider`: serve a generated site on 127.0.0.1 and crawl it.
//!
//! With `--start-url URL`, crawl that site instead (same scheme, host and port only, at most
//! `--pages` URLs). `--help` lists every flag.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Url;
use toro_spider::crawl::{CrawlConfig, Crawler, Outcome, Progress, Report};
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
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.concurrency == 0 || args.pages == 0 || args.fetch_timeout_ms == 0 {
        eprintln!("error: --concurrency, --pages and --fetch-timeout-ms must be at least 1");
        return ExitCode::from(2);
    }
    let fetch_timeout = Duration::from_millis(args.fetch_timeout_ms);

    // The site: the generated one on loopback, or the one given.
    let mut generated = None;
    let (start, max_urls) = match args.start_url {
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
        Some((site, server)) if report.finished => check(site, server, &report),
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
/// each URL once?
fn check(site: &Site, server: &site::Server, report: &Report) -> bool {
    let reach = site.reachable();
    let problems = [
        (report.pages == reach.pages.len(), "pages fetched"),
        (report.timeouts == reach.slow.len(), "timeouts"),
        (report.not_found == reach.missing.len(), "404s"),
        (report.errors == 0, "other errors"),
        (
            (0..site.pages.len()).all(|i| {
                let expected = reach.pages.contains(&i) || reach.slow.contains(&i);
                server.hits().page(i) == u32::from(expected)
            }),
            "requests per page",
        ),
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
        true
    } else {
        eprintln!(
            "check failed: {} differ from the site's reachability",
            wrong.join(", ")
        );
        false
    }
}
