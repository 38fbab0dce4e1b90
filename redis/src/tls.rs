//! TLS for `rediss://` URLs (cargo feature `tls`): redis-rs's rustls connections on tokio,
//! with ring as the crypto provider, and the certificates given to the builder (a private CA,
//! a client certificate for mutual TLS). Without the feature, a `rediss://` URL is refused
//! with an error that names the feature.

use crate::Error;

/// The certificates a builder was given for TLS connections; none by default (the server is
/// then verified against the platform's trust store).
#[derive(Clone, Default)]
pub(crate) struct TlsOptions {
    /// PEM: the certificates to trust instead of the platform's.
    #[cfg(feature = "tls")]
    pub(crate) root: Option<Vec<u8>>,
    /// PEM: the client's certificate chain and private key, for mutual TLS.
    #[cfg(feature = "tls")]
    pub(crate) identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl TlsOptions {
    /// Whether certificates were given.
    pub(crate) fn is_set(&self) -> bool {
        #[cfg(feature = "tls")]
        {
            self.root.is_some() || self.identity.is_some()
        }
        #[cfg(not(feature = "tls"))]
        {
            false
        }
    }

    /// What `Debug` may show: which certificates were given, never their contents (a private
    /// key is a secret).
    pub(crate) fn describe(&self) -> &'static str {
        #[cfg(feature = "tls")]
        {
            match (self.root.is_some(), self.identity.is_some()) {
                (false, false) => "no certificates given",
                (true, false) => "root certificate given",
                (false, true) => "client certificate given",
                (true, true) => "root and client certificates given",
            }
        }
        #[cfg(not(feature = "tls"))]
        {
            "disabled (feature `tls` off)"
        }
    }

    /// The redis-rs client for `url` (already checked by [`check_url`]): with the given
    /// certificates when there are any. `secret` is kept out of the error text.
    pub(crate) fn client(&self, url: &str, secret: Option<&str>) -> Result<redis::Client, Error> {
        #[cfg(feature = "tls")]
        if self.is_set() {
            let certificates = self.certificates();
            // A malformed PEM or a `redis://` URL with certificates: a setting to fix, never
            // retryable (redis-rs reports the PEM errors as I/O errors).
            return redis::Client::build_with_tls(url, certificates).map_err(|e| {
                Error::protocol(format!("TLS settings: {}", scrub(e.to_string(), secret)))
            });
        }
        redis::Client::open(url).map_err(|e| Error::from_redis(&e, secret))
    }
}

#[cfg(feature = "tls")]
impl TlsOptions {
    /// The certificates in redis-rs's form.
    pub(crate) fn certificates(&self) -> redis::TlsCertificates {
        redis::TlsCertificates {
            client_tls: self
                .identity
                .as_ref()
                .map(|(cert, key)| redis::ClientTlsConfig {
                    client_cert: cert.clone(),
                    client_key: key.clone(),
                }),
            root_cert: self.root.clone(),
        }
    }
}

/// `text` without `secret`.
#[cfg(feature = "tls")]
fn scrub(text: String, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "<redacted>"),
        _ => text,
    }
}

/// Whether `url` asks for TLS (`rediss://` or `valkeys://`).
pub(crate) fn is_tls_url(url: &str) -> bool {
    let Some((scheme, _)) = url.trim_start().split_once("://") else {
        return false;
    };
    scheme.eq_ignore_ascii_case("rediss") || scheme.eq_ignore_ascii_case("valkeys")
}

/// Checks that this build can connect to `url`, and that certificates come with a TLS URL;
/// with TLS, makes sure rustls has a process-wide crypto provider. The URL (it may carry a
/// password) is never part of the error.
pub(crate) fn check_url(url: &str, tls: &TlsOptions) -> Result<(), Error> {
    if !is_tls_url(url) {
        if tls.is_set() {
            return Err(Error::protocol(
                "TLS certificates were given for a URL without TLS: use `rediss://`",
            ));
        }
        return Ok(());
    }
    #[cfg(feature = "tls")]
    {
        install_crypto_provider();
        Ok(())
    }
    #[cfg(not(feature = "tls"))]
    {
        Err(Error::protocol(
            "TLS: a `rediss://` URL needs the cargo feature `tls` of toro-sync-redis, which \
             this build lacks: enable it",
        ))
    }
}

/// redis-rs builds its rustls configurations with the process-wide default crypto provider,
/// and rustls cannot pick one by itself when several are compiled in (or none is installed).
/// So: the provider the application installed, if any; otherwise ring's, installed here.
#[cfg(feature = "tls")]
fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is fine: one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// If `err` is a TLS failure (a certificate not trusted or refused, no common protocol
/// version, a peer that does not speak TLS), a hint to append to its text (maybe empty): a
/// setting to fix, not an outage to wait out.
#[cfg(feature = "tls")]
pub(crate) fn tls_failure(err: &redis::RedisError) -> Option<&'static str> {
    use rustls::{AlertDescription, CertificateError};
    const ISSUER: &str = " (no trusted CA issued the server's certificate: for a private CA, \
                          give its certificate to `ClientBuilder::tls_root_certificate`)";
    const NAME: &str = " (the server's certificate does not name the URL's host)";
    const CLIENT: &str = " (the server requires a client certificate: \
                          `ClientBuilder::tls_client_certificate`)";
    if let Some(tls) = std::error::Error::source(err).and_then(find_rustls_error) {
        return Some(match tls {
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => ISSUER,
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => NAME,
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => CLIENT,
            _ => "",
        });
    }
    // The cluster client reports the failures of its initial connections as text only: known
    // by rustls's wording.
    let text = err.to_string();
    if !(text.contains("invalid peer certificate") || text.contains("received fatal alert")) {
        return None;
    }
    Some(if text.contains("UnknownIssuer") {
        ISSUER
    } else if text.contains("NotValidForName") {
        NAME
    } else if text.contains("CertificateRequired") {
        CLIENT
    } else {
        ""
    })
}

/// The `rustls::Error` that `err` is or wraps. redis-rs keeps the I/O error that carries it
/// behind an `Arc`, and neither `Arc`'s nor `io::Error`'s `source()` returns the error they
/// wrap, so both are opened here.
#[cfg(feature = "tls")]
fn find_rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    type Shared = std::sync::Arc<dyn std::error::Error + Send + Sync>;
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(shared) = err.downcast_ref::<Shared>() {
        return find_rustls_error(&**shared);
    }
    if let Some(inner) = err
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        return find_rustls_error(inner);
    }
    find_rustls_error(err.source()?)
}

/// `error`, from connecting to `url`, with a hint when `url` is not TLS and the server
/// dropped the connection at once, as a server that speaks only TLS does.
pub(crate) fn hint_plain_connect(error: Error, url: &str, cause: &redis::RedisError) -> Error {
    match error {
        Error::Unavailable { message }
            if !is_tls_url(url)
                && cause.is_connection_dropped()
                && !cause.is_connection_refusal() =>
        {
            Error::Unavailable {
                message: format!(
                    "{message} (the server dropped the connection: if it speaks only TLS, \
                     use a `rediss://` URL)"
                ),
            }
        }
        error => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_urls_are_recognised_by_scheme() {
        assert!(is_tls_url("rediss://127.0.0.1:6380"));
        assert!(is_tls_url("REDISS://u:p@host/0"));
        assert!(is_tls_url("valkeys://host"));
        assert!(!is_tls_url("redis://127.0.0.1:6379"));
        assert!(!is_tls_url("redis+unix:///tmp/redis.sock"));
        assert!(!is_tls_url("not a url"));
    }

    #[test]
    fn certificates_need_a_tls_url() {
        assert!(check_url("redis://127.0.0.1:6379", &TlsOptions::default()).is_ok());
        #[cfg(feature = "tls")]
        {
            let tls = TlsOptions {
                root: Some(b"pem".to_vec()),
                identity: None,
            };
            let err = check_url("redis://u:hunter22@127.0.0.1:6379", &tls).unwrap_err();
            assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
            assert!(err.to_string().contains("rediss://"), "{err}");
            assert!(!format!("{err} {err:?}").contains("hunter22"));
        }
    }

    /// Through the public API: an error, not a panic, before any connection is tried.
    #[cfg(not(feature = "tls"))]
    #[tokio::test]
    async fn a_tls_url_without_the_feature_names_the_feature() {
        let url = "rediss://u:hunter22@127.0.0.1:6380";
        let errors = [
            crate::Client::connect(url).await.unwrap_err(),
            crate::Client::builder(url).connect().await.unwrap_err(),
            #[cfg(feature = "cluster")]
            crate::Client::connect_cluster(&[url]).await.unwrap_err(),
        ];
        for err in errors {
            assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
            assert!(!err.is_retryable());
            let text = format!("{err} {err:?}");
            assert!(text.contains("cargo feature `tls`"), "{text}");
            assert!(!text.contains("hunter22"), "{text}");
        }
    }

    #[cfg(feature = "tls")]
    #[test]
    fn a_tls_url_with_the_feature_installs_a_crypto_provider() {
        check_url("rediss://127.0.0.1:6380", &TlsOptions::default()).unwrap();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
