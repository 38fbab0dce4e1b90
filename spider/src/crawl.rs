//! The crawler: toro's `web_spider_example.py` with toro-sync.
//!
//! * A [`JoinableQueue`] of URLs to fetch; [`join`](JoinableQueue::join) with a deadline
//!   bounds the whole crawl, and returning means every URL put was fetched and processed.
//! * A [`BoundedSemaphore`] caps the fetches in flight. A dispatcher loop acquires a permit,
//!   gets a URL, and spawns a task that fetches it, puts the new same-site links, then (in a
//!   drop guard: toro's `finally`) calls `task_done` and releases the permit.
//! * Every fetch runs under a deadline: the request runs in its own task and sets an
//!   [`AsyncResult`]; the fetcher waits on `result.get().deadline(fetch_timeout)` and aborts the
//!   request when the deadline passes.
//! * A visited set, checked before a URL is put, so each URL is fetched once.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode, Url};
use toro_sync::{AsyncResult, BoundedSemaphore, JoinableQueue, OwnedBoundedSemaphorePermit};

/// What to crawl and how.
#[derive(Clone, Debug)]
pub struct CrawlConfig {
    /// Where to start; only links to the same scheme, host and port are followed.
    pub start: Url,
    /// The most fetches in flight at once.
    pub concurrency: usize,
    /// The deadline of each fetch (request, response and body).
    pub fetch_timeout: Duration,
    /// The deadline of the whole crawl.
    pub crawl_timeout: Duration,
    /// The most URLs to fetch (`None`: no limit).
    pub max_urls: Option<usize>,
}

/// How one fetch ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A successful response (its links, if HTML, were followed).
    Page,
    /// 404 Not Found.
    NotFound,
    /// Any other failure: another error status, a connection error, a bad body.
    Error(String),
    /// The fetch deadline passed first.
    Timeout,
}

/// Counters updated as the crawl goes, for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// URLs put on the queue so far (the start URL included).
    pub discovered: AtomicUsize,
    /// Successful fetches.
    pub pages: AtomicUsize,
    /// 404s.
    pub not_found: AtomicUsize,
    /// Other errors.
    pub errors: AtomicUsize,
    /// Fetches that hit their deadline.
    pub timeouts: AtomicUsize,
}

impl Progress {
    /// Fetches finished, however they ended.
    pub fn done(&self) -> usize {
        self.pages.load(Ordering::Relaxed)
            + self.not_found.load(Ordering::Relaxed)
            + self.errors.load(Ordering::Relaxed)
            + self.timeouts.load(Ordering::Relaxed)
    }

    /// How the fetches so far ended.
    pub fn breakdown(&self) -> String {
        format!(
            "{} pages, {} 404s, {} other errors, {} timeouts",
            self.pages.load(Ordering::Relaxed),
            self.not_found.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
            self.timeouts.load(Ordering::Relaxed),
        )
    }

    /// One line: what is done and what is known.
    pub fn line(&self) -> String {
        format!(
            "{} of {} URLs fetched: {}",
            self.done(),
            self.discovered.load(Ordering::Relaxed),
            self.breakdown()
        )
    }
}

/// The result of a crawl.
#[derive(Debug)]
pub struct Report {
    /// Successful fetches.
    pub pages: usize,
    /// 404s.
    pub not_found: usize,
    /// Other errors.
    pub errors: usize,
    /// Fetches that hit their deadline.
    pub timeouts: usize,
    /// From the start of the crawl until no fetch was in flight.
    pub elapsed: Duration,
    /// Whether `join` returned before the crawl deadline (every URL found was fetched).
    pub finished: bool,
    /// Every URL fetched with its outcome, in the order the fetches ended.
    pub fetched: Vec<(Url, Outcome)>,
}

impl Report {
    /// Successful fetches per second.
    pub fn pages_per_sec(&self) -> f64 {
        self.pages as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The summary line.
    pub fn summary(&self) -> String {
        format!(
            "summary: {} pages, {} errors ({} 404s, {} other), {} timeouts, {:.0} pages/s, {:.2} s elapsed, {}",
            self.pages,
            self.not_found + self.errors,
            self.not_found,
            self.errors,
            self.timeouts,
            self.pages_per_sec(),
            self.elapsed.as_secs_f64(),
            if self.finished {
                "join returned: every URL found was fetched"
            } else {
                "crawl deadline passed: stopped early"
            },
        )
    }
}

/// A crawl, ready to [`run`](Crawler::run).
pub struct Crawler {
    config: CrawlConfig,
    client: Client,
    progress: Arc<Progress>,
}

impl Crawler {
    /// Prepares a crawl.
    ///
    /// # Errors
    ///
    /// If the HTTP client cannot be built (its TLS backend failed to initialize).
    ///
    /// # Panics
    ///
    /// If `config.concurrency` is 0.
    pub fn new(config: CrawlConfig) -> Result<Self, reqwest::Error> {
        assert!(config.concurrency > 0, "concurrency must be at least 1");
        Ok(Crawler {
            client: http_client(&config.start, config.concurrency)?,
            config,
            progress: Arc::default(),
        })
    }

    /// The live counters, for a progress display.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Crawls until every URL found was fetched or the crawl deadline passes, then waits for
    /// the fetches in flight to end (each within its own deadline).
    pub async fn run(self) -> Report {
        let started = Instant::now();
        let Crawler {
            config,
            client,
            progress,
        } = self;
        let concurrency = config.concurrency;
        let fetch_timeout = config.fetch_timeout;
        let crawl_timeout = config.crawl_timeout;
        let shared = Arc::new(Shared {
            queue: JoinableQueue::unbounded(),
            visited: Mutex::default(),
            fetched: Mutex::default(),
            client,
            config,
            progress,
        });
        let semaphore = Arc::new(BoundedSemaphore::new(concurrency));

        shared.enqueue(shared.config.start.clone()).await;
        let dispatcher = tokio::spawn(dispatch(shared.clone(), semaphore.clone()));

        // toro: `yield q.join(deadline=timedelta(seconds=300))`.
        let finished = shared.queue.join().deadline(crawl_timeout).await.is_ok();
        shared.queue.close(); // no more puts; the dispatcher's `get` fails once drained
        if !finished {
            dispatcher.abort(); // leave the rest of the queue unfetched
        }
        let _ = dispatcher.await;
        // Every fetch still in flight holds a permit until it ends (within its own deadline):
        // holding them all means none is left.
        let quiet = semaphore
            .acquire_many(concurrency)
            .deadline(fetch_timeout + Duration::from_secs(5))
            .await;
        debug_assert!(quiet.is_ok(), "every fetch ends within its deadline");
        drop(quiet);
        let elapsed = started.elapsed();

        let fetched = std::mem::take(&mut *shared.fetched.lock().unwrap());
        let count = |f: fn(&Outcome) -> bool| fetched.iter().filter(|(_, o)| f(o)).count();
        Report {
            pages: count(|o| matches!(o, Outcome::Page)),
            not_found: count(|o| matches!(o, Outcome::NotFound)),
            errors: count(|o| matches!(o, Outcome::Error(_))),
            timeouts: count(|o| matches!(o, Outcome::Timeout)),
            elapsed,
            finished,
            fetched,
        }
    }
}

struct Shared {
    queue: JoinableQueue<Url>,
    visited: Mutex<HashSet<Url>>,
    fetched: Mutex<Vec<(Url, Outcome)>>,
    client: Client,
    config: CrawlConfig,
    progress: Arc<Progress>,
}

impl Shared {
    /// Puts `url` on the queue unless it was seen before (or the URL budget is spent).
    async fn enqueue(&self, url: Url) {
        {
            let mut visited = self.visited.lock().unwrap();
            let full = self.config.max_urls.is_some_and(|max| visited.len() >= max);
            if full || !visited.insert(url.clone()) {
                return;
            }
        }
        self.progress.discovered.fetch_add(1, Ordering::Relaxed);
        // Unbounded: never waits. Fails only once the crawl is over and the queue closed.
        let _ = self.queue.put(url).await;
    }

    fn record(&self, url: Url, outcome: Outcome) {
        let counter = match outcome {
            Outcome::Page => &self.progress.pages,
            Outcome::NotFound => &self.progress.not_found,
            Outcome::Error(_) => &self.progress.errors,
            Outcome::Timeout => &self.progress.timeouts,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.fetched.lock().unwrap().push((url, outcome));
    }
}

/// toro's `worker()`: take a permit, then a URL, and fetch it in a task of its own.
async fn dispatch(shared: Arc<Shared>, semaphore: Arc<BoundedSemaphore>) {
    loop {
        let permit = semaphore.clone().acquire_owned().await;
        let Ok(url) = shared.queue.get().await else {
            return; // closed and drained: the crawl is over
        };
        tokio::spawn(fetch_url(shared.clone(), url, permit));
    }
}

/// toro's `fetch_url()`: fetch, put the new links, and in any case mark the URL done.
async fn fetch_url(shared: Arc<Shared>, url: Url, permit: OwnedBoundedSemaphorePermit) {
    let _done = Done {
        queue: &shared.queue,
        permit: Some(permit),
    };
    let outcome = match fetch(&shared.client, url.clone(), shared.config.fetch_timeout).await {
        Fetched::Page(links) => {
            for link in links {
                shared.enqueue(link).await;
            }
            Outcome::Page
        }
        Fetched::NotFound => Outcome::NotFound,
        Fetched::Error(message) => Outcome::Error(message),
        Fetched::Timeout => Outcome::Timeout,
    };
    shared.record(url, outcome);
}

/// toro's `finally: q.task_done(); sem.release()`, run even if the fetch task panics.
struct Done<'a> {
    queue: &'a JoinableQueue<Url>,
    permit: Option<OwnedBoundedSemaphorePermit>,
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        drop(self.permit.take());
        self.queue.task_done().expect("one task_done per URL taken");
    }
}

/// The crawler's HTTP client: up to `concurrency` idle connections kept per host, and no proxy
/// for a site on loopback.
pub(crate) fn http_client(start: &Url, concurrency: usize) -> Result<Client, reqwest::Error> {
    let mut client = Client::builder()
        .user_agent(concat!("toro-spider/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(concurrency);
    if is_loopback(start) {
        client = client.no_proxy();
    }
    client.build()
}

/// How one fetch went: a page with its same-site links, or how it failed.
#[derive(Clone, Debug)]
pub(crate) enum Fetched {
    Page(Vec<Url>),
    NotFound,
    Error(String),
    Timeout,
}

/// Fetches `url` within `timeout`. The request runs in its own task and sets an
/// [`AsyncResult`]; waiting on it with `.deadline()` bounds the fetch, and the request is
/// aborted when the deadline passes first.
pub(crate) async fn fetch(client: &Client, url: Url, timeout: Duration) -> Fetched {
    let result = Arc::new(AsyncResult::new());
    let request = tokio::spawn({
        let (client, result) = (client.clone(), result.clone());
        async move {
            let _ = result.set(get(&client, url).await);
        }
    });
    match result.get().deadline(timeout).await {
        Ok(fetched) => fetched.clone(),
        Err(toro_sync::Timeout) => {
            request.abort();
            Fetched::Timeout
        }
    }
}

/// One GET: the status, and for an HTML page on the same site, its same-site links.
async fn get(client: &Client, url: Url) -> Fetched {
    let response = match client.get(url.clone()).send().await {
        Ok(response) => response,
        Err(e) => return Fetched::Error(error_chain(&e)),
    };
    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        return Fetched::NotFound;
    }
    if !status.is_success() {
        return Fetched::Error(format!("HTTP {status}"));
    }
    let base = response.url().clone(); // after redirects
    let html = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.contains("html"));
    let body = match response.text().await {
        Ok(body) => body,
        Err(e) => return Fetched::Error(error_chain(&e)),
    };
    if !html || base.origin() != url.origin() {
        return Fetched::Page(Vec::new());
    }
    let mut links = extract_links(&base, &body);
    links.retain(|link| link.origin() == url.origin());
    Fetched::Page(links)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(e) = source {
        message += &format!(": {e}");
        source = e.source();
    }
    message
}

fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The `href` targets in `html`, resolved against `base`, without fragments, `http(s)` only.
///
/// A plain scan for `href=` attributes (quoted or not), enough for links in ordinary HTML.
pub fn extract_links(base: &Url, html: &str) -> Vec<Url> {
    let bytes = html.as_bytes();
    let mut links = Vec::new();
    let mut at = 0;
    while let Some(found) = find_ascii_ci(&bytes[at..], b"href") {
        let mut i = at + found + 4;
        at = i;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let (start, end) = match bytes.get(i) {
            Some(&quote @ (b'"' | b'\'')) => {
                let Some(len) = bytes[i + 1..].iter().position(|&b| b == quote) else {
                    break;
                };
                (i + 1, i + 1 + len)
            }
            Some(_) => {
                let len = bytes[i..]
                    .iter()
                    .position(|&b| b.is_ascii_whitespace() || b == b'>')
                    .unwrap_or(bytes.len() - i);
                (i, i + len)
            }
            None => break,
        };
        at = end;
        let href = html[start..end].trim().replace("&amp;", "&");
        if let Ok(mut link) = base.join(&href)
            && matches!(link.scheme(), "http" | "https")
        {
            link.set_fragment(None);
            links.push(link);
        }
    }
    links
}

fn find_ascii_ci(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolved_and_cleaned() {
        let base = Url::parse("http://127.0.0.1:8080/page/5").unwrap();
        let html = r#"<a href="/page/1">a</a> <A HREF='7#x'>b</A> <a href=/page/2?q=1&amp;r=2>c</a>
            <a href="mailto:x@y">m</a> <a href = "https://other.example/z">o</a> href text"#;
        let links: Vec<String> = extract_links(&base, html)
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(
            links,
            [
                "http://127.0.0.1:8080/page/1",
                "http://127.0.0.1:8080/page/7",
                "http://127.0.0.1:8080/page/2?q=1&r=2",
                "https://other.example/z",
            ]
        );
    }
}
