//! The generated site the spider crawls by default, and the HTTP server that serves it.
//!
//! [`Site::generate`] builds a deterministic site from a seed: page `i` lives at `/page/{i}`
//! and links to its "children" `/page/{3i+1}` … `/page/{3i+3}` (so every page is reachable
//! from `/page/0` unless a slow page is in the way), back home to `/page/0`, and to a few
//! random pages (loops, self-links, links written with a `#fragment` or as a relative URL).
//! About 2% of the pages are *slow*: the server answers them only after
//! [`SiteConfig::slow_delay`], longer than the crawler's per-fetch deadline. About 2% of the
//! links point to `/missing/{k}`, which is a 404. Some pages link off-site (to another port
//! on loopback), which a crawler must not follow.
//!
//! [`Site::reachable`] computes what a correct crawl from `/page/0` must see, and [`serve`]
//! counts every request, so tests can check that each page was fetched exactly once.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// The link to another host that some pages carry: loopback's discard port, never served and
/// never to be fetched (the crawler keeps to the start URL's host and port).
pub const OFFSITE_URL: &str = "http://127.0.0.1:9/offsite";

/// How to generate a site.
#[derive(Clone, Debug)]
pub struct SiteConfig {
    /// Number of pages.
    pub pages: usize,
    /// Seed of the generator: the same seed gives the same site.
    pub seed: u64,
    /// How long the server takes to answer a slow page.
    pub slow_delay: Duration,
    /// Fraction of pages that are slow (page 0 never is).
    pub slow_fraction: f64,
    /// Fraction of random links that point to a 404.
    pub missing_fraction: f64,
    /// The server's latency for ordinary pages, chosen per page in this range (milliseconds).
    pub latency_ms: (u64, u64),
}

impl SiteConfig {
    /// The default site shape with `pages` pages from `seed`.
    pub fn new(pages: usize, seed: u64) -> Self {
        SiteConfig {
            pages,
            seed,
            slow_delay: Duration::from_secs(3),
            slow_fraction: 0.02,
            missing_fraction: 0.06,
            latency_ms: (2, 20),
        }
    }
}

/// Where a link on a page points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// `/page/{i}`.
    Page(usize),
    /// `/page/{i}#part`: the same page as [`Link::Page`].
    PageFragment(usize),
    /// `{i}`, relative to the `/page/` directory: the same page as [`Link::Page`].
    PageRelative(usize),
    /// `/missing/{k}`: a 404.
    Missing(usize),
    /// [`OFFSITE_URL`].
    Offsite,
}

/// One generated page.
#[derive(Clone, Debug)]
pub struct Page {
    /// Answered only after [`SiteConfig::slow_delay`].
    pub slow: bool,
    /// The server's latency for this page when it is not slow.
    pub latency: Duration,
    /// The page's links, in order.
    pub links: Vec<Link>,
}

/// A generated site.
#[derive(Clone, Debug)]
pub struct Site {
    /// How it was generated.
    pub config: SiteConfig,
    /// Page `i` is served at `/page/{i}`.
    pub pages: Vec<Page>,
}

/// What a crawl from `/page/0` that follows every same-site link, and gives up on slow pages,
/// must see.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reachable {
    /// Pages that answer in time (their links are followed).
    pub pages: BTreeSet<usize>,
    /// Slow pages linked from a reachable page: each is fetched once and times out.
    pub slow: BTreeSet<usize>,
    /// `/missing/{k}` links on reachable pages: each is fetched once and is a 404.
    pub missing: BTreeSet<usize>,
}

impl Reachable {
    /// Every URL path the crawl fetches.
    pub fn paths(&self) -> BTreeSet<String> {
        let pages = self.pages.iter().chain(&self.slow).map(|&i| page_path(i));
        pages
            .chain(self.missing.iter().map(|&k| missing_path(k)))
            .collect()
    }
}

/// The path of page `i`.
pub fn page_path(i: usize) -> String {
    format!("/page/{i}")
}

/// The path of missing page `k`.
pub fn missing_path(k: usize) -> String {
    format!("/missing/{k}")
}

impl Site {
    /// Generates a site; deterministic in `config`.
    ///
    /// # Panics
    ///
    /// If `config.pages` is 0.
    pub fn generate(config: SiteConfig) -> Site {
        assert!(config.pages > 0, "a site needs at least one page");
        let n = config.pages;
        let mut rng = SplitMix64(config.seed);
        let missing_ids = (n / 10).max(1);
        let pages = (0..n)
            .map(|i| {
                let slow = i != 0 && rng.chance(config.slow_fraction);
                let (lo, hi) = config.latency_ms;
                let latency = Duration::from_millis(lo + rng.below((hi - lo + 1) as usize) as u64);
                let mut links = vec![Link::Page(0)];
                links.extend((3 * i + 1..=3 * i + 3).filter(|&c| c < n).map(Link::Page));
                for _ in 0..3 {
                    let link = if rng.chance(config.missing_fraction) {
                        Link::Missing(rng.below(missing_ids))
                    } else {
                        let j = rng.below(n);
                        match rng.below(6) {
                            0 => Link::PageFragment(j),
                            1 => Link::PageRelative(j),
                            _ => Link::Page(j),
                        }
                    };
                    links.push(link);
                }
                if i % 50 == 7 {
                    links.push(Link::Offsite);
                }
                Page {
                    slow,
                    latency,
                    links,
                }
            })
            .collect();
        Site { config, pages }
    }

    /// The page at `path`, if there is one.
    pub fn page_index(&self, path: &str) -> Option<usize> {
        let i: usize = path.strip_prefix("/page/")?.parse().ok()?;
        (i < self.pages.len() && path == page_path(i)).then_some(i)
    }

    /// The HTML of page `i`.
    pub fn render(&self, i: usize) -> String {
        let mut html = format!(
            "<!DOCTYPE html>\n<html><head><title>Page {i}</title></head>\n<body>\n<h1 id=\"part\">Page {i}</h1>\n<ul>\n"
        );
        for link in &self.pages[i].links {
            let (href, text) = match *link {
                Link::Page(j) => (page_path(j), format!("page {j}")),
                Link::PageFragment(j) => (format!("{}#part", page_path(j)), format!("page {j}")),
                Link::PageRelative(j) => (j.to_string(), format!("page {j}")),
                Link::Missing(k) => (missing_path(k), format!("missing {k}")),
                Link::Offsite => (OFFSITE_URL.to_owned(), "elsewhere".to_owned()),
            };
            html += &format!("<li><a href=\"{href}\">{text}</a></li>\n");
        }
        html += "</ul>\n</body></html>\n";
        html
    }

    /// What a correct crawl from `/page/0` sees: a breadth-first search that does not expand
    /// slow pages (the crawler gives up on them before their links arrive).
    pub fn reachable(&self) -> Reachable {
        let mut reach = Reachable::default();
        let mut seen = vec![false; self.pages.len()];
        let mut todo = VecDeque::from([0]);
        seen[0] = true;
        while let Some(i) = todo.pop_front() {
            if self.pages[i].slow {
                reach.slow.insert(i);
                continue;
            }
            reach.pages.insert(i);
            for link in &self.pages[i].links {
                match *link {
                    Link::Page(j) | Link::PageFragment(j) | Link::PageRelative(j) => {
                        if !seen[j] {
                            seen[j] = true;
                            todo.push_back(j);
                        }
                    }
                    Link::Missing(k) => {
                        reach.missing.insert(k);
                    }
                    Link::Offsite => {}
                }
            }
        }
        reach
    }
}

/// SplitMix64: a tiny, good-enough deterministic generator (no dependency needed).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), near enough.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
}

/// Requests the server received, per path.
#[derive(Debug, Default)]
pub struct Hits {
    pages: Vec<AtomicU32>,
    other: Mutex<HashMap<String, u32>>,
}

impl Hits {
    fn new(pages: usize) -> Self {
        Hits {
            pages: (0..pages).map(|_| AtomicU32::new(0)).collect(),
            other: Mutex::default(),
        }
    }

    /// Requests for page `i`.
    pub fn page(&self, i: usize) -> u32 {
        self.pages[i].load(Ordering::Relaxed)
    }

    /// Requests for paths that are not pages (404s), by path.
    pub fn others(&self) -> HashMap<String, u32> {
        self.other.lock().unwrap().clone()
    }

    /// All requests.
    pub fn total(&self) -> u64 {
        let pages: u64 = self
            .pages
            .iter()
            .map(|h| u64::from(h.load(Ordering::Relaxed)))
            .sum();
        pages + self.others().values().map(|&h| u64::from(h)).sum::<u64>()
    }
}

/// A running server for a [`Site`]; stops (with every connection) when dropped.
pub struct Server {
    addr: SocketAddr,
    hits: Arc<Hits>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of page 0, where a crawl starts.
    pub fn start_url(&self) -> String {
        format!("http://{}{}", self.addr, page_path(0))
    }

    /// The requests received so far.
    pub fn hits(&self) -> &Hits {
        &self.hits
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `site` on 127.0.0.1, on a port the system picks, from the current tokio runtime.
pub async fn serve(site: Arc<Site>) -> io::Result<Server> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let hits = Arc::new(Hits::new(site.pages.len()));
    let task = tokio::spawn({
        let hits = hits.clone();
        async move {
            // Connections live in this set, so aborting the accept loop ends them too.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (site, hits) = (site.clone(), hits.clone());
                let service = hyper::service::service_fn(move |request| {
                    respond(site.clone(), hits.clone(), request)
                });
                connections.spawn(async move {
                    let connection = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    // A client that gives up on a slow page drops its connection: not an error
                    // worth reporting here.
                    let _ = connection.await;
                });
                while connections.try_join_next().is_some() {}
            }
        }
    });
    Ok(Server { addr, hits, task })
}

async fn respond<B>(
    site: Arc<Site>,
    hits: Arc<Hits>,
    request: Request<B>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path();
    let Some(i) = site.page_index(path) else {
        *hits
            .other
            .lock()
            .unwrap()
            .entry(path.to_owned())
            .or_default() += 1;
        let mut response = Response::new(Full::new(Bytes::from_static(b"not found\n")));
        *response.status_mut() = StatusCode::NOT_FOUND;
        return Ok(response);
    };
    hits.pages[i].fetch_add(1, Ordering::Relaxed);
    let page = &site.pages[i];
    let delay = if page.slow {
        site.config.slow_delay
    } else {
        page.latency
    };
    tokio::time::sleep(delay).await;
    let mut response = Response::new(Full::new(Bytes::from(site.render(i))));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_shaped_as_documented() {
        let a = Site::generate(SiteConfig::new(2000, 7));
        let b = Site::generate(SiteConfig::new(2000, 7));
        assert_eq!(a.render(123), b.render(123));
        let slow = a.pages.iter().filter(|p| p.slow).count();
        assert!((20..=60).contains(&slow), "about 2% slow pages, got {slow}");
        let links: usize = a.pages.iter().map(|p| p.links.len()).sum();
        let missing = a
            .pages
            .iter()
            .flat_map(|p| &p.links)
            .filter(|l| matches!(l, Link::Missing(_)))
            .count();
        let share = missing as f64 / links as f64;
        assert!(
            (0.01..0.04).contains(&share),
            "about 2% of links are 404s: {share}"
        );
        let reach = a.reachable();
        assert!(reach.pages.len() > 1900, "nearly every page is reachable");
        assert!(!reach.slow.is_empty() && !reach.missing.is_empty());
        assert_ne!(
            a.render(5),
            Site::generate(SiteConfig::new(2000, 8)).render(5)
        );
    }

    #[test]
    fn paths() {
        let site = Site::generate(SiteConfig::new(10, 1));
        assert_eq!(site.page_index("/page/9"), Some(9));
        assert_eq!(site.page_index("/page/10"), None);
        assert_eq!(site.page_index("/page/09"), None);
        assert_eq!(site.page_index("/missing/1"), None);
    }
}
