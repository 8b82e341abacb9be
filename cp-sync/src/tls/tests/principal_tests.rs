//! `client_principal` on every principal source.

use rcgen::{CertificateParams, DistinguishedName, DnType, SanType};

use super::super::client_principal;
use super::Ca;
use crate::config::PrincipalSource;

fn ia5(text: &str) -> rcgen::string::Ia5String {
    text.try_into().expect("ia5 string")
}

#[test]
fn every_principal_source() {
    let ca = Ca::new("ca");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    // rcgen starts every subject with a CN; this one is built in DER order.
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CountryName, "DE");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Example, Inc.");
    params
        .distinguished_name
        .push(DnType::OrganizationalUnitName, "eng");
    params.distinguished_name.push(DnType::CommonName, "alice");
    params.subject_alt_names = vec![
        SanType::URI(ia5("spiffe://example.org/ns/a/sa/alice")),
        SanType::DnsName(ia5("alice.clients.example.com")),
        SanType::DnsName(ia5("second.example.com")),
        SanType::Rfc822Name(ia5("alice@example.com")),
    ];
    let der = ca.issue(params).der;
    let principal = |source| client_principal(&der, source);
    assert_eq!(
        principal(PrincipalSource::SubjectCn).as_deref(),
        Some("alice")
    );
    assert_eq!(
        principal(PrincipalSource::Subject).as_deref(),
        Some("CN=alice,OU=eng,O=Example\\, Inc.,C=DE")
    );
    assert_eq!(
        principal(PrincipalSource::SanDns).as_deref(),
        Some("alice.clients.example.com")
    );
    assert_eq!(
        principal(PrincipalSource::SanUri).as_deref(),
        Some("spiffe://example.org/ns/a/sa/alice")
    );
    assert_eq!(
        principal(PrincipalSource::SanEmail).as_deref(),
        Some("alice@example.com")
    );
}

#[test]
fn missing_parts_and_garbage_give_none() {
    let ca = Ca::new("ca");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Example");
    let bare = ca.issue(params).der;
    for source in [
        PrincipalSource::SubjectCn,
        PrincipalSource::SanDns,
        PrincipalSource::SanUri,
        PrincipalSource::SanEmail,
    ] {
        assert_eq!(client_principal(&bare, source), None, "{source:?}");
    }
    assert_eq!(
        client_principal(b"not a certificate", PrincipalSource::Subject),
        None
    );
    assert_eq!(client_principal(&[], PrincipalSource::SubjectCn), None);
}
