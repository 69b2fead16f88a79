//! TLS client configuration (rustls with the ring provider): a CA file, a client certificate,
//! or an explicit "accept any server certificate".

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// TLS options from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of the certificate authorities to trust (instead of the public web roots).
    pub ca_file: Option<PathBuf>,
    /// PEM file of a client certificate chain.
    pub cert: Option<PathBuf>,
    /// PEM file of the client certificate's private key.
    pub key: Option<PathBuf>,
    /// Accept any server certificate (for test brokers with self-signed certificates).
    pub insecure: bool,
}

impl TlsOptions {
    /// True if any option is set.
    pub fn any(&self) -> bool {
        self.ca_file.is_some() || self.cert.is_some() || self.key.is_some() || self.insecure
    }
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or holds no usable PEM item.
    #[error("{what} `{path}`: {message}")]
    File {
        /// What the file was for.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// `--cert` without `--key` or the other way round.
    #[error("--cert and --key go together: give both or neither")]
    CertWithoutKey,
    /// `--insecure` together with `--ca-file`.
    #[error("--insecure accepts any server certificate, so --ca-file makes no sense with it")]
    InsecureWithCa,
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

fn file_error(what: &'static str, path: &Path, message: impl ToString) -> TlsError {
    TlsError::File {
        what,
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn read_certs(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(what, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(what, path, e))?;
    if certs.is_empty() {
        return Err(file_error(what, path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

/// Builds the client configuration for `options`.
pub fn client_config(options: &TlsOptions) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = if options.insecure {
        if options.ca_file.is_some() {
            return Err(TlsError::InsecureWithCa);
        }
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        match &options.ca_file {
            Some(path) => {
                for cert in read_certs("CA file", path)? {
                    roots
                        .add(cert)
                        .map_err(|e| file_error("CA file", path, e))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        builder.with_root_certificates(roots)
    };
    let config = match (&options.cert, &options.key) {
        (Some(cert), Some(key)) => {
            let chain = read_certs("client certificate", cert)?;
            let key =
                PrivateKeyDer::from_pem_file(key).map_err(|e| file_error("client key", key, e))?;
            // rustls checks the client certificate here, and words its errors as if about
            // the peer's: name the file instead.
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| client_cert_error(cert, &e))?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(TlsError::CertWithoutKey),
    };
    Ok(Arc::new(config))
}

fn client_cert_error(path: &Path, e: &rustls::Error) -> TlsError {
    let text = format!("{e:?}");
    let message = if text.contains("UnsupportedCertVersion") {
        "an X.509 v1 certificate, which rustls does not accept: reissue it as a v3 certificate \
         (openssl x509 -req ... -extfile FILE, with FILE holding extendedKeyUsage=clientAuth)"
            .to_string()
    } else if text.contains("BadEncoding") {
        "not a well-formed certificate".to_string()
    } else {
        format!("rejected by rustls: {e}")
    };
    file_error("--cert", path, message)
}

/// A host that cannot be a TLS server name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{host}` as a TLS server name: {why}")]
pub struct ServerNameError {
    /// The host.
    pub host: String,
    /// Why it cannot be one.
    pub why: String,
}

/// The server name to verify and send in SNI.
pub fn server_name(host: &str) -> Result<ServerName<'static>, ServerNameError> {
    ServerName::try_from(host.to_string()).map_err(|e| ServerNameError {
        host: host.to_string(),
        why: e.to_string(),
    })
}

/// `--insecure`: accepts any certificate, still checking handshake signatures are well-formed.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_insecure_configs_build() {
        assert!(client_config(&TlsOptions::default()).is_ok());
        let insecure = TlsOptions {
            insecure: true,
            ..Default::default()
        };
        assert!(client_config(&insecure).is_ok());
    }

    #[test]
    fn bad_options_are_explained() {
        let missing = TlsOptions {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let e = client_config(&missing).unwrap_err().to_string();
        assert!(e.contains("CA file `/nonexistent/ca.pem`"), "{e}");
        let half = TlsOptions {
            cert: Some("c.pem".into()),
            ..Default::default()
        };
        assert!(matches!(
            client_config(&half),
            Err(TlsError::CertWithoutKey)
        ));
        let both = TlsOptions {
            ca_file: Some("c.pem".into()),
            insecure: true,
            ..Default::default()
        };
        assert!(matches!(
            client_config(&both),
            Err(TlsError::InsecureWithCa)
        ));
    }

    #[test]
    fn a_v1_client_certificate_is_named_as_the_problem() {
        // An X.509 v1 certificate, as `openssl x509 -req` makes without extensions.
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
        let e = client_config(&TlsOptions {
            cert: Some(fixtures.join("client-v1.pem")),
            key: Some(fixtures.join("client-v1.key")),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("--cert `"), "{e}");
        assert!(e.contains("X.509 v1 certificate"), "{e}");
        assert!(!e.contains("peer"), "{e}");
    }

    #[test]
    fn empty_pem_is_refused() {
        let dir = std::env::temp_dir().join(format!("touchstone-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let e = client_config(&TlsOptions {
            ca_file: Some(path),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("no PEM certificate"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
