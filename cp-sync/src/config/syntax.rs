//! Checks on single values: DNS labels, host names, `host:port`.

use std::net::{IpAddr, Ipv6Addr};

/// Checks an RFC 1035 label as used in SNI host names; the error says which
/// rule is broken.
pub(crate) fn check_dns_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("must not be empty; use a DNS label like \"team-a\"".to_owned());
    }
    if label.len() > 63 {
        return Err(format!(
            "is {} characters long; a DNS label has at most 63",
            label.len()
        ));
    }
    if !label.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(format!(
            "\"{label}\" must start with a lowercase letter (RFC 1035 label)"
        ));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if let Some(bad) = label.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "\"{label}\" contains {bad:?}; use only lowercase letters, digits and '-'"
        ));
    }
    if label.ends_with('-') {
        return Err(format!("\"{label}\" must end with a letter or digit"));
    }
    Ok(())
}

/// A DNS host name (letters, digits, '-', '_' in dot-separated labels) or an
/// IP address (IPv6 without brackets).
pub(crate) fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    if host.starts_with('[') || host.contains(':') {
        return Err(format!(
            "\"{host}\" is not a host name or IP address; write it without a port or brackets"
        ));
    }
    if host.len() > 253 {
        return Err(format!("\"{host}\" is longer than 253 characters"));
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!("\"{host}\" is not a valid host name or IP address"))
    }
}

/// Splits `host:port` (`[v6]:port` for IPv6) into host (without brackets)
/// and port, checking both.
pub fn parse_host_port(text: &str) -> Result<(&str, u16), String> {
    let example = "write host:port, e.g. kafka-1:9092 or [::1]:9092";
    let (host, port) = if let Some(bracketed) = text.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err(format!("\"{text}\" has no closing ']'; {example}"));
        };
        if host.parse::<Ipv6Addr>().is_err() {
            return Err(format!("\"{host}\" in brackets is not an IPv6 address"));
        }
        let Some(port) = after.strip_prefix(':') else {
            return Err(format!("\"{text}\" has no port; {example}"));
        };
        (host, port)
    } else {
        let Some((host, port)) = text.rsplit_once(':') else {
            return Err(format!("\"{text}\" has no port; {example}"));
        };
        if host.contains(':') {
            return Err(format!(
                "\"{text}\": put IPv6 addresses in brackets, e.g. [::1]:9092"
            ));
        }
        check_host(host).map_err(|e| format!("host {e}"))?;
        (host, port)
    };
    match port.parse::<u16>() {
        Ok(number) if number >= 1 => Ok((host, number)),
        _ => Err(format!(
            "\"{text}\" has port \"{port}\"; a port is a number from 1 to 65535"
        )),
    }
}

/// An SNI suffix: a dot, then a DNS name of lowercase labels (SNI names are
/// compared in lowercase, and certificates name hosts that way).
pub(crate) fn check_sni_suffix(suffix: &str) -> Result<(), String> {
    let example = "e.g. \".kafka.example.com\"";
    if suffix.is_empty() {
        return Err(format!("must not be empty; write a DNS suffix, {example}"));
    }
    let Some(name) = suffix.strip_prefix('.') else {
        return Err(format!(
            "\"{suffix}\" must start with '.', {example}; host names are the prefix \
             followed by the suffix as written"
        ));
    };
    if name.len() > 200 {
        return Err(format!(
            "\"{suffix}\" is {} characters long; leave room for the broker and cluster \
             labels within DNS's 253",
            suffix.len()
        ));
    }
    for label in name.split('.') {
        check_suffix_label(suffix, label)?;
    }
    Ok(())
}

fn check_suffix_label(suffix: &str, label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err(format!(
            "\"{suffix}\" has an empty DNS label; write labels separated by single dots, \
             with none at the end"
        ));
    }
    if label.len() > 63 {
        return Err(format!(
            "\"{suffix}\" has a label of {} characters; a DNS label has at most 63",
            label.len()
        ));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if let Some(bad) = label.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "\"{suffix}\" contains {bad:?}; use only lowercase letters, digits, '-' and '.'"
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(format!(
            "\"{suffix}\" has the label \"{label}\", which starts or ends with '-'"
        ));
    }
    Ok(())
}
