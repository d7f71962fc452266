//! Trusted root certificates for server verification.

use std::path::Path;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::TransportError;

/// Parses every `CERTIFICATE` block in `pem` and adds it to `store`.
///
/// Other PEM blocks, such as private keys, are skipped. `origin` names the
/// input in errors. Returns the number of certificates added.
pub(crate) fn add_pem(
    store: &mut RootCertStore,
    pem: &[u8],
    origin: &str,
) -> Result<usize, TransportError> {
    let invalid = |reason: String| TransportError::InvalidRootPem {
        origin: origin.to_owned(),
        reason,
    };

    let mut certificates = Vec::new();
    for (index, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let certificate = item.map_err(|error| {
            invalid(format!(
                "certificate block {} is malformed: {error}",
                index + 1
            ))
        })?;
        certificates.push(certificate);
    }
    if certificates.is_empty() {
        return Err(invalid(
            "no -----BEGIN CERTIFICATE----- block found".to_owned(),
        ));
    }

    let count = certificates.len();
    for (index, certificate) in certificates.into_iter().enumerate() {
        store.add(certificate).map_err(|error| {
            invalid(format!(
                "certificate block {} is not a usable CA certificate: {error}",
                index + 1
            ))
        })?;
    }
    Ok(count)
}

/// Reads `path` and adds every certificate in it to `store`.
pub(crate) fn add_pem_file(
    store: &mut RootCertStore,
    path: &Path,
) -> Result<usize, TransportError> {
    let pem = std::fs::read(path).map_err(|source| TransportError::ReadRootFile {
        path: path.to_owned(),
        source,
    })?;
    add_pem(store, &pem, &path.display().to_string())
}

/// Adds the Mozilla root program's CAs bundled by `webpki-roots`.
pub(crate) fn add_bundled(store: &mut RootCertStore) {
    store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
}

/// Adds the operating system's trusted CAs.
///
/// Certificates in the store that rustls cannot parse are skipped and
/// logged. Fails only when no certificate at all could be loaded.
#[cfg(feature = "native-roots")]
pub(crate) fn add_native(store: &mut RootCertStore) -> Result<usize, TransportError> {
    let loaded = rustls_native_certs::load_native_certs();
    for error in &loaded.errors {
        log::warn!("platform certificate store: {error}");
    }

    let (added, ignored) = store.add_parsable_certificates(loaded.certs);
    if ignored > 0 {
        log::warn!("platform certificate store: skipped {ignored} unparsable certificates");
    }
    if added == 0 {
        let reason = if loaded.errors.is_empty() {
            "it contains no certificates".to_owned()
        } else {
            loaded
                .errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Err(TransportError::NativeRoots { reason });
    }
    Ok(added)
}
