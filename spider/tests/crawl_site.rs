//! Crawls a small generated site served on loopback and checks the crawl against the site's
//! reachability: every reachable page fetched exactly once (by the crawler's record and by the
//! server's), slow pages counted as timeouts, 404s counted, off-site links not followed, and
//! `join` returned.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Url;
use toro_spider::crawl::{CrawlConfig, Crawler, Outcome};
use toro_spider::site::{self, Site, SiteConfig};

const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

fn small_site(pages: usize, seed: u64) -> Arc<Site> {
    let mut config = SiteConfig::new(pages, seed);
    // Far beyond the fetch deadline: a slow page never answers during the test.
    config.slow_delay = Duration::from_secs(60);
    Arc::new(Site::generate(config))
}

fn config(start: &str, concurrency: usize, crawl_timeout: Duration) -> CrawlConfig {
    CrawlConfig {
        start: Url::parse(start).unwrap(),
        concurrency,
        fetch_timeout: FETCH_TIMEOUT,
        crawl_timeout,
        max_urls: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reachable_page_is_fetched_exactly_once() {
    let site = small_site(300, 42);
    let reach = site.reachable();
    // The seed must exercise every path: slow pages, 404s, pages cut off behind slow pages.
    assert!(!reach.slow.is_empty(), "the site has reachable slow pages");
    assert!(!reach.missing.is_empty(), "the site has reachable 404s");
    assert!(reach.pages.len() > 250);

    let server = site::serve(site.clone()).await.unwrap();
    let started = Instant::now();
    let report = Crawler::new(config(&server.start_url(), 8, Duration::from_secs(30)))
        .unwrap()
        .run()
        .await;
    println!("{}", report.summary());

    assert!(report.finished, "join returned before the crawl deadline");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(report.pages, reach.pages.len(), "pages fetched");
    assert_eq!(report.timeouts, reach.slow.len(), "slow pages time out");
    assert_eq!(report.not_found, reach.missing.len(), "404s");
    assert_eq!(report.errors, 0, "no other errors");

    // The crawler's record: each URL once, exactly the reachable ones, on the site's origin.
    let origin = Url::parse(&server.start_url()).unwrap().origin();
    assert!(
        report.fetched.iter().all(|(url, _)| url.origin() == origin),
        "same site only"
    );
    let paths: Vec<String> = report
        .fetched
        .iter()
        .map(|(u, _)| u.path().to_owned())
        .collect();
    let distinct: BTreeSet<String> = paths.iter().cloned().collect();
    assert_eq!(paths.len(), distinct.len(), "no URL fetched twice");
    assert_eq!(distinct, reach.paths(), "exactly the reachable URLs");
    for (url, outcome) in &report.fetched {
        let expected = match site.page_index(url.path()) {
            Some(i) if site.pages[i].slow => Outcome::Timeout,
            Some(_) => Outcome::Page,
            None => Outcome::NotFound,
        };
        assert_eq!(outcome, &expected, "{url}");
    }

    // The server's record: each reachable page requested once, no other page at all.
    for i in 0..site.pages.len() {
        let expected = reach.pages.contains(&i) || reach.slow.contains(&i);
        assert_eq!(
            server.hits().page(i),
            u32::from(expected),
            "requests for page {i}"
        );
    }
    let others = server.hits().others();
    let missing: BTreeSet<String> = reach
        .missing
        .iter()
        .map(|&k| site::missing_path(k))
        .collect();
    assert_eq!(others.keys().cloned().collect::<BTreeSet<_>>(), missing);
    assert!(
        others.values().all(|&n| n == 1),
        "each 404 requested once: {others:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crawl_deadline_stops_the_crawl() {
    let site = small_site(300, 42);
    let server = site::serve(site.clone()).await.unwrap();
    let crawl_timeout = Duration::from_millis(300);
    let started = Instant::now();
    // One fetch at a time: 300 pages take far longer than the crawl deadline.
    let report = Crawler::new(config(&server.start_url(), 1, crawl_timeout))
        .unwrap()
        .run()
        .await;
    let elapsed = started.elapsed();
    println!("{}", report.summary());

    assert!(!report.finished, "join timed out");
    assert!(report.pages > 0 && report.pages < site.reachable().pages.len());
    // `run` returns once the fetch in flight ends, within its own deadline.
    assert!(
        elapsed < crawl_timeout + FETCH_TIMEOUT + Duration::from_secs(3),
        "{elapsed:?}"
    );
    // Nothing is fetched after `run` returned.
    let requests = server.hits().total();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.hits().total(), requests);
    // Each URL fetched at most once, even in a crawl cut short.
    let distinct: BTreeSet<&Url> = report.fetched.iter().map(|(u, _)| u).collect();
    assert_eq!(distinct.len(), report.fetched.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_urls_caps_the_crawl() {
    let site = small_site(300, 7);
    let server = site::serve(site.clone()).await.unwrap();
    let mut config = config(&server.start_url(), 4, Duration::from_secs(30));
    config.max_urls = Some(25);
    let report = Crawler::new(config).unwrap().run().await;
    assert!(report.finished);
    assert_eq!(report.fetched.len(), 25);
    assert_eq!(server.hits().total(), 25);
}
