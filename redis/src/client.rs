//! [`Client`]: one process's connection to Redis, and the factory of named primitives.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ProtocolVersion, PushKind, Value};
use tokio::sync::mpsc;

use crate::conn::Conn;
use crate::engine::Link;
use crate::hub::Hub;
use crate::keeper::{self, Job};
use crate::scripts::Scripts;
use crate::tls::{self, TlsOptions};
use crate::{AsyncResult, Barrier, BoundedSemaphore, Error, Event, Mutex, RwLock, Semaphore};

/// Settings of a [`Client`], made by [`Client::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// # async fn demo() -> Result<(), toro_sync_redis::Error> {
/// let client = toro_sync_redis::Client::builder("redis://127.0.0.1:6379")
///     .prefix("myapp:")
///     .lease(Duration::from_secs(10))
///     .connect()
///     .await?;
/// # drop(client); Ok(()) }
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `connect()`"]
pub struct ClientBuilder {
    target: Target,
    options: Options,
    tls: TlsOptions,
}

/// Where a client connects.
#[derive(Clone)]
enum Target {
    /// One server, by URL.
    Single(String),
    /// A Redis Cluster, by the URLs of some of its nodes.
    #[cfg(feature = "cluster")]
    Cluster(Vec<String>),
}

/// The settings a connected client runs with.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) prefix: String,
    pub(crate) lease: Duration,
    pub(crate) recheck: Duration,
    pub(crate) response_timeout: Duration,
}

impl ClientBuilder {
    /// The prefix of every key and channel (default `toro:`). Two clients see the same
    /// primitives only with the same prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.options.prefix = prefix.into();
        self
    }

    /// The default lease of everything the client's primitives hold, and the liveness of its
    /// waiting tickets (default 30 s; at least 10 ms). Renewed every third of it while held;
    /// a crashed holder's lease runs out after it. Primitives can override it with
    /// `with_lease`.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.options.lease = lease.max(Duration::from_millis(10));
        self
    }

    /// The longest a waiter goes without asking Redis for its ticket's state (default 1 s;
    /// at least 10 ms): the most a lost wake-up hint can delay it. Waiters also re-check at
    /// once after a reconnect, and at the expiry of the earliest lease that could free them.
    pub fn recheck_interval(mut self, interval: Duration) -> Self {
        self.options.recheck = interval.max(Duration::from_millis(10));
        self
    }

    /// How long one command may take before it counts as a connection failure and is retried
    /// (default 2 s).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.options.response_timeout = timeout;
        self
    }

    /// Trusts the certificate authorities in `pem` (one or more PEM certificates) for
    /// `rediss://` connections, instead of the platform's trust store: for a server whose
    /// certificate a private or self-signed CA issued. The server's certificate must still
    /// name the host of the URL.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), toro_sync_redis::Error> {
    /// let ca = std::fs::read("ca.crt").expect("the CA's certificate");
    /// let client = toro_sync_redis::Client::builder("rediss://toro:secret@redis.internal:6380")
    ///     .tls_root_certificate(ca)
    ///     .connect()
    ///     .await?;
    /// # drop(client); Ok(()) }
    /// ```
    ///
    /// An unparsable PEM, or certificates with a URL that is not `rediss://`, make
    /// [`connect`](Self::connect) fail with [`Error::Protocol`].
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.root = Some(pem.into());
        self
    }

    /// Presents a client certificate for mutual TLS (a server with `tls-auth-clients yes`):
    /// `cert_pem` its certificate chain, `key_pem` its private key (PKCS#8, PKCS#1 or SEC1),
    /// both PEM. The key is never printed (`Debug` says only that one was given).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_client_certificate(
        mut self,
        cert_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.tls.identity = Some((cert_pem.into(), key_pem.into()));
        self
    }

    /// Connects: one multiplexed command connection, one subscriber connection for wake-up
    /// hints (it subscribes to a primitive's sharded hint channel while waiters of this client
    /// are in line there), the scripts loaded, and the background keeper task started on the
    /// current tokio runtime.
    ///
    /// # Errors
    ///
    /// [`Error::Unavailable`] if the server cannot be reached; [`Error::Protocol`] for a bad
    /// URL, refused credentials or a refused command, and for TLS that fails (a `rediss://`
    /// URL in a build without the feature `tls`, a server certificate that is not trusted, a
    /// client certificate the server refuses).
    pub async fn connect(self) -> Result<Client, Error> {
        Client::connect_with(self.target, self.options, self.tls).await
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: never printed.
        f.debug_struct("ClientBuilder")
            .field("options", &self.options)
            .field("tls", &self.tls.describe())
            .finish_non_exhaustive()
    }
}

/// A process's handle on Redis: cheap to clone, `Send + Sync + 'static`; the factory of
/// named primitives. Two handles with the same name (and prefix), in any processes, are the
/// same primitive.
///
/// Needs a tokio runtime, and the runtime it connected on must keep running while the client
/// and its guards are in use (the keeper task lives there). Behind one client: one multiplexed command connection (reconnecting
/// on its own), one subscriber connection receiving grant hints on the sharded hint channels
/// of the primitives this client has waiters on, and one keeper task renewing leases, re-checking waiters and running background releases.
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl Clone for Client {
    fn clone(&self) -> Self {
        Client {
            inner: self.inner.clone(),
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.inner.client_id)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

/// What every handle of one client shares.
pub(crate) struct Inner {
    pub(crate) link: Link,
    pub(crate) scripts: Arc<Scripts>,
    pub(crate) options: Options,
    pub(crate) client_id: String,
    counter: AtomicU64,
    pub(crate) hub: Arc<Hub>,
    pub(crate) jobs: mpsc::UnboundedSender<Job>,
    _subscriber: Conn,
}

impl Inner {
    /// A fresh id, unique across processes and restarts: the client's random id and a counter.
    pub(crate) fn next_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{}:{n:x}", self.client_id)
    }
}

impl Client {
    /// Connects with the default settings (key prefix `toro:`, lease 30 s, re-check 1 s).
    /// The URL is redis-rs's: `redis://[user][:password@]host[:port][/db]`, or
    /// `rediss://…` for TLS (cargo feature `tls`; see the crate docs' section "TLS").
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), toro_sync_redis::Error> {
    /// let client = toro_sync_redis::Client::connect("redis://127.0.0.1:6379").await?;
    /// let mutex = client.mutex("report").await?;
    /// let guard = mutex.lock().await?;
    /// println!("token {}", guard.fencing_token());
    /// guard.release().await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Client, Error> {
        Client::builder(url).connect().await
    }

    /// A builder for a client with other settings.
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder {
            target: Target::Single(url.to_string()),
            options: Options::default(),
            tls: TlsOptions::default(),
        }
    }

    /// Connects to a Redis Cluster with the default settings, through the URLs of some of its
    /// nodes (one is enough; the others are found through it). See the crate docs' section
    /// "Redis Cluster and failover".
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), toro_sync_redis::Error> {
    /// let client = toro_sync_redis::Client::connect_cluster(&[
    ///     "redis://10.0.0.1:6379",
    ///     "redis://10.0.0.2:6379",
    /// ])
    /// .await?;
    /// let guard = client.mutex("report").lock().await?;
    /// # drop(guard); Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::connect`].
    #[cfg(feature = "cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
    pub async fn connect_cluster(urls: &[&str]) -> Result<Client, Error> {
        Client::cluster_builder(urls).connect().await
    }

    /// A builder for a Redis Cluster client with other settings (as [`Client::builder`]).
    #[cfg(feature = "cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
    pub fn cluster_builder(urls: &[&str]) -> ClientBuilder {
        ClientBuilder {
            target: Target::Cluster(urls.iter().map(|url| url.to_string()).collect()),
            options: Options::default(),
            tls: TlsOptions::default(),
        }
    }

    async fn connect_with(
        target: Target,
        options: Options,
        tls: TlsOptions,
    ) -> Result<Client, Error> {
        let client_id = random_id()?;
        let hub = Arc::new(Hub::new(&client_id));
        let push_hub = hub.clone();
        let push_sender = move |push: redis::PushInfo| {
            on_push(&push_hub, push);
            Ok::<(), redis::aio::SendError>(())
        };
        let (conn, subscriber, secret) = match target {
            Target::Single(url) => open_single(&url, &options, &tls, push_sender).await?,
            #[cfg(feature = "cluster")]
            Target::Cluster(urls) => open_cluster(&urls, &options, &tls, push_sender).await?,
        };
        let map = |e: redis::RedisError| Error::from_redis(&e, secret.as_deref());

        let scripts = Arc::new(Scripts::new());
        let mut loader = conn.clone();
        for script in scripts.all() {
            script.load_async(&mut loader).await.map_err(map)?;
        }

        let link = Link {
            conn,
            secret: secret.map(Arc::from),
        };
        let (jobs, rx) = mpsc::unbounded_channel();
        keeper::spawn(keeper::Keeper {
            link: link.clone(),
            subscriber: subscriber.clone(),
            scripts: scripts.clone(),
            hub: hub.clone(),
            options: options.clone(),
            jobs: rx,
        });
        Ok(Client {
            inner: Arc::new(Inner {
                link,
                scripts,
                options,
                client_id,
                counter: AtomicU64::new(0),
                hub,
                jobs,
                _subscriber: subscriber,
            }),
        })
    }

    /// The fair, leased, fenced [`Mutex`] named `name`, at once (no round trip): it is
    /// created on first use. Awaiting the handle (`client.mutex("m").await?`) opens it in one
    /// round trip and checks it; without that, the first operation does.
    ///
    /// Every operation of the handle fails with [`Error::Mismatch`] if `name` is another kind
    /// of primitive, and with [`Error::Protocol`] for an invalid name (empty, longer than 512
    /// bytes, braces or control characters).
    pub fn mutex(&self, name: &str) -> Mutex {
        Mutex::new(self, name)
    }

    /// The fair [`Semaphore`] named `name` with `permits` permits, at once (created on first
    /// use; awaiting it opens it, as for [`Client::mutex`]).
    ///
    /// Operations fail with [`Error::Mismatch`] if it exists with another permit count or as
    /// another kind; others as [`Client::mutex`].
    pub fn semaphore(&self, name: &str, permits: u64) -> Semaphore {
        Semaphore::new(self, name, permits)
    }

    /// The [`BoundedSemaphore`] named `name` with `bound` permits, at once (as
    /// [`Client::semaphore`]).
    pub fn bounded_semaphore(&self, name: &str, bound: u64) -> BoundedSemaphore {
        BoundedSemaphore::new(self, name, bound)
    }

    /// The fair, write-preferring [`RwLock`] named `name`, shared by up to `max_readers`
    /// readers, at once (created on first use; awaiting it opens it, as for
    /// [`Client::mutex`]).
    ///
    /// Operations fail with [`Error::Mismatch`] if it exists with another `max_readers` or
    /// as another kind, and with [`Error::Protocol`] if `max_readers` is 0.
    pub fn rw_lock(&self, name: &str, max_readers: u64) -> RwLock {
        RwLock::new(self, name, max_readers)
    }

    /// The [`Event`] named `name`, at once (created unset on first use; awaiting it opens it,
    /// as for [`Client::mutex`]).
    pub fn event(&self, name: &str) -> Event {
        Event::new(self, name)
    }

    /// The [`AsyncResult`] named `name` carrying a `T`, at once (created unset on first use;
    /// awaiting it opens it, as for [`Client::mutex`]). Every process must use the same `T`.
    pub fn async_result<T>(&self, name: &str) -> AsyncResult<T> {
        AsyncResult::new(self, name)
    }

    /// The reusable [`Barrier`] named `name` for `parties` arrivals, at once (created on first
    /// use; awaiting it opens it, as for [`Client::mutex`]).
    ///
    /// Operations fail with [`Error::Mismatch`] if it exists with another party count or as
    /// another kind, and with [`Error::Protocol`] if `parties` is 0.
    pub fn barrier(&self, name: &str, parties: u64) -> Barrier {
        Barrier::new(self, name, parties)
    }

    /// The queue `name` of items `T` (unbounded FIFO unless the builder methods of [`Queue`](crate::Queue)
    /// say otherwise). Synchronous: the handle is usable at once and every operation checks
    /// its parameters against Redis; `.await` it to create or validate the queue first.
    ///
    /// ```no_run
    /// # async fn demo(client: toro_sync_redis::Client) -> Result<(), toro_sync_redis::Error> {
    /// client.queue::<u32>("numbers").put(1).await?;
    /// let jobs = client.queue::<String>("jobs").bounded(8).await?;
    /// # drop(jobs); Ok(()) }
    /// ```
    pub fn queue<T>(&self, name: &str) -> crate::Queue<T>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
    {
        crate::Queue::new(self.clone(), name)
    }

    /// This client's random id (the prefix of every ticket and holder id it creates).
    pub fn id(&self) -> &str {
        &self.inner.client_id
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            prefix: "toro:".into(),
            lease: Duration::from_secs(30),
            recheck: Duration::from_secs(1),
            response_timeout: Duration::from_secs(2),
        }
    }
}

/// The password in `url`, if any (kept out of error messages).
fn password_of(url: &str) -> Result<Option<String>, Error> {
    Ok(redis::Client::open(url)
        .map_err(|e| Error::from_redis(&e, None))?
        .get_connection_info()
        .redis_settings()
        .password()
        .map(str::to_string))
}

/// The command and subscriber connections to one server, and its password (kept out of
/// error messages). Both connections are made from one connection info, so both use TLS
/// (with the same certificates) when the URL says `rediss://`.
async fn open_single(
    url: &str,
    options: &Options,
    tls: &TlsOptions,
    push: impl redis::aio::AsyncPushSender,
) -> Result<(Conn, Conn, Option<String>), Error> {
    tls::check_url(url, tls)?;
    let secret = password_of(url)?;
    let command_client = tls.client(url, secret.as_deref())?;
    let info = command_client.get_connection_info().clone();
    let map = |e: redis::RedisError| Error::from_redis(&e, secret.as_deref());

    let resp3 = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    let subscriber_client =
        redis::Client::open(info.clone().set_redis_settings(resp3)).map_err(map)?;

    let config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(options.response_timeout))
        .set_connection_timeout(Some(options.response_timeout))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    let connect_error = |e: redis::RedisError| tls::hint_plain_connect(map(e.clone()), url, &e);
    let conn = ConnectionManager::new_with_config(command_client, config.clone())
        .await
        .map_err(connect_error)?;
    let sub_config = config.set_automatic_resubscription().set_push_sender(push);
    let subscriber = ConnectionManager::new_with_config(subscriber_client, sub_config)
        .await
        .map_err(connect_error)?;
    Ok((Conn::Single(conn), Conn::Single(subscriber), secret))
}

/// The command and subscriber connections to a Redis Cluster: redis-rs's async cluster
/// connection routes every script by its first key (all of a primitive's keys share one
/// slot), follows `MOVED`/`ASK` after a failover or resharding, and re-subscribes the
/// subscriber after a reconnect. Hints are sharded pub/sub: the subscriber's `SSUBSCRIBE` to a
/// primitive's hint channel goes to the master serving that channel's slot, the slot of the
/// primitive's keys, where its scripts `SPUBLISH`.
#[cfg(feature = "cluster")]
async fn open_cluster(
    urls: &[String],
    options: &Options,
    tls: &TlsOptions,
    push: impl redis::aio::AsyncPushSender,
) -> Result<(Conn, Conn, Option<String>), Error> {
    use redis::cluster::ClusterClient;

    let Some(first) = urls.first() else {
        return Err(Error::protocol(
            "a cluster client needs at least one node URL",
        ));
    };
    for url in urls {
        tls::check_url(url, tls)?;
    }
    let secret = password_of(first)?;
    let map = |e: redis::RedisError| Error::from_redis(&e, secret.as_deref());
    let builder = || {
        let builder = ClusterClient::builder(urls.iter().map(String::as_str))
            .connection_timeout(options.response_timeout)
            .response_timeout(options.response_timeout)
            .retries(3)
            .max_retry_wait(500);
        // TLS itself follows the first URL's scheme (every node is reached the same way);
        // the certificates go to every node connection.
        #[cfg(feature = "tls")]
        let builder = if tls.is_set() {
            builder.certs(tls.certificates())
        } else {
            builder
        };
        builder
    };
    let conn = builder()
        .build()
        .map_err(map)?
        .get_async_connection()
        .await
        .map_err(map)?;
    let subscriber = builder()
        .use_protocol(ProtocolVersion::RESP3)
        .push_sender(push)
        .build()
        .map_err(map)?
        .get_async_connection()
        .await
        .map_err(map)?;
    Ok((Conn::Cluster(conn), Conn::Cluster(subscriber), secret))
}

/// 64 random bits, hex.
fn random_id() -> Result<String, Error> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| Error::protocol(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Push messages of the subscriber connection: grant hints, (re)subscriptions and
/// disconnections.
fn on_push(hub: &Hub, push: redis::PushInfo) {
    match push.kind {
        PushKind::SMessage | PushKind::Message => {
            if let Some(Value::BulkString(body)) = push.data.get(1) {
                hub.on_hint(body);
            }
        }
        // Subscribed (first, or again after a reconnect): hints sent before reached nobody.
        PushKind::SSubscribe => {
            if let Some(Value::BulkString(channel)) = push.data.first() {
                hub.recheck_channel(channel);
            }
        }
        PushKind::Disconnection => hub.recheck_all(),
        _ => {}
    }
}
