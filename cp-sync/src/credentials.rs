//! The authentication secrets of one configuration, resolved on the node
//! that runs it: backend credentials for the gateway's own logins, and the
//! principals each virtual cluster checks client logins against. Resolved
//! with every configuration load, so a changed secret file is read again on
//! reload; a reference that cannot be resolved rejects the configuration
//! with the field's path.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{
    BackendAuthentication, Config, ConfigErrors, DocPath, ErrorList, OauthBearer, ScramPrincipal,
    VirtualAuthentication,
};
use crate::oauth::OauthKeys;
use crate::scram::{decode_base64, ScramAlgorithm, ScramVerifier};
use crate::secret::{Secret, SecretError, SecretRef};

/// How the gateway logs in to one backend cluster.
#[derive(Debug, Clone)]
pub enum BackendLogin {
    Plain {
        username: String,
        password: Secret,
    },
    Scram {
        algorithm: ScramAlgorithm,
        username: String,
        password: Secret,
    },
}

/// The users one virtual cluster's terminating schemes accept.
#[derive(Debug, Default)]
pub struct ClientLogins {
    pub plain: HashMap<String, Secret>,
    pub scram: HashMap<(ScramAlgorithm, String), ScramVerifier>,
    /// The keys and checks of its `oauth_bearer` scheme.
    pub oauth: Option<OauthKeys>,
}

#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// By backend cluster name; anonymous backends are absent.
    pub backends: HashMap<String, BackendLogin>,
    /// By virtual cluster name; clusters that terminate nothing are absent.
    pub clusters: HashMap<String, Arc<ClientLogins>>,
}

/// Resolves every secret `config` names, reading variables with `env`.
pub fn build_credentials(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credentials, ConfigErrors> {
    let mut errors = ErrorList::default();
    let mut credentials = Credentials::default();
    let root = DocPath::root();
    for (i, backend) in config.backend_clusters.iter().enumerate() {
        let at = root.key("backend_clusters").index(i).key("authentication");
        if let Some(login) = backend_login(&backend.authentication, &at, env, &mut errors) {
            credentials.backends.insert(backend.name.clone(), login);
        }
    }
    for (i, cluster) in config.virtual_clusters.iter().enumerate() {
        let at = root.key("virtual_clusters").index(i).key("authentication");
        let logins = client_logins(&cluster.authentication, &at, env, &mut errors);
        if !logins.plain.is_empty() || !logins.scram.is_empty() || logins.oauth.is_some() {
            credentials
                .clusters
                .insert(cluster.name.clone(), Arc::new(logins));
        }
    }
    errors.into_result(None)?;
    Ok(credentials)
}

/// The paths of every secret `config` holds as a literal value rather than
/// a reference: what a store that must keep no secrets (the control plane)
/// refuses.
pub fn literal_secret_paths(config: &Config) -> Vec<String> {
    let mut paths = Vec::new();
    let mut note = |secret: &SecretRef, at: DocPath| {
        if matches!(secret, SecretRef::Literal(_)) {
            paths.push(at.to_string());
        }
    };
    let root = DocPath::root();
    for (i, backend) in config.backend_clusters.iter().enumerate() {
        let at = root.key("backend_clusters").index(i).key("authentication");
        if let BackendAuthentication::SaslPlain { password, .. }
        | BackendAuthentication::SaslScram { password, .. } = &backend.authentication
        {
            note(password, at.key("password"));
        }
    }
    for (i, cluster) in config.virtual_clusters.iter().enumerate() {
        let at = root.key("virtual_clusters").index(i).key("authentication");
        for (k, scheme) in cluster.authentication.iter().enumerate() {
            let at = at.index(k).key("principals");
            match scheme {
                VirtualAuthentication::Anonymous
                | VirtualAuthentication::ClientCertificate
                | VirtualAuthentication::OauthBearer(_) => {}
                VirtualAuthentication::SaslPlain { principals, .. } => {
                    for (p, principal) in principals.iter().enumerate() {
                        note(&principal.password, at.index(p).key("password"));
                    }
                }
                VirtualAuthentication::SaslScram { principals, .. } => {
                    for (p, principal) in principals.iter().enumerate() {
                        note(&principal.stored_key, at.index(p).key("stored_key"));
                        note(&principal.server_key, at.index(p).key("server_key"));
                    }
                }
            }
        }
    }
    paths
}

fn resolve(
    secret: &SecretRef,
    at: DocPath,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut ErrorList,
) -> Option<Secret> {
    secret
        .resolve(env)
        .map_err(|e| errors.push(at, e.to_string()))
        .ok()
}

fn backend_login(
    auth: &BackendAuthentication,
    at: &DocPath,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut ErrorList,
) -> Option<BackendLogin> {
    BackendLogin::resolve(auth, env)
        .map_err(|e| errors.push(at.key("password"), e.to_string()))
        .ok()
        .flatten()
}

impl BackendLogin {
    /// The login `auth` describes, its password read now with `env` (or
    /// from its file); `None` for an anonymous backend.
    pub fn resolve(
        auth: &BackendAuthentication,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<BackendLogin>, SecretError> {
        Ok(match auth {
            BackendAuthentication::Anonymous => None,
            BackendAuthentication::SaslPlain { username, password } => Some(BackendLogin::Plain {
                username: username.clone(),
                password: password.resolve(env)?,
            }),
            BackendAuthentication::SaslScram {
                algorithm,
                username,
                password,
            } => Some(BackendLogin::Scram {
                algorithm: *algorithm,
                username: username.clone(),
                password: password.resolve(env)?,
            }),
        })
    }
}

fn client_logins(
    schemes: &[VirtualAuthentication],
    at: &DocPath,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut ErrorList,
) -> ClientLogins {
    let mut logins = ClientLogins::default();
    let at_scheme = at;
    for (k, scheme) in schemes.iter().enumerate() {
        let at = at.index(k).key("principals");
        match scheme {
            VirtualAuthentication::Anonymous | VirtualAuthentication::ClientCertificate => {}
            VirtualAuthentication::SaslPlain { principals, .. } => {
                for (p, principal) in principals.iter().enumerate() {
                    let at = at.index(p).key("password");
                    if let Some(password) = resolve(&principal.password, at, env, errors) {
                        logins.plain.insert(principal.username.clone(), password);
                    }
                }
            }
            VirtualAuthentication::SaslScram {
                algorithm,
                principals,
                ..
            } => {
                for (p, principal) in principals.iter().enumerate() {
                    let at = at.index(p);
                    if let Some(v) = verifier(*algorithm, principal, &at, env, errors) {
                        logins
                            .scram
                            .insert((*algorithm, principal.username.clone()), v);
                    }
                }
            }
            VirtualAuthentication::OauthBearer(oauth) => {
                let at = at_scheme.index(k).key("jwks").key("endpoint");
                logins.oauth = oauth_keys(oauth, at, errors);
            }
        }
    }
    logins
}

/// Reads the JWKS file a scheme names; every key in it must be usable.
fn oauth_keys(oauth: &OauthBearer, at: DocPath, errors: &mut ErrorList) -> Option<OauthKeys> {
    // Passed-through tokens name no JWKS: the broker checks them.
    let path = &oauth.jwks.as_ref()?.endpoint;
    let text = std::fs::read_to_string(path)
        .map_err(|e| errors.push(at.clone(), format!("cannot read {path}: {e}")))
        .ok()?;
    let keys: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&text)
        .map_err(|e| errors.push(at.clone(), format!("{path} is not a JWKS: {e}")))
        .ok()?;
    for jwk in &keys.keys {
        if let Err(e) = jsonwebtoken::DecodingKey::from_jwk(jwk) {
            let kid = jwk.common.key_id.as_deref().unwrap_or("(no kid)");
            errors.push(at.clone(), format!("{path}: key {kid}: {e}"));
            return None;
        }
    }
    if keys.keys.is_empty() {
        errors.push(at, format!("{path} holds no key"));
        return None;
    }
    Some(OauthKeys {
        keys,
        checks: oauth.validate.clone(),
        claims: oauth.claims_mapping.clone(),
    })
}

fn verifier(
    algorithm: ScramAlgorithm,
    principal: &ScramPrincipal,
    at: &DocPath,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut ErrorList,
) -> Option<ScramVerifier> {
    let key_len = algorithm.key_len();
    let mut key = |field: &'static str, secret: &SecretRef| {
        let value = resolve(secret, at.key(field), env, errors)?;
        match decode_base64(value.expose()) {
            Some(bytes) if bytes.len() == key_len => Some(bytes),
            _ => {
                let message = format!("must be {key_len} bytes in base64");
                errors.push(at.key(field), message);
                None
            }
        }
    };
    let stored_key = key("stored_key", &principal.stored_key);
    let server_key = key("server_key", &principal.server_key);
    Some(ScramVerifier {
        algorithm,
        salt: decode_base64(&principal.salt)?,
        iterations: principal.iterations,
        stored_key: stored_key?,
        server_key: server_key?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_config_str, ConfigFormat};

    const YAML: &str = r#"
backend_clusters:
  - name: kafka
    bootstrap_servers: ["127.0.0.1:9092"]
    authentication: {type: sasl_scram, algorithm: sha256, username: gw, password: "${env:GW_PW}"}
virtual_clusters:
  - name: team-a
    dns_label: team-a
    destination: { name: kafka }
    authentication:
      - type: sasl_plain
        mediation: terminate
        principals: [{username: alice, password: "${env:ALICE_PW}"}]
      - type: sasl_scram
        algorithm: sha256
        mediation: terminate
        principals:
          - username: bob
            salt: W22ZaJ0SNY7soEsUEjb6gQ==
            iterations: 4096
            stored_key: "${env:BOB_STORED}"
            server_key: "${env:BOB_SERVER}"
listeners:
  - name: plain
    ports: ["19092-19097"]
    policies:
      - type: forward_to_virtual_cluster
        config:
          type: port_mapping
          destination: { name: team-a }
          advertised_host: localhost
"#;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            (vars.iter())
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn every_secret_is_resolved_on_the_node() {
        let config = parse_config_str(YAML, ConfigFormat::Yaml).unwrap();
        let key = "A".repeat(43) + "=";
        let vars = [
            ("GW_PW", "gw-secret"),
            ("ALICE_PW", "alice-secret"),
            ("BOB_STORED", key.as_str()),
            ("BOB_SERVER", key.as_str()),
        ];
        let credentials = build_credentials(&config, &env(&vars)).unwrap();
        let Some(BackendLogin::Scram { password, .. }) = credentials.backends.get("kafka") else {
            panic!("no backend login: {credentials:?}");
        };
        assert_eq!(password.expose(), "gw-secret");
        let logins = &credentials.clusters["team-a"];
        assert_eq!(logins.plain["alice"].expose(), "alice-secret");
        let bob = &logins.scram[&(ScramAlgorithm::Sha256, "bob".to_owned())];
        assert_eq!(bob.stored_key.len(), 32);
        let shown = format!("{credentials:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn literal_secrets_are_found_wherever_they_are() {
        let literal = YAML
            .replace("\"${env:GW_PW}\"", "gw-literal")
            .replace("\"${env:BOB_SERVER}\"", "c2VydmVy");
        let config = parse_config_str(&literal, ConfigFormat::Yaml).unwrap();
        assert_eq!(
            literal_secret_paths(&config),
            [
                "backend_clusters[0].authentication.password",
                "virtual_clusters[0].authentication[1].principals[0].server_key",
            ]
        );
    }

    #[test]
    fn a_missing_or_malformed_secret_is_an_error_at_its_path() {
        let config = parse_config_str(YAML, ConfigFormat::Yaml).unwrap();
        let vars = [("GW_PW", "x"), ("BOB_STORED", "short"), ("BOB_SERVER", "")];
        let errors = build_credentials(&config, &env(&vars))
            .unwrap_err()
            .to_string();
        let at = "virtual_clusters[0].authentication";
        for expected in [
            format!("{at}[0].principals[0].password: environment variable ALICE_PW is not set"),
            format!("{at}[1].principals[0].stored_key: must be 32 bytes in base64"),
            format!("{at}[1].principals[0].server_key: environment variable BOB_SERVER is empty"),
        ] {
            assert!(errors.contains(&expected), "{expected}\n in\n{errors}");
        }
    }
}
