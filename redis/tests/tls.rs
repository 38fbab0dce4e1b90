//! TLS (`rediss://`) against real TLS-only `redis-server`s (`--port 0 --tls-port <port>`),
//! with a CA, server and client certificates made at test time by the `openssl` tool: the
//! primitives work over TLS with the CA given (wake-up hints included, so the subscriber
//! connection is TLS too); an untrusted server certificate, a plain `redis://` URL on the TLS
//! port, a missing client certificate and a wrong password each fail at once with a clear,
//! non-retryable error; no password ever shows in an error or a `Debug` output.
//!
//! Run: `cargo test -p toro-sync-redis --features tls --test tls`.

#![cfg(feature = "tls")]

mod support;

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use support::{TlsServer, TlsServerConfig};
use toro_sync_redis::{Client, ClientBuilder, Error};

const PASSWORD: &str = "t0ro-Tls-Secret-Pa55";

/// The TLS server with a password, that asks no client certificate.
fn server() -> &'static TlsServer {
    static SERVER: OnceLock<TlsServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        support::start_tls_server(&TlsServerConfig {
            auth_clients: "no",
            requirepass: Some(PASSWORD),
            cluster: false,
        })
    })
}

/// The TLS server that requires a client certificate issued by the test CA (mutual TLS).
fn mtls_server() -> &'static TlsServer {
    static SERVER: OnceLock<TlsServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        support::start_tls_server(&TlsServerConfig {
            auth_clients: "yes",
            requirepass: None,
            cluster: false,
        })
    })
}

/// `rediss://default:<password>@127.0.0.1:<port>` of [`server`].
fn url() -> String {
    server().url(&format!("default:{PASSWORD}@"))
}

/// A builder on `url` trusting the test CA, re-checking waiters only every 60 s: a waiter
/// woken within a few seconds was woken by a hint, over the subscriber connection.
fn trusting(url: &str) -> ClientBuilder {
    Client::builder(url)
        .tls_root_certificate(support::certs().pem("ca.crt"))
        .recheck_interval(Duration::from_secs(60))
}

/// Runs a connection attempt that must fail, within 20 s (a hang is a failure too), and
/// returns its error with its `Display` and `Debug` texts.
async fn refused(connect: impl Future<Output = Result<Client, Error>>) -> (Error, String) {
    let outcome = tokio::time::timeout(Duration::from_secs(20), connect)
        .await
        .expect("a refused connection fails within 20 s, it does not hang");
    let err = outcome.expect_err("the connection must be refused");
    let text = format!("{err} | {err:?}");
    assert!(!text.contains(PASSWORD), "the password leaked: {text}");
    (err, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_semaphore_and_queue_work_over_tls_with_the_ca_given() {
    let client = trusting(&url()).connect().await.expect("connect over TLS");

    // Mutex: a waiter in another client, woken by the grant hint when the holder releases.
    let other = trusting(&url()).connect().await.unwrap();
    let mutex = client.mutex("tls-mutex").await.unwrap();
    let held = mutex.lock().await.unwrap();
    let first_token = held.fencing_token();
    let waiting = other.mutex("tls-mutex");
    let waiter = tokio::spawn(async move {
        let guard = waiting.lock().deadline(Duration::from_secs(10)).await?;
        let token = guard.fencing_token();
        guard.release().await?;
        Ok::<u64, Error>(token)
    });
    assert!(
        support::eventually(Duration::from_secs(5), || async {
            mutex.waiters().await.unwrap() == 1
        })
        .await,
        "the waiter never queued"
    );
    held.release().await.unwrap();
    let second_token = waiter
        .await
        .unwrap()
        .expect("the waiter is granted the lock by the hint, well before its next re-check");
    assert!(second_token > first_token, "{second_token} > {first_token}");

    // Semaphore: its permits are counted over TLS like anywhere else.
    let sem = client.semaphore("tls-sem", 2).await.unwrap();
    let two = sem.acquire_many(2).await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 0);
    assert!(sem.try_acquire().await.unwrap().is_none());
    two.release().await.unwrap();
    assert_eq!(sem.available().await.unwrap(), 2);

    // Queue: put in one client, get and task_done in the other, join sees it done.
    let queue = client.queue::<String>("tls-queue").await.unwrap();
    queue.put("over TLS".to_string()).await.unwrap();
    let delivery = other
        .queue::<String>("tls-queue")
        .get()
        .deadline(Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(delivery.item(), "over TLS");
    delivery.task_done().await.unwrap();
    queue
        .join()
        .deadline(Duration::from_secs(10))
        .await
        .expect("join completes once the only item is done");
}

#[tokio::test]
async fn a_ca_that_did_not_issue_the_server_certificate_is_refused_clearly() {
    let (err, text) = refused(
        Client::builder(&url())
            .tls_root_certificate(support::certs().pem("rogue-ca.crt"))
            .connect(),
    )
    .await;
    assert!(matches!(err, Error::Protocol { .. }), "{text}");
    assert!(!err.is_retryable(), "{text}");
    assert!(
        text.contains("TLS") && text.contains("UnknownIssuer"),
        "{text}"
    );
    assert!(text.contains("tls_root_certificate"), "{text}");
}

#[tokio::test]
async fn the_platform_roots_do_not_trust_a_private_ca() {
    // No root certificate given: the server is checked against the platform's trust store,
    // which does not know the test CA.
    let (err, text) = refused(Client::connect(&url())).await;
    assert!(matches!(err, Error::Protocol { .. }), "{text}");
    assert!(!err.is_retryable(), "{text}");
    assert!(
        text.contains("TLS") && text.contains("certificate"),
        "{text}"
    );
}

#[tokio::test]
async fn a_plain_url_on_the_tls_port_fails_clearly() {
    let plain = server()
        .plain_url()
        .replace("redis://", &format!("redis://default:{PASSWORD}@"));
    let (err, text) = refused(Client::connect(&plain)).await;
    // The server drops a client that does not start a TLS handshake: to the client, a lost
    // connection, reported with a hint.
    assert!(matches!(err, Error::Unavailable { .. }), "{text}");
    assert!(text.contains("use a `rediss://` URL"), "{text}");
}

#[tokio::test]
async fn a_wrong_password_over_tls_is_a_clear_auth_error() {
    let wrong = "Wr0ng-Tls-Pa55";
    let url = server().url(&format!("default:{wrong}@"));
    let (err, text) = refused(trusting(&url).connect()).await;
    assert!(!err.is_retryable(), "{text}");
    assert!(
        text.contains("WRONGPASS") || text.to_lowercase().contains("auth"),
        "{text}"
    );
    assert!(!text.contains(wrong), "the wrong password leaked: {text}");
}

#[tokio::test]
async fn no_password_or_key_in_debug_outputs() {
    let key = support::certs().pem("client.key");
    let key_text = String::from_utf8(key.clone()).unwrap();
    let key_body = key_text.lines().nth(1).expect("a PEM body line");
    let builder = trusting(&url()).tls_client_certificate(support::certs().pem("client.crt"), key);
    let shown = format!("{builder:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(!shown.contains(key_body), "{shown}");
    assert!(
        shown.contains("root and client certificates given"),
        "{shown}"
    );

    let client = builder.connect().await.expect("connect over TLS");
    let shown = format!("{client:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(!shown.contains(key_body), "{shown}");
}

#[tokio::test]
async fn mutual_tls_needs_the_client_certificate() {
    let certs = support::certs();
    let client = Client::builder(&mtls_server().url(""))
        .tls_root_certificate(certs.pem("ca.crt"))
        .tls_client_certificate(certs.pem("client.crt"), certs.pem("client.key"))
        .connect()
        .await
        .expect("connect with the client certificate");
    let guard = client.mutex("mtls-mutex").lock().await.unwrap();
    assert!(guard.fencing_token() > 0);
    guard.release().await.unwrap();

    let (err, text) = refused(
        Client::builder(&mtls_server().url(""))
            .tls_root_certificate(certs.pem("ca.crt"))
            .connect(),
    )
    .await;
    assert!(matches!(err, Error::Protocol { .. }), "{text}");
    assert!(!err.is_retryable(), "{text}");
    assert!(
        text.contains("TLS") && text.contains("CertificateRequired"),
        "{text}"
    );
    assert!(text.contains("tls_client_certificate"), "{text}");
}

#[tokio::test]
async fn an_unreadable_client_key_is_a_settings_error() {
    let (err, text) = refused(
        trusting(&url())
            .tls_client_certificate(support::certs().pem("client.crt"), b"not a key".to_vec())
            .connect(),
    )
    .await;
    assert!(matches!(err, Error::Protocol { .. }), "{text}");
    assert!(!err.is_retryable(), "{text}");
    assert!(
        text.contains("TLS settings") && text.contains("key"),
        "{text}"
    );
}

#[tokio::test]
async fn certificates_with_a_plain_url_are_refused() {
    let plain = format!("redis://default:{PASSWORD}@127.0.0.1:{}", server().port);
    let (err, text) = refused(trusting(&plain).connect()).await;
    assert!(matches!(err, Error::Protocol { .. }), "{text}");
    assert!(text.contains("rediss://"), "{text}");
}

/// With the feature `cluster` too: the cluster client over `rediss://`, on a one-node TLS
/// cluster (`--tls-cluster yes`) serving every slot, with the CA given to the builder.
#[cfg(feature = "cluster")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_client_works_over_tls() {
    static CLUSTER: OnceLock<TlsServer> = OnceLock::new();
    let node = CLUSTER.get_or_init(|| {
        support::start_tls_server(&TlsServerConfig {
            auth_clients: "no",
            requirepass: Some(PASSWORD),
            cluster: true,
        })
    });
    let url = node.url(&format!("default:{PASSWORD}@"));
    let connect = || {
        Client::cluster_builder(&[url.as_str()])
            .tls_root_certificate(support::certs().pem("ca.crt"))
            .recheck_interval(Duration::from_secs(60))
            .connect()
    };
    let client = connect().await.expect("connect to the TLS cluster");
    let other = connect().await.unwrap();

    // A waiter in the other client is woken by the hint over its TLS subscriber connection.
    let mutex = client.mutex("tls-cluster-mutex").await.unwrap();
    let held = mutex.lock().await.unwrap();
    let waiting = other.mutex("tls-cluster-mutex");
    let waiter = tokio::spawn(async move {
        let guard = waiting.lock().deadline(Duration::from_secs(10)).await?;
        let token = guard.fencing_token();
        guard.release().await?;
        Ok::<u64, Error>(token)
    });
    assert!(
        support::eventually(Duration::from_secs(5), || async {
            mutex.waiters().await.unwrap() == 1
        })
        .await,
        "the waiter never queued"
    );
    let first = held.fencing_token();
    held.release().await.unwrap();
    let second = waiter.await.unwrap().expect("granted by the hint");
    assert!(second > first, "{second} > {first}");

    // A node that does not trust the CA: refused clearly, without the password.
    let (err, text) = refused(
        Client::cluster_builder(&[url.as_str()])
            .tls_root_certificate(support::certs().pem("rogue-ca.crt"))
            .connect(),
    )
    .await;
    assert!(matches!(err, Error::Protocol { .. }), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(text.contains("tls_root_certificate"), "{text}");
}
