//! Naming a client by its certificate, for the data plane after a mutual
//! TLS handshake.

use std::fmt::Write;

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::config::PrincipalSource;

/// The client's principal taken from its (DER) end-entity certificate as
/// `source` says; `None` when the certificate cannot be parsed or lacks
/// that part. The certificate must already have been verified: this only
/// reads it.
pub fn client_principal(cert_der: &[u8], source: PrincipalSource) -> Option<String> {
    let (_, certificate) = x509_parser::parse_x509_certificate(cert_der).ok()?;
    match source {
        PrincipalSource::SubjectCn => certificate
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned),
        PrincipalSource::Subject => Some(rfc4514(certificate.subject())),
        PrincipalSource::SanDns => first_san(&certificate, |name| match name {
            GeneralName::DNSName(dns) => Some(dns),
            _ => None,
        }),
        PrincipalSource::SanUri => first_san(&certificate, |name| match name {
            GeneralName::URI(uri) => Some(uri),
            _ => None,
        }),
        PrincipalSource::SanEmail => first_san(&certificate, |name| match name {
            GeneralName::RFC822Name(email) => Some(email),
            _ => None,
        }),
    }
}

fn first_san<'a>(
    certificate: &'a X509Certificate<'a>,
    pick: impl Fn(&GeneralName<'a>) -> Option<&'a str>,
) -> Option<String> {
    let san = certificate.subject_alternative_name().ok()??;
    san.value
        .general_names
        .iter()
        .find_map(pick)
        .map(str::to_owned)
}

/// The subject as RFC 4514 text, most specific part first
/// (`CN=alice,OU=eng,O=Example`): the form Kafka's default SSL principal
/// builder gives, so ACLs written for Kafka keep matching.
fn rfc4514(name: &X509Name<'_>) -> String {
    let mut text = String::new();
    for (i, rdn) in name
        .iter_rdn()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .enumerate()
    {
        if i > 0 {
            text.push(',');
        }
        for (k, attribute) in rdn.iter().enumerate() {
            if k > 0 {
                text.push('+');
            }
            write_attribute(&mut text, attribute);
        }
    }
    text
}

fn write_attribute(text: &mut String, attribute: &AttributeTypeAndValue<'_>) {
    let oid = attribute.attr_type().to_id_string();
    let short = match oid.as_str() {
        "2.5.4.3" => Some("CN"),
        "2.5.4.6" => Some("C"),
        "2.5.4.7" => Some("L"),
        "2.5.4.8" => Some("ST"),
        "2.5.4.9" => Some("STREET"),
        "2.5.4.10" => Some("O"),
        "2.5.4.11" => Some("OU"),
        "0.9.2342.19200300.100.1.1" => Some("UID"),
        "0.9.2342.19200300.100.1.25" => Some("DC"),
        _ => None,
    };
    text.push_str(short.unwrap_or(&oid));
    text.push('=');
    match attribute.as_str() {
        Ok(value) => escape_value(text, value),
        // RFC 4514 writes values it cannot show as text in hex.
        Err(_) => {
            text.push('#');
            for byte in attribute.as_slice() {
                let _ = write!(text, "{byte:02x}");
            }
        }
    }
}

/// RFC 4514 section 2.4 escaping.
fn escape_value(text: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && (c == ' ' || c == '#'))
            || (i == last && c == ' ');
        if special {
            text.push('\\');
        }
        text.push(c);
    }
}
