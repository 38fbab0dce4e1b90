//! toro's web spider in Rust, as a demo of toro-sync.
//!
//! [`site`] generates a deterministic web site and serves it on loopback; [`crawl`] crawls a
//! site with a [`toro_sync::JoinableQueue`] of URLs, a [`toro_sync::BoundedSemaphore`] capping
//! the fetches in flight, a deadline on every fetch and on the whole crawl, and `join` to
//! finish. `cargo run --release -p toro-spider` runs both; `--help` lists the flags.
//!
//! [`distributed`] is the same crawl across worker processes, on Redis
//! (`-- --local-redis --workers 4`): the URL queue and the cap on fetches in flight are
//! toro-sync-redis primitives, and a worker killed mid-crawl loses nothing.

pub mod crawl;
pub mod distributed;
pub mod site;

pub use crawl::{CrawlConfig, Crawler, Outcome, Progress, Report};
pub use site::{Server, Site, SiteConfig, serve};
