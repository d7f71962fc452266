//! The HTTPS listener's certificates: a fresh self-signed CA per simulator
//! and a leaf for `localhost`, `127.0.0.1` and `::1` signed by it.

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The generated CA and the server configuration that uses its leaf.
pub(crate) struct Certificates {
    pub(crate) ca_pem: String,
    pub(crate) ca_der: Vec<u8>,
    pub(crate) server_config: Arc<ServerConfig>,
}

fn tls_error(what: &str, error: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("failed to {what}: {error}"))
}

/// Generates ECDSA P-256 keys, the CA and the leaf. `extra_host` is added to
/// the leaf's names (as an IP address or a DNS name) when it is not one of
/// the defaults.
pub(crate) fn generate(extra_host: Option<&str>) -> io::Result<Certificates> {
    // UTCTime ends in 2049; staying inside it keeps small TLS stacks happy.
    let not_before = rcgen::date_time_ymd(2024, 1, 1);
    let not_after = rcgen::date_time_ymd(2049, 12, 31);

    let ca_key = KeyPair::generate().map_err(|error| tls_error("generate the CA key", error))?;
    let mut ca_params = CertificateParams::default();
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "intacct-simulator test CA");
    ca_name.push(DnType::OrganizationName, "intacct-simulator");
    ca_params.distinguished_name = ca_name;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_before = not_before;
    ca_params.not_after = not_after;
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|error| tls_error("sign the CA certificate", error))?;

    let mut names = vec![
        SanType::DnsName(
            "localhost"
                .try_into()
                .map_err(|error| tls_error("encode the name localhost", error))?,
        ),
        SanType::IpAddress(IpAddr::from([127, 0, 0, 1])),
        SanType::IpAddress(IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])),
    ];
    if let Some(host) = extra_host {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = match host.parse::<IpAddr>() {
            Ok(address) => SanType::IpAddress(address),
            Err(_) => SanType::DnsName(
                host.try_into()
                    .map_err(|error| tls_error(&format!("encode the host name {host:?}"), error))?,
            ),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }

    let leaf_key =
        KeyPair::generate().map_err(|error| tls_error("generate the server key", error))?;
    let mut leaf_params = CertificateParams::default();
    let mut leaf_name = DistinguishedName::new();
    leaf_name.push(DnType::CommonName, "localhost");
    leaf_params.distinguished_name = leaf_name;
    leaf_params.subject_alt_names = names;
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.not_before = not_before;
    leaf_params.not_after = not_after;
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let leaf_cert = leaf_params
        .signed_by(&leaf_key, &issuer)
        .map_err(|error| tls_error("sign the server certificate", error))?;

    let chain = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| tls_error("choose TLS versions", error))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| tls_error("load the server certificate", error))?;

    Ok(Certificates {
        ca_pem: ca_cert.pem(),
        ca_der: CertificateDer::as_ref(ca_cert.der()).to_vec(),
        server_config: Arc::new(server_config),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_pem_ca() {
        let certificates = generate(Some("gateway.test")).unwrap();
        assert!(
            certificates
                .ca_pem
                .starts_with("-----BEGIN CERTIFICATE-----")
        );
        assert!(!certificates.ca_der.is_empty());
    }

    #[test]
    fn rejects_unencodable_host() {
        assert!(generate(Some("bad host\u{e9}")).is_err());
    }
}
