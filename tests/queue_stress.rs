//! MPMC conservation under deadlines and cancellation, for `Queue`, `LifoQueue` and
//! `PriorityQueue`.
//!
//! `bounded(16)`, 32 producers and 32 consumers on a 4-worker tokio runtime. Every item carries
//! a unique id. Every put and get has a random deadline (0 to 500 µs); about 10% of the waits
//! are dropped mid-way (`select!` against `yield_now` or a short sleep), and about 10% of the
//! puts go through `reserve()`. A producer retries with the item a failed put returns; when
//! its put future was dropped, it checks whether the item was dropped with it (then it makes
//! the item again) or delivered. At the end: every id received exactly once, every item
//! instance dropped exactly once, `len() == 0`, `waiters() == 0`, no unfinished task.
//!
//! 10^5 items per order by default; `TORO_STRESS_SCALE` multiplies that (e.g. `10`, `0.1`),
//! `TORO_STRESS_SEED` changes the seed. Figures are printed (`--nocapture`).

use std::cmp::Ordering;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use toro_sync::{GetError, PutError};

const CAPACITY: usize = 16;
const PRODUCERS: usize = 32;
const CONSUMERS: usize = 32;
const BASE_ITEMS: f64 = 100_000.0;
/// Most items a bounded queue may hold at once: its capacity, plus one item given back by
/// each dropped getter at most.
const LEN_LIMIT: usize = CAPACITY + CONSUMERS;

fn scale() -> f64 {
    std::env::var("TORO_STRESS_SCALE")
        .ok()
        .map(|s| {
            s.parse::<f64>()
                .expect("TORO_STRESS_SCALE must be a number")
        })
        .unwrap_or(1.0)
}

fn seed() -> u64 {
    std::env::var("TORO_STRESS_SEED")
        .ok()
        .map(|s| {
            s.parse::<u64>()
                .expect("TORO_STRESS_SEED must be an integer")
        })
        .unwrap_or(0x5EED_70F0)
}

/// xorshift64*: tiny, deterministic per task.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Self {
        Rng((seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A deadline of 0 to 500 µs.
    fn deadline(&mut self) -> Duration {
        Duration::from_nanos(self.below(500_001))
    }
}

/// The books of one run.
struct Ledger {
    /// Per id: how many times a consumer received it.
    received: Vec<AtomicU32>,
    /// Per id: instances dropped without being consumed (with a dropped put future).
    dropped_unconsumed: Vec<AtomicU32>,
    created: AtomicU64,
    dropped: AtomicU64,
    duplicates: AtomicU64,
    put_timeouts: AtomicU64,
    get_timeouts: AtomicU64,
    put_cancels: AtomicU64,
    get_cancels: AtomicU64,
    /// Dropped put futures whose item had been delivered anyway.
    cancelled_but_delivered: AtomicU64,
    remade: AtomicU64,
    reserves: AtomicU64,
    max_len: AtomicUsize,
    received_total: AtomicU64,
}

impl Ledger {
    fn new(items: usize) -> Self {
        Ledger {
            received: (0..items).map(|_| AtomicU32::new(0)).collect(),
            dropped_unconsumed: (0..items).map(|_| AtomicU32::new(0)).collect(),
            created: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            put_timeouts: AtomicU64::new(0),
            get_timeouts: AtomicU64::new(0),
            put_cancels: AtomicU64::new(0),
            get_cancels: AtomicU64::new(0),
            cancelled_but_delivered: AtomicU64::new(0),
            remade: AtomicU64::new(0),
            reserves: AtomicU64::new(0),
            max_len: AtomicUsize::new(0),
            received_total: AtomicU64::new(0),
        }
    }
}

/// A tracked item: ordered by `prio` only, so priority queues see many equal items.
struct Tracked {
    id: u32,
    producer: u32,
    seq: u32,
    prio: u8,
    consumed: bool,
    ledger: Arc<Ledger>,
}

impl Tracked {
    fn new(ledger: &Arc<Ledger>, id: u32, producer: u32, seq: u32, prio: u8) -> Self {
        ledger.created.fetch_add(1, SeqCst);
        Tracked {
            id,
            producer,
            seq,
            prio,
            consumed: false,
            ledger: ledger.clone(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !self.consumed {
            self.ledger.dropped_unconsumed[self.id as usize].fetch_add(1, SeqCst);
        }
        self.ledger.dropped.fetch_add(1, SeqCst);
    }
}

impl PartialEq for Tracked {
    fn eq(&self, other: &Self) -> bool {
        self.prio == other.prio
    }
}

impl Eq for Tracked {}

impl PartialOrd for Tracked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Tracked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.prio.cmp(&other.prio)
    }
}

/// What a cancelled wait races against: a yield or a short sleep.
async fn interruption(roll: u64) {
    if roll % 2 == 0 {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(Duration::from_micros(roll % 300)).await;
    }
}

/// Simulated work between operations, so that the queue swings between full and empty and
/// both sides really wait: mostly nothing, sometimes a yield, rarely a short sleep.
async fn work(rng: &mut Rng, sleep_percent: u64) {
    let roll = rng.below(1000);
    if roll < sleep_percent * 10 {
        tokio::time::sleep(Duration::from_micros(rng.below(500))).await;
    } else if roll < 300 {
        tokio::task::yield_now().await;
    }
}

macro_rules! for_each_order {
    ($($body:tt)*) => {
        mod fifo {
            #[allow(unused_imports)]
            use super::*;
            type Q<T> = toro_sync::Queue<T>;
            const NAME: &str = "Queue";
            const FIFO: bool = true;
            $($body)*
        }
        mod lifo {
            #[allow(unused_imports)]
            use super::*;
            type Q<T> = toro_sync::LifoQueue<T>;
            const NAME: &str = "LifoQueue";
            const FIFO: bool = false;
            $($body)*
        }
        mod priority {
            #[allow(unused_imports)]
            use super::*;
            type Q<T> = toro_sync::PriorityQueue<T>;
            const NAME: &str = "PriorityQueue";
            const FIFO: bool = false;
            $($body)*
        }
    };
}

for_each_order! {
    /// Puts one item until it is delivered, with deadlines, cancellations and reservations.
    async fn deliver(q: &Q<Tracked>, ledger: &Arc<Ledger>, rng: &mut Rng, mut item: Tracked) {
        loop {
            let d = rng.deadline();
            let roll = rng.below(100);
            if roll < 10 {
                // A put dropped mid-way, maybe.
                let id = item.id as usize;
                let (producer, seq, prio) = (item.producer, item.seq, item.prio);
                let before = ledger.dropped_unconsumed[id].load(SeqCst);
                let interrupt = rng.next();
                let outcome = tokio::select! {
                    res = q.put(item).deadline(d) => Some(res),
                    _ = interruption(interrupt) => None,
                };
                match outcome {
                    Some(Ok(())) => return,
                    Some(Err(PutError::Timeout(back))) => {
                        ledger.put_timeouts.fetch_add(1, SeqCst);
                        item = back;
                    }
                    Some(Err(other)) => panic!("put failed: {other}"),
                    None => {
                        ledger.put_cancels.fetch_add(1, SeqCst);
                        // The future is gone. Its item was either dropped with it (never to be
                        // delivered) or already delivered.
                        if ledger.dropped_unconsumed[id].load(SeqCst) > before {
                            ledger.remade.fetch_add(1, SeqCst);
                            item = Tracked::new(ledger, id as u32, producer, seq, prio);
                        } else {
                            ledger.cancelled_but_delivered.fetch_add(1, SeqCst);
                            return;
                        }
                    }
                }
            } else if roll < 20 {
                // Through a reservation, itself sometimes dropped (cancel safe).
                let interrupt = rng.next();
                let reserved = tokio::select! {
                    res = q.reserve().deadline(d) => Some(res),
                    _ = interruption(interrupt), if roll < 13 => None,
                };
                match reserved {
                    Some(Ok(permit)) => {
                        ledger.reserves.fetch_add(1, SeqCst);
                        match permit.put(item) {
                            Ok(()) => return,
                            Err(other) => panic!("permit put failed: {other}"),
                        }
                    }
                    Some(Err(PutError::Timeout(()))) => {
                        ledger.put_timeouts.fetch_add(1, SeqCst);
                    }
                    Some(Err(other)) => panic!("reserve failed: {other}"),
                    None => {
                        ledger.put_cancels.fetch_add(1, SeqCst);
                    }
                }
            } else {
                match q.put(item).deadline(d).await {
                    Ok(()) => return,
                    Err(PutError::Timeout(back)) => {
                        ledger.put_timeouts.fetch_add(1, SeqCst);
                        item = back;
                    }
                    Err(other) => panic!("put failed: {other}"),
                }
            }
        }
    }

    /// Gets until the queue is closed and drained; returns (producer, seq) in receive order.
    async fn consume(q: &Q<Tracked>, ledger: &Ledger, rng: &mut Rng) -> Vec<(u32, u32)> {
        let mut got = Vec::new();
        loop {
            let d = rng.deadline();
            let res = if rng.below(100) < 10 {
                let interrupt = rng.next();
                tokio::select! {
                    res = q.get().deadline(d) => res,
                    _ = interruption(interrupt) => {
                        ledger.get_cancels.fetch_add(1, SeqCst);
                        continue;
                    }
                }
            } else {
                q.get().deadline(d).await
            };
            match res {
                Ok(mut item) => {
                    let prev = ledger.received[item.id as usize].fetch_add(1, SeqCst);
                    if prev != 0 {
                        ledger.duplicates.fetch_add(1, SeqCst);
                    }
                    ledger.received_total.fetch_add(1, SeqCst);
                    got.push((item.producer, item.seq));
                    item.consumed = true;
                    drop(item);
                    q.task_done().expect("task_done after a get");
                    ledger.max_len.fetch_max(q.len(), SeqCst);
                    work(rng, 3).await;
                }
                Err(GetError::Timeout) => {
                    ledger.get_timeouts.fetch_add(1, SeqCst);
                }
                Err(GetError::Closed) => return got,
                Err(GetError::Empty) => panic!("a waiting get returned Empty"),
            }
        }
    }

    /// One run: `producers` × `per_producer` items, `consumers` consumers; producers pause
    /// (sleep) after `producer_pause`% of their items.
    async fn run(
        label: &str,
        producers: usize,
        consumers: usize,
        per_producer: usize,
        producer_pause: u64,
    ) -> Vec<Vec<(u32, u32)>> {
        let total = producers * per_producer;
        let ledger = Arc::new(Ledger::new(total));
        let q: Arc<Q<Tracked>> = Arc::new(Q::bounded(CAPACITY));
        let started = Instant::now();
        let seed = seed();
        let producing = Arc::new(AtomicBool::new(true));

        let consumer_tasks: Vec<_> = (0..consumers)
            .map(|c| {
                let (q, ledger) = (q.clone(), ledger.clone());
                tokio::spawn(async move {
                    let mut rng = Rng::new(seed, 1000 + c as u64);
                    consume(&q, &ledger, &mut rng).await
                })
            })
            .collect();
        let producer_tasks: Vec<_> = (0..producers)
            .map(|p| {
                let (q, ledger) = (q.clone(), ledger.clone());
                tokio::spawn(async move {
                    let mut rng = Rng::new(seed, p as u64);
                    for seq in 0..per_producer {
                        let id = (p * per_producer + seq) as u32;
                        let prio = rng.below(8) as u8;
                        let item = Tracked::new(&ledger, id, p as u32, seq as u32, prio);
                        deliver(&q, &ledger, &mut rng, item).await;
                        work(&mut rng, producer_pause).await;
                    }
                })
            })
            .collect();
        // A sampler: the queue never holds more than capacity plus what dropped getters gave
        // back.
        let sampler = tokio::spawn({
            let (q, producing) = (q.clone(), producing.clone());
            async move {
                let mut samples = 0u64;
                while producing.load(SeqCst) {
                    let len = q.len();
                    assert!(len <= LEN_LIMIT, "len {len} above {LEN_LIMIT}");
                    samples += 1;
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                samples
            }
        });

        let watchdog = Duration::from_secs(300);
        let per_consumer = tokio::time::timeout(watchdog, async {
            for t in producer_tasks {
                t.await.expect("producer panicked");
            }
            producing.store(false, SeqCst);
            q.close();
            let mut per_consumer = Vec::new();
            for t in consumer_tasks {
                per_consumer.push(t.await.expect("consumer panicked"));
            }
            per_consumer
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{label}: watchdog: not done after {watchdog:?}; received {} of {total}, \
                 len {}, waiters {}",
                ledger.received_total.load(SeqCst),
                q.len(),
                q.waiters()
            )
        });
        let samples = sampler.await.expect("sampler panicked");
        let elapsed = started.elapsed();

        let lost: Vec<usize> = (0..total)
            .filter(|&id| ledger.received[id].load(SeqCst) == 0)
            .collect();
        let duplicated: Vec<usize> = (0..total)
            .filter(|&id| ledger.received[id].load(SeqCst) > 1)
            .collect();
        let unconsumed_drops: u64 = ledger
            .dropped_unconsumed
            .iter()
            .map(|n| u64::from(n.load(SeqCst)))
            .sum();
        let l = &ledger;
        println!(
            "{label}: items={total} producers={producers} consumers={consumers} capacity={CAPACITY} \
             seed={seed:#x} elapsed={elapsed:.2?} | received={} lost={} duplicated={} | \
             put_timeouts={} get_timeouts={} put_cancels={} get_cancels={} \
             cancelled_but_delivered={} remade={} reserves={} | created={} dropped={} \
             max_len={} len_samples={samples}",
            l.received_total.load(SeqCst),
            lost.len(),
            duplicated.len(),
            l.put_timeouts.load(SeqCst),
            l.get_timeouts.load(SeqCst),
            l.put_cancels.load(SeqCst),
            l.get_cancels.load(SeqCst),
            l.cancelled_but_delivered.load(SeqCst),
            l.remade.load(SeqCst),
            l.reserves.load(SeqCst),
            l.created.load(SeqCst),
            l.dropped.load(SeqCst),
            l.max_len.load(SeqCst),
        );

        assert!(lost.is_empty(), "{label}: {} items lost, e.g. {:?}", lost.len(), &lost[..lost.len().min(10)]);
        assert!(
            duplicated.is_empty(),
            "{label}: {} items received twice, e.g. {:?}",
            duplicated.len(),
            &duplicated[..duplicated.len().min(10)]
        );
        assert_eq!(ledger.duplicates.load(SeqCst), 0);
        assert_eq!(ledger.received_total.load(SeqCst), total as u64);
        assert_eq!(q.len(), 0, "{label}: items left in the queue");
        assert_eq!(q.waiters(), 0, "{label}: waiters left registered");
        assert_eq!(q.unfinished_tasks(), 0, "{label}: unfinished tasks");
        assert_eq!(q.join().deadline(Duration::ZERO).await, Ok(()));
        // Every instance made was dropped exactly once: consumed ones by consumers, the others
        // with their dropped put futures, each of which the producer made again.
        assert_eq!(ledger.created.load(SeqCst), ledger.dropped.load(SeqCst), "{label}: drops");
        assert_eq!(unconsumed_drops, ledger.remade.load(SeqCst), "{label}: unconsumed drops");
        assert_eq!(ledger.created.load(SeqCst), total as u64 + ledger.remade.load(SeqCst));
        assert!(ledger.get_timeouts.load(SeqCst) + ledger.put_timeouts.load(SeqCst) > 0, "{label}: no deadline fired");
        assert!(ledger.get_cancels.load(SeqCst) + ledger.put_cancels.load(SeqCst) > 0, "{label}: no wait was dropped");
        per_consumer
    }

    fn items() -> usize {
        let per = (BASE_ITEMS * scale() / PRODUCERS as f64).round() as usize;
        per.max(1)
    }

    /// Conservation: 32 producers × 32 consumers on bounded(16).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn mpmc_conservation_under_cancellation() {
        let label = format!("{NAME} mpmc");
        run(&label, PRODUCERS, CONSUMERS, items(), 3).await;
    }

    /// One consumer, slow producers: conservation for every order, and for FIFO each
    /// producer's items arrive in the order it put them, cancellations and given-back items
    /// included.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn single_consumer_sees_producer_order() {
        let label = format!("{NAME} 1 consumer");
        const SLOW_PRODUCERS: usize = 8;
        let per = (items() / 2).max(1);
        // Slow producers: the consumer often waits on an empty queue, so its dropped gets are
        // often handed an item first.
        let got = run(&label, SLOW_PRODUCERS, 1, per, 60).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].len(), SLOW_PRODUCERS * per);
        if !FIFO {
            return;
        }
        let mut next_seq = [0u32; SLOW_PRODUCERS];
        for &(producer, seq) in &got[0] {
            assert_eq!(seq, next_seq[producer as usize], "{label}: producer {producer} out of order");
            next_seq[producer as usize] += 1;
        }
        assert!(next_seq.iter().all(|&n| n as usize == per));
    }
}
