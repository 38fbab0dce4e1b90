//! Runs the comparison benchmarks several times and writes BENCHMARKS.md and
//! bench/chart.svg from criterion's estimates.
//!
//! ```text
//! cargo run -p toro-sync-bench --release --bin report            # 3 runs (about 15 minutes)
//! cargo run -p toro-sync-bench --release --bin report -- --runs 1
//! cargo run -p toro-sync-bench --release --bin report -- --no-run  # re-read the last results
//! ```
//!
//! Each figure is the median over runs of criterion's median for that run; the range is the
//! lowest and highest of those run medians. Ratios compare toro-sync with each peer within the
//! same run, then take the median over runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use plotters::prelude::*;
use serde_json::Value;

/// `workload/runtime` → peer → per-run time per element, in nanoseconds.
type Results = BTreeMap<String, BTreeMap<String, Vec<f64>>>;

/// The heading of the hand-kept Redis tier section of BENCHMARKS.md.
const REDIS_SECTION: &str = "## Redis tier";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--runs takes a number"))
        .unwrap_or(3usize);
    let no_run = args.iter().any(|a| a == "--no-run");
    let root = workspace_root();
    let criterion_dir = root.join("target/criterion");

    let mut results = Results::new();
    if no_run {
        collect(&criterion_dir, &mut results);
    } else {
        for run in 1..=runs {
            eprintln!("benchmark run {run} of {runs}");
            let status = Command::new(env!("CARGO"))
                .args(["bench", "-p", "toro-sync-bench", "--bench", "compare"])
                .current_dir(&root)
                .status()
                .expect("cargo bench runs");
            assert!(status.success(), "cargo bench failed");
            collect(&criterion_dir, &mut results);
        }
    }
    let sizes = sizes();
    let mut md = render(&results, &sizes, if no_run { 1 } else { runs });
    // The Redis tier's section is written from `cargo bench --bench redis` runs (see
    // bench/NOTES.md), not by this report: keep it as it is.
    if let Ok(old) = std::fs::read_to_string(root.join("BENCHMARKS.md"))
        && let Some(at) = old.find(REDIS_SECTION)
    {
        md.push('\n');
        md.push_str(&old[at..]);
    }
    std::fs::write(root.join("BENCHMARKS.md"), md).expect("write BENCHMARKS.md");
    chart(&results, &root.join("bench/chart.svg"));
    eprintln!("wrote BENCHMARKS.md and bench/chart.svg");
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ sits in the workspace")
        .to_path_buf()
}

/// Reads every `new/benchmark.json` + `new/estimates.json` pair under `dir`.
fn collect(dir: &Path, results: &mut Results) {
    let Ok(groups) = std::fs::read_dir(dir) else {
        return;
    };
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for bench in benches.flatten() {
            let new = bench.path().join("new");
            let (Some(meta), Some(est)) = (
                read_json(&new.join("benchmark.json")),
                read_json(&new.join("estimates.json")),
            ) else {
                continue;
            };
            let group_id = meta["group_id"].as_str().unwrap_or_default().to_string();
            // `benches/redis.rs` writes `rNN_…` groups to the same directory: not this report's.
            if is_redis_group(&group_id) {
                continue;
            }
            let peer = meta["function_id"].as_str().unwrap_or_default().to_string();
            let elements = meta["throughput"]["Elements"].as_f64().unwrap_or(1.0);
            let median = est["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
            results
                .entry(group_id)
                .or_default()
                .entry(peer)
                .or_default()
                .push(median / elements);
        }
    }
}

/// Whether a criterion group comes from the Redis bench (`r01_…`), whose section of
/// BENCHMARKS.md is kept by hand.
fn is_redis_group(group_id: &str) -> bool {
    let mut chars = group_id.chars();
    chars.next() == Some('r') && chars.next().is_some_and(|c| c.is_ascii_digit())
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else if ns >= 1_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

const TORO: &str = "toro-sync";

/// The toro-sync entry of a group held to its target (some groups name it after the primitive
/// used; ping-pong's notification primitive is the Semaphore).
fn toro_entry(peers: &BTreeMap<String, Vec<f64>>) -> Option<(&String, &Vec<f64>)> {
    peers
        .iter()
        .find(|(name, _)| *name == "toro-sync Semaphore")
        .or_else(|| peers.iter().find(|(name, _)| name.starts_with(TORO)))
}

/// Median over runs of toro-sync's time divided by the peer's, run by run.
fn ratio(toro: &[f64], peer: &[f64]) -> f64 {
    let per_run: Vec<f64> = toro.iter().zip(peer).map(|(t, p)| t / p).collect();
    median(&per_run)
}

fn is_floor(peer: &str) -> bool {
    peer.contains("(floor)")
}

/// The target a workload is held to: (text, check on the ratio to the fastest async peer).
fn target(group: &str) -> Option<(&'static str, f64)> {
    let workload = group.split('/').next()?;
    Some(match workload {
        "w01_uncontended_lock" => ("≤ 0.6× the fastest async peer's time", 0.6),
        "w02_contended_lock" | "w03_semaphore_64x8" | "w14_semaphore_hold_yield_64x8" => (
            "≥ 1.0× the fastest async peer's throughput (time ratio ≤ 1.0)",
            1.0,
        ),
        "w04_bounded128_1to1" | "w05_bounded128_4to4" | "w06_unbounded_1to1" => {
            ("≥ 1.0× flume's throughput (time ratio to flume ≤ 1.0)", 1.0)
        }
        "w11_tasks_bounded128_1to1" | "w12_tasks_bounded128_4to4" | "w13_tasks_unbounded_1to1" => (
            "≥ 1.0× flume's throughput (async-channel's where flume is left out)",
            1.0,
        ),
        "w07_ping_pong" => ("≤ 1.0× tokio Notify's time", 1.0),
        "w08_wake_1000" => ("≤ 1.0× tokio notify_waiters' time", 1.0),
        _ => return None,
    })
}

/// The peer a workload's target is measured against.
fn target_peer<'a>(group: &str, peers: &'a BTreeMap<String, Vec<f64>>) -> Option<&'a String> {
    let workload = group.split('/').next()?;
    let by_name = |want: &str| peers.keys().find(|k| k.starts_with(want));
    match workload {
        "w04_bounded128_1to1" | "w05_bounded128_4to4" | "w06_unbounded_1to1" => by_name("flume"),
        "w11_tasks_bounded128_1to1" | "w12_tasks_bounded128_4to4" | "w13_tasks_unbounded_1to1" => {
            by_name("flume").or_else(|| by_name("async-channel"))
        }
        "w07_ping_pong" => by_name("tokio Notify"),
        "w08_wake_1000" => by_name("tokio"),
        _ => peers
            .iter()
            .filter(|(k, _)| !k.starts_with(TORO) && !is_floor(k))
            .min_by(|a, b| median(a.1).total_cmp(&median(b.1)))
            .map(|(k, _)| k),
    }
}

/// The round-2 target of a workload: ≤ 0.6× futures-intrusive's time for the uncontended
/// lock, otherwise ≤ 1.0× the fastest peer of any kind (floors aside) in the same run. Returns
/// the text, the limit and the peer.
fn target2<'a>(
    group: &str,
    peers: &'a BTreeMap<String, Vec<f64>>,
) -> Option<(&'static str, f64, &'a String)> {
    let workload = group.split('/').next()?;
    target(group)?;
    if workload == "w01_uncontended_lock" {
        let fi = peers.keys().find(|k| k.starts_with("futures-intrusive"))?;
        return Some(("≤ 0.6× futures-intrusive's time", 0.6, fi));
    }
    let fastest = peers
        .iter()
        .filter(|(k, _)| !k.starts_with(TORO) && !is_floor(k))
        .min_by(|a, b| median(a.1).total_cmp(&median(b.1)))
        .map(|(k, _)| k)?;
    Some(("≤ 1.0× the fastest peer's time", 1.0, fastest))
}

/// tokio's ratio where it is the strict-FIFO peer of a workload whose fastest peers barge.
fn fifo_ratio(group: &str, toro: &[f64], peers: &BTreeMap<String, Vec<f64>>) -> String {
    match peers.get("tokio") {
        Some(tokio)
            if group.starts_with("w02") || group.starts_with("w03") || group.starts_with("w14") =>
        {
            format!("{:.2}", ratio(toro, tokio))
        }
        _ => "—".into(),
    }
}

fn render(results: &Results, sizes: &str, runs: usize) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Benchmarks\n\nWritten by `cargo run -p toro-sync-bench --release --bin report` \
         ({runs} run{} of `cargo bench -p toro-sync-bench --bench compare`) on {} with {} \
         cores. Times are per operation (per lock, item, round or woken waiter): the median \
         over runs of criterion's median, with the lowest and highest run medians. A ratio is \
         toro-sync's time over the peer's, per run, then the median: below 1 means toro-sync \
         is faster. `ct` is tokio's current-thread runtime, `mt2` its multi-thread runtime \
         with 2 workers. The machine is shared, so single figures are noisy; ratios from one \
         run are what to compare.\n\n![ratios](bench/chart.svg)\n",
        if runs == 1 { "" } else { "s" },
        std::env::consts::ARCH,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    let _ = writeln!(
        md,
        "## Targets\n\nRound 2: every workload at or below the fastest peer of any kind in \
         the same run (the uncontended lock at 0.6× futures-intrusive). Where the fastest peers \
         barge (let a newcomer take a lock or permit past queued waiters), the last column \
         gives the ratio to tokio, the strict-FIFO peer.\n\n\
         | workload | target | fastest peer | ratio | met | ÷ tokio (strict FIFO) |\n\
         |---|---|---|---|---|---|"
    );
    for (group, peers) in results {
        let (Some((text, limit, peer)), Some((_, toro))) =
            (target2(group, peers), toro_entry(peers))
        else {
            continue;
        };
        let r = ratio(toro, &peers[peer]);
        let met = if r <= limit { "yes" } else { "**no**" };
        let fifo = fifo_ratio(group, toro, peers);
        let _ = writeln!(
            md,
            "| {group} | {text} | {peer} | {r:.2} | {met} | {fifo} |"
        );
    }
    let _ = writeln!(
        md,
        "\nRound 1's targets, for comparison (the fastest async peer for locks and \
         semaphores, flume for queues, tokio's `Notify` for ping-pong and wake-ups):\n\n\
         | workload | target | peer | ratio | met |\n|---|---|---|---|---|"
    );
    for (group, peers) in results {
        let (Some((text, limit)), Some((_, toro)), Some(peer)) =
            (target(group), toro_entry(peers), target_peer(group, peers))
        else {
            continue;
        };
        let r = ratio(toro, &peers[peer]);
        let met = if r <= limit { "yes" } else { "**no**" };
        let _ = writeln!(md, "| {group} | {text} | {peer} | {r:.2} | {met} |");
    }
    let _ = writeln!(md);
    for (group, peers) in results {
        let _ = writeln!(
            md,
            "## {group}\n\n| peer | time/op | range | toro-sync ÷ peer |\n|---|---|---|---|"
        );
        let toro = toro_entry(peers).map(|(_, v)| v.clone());
        let mut rows: Vec<_> = peers.iter().collect();
        rows.sort_by(|a, b| median(a.1).total_cmp(&median(b.1)));
        for (peer, times) in rows {
            let lo = times.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = times.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let r = match &toro {
                Some(t) if !peer.starts_with(TORO) => format!("{:.2}", ratio(t, times)),
                _ => "—".into(),
            };
            let _ = writeln!(
                md,
                "| {peer} | {} | {} – {} | {r} |",
                fmt_ns(median(times)),
                fmt_ns(lo),
                fmt_ns(hi)
            );
        }
        let _ = writeln!(md);
    }
    md.push_str(sizes);
    // Hand-written reading of the results, kept next to the code that measures them.
    let notes = Path::new(env!("CARGO_MANIFEST_DIR")).join("NOTES.md");
    if let Ok(text) = std::fs::read_to_string(notes) {
        md.push('\n');
        md.push_str(&text);
    }
    md
}

/// The size of tokio's `timeout` around its `Mutex::lock` (made inside a runtime, as it must be).
fn tokio_timeout_size(m: &tokio::sync::Mutex<u64>) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        std::mem::size_of_val(&tokio::time::timeout(
            std::time::Duration::from_secs(1),
            m.lock(),
        ))
    })
}

/// (9) memory: sizes of primitives and wait futures, next to the peers'.
fn sizes() -> String {
    use std::mem::size_of_val;
    let mut md = String::from(
        "## w09_memory\n\nSizes in bytes (`size_of`), measured by the report binary. Heap bytes \
         per parked waiter: 0 for toro-sync once a primitive's waiter slab has grown to its \
         largest number of simultaneous waiters (`cargo test --test alloc -- --nocapture` \
         counts allocations: 64 parked waiters per primitive, steady state).\n\n\
         | item | toro-sync | tokio | async-lock | futures-intrusive |\n|---|---|---|---|---|\n",
    );
    let tm = toro_sync::Mutex::new(0u64);
    let km = tokio::sync::Mutex::new(0u64);
    let am = async_lock::Mutex::new(0u64);
    let fm = futures_intrusive::sync::Mutex::new(0u64, true);
    let ts = toro_sync::Semaphore::new(1);
    let ks = tokio::sync::Semaphore::new(1);
    let aa = async_lock::Semaphore::new(1);
    let fs = futures_intrusive::sync::Semaphore::new(true, 1);
    let rows = [
        (
            "Mutex<u64>",
            size_of_val(&tm),
            size_of_val(&km),
            size_of_val(&am),
            size_of_val(&fm),
        ),
        (
            "lock() future",
            size_of_val(&tm.lock()),
            size_of_val(&km.lock()),
            size_of_val(&am.lock()),
            size_of_val(&fm.lock()),
        ),
        (
            "Semaphore",
            size_of_val(&ts),
            size_of_val(&ks),
            size_of_val(&aa),
            size_of_val(&fs),
        ),
        (
            "acquire() future",
            size_of_val(&ts.acquire()),
            size_of_val(&ks.acquire()),
            size_of_val(&aa.acquire()),
            size_of_val(&fs.acquire(1)),
        ),
    ];
    for (name, a, b, c, d) in rows {
        let _ = writeln!(md, "| {name} | {a} | {b} | {c} | {d} |");
    }
    let e = toro_sync::Event::new();
    let c = toro_sync::Condition::new();
    let q = toro_sync::Queue::<u64>::bounded(1);
    let _ = writeln!(
        md,
        "\ntoro-sync only: Event {} (wait future {}), Condition {} (wait future {}), \
         Queue<u64> {} (put future {}, get future {}), a lock() with a deadline {} (its timer \
         inline, no allocation; tokio's `timeout(d, lock())`: {}).\n",
        size_of_val(&e),
        size_of_val(&e.wait()),
        size_of_val(&c),
        size_of_val(&c.wait()),
        size_of_val(&q),
        size_of_val(&q.put(0)),
        size_of_val(&q.get()),
        size_of_val(&tm.lock().deadline(std::time::Duration::from_secs(1))),
        tokio_timeout_size(&km),
    );
    md
}

/// A bar per workload: toro-sync's time over the target peer's (log scale around 1).
fn chart(results: &Results, path: &Path) {
    let bars: Vec<(String, f64, f64)> = results
        .iter()
        .filter_map(|(group, peers)| {
            let (_, toro) = toro_entry(peers)?;
            let (_, limit, peer) = target2(group, peers)?;
            Some((
                format!("{group} vs {peer}"),
                ratio(toro, &peers[peer]),
                limit,
            ))
        })
        .collect();
    if bars.is_empty() {
        return;
    }
    let height = 80 + 28 * bars.len() as u32;
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE).expect("draw");
    let max = bars.iter().map(|b| b.1).fold(2.0f64, f64::max).min(20.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "toro-sync time ÷ the fastest peer's time (below 1: toro-sync faster)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(330)
        .build_cartesian_2d(0.0..max, (0..bars.len()).into_segmented())
        .expect("chart");
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(bars.len())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => bars.get(*i).map(|b| b.0.clone()).unwrap_or_default(),
            _ => String::new(),
        })
        .draw()
        .expect("mesh");
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, r, limit))| {
            let color = if r <= limit {
                GREEN.mix(0.7)
            } else {
                RED.mix(0.7)
            };
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (r.min(max), SegmentValue::Exact(i + 1)),
                ],
                color.filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        }))
        .expect("bars");
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![
                (1.0, SegmentValue::Exact(0)),
                (1.0, SegmentValue::Exact(bars.len())),
            ],
            BLACK.stroke_width(2),
        )))
        .expect("line");
    root.present().expect("write chart");
}
