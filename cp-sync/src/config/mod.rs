//! Configuration schema, parsing and validation.
//!
//! One document (YAML or JSON, same schema) lists `backend_clusters`,
//! `virtual_clusters` and `listeners`; README.md (configuration reference) describes
//! every field. [`parse_config_str`] turns text into a validated [`Config`]
//! or a [`ConfigErrors`] naming every problem with its path, e.g.
//! `listeners[1].policies[0].config.min_broker_id: must be >= 0`.
//! The control plane uses the same code, so a config it accepts is one the
//! data plane accepts.

mod auth;
mod auth_schema;
mod build;
mod document;
mod errors;
mod limits;
mod listeners;
mod mapping;
mod origins;
mod parse;
mod policies;
mod ports;
mod raw;
mod schema;
mod sni;
mod syntax;
mod tls_build;
mod tls_checks;
mod tls_version;
mod validate;

#[cfg(test)]
mod tests;

pub use auth_schema::{
    ClaimsMapping, Jwks, Mediation, OauthBearer, PlainPrincipal, ScramPrincipal, TokenChecks,
};
pub use document::ConfigFormat;
pub use errors::{ConfigError, ConfigErrors};
pub(crate) use errors::{DocPath, ErrorList};
pub use limits::{
    ListenerLimits, DEFAULT_FIRST_FRAME_TIMEOUT_MS, DEFAULT_FRAME_TIMEOUT_MS,
    DEFAULT_IDLE_TIMEOUT_MS, MAX_TIMEOUT_MS,
};
pub use mapping::{broker_port, port_target, PortTarget};
pub use parse::{load_config_file, parse_config_str};
pub use policies::{Acks, ProduceLimits, ProducePolicy};
pub use ports::{ListenerPorts, PortRange};
pub use schema::{
    AclMode, BackendAuthentication, BackendCluster, BackendTls, BootstrapPort, BrokerHostFormat,
    CertificateSource, ClientAuthMode, ClientAuthentication, Config, Destination, HostMapping,
    Listener, ListenerPolicy, PemSource, PortMapping, PrincipalSource, SniMapping, TlsServer,
    TlsVersion, TlsVersions, VirtualAuthentication, VirtualCluster,
    DEFAULT_METADATA_UPDATE_INTERVAL_SECONDS,
};
pub use sni::SniRoute;
pub use syntax::parse_host_port;
pub use validate::validate;
