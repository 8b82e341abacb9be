//! Building and checking the `authentication` fields of backend and
//! virtual clusters.

use std::collections::HashSet;

use serde::Deserialize;
use serde_yaml_ng::Value;

use super::auth_schema::{
    BackendAuthentication, Mediation, OauthBearer, PlainPrincipal, ScramPrincipal,
    VirtualAuthentication,
};
use super::document::{decode, split_tag, unknown_type_message};
use super::errors::{DocPath, ErrorList};
use super::raw::RawEmpty;
use super::schema::BackendCluster;
use crate::scram::{ScramAlgorithm, MIN_ITERATIONS};
use crate::secret::SecretRef;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackendPlain {
    username: String,
    password: SecretRef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackendScram {
    algorithm: ScramAlgorithm,
    username: String,
    password: SecretRef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlainScheme {
    mediation: Mediation,
    principals: Option<Vec<PlainPrincipal>>,
    session_lifetime_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScramScheme {
    algorithm: ScramAlgorithm,
    mediation: Mediation,
    principals: Option<Vec<ScramPrincipal>>,
    session_lifetime_ms: Option<u64>,
}

const BACKEND_TYPES: &[&str] = &["anonymous", "sasl_plain", "sasl_scram"];
const VIRTUAL_TYPES: &[&str] = &[
    "anonymous",
    "client_certificate",
    "sasl_plain",
    "sasl_scram",
    "oauth_bearer",
];

/// `anonymous`, `sasl_plain {username, password}` or `sasl_scram
/// {algorithm, username, password}`; a bad one reads as anonymous, with
/// its errors reported.
pub(super) fn backend_authentication(
    value: &Value,
    at: &DocPath,
    errors: &mut ErrorList,
) -> BackendAuthentication {
    let Some((tag, rest)) = split_tag(value, at, errors) else {
        return BackendAuthentication::Anonymous;
    };
    let built = match tag.as_str() {
        "anonymous" => {
            decode::<RawEmpty>(&rest, at, errors).map(|_| BackendAuthentication::Anonymous)
        }
        "sasl_plain" => decode::<RawBackendPlain>(&rest, at, errors).map(|raw| {
            BackendAuthentication::SaslPlain {
                username: raw.username,
                password: raw.password,
            }
        }),
        "sasl_scram" => decode::<RawBackendScram>(&rest, at, errors).map(|raw| {
            BackendAuthentication::SaslScram {
                algorithm: raw.algorithm,
                username: raw.username,
                password: raw.password,
            }
        }),
        _ => {
            let message = unknown_type_message("authentication", &tag, BACKEND_TYPES);
            errors.push(at.key("type"), message);
            None
        }
    };
    let auth = built.unwrap_or_default();
    if let BackendAuthentication::SaslPlain { username, .. }
    | BackendAuthentication::SaslScram { username, .. } = &auth
    {
        if username.is_empty() {
            errors.push(at.key("username"), "must not be empty");
        }
    }
    auth
}

/// One scheme of a virtual cluster's `authentication` list.
pub(super) fn virtual_scheme(
    value: &Value,
    at: &DocPath,
    errors: &mut ErrorList,
) -> Option<VirtualAuthentication> {
    let (tag, rest) = split_tag(value, at, errors)?;
    match tag.as_str() {
        "anonymous" => {
            decode::<RawEmpty>(&rest, at, errors).map(|_| VirtualAuthentication::Anonymous)
        }
        "client_certificate" => {
            decode::<RawEmpty>(&rest, at, errors).map(|_| VirtualAuthentication::ClientCertificate)
        }
        "sasl_plain" => {
            let raw: RawPlainScheme = decode(&rest, at, errors)?;
            let principals = raw.principals.unwrap_or_default();
            check_principals(
                raw.mediation,
                principals.iter().map(|p| &p.username),
                at,
                errors,
            );
            check_lifetime(raw.mediation, raw.session_lifetime_ms, at, errors);
            Some(VirtualAuthentication::SaslPlain {
                mediation: raw.mediation,
                principals,
                session_lifetime_ms: raw.session_lifetime_ms,
            })
        }
        "sasl_scram" => {
            let raw: RawScramScheme = decode(&rest, at, errors)?;
            let principals = raw.principals.unwrap_or_default();
            check_principals(
                raw.mediation,
                principals.iter().map(|p| &p.username),
                at,
                errors,
            );
            for (k, principal) in principals.iter().enumerate() {
                let at = at.key("principals").index(k);
                check_scram_principal(principal, raw.algorithm, &at, errors);
            }
            check_lifetime(raw.mediation, raw.session_lifetime_ms, at, errors);
            Some(VirtualAuthentication::SaslScram {
                algorithm: raw.algorithm,
                mediation: raw.mediation,
                principals,
                session_lifetime_ms: raw.session_lifetime_ms,
            })
        }
        "oauth_bearer" => {
            let oauth: OauthBearer = decode(&rest, at, errors)?;
            check_oauth(&oauth, at, errors);
            Some(VirtualAuthentication::OauthBearer(oauth))
        }
        _ => {
            let message = unknown_type_message("authentication", &tag, VIRTUAL_TYPES);
            errors.push(at.key("type"), message);
            None
        }
    }
}

/// Terminating needs users to check; passing through has the broker's.
fn check_principals<'a>(
    mediation: Mediation,
    names: impl Iterator<Item = &'a String>,
    at: &DocPath,
    errors: &mut ErrorList,
) {
    let names: Vec<&String> = names.collect();
    match mediation {
        Mediation::Terminate if names.is_empty() => {
            errors.push(
                at.key("principals"),
                "terminate needs at least one principal",
            );
        }
        Mediation::Passthrough if !names.is_empty() => errors.push(
            at.key("principals"),
            "the broker checks passed-through logins; principals are for mediation: terminate",
        ),
        _ => {}
    }
    let mut seen = HashSet::new();
    for (k, name) in names.into_iter().enumerate() {
        let at = at.key("principals").index(k).key("username");
        if name.is_empty() {
            errors.push(at, "must not be empty");
        } else if !seen.insert(name) {
            errors.push(at, format!("user \"{name}\" is listed twice"));
        }
    }
}

/// Tokens are checked against a JWKS file for now; the broker checks them
/// when they are passed through.
fn check_oauth(oauth: &OauthBearer, at: &DocPath, errors: &mut ErrorList) {
    check_lifetime(oauth.mediation, oauth.session_lifetime_ms, at, errors);
    let Some(jwks) = &oauth.jwks else {
        if oauth.mediation == Mediation::Terminate {
            errors.push(
                at.key("jwks"),
                "terminate needs the keys to check tokens with",
            );
        }
        return;
    };
    if oauth.mediation == Mediation::Passthrough {
        errors.push(
            at.key("jwks"),
            "the broker checks passed-through tokens; jwks is for mediation: terminate",
        );
    }
    let endpoint = &jwks.endpoint;
    let at = at.key("jwks").key("endpoint");
    if endpoint.starts_with("https://") || endpoint.starts_with("http://") {
        errors.push(
            at,
            "a JWKS over HTTP(S) is not supported yet; give the path of a JWKS file",
        );
    } else if !std::path::Path::new(endpoint).is_absolute() {
        errors.push(at, "must be an absolute path to a JWKS file");
    }
}

/// A session lifetime is the terminating gateway's to set; the broker
/// sets its own for logins passed through.
fn check_lifetime(
    mediation: Mediation,
    lifetime: Option<u64>,
    at: &DocPath,
    errors: &mut ErrorList,
) {
    let at = at.key("session_lifetime_ms");
    match (mediation, lifetime) {
        (_, None) => {}
        (Mediation::Passthrough, Some(_)) => errors.push(
            at,
            "the broker sets the session lifetime of passed-through logins (connections.max.reauth.ms)",
        ),
        (Mediation::Terminate, Some(ms)) if !(1_000..=MAX_LIFETIME_MS).contains(&ms) => {
            errors.push(at, format!("must be between 1000 and {MAX_LIFETIME_MS}"));
        }
        _ => {}
    }
}

/// A week: long enough for any session, short enough to add to a clock.
const MAX_LIFETIME_MS: u64 = 7 * 24 * 3600 * 1000;

fn check_scram_principal(
    principal: &ScramPrincipal,
    algorithm: ScramAlgorithm,
    at: &DocPath,
    errors: &mut ErrorList,
) {
    if principal.algorithm.is_some_and(|a| a != algorithm) {
        let message = format!(
            "this verifier is for another algorithm than the scheme's {}",
            algorithm.mechanism()
        );
        errors.push(at.key("algorithm"), message);
    }
    if principal.iterations < MIN_ITERATIONS {
        errors.push(
            at.key("iterations"),
            format!("must be at least {MIN_ITERATIONS}"),
        );
    }
    if crate::scram::decode_base64(&principal.salt).is_none_or(|salt| salt.is_empty()) {
        errors.push(at.key("salt"), "must be non-empty base64");
    }
}

/// Rules across a virtual cluster's schemes and its backend.
pub(super) fn check_virtual_schemes(
    schemes: &[VirtualAuthentication],
    backend: Option<&BackendCluster>,
    at: &DocPath,
    errors: &mut ErrorList,
) {
    let mut mechanisms = HashSet::new();
    for (k, scheme) in schemes.iter().enumerate() {
        let label = scheme.label();
        if !mechanisms.insert(label) {
            errors.push(at.index(k), format!("{label} is offered twice"));
        }
    }
    let mediations: HashSet<Mediation> = schemes.iter().filter_map(|s| s.mediation()).collect();
    if mediations.len() > 1 {
        errors.push(
            at.clone(),
            "one virtual cluster either passes SASL through or terminates it, not both",
        );
    }
    let certificates = schemes.contains(&VirtualAuthentication::ClientCertificate);
    if certificates && mediations.contains(&Mediation::Passthrough) {
        errors.push(
            at.clone(),
            "client_certificate logs clients in at the gateway; it cannot be combined with mediation: passthrough",
        );
    }
    let Some(backend) = backend else {
        return;
    };
    let anonymous = schemes.contains(&VirtualAuthentication::Anonymous);
    let passthrough = mediations.contains(&Mediation::Passthrough);
    if anonymous
        && !passthrough
        && !backend.authentication.is_anonymous()
        && !backend.insecure_allow_anonymous_virtual_cluster_auth
    {
        errors.push(
            at.clone(),
            format!(
                "anonymous clients would use backend cluster \"{}\"'s credential; set its \
                 insecure_allow_anonymous_virtual_cluster_auth: true if that is intended",
                backend.name
            ),
        );
    }
}
