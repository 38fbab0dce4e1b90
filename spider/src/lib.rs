//! toro's web spider in Rust, as a demo of toro-sync.
//!
//! [`site`] generates a deterministic web site and serves it on loopback; [`crawl`] crawls a
//! site with a [`toro_sync::JoinableQueue`] of URLs, a [`toro_sync::BoundedSemaphore`] capping
//! the fetches in flight, a deadline on every fetch and on the whole crawl, and `join` to
//! finish. `cargo run --release -p toro-spider` runs both; `--help` lists the flags.

pub mod crawl;
pub mod site;

pub use crawl::{CrawlConfig, Crawler, Outcome, Progress, Report};
pub use site::{Server, Site, SiteConfig, serve};
