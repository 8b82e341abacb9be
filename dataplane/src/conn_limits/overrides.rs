//! `--max-connections-per-ip-overrides`: per-address limits written
//! `ADDR=N,ADDR=N`, or `ADDR:N` as the broker's
//! `max.connections.per.ip.overrides` writes them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Deref;

/// Connection limits by client address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpOverrides(HashMap<IpAddr, usize>);

impl Deref for IpOverrides {
    type Target = HashMap<IpAddr, usize>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Parses `ADDR=N[,ADDR=N...]` (an empty value is no override).
pub fn parse_ip_overrides(text: &str) -> Result<IpOverrides, String> {
    let mut overrides = HashMap::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (addr, count) = entry
            .split_once('=')
            .or_else(|| entry.rsplit_once(':'))
            .ok_or_else(|| format!("{entry:?}: expected ADDR=N, e.g. 10.0.0.7=200"))?;
        let ip: IpAddr = (addr.trim().parse())
            .map_err(|_| format!("{entry:?}: {:?} is not an IP address", addr.trim()))?;
        let count: usize = (count.trim().parse())
            .map_err(|_| format!("{entry:?}: {:?} is not a connection count", count.trim()))?;
        if overrides.insert(ip, count).is_some() {
            return Err(format!("{ip} is listed twice"));
        }
    }
    Ok(IpOverrides(overrides))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_and_ipv6() {
        let parsed = parse_ip_overrides("127.0.0.1=200, 10.0.0.7:5,::1=0,[::2]=x").unwrap_err();
        assert!(
            parsed.contains("\"[::2]\" is not an IP address"),
            "{parsed}"
        );
        let parsed = parse_ip_overrides("127.0.0.1=200, 10.0.0.7:5,::1=0,fe80::1:7").unwrap();
        let get = |ip: &str| parsed.get(&ip.parse::<IpAddr>().unwrap()).copied();
        assert_eq!(get("127.0.0.1"), Some(200));
        assert_eq!(get("10.0.0.7"), Some(5));
        assert_eq!(get("::1"), Some(0));
        assert_eq!(get("fe80::1"), Some(7));
        assert_eq!(parse_ip_overrides("").unwrap(), IpOverrides::default());
    }

    #[test]
    fn bad_entries_are_named() {
        for (text, fragment) in [
            ("10.0.0.1", "expected ADDR=N"),
            ("host=3", "\"host\" is not an IP address"),
            ("10.0.0.1=-1", "\"-1\" is not a connection count"),
            ("10.0.0.1=1,10.0.0.1=2", "10.0.0.1 is listed twice"),
        ] {
            let error = parse_ip_overrides(text).unwrap_err();
            assert!(error.contains(fragment), "{text}: {error}");
        }
    }
}
