//! The admin API of a real `sluice-cp serve`: entities, whole documents,
//! versions, authentication, persistence and the OpenAPI document.

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

use common::*;
use control_plane::client::Verb;
use serde_json::json;

#[test]
fn entity_crud_round_trips() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let admin = cp.admin();
    let created = admin
        .post_json(
            "/v1/backend_clusters",
            &json!({"name": "main", "bootstrap_servers": ["k1:9092"]}),
        )
        .unwrap();
    assert_eq!(created["version"], 1);
    // Stored with defaults filled in.
    assert_eq!(created["data"]["metadata_update_interval_seconds"], 60);
    let vc = json!({"name": "team-a", "dns_label": "team-a", "destination": {"name": "main"}});
    admin.post_json("/v1/virtual_clusters", &vc).unwrap();
    let listener = json!({"name": "plain", "ports": [19092, "19093-19095"], "policies": [
        {"type": "forward_to_virtual_cluster", "config": {"type": "port_mapping",
         "destination": {"name": "team-a"}, "advertised_host": "127.0.0.1"}}]});
    assert_eq!(
        admin.post_json("/v1/listeners", &listener).unwrap()["version"],
        3
    );

    let listed = admin.get("/v1/listeners").unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    assert_eq!(
        admin.get("/v1/backend_clusters/main").unwrap()["data"]["bootstrap_servers"],
        json!(["k1:9092"])
    );
}

#[test]
fn entities_are_replaced_and_deleted() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let admin = cp.admin();
    apply_yaml(&admin, &config_yaml("k1:9092"));
    let update = json!({"bootstrap_servers": ["k2:9092"]});
    let put = put_json(&admin, "/v1/backend_clusters/main", &update).unwrap();
    assert_eq!(
        (put["version"].as_u64(), put["changed"].as_bool()),
        (Some(2), Some(true))
    );
    let same = put_json(&admin, "/v1/backend_clusters/main", &update).unwrap();
    assert_eq!(
        (same["version"].as_u64(), same["changed"].as_bool()),
        (Some(2), Some(false))
    );
    let other = json!({"bootstrap_servers": ["k9:9092"]});
    let created = put_json(&admin, "/v1/backend_clusters/spare", &other).unwrap();
    assert_eq!(created["data"]["name"], "spare");

    let duplicate = json!({"name": "main", "bootstrap_servers": ["x:1"]});
    let (status, message, _) = api_error(admin.post_json("/v1/backend_clusters", &duplicate));
    assert_eq!(status, 409, "{message}");

    admin
        .call(Verb::Delete, "/v1/listeners/plain", None)
        .unwrap();
    let (status, _, _) = api_error(admin.get("/v1/listeners/plain"));
    assert_eq!(status, 404);
    assert_eq!(current_version(&admin), 4);
    let config = admin.get("/v1/config").unwrap();
    assert_eq!(config["config"]["listeners"], json!([]));
    assert_eq!(
        config["config"]["backend_clusters"][0]["bootstrap_servers"],
        json!(["k2:9092"])
    );
}

#[test]
fn invalid_changes_list_every_error_and_store_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let admin = cp.admin();
    apply_yaml(&admin, &config_yaml("k1:9092"));

    let bad = json!({"name": "b2", "bootstrap_servers": ["kafka-1"], "metadata_update_interval_seconds": 0});
    let (status, message, errors) = api_error(admin.post_json("/v1/backend_clusters", &bad));
    assert_eq!(status, 422, "{message}");
    assert!(message.contains("2 errors"), "{message}");
    assert!(
        has_error(&errors, "backend_clusters[1].bootstrap_servers[0]: "),
        "{errors:?}"
    );
    let interval = "backend_clusters[1].metadata_update_interval_seconds: must be >= 1";
    assert!(has_error(&errors, interval), "{errors:?}");

    // Deleting what others refer to breaks the whole config.
    let delete = admin.call(Verb::Delete, "/v1/backend_clusters/main", None);
    let (status, _, errors) = api_error(delete);
    assert_eq!(status, 422);
    assert!(
        has_error(&errors, "virtual_clusters[0].destination.name"),
        "{errors:?}"
    );

    let broken = "backend_clusters:\n  - name: x\n    bootstrap_servers: [\"nope\"]\n    colour: red\nlisteners:\n  - name: l\n    ports: [\"9-1\"]\n";
    let put = admin.call(
        Verb::Put,
        "/v1/config",
        Some(("application/yaml", broken.into())),
    );
    let (status, _, errors) = api_error(put);
    assert_eq!(status, 422);
    assert!(errors.len() >= 3, "{errors:?}");
    assert!(
        has_error(&errors, "backend_clusters[0].colour"),
        "{errors:?}"
    );
    assert!(has_error(&errors, "listeners[0].ports[0]"), "{errors:?}");

    assert_eq!(current_version(&admin), 1);
    let versions = admin.get("/v1/versions").unwrap();
    assert_eq!(versions["versions"].as_array().unwrap().len(), 1);
}

#[test]
fn malformed_requests_are_refused() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let admin = cp.admin();
    apply_yaml(&admin, &config_yaml("k1:9092"));
    let send = |verb, path: &str, content_type, body: &str| {
        api_error(admin.call(verb, path, Some((content_type, body.to_owned())))).0
    };
    assert_eq!(
        send(Verb::Put, "/v1/config", "application/json", "{not json"),
        400
    );
    assert_eq!(
        send(Verb::Put, "/v1/config", "application/yaml", "a: [1"),
        400
    );
    assert_eq!(send(Verb::Put, "/v1/config", "text/plain", "{}"), 415);
    assert_eq!(
        send(Verb::Post, "/v1/listeners", "application/json", "[1]"),
        400
    );
    let renamed = json!({"name": "other", "bootstrap_servers": ["k:1"]}).to_string();
    assert_eq!(
        send(
            Verb::Put,
            "/v1/backend_clusters/main",
            "application/json",
            &renamed
        ),
        400
    );
    assert_eq!(
        send(Verb::Post, "/v1/rollback", "application/json", "{}"),
        400
    );
    let (status, message, _) = api_error(admin.get("/v1/nowhere"));
    assert_eq!(status, 404, "{message}");
    assert_eq!(current_version(&admin), 1);
}

#[test]
fn admin_routes_need_the_token() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let (status, message, _) = api_error(cp.admin_with(None).get("/v1/config"));
    assert_eq!(status, 401, "{message}");
    let (status, _, _) = api_error(
        cp.admin_with(Some("wrong-token-0123456789"))
            .get("/v1/nodes"),
    );
    assert_eq!(status, 401);
    let (status, _, _) = api_error(
        cp.admin_with(None)
            .post_json("/v1/certificates", &json!({"node_id": "n"})),
    );
    assert_eq!(status, 401);
    assert!(cp.admin_with(None).get("/v1/openapi.json").is_ok());
}

#[test]
fn dry_run_shows_the_diff_and_stores_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let admin = cp.admin();
    apply_yaml(&admin, &config_yaml("k1:9092"));
    let next = config_yaml("k2:9092").replace(
        "listeners:",
        "  - { name: team-b, dns_label: team-b, destination: { name: main } }\nlisteners:",
    );
    let next = next.replace("name: plain", "name: renamed");
    let answer = admin
        .call(
            Verb::Put,
            "/v1/config?dry_run=true",
            Some(("application/yaml", next)),
        )
        .unwrap();
    assert_eq!(
        (answer["dry_run"].as_bool(), answer["changed"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(answer["version"], 1);
    let diff = &answer["diff"];
    assert_eq!(diff["virtual_clusters"]["added"], json!(["team-b"]));
    assert_eq!(diff["listeners"]["added"], json!(["renamed"]));
    assert_eq!(diff["listeners"]["removed"], json!(["plain"]));
    let changed = &diff["backend_clusters"]["changed"][0];
    assert_eq!(changed["name"], "main");
    assert_eq!(changed["old"]["bootstrap_servers"], json!(["k1:9092"]));
    assert_eq!(changed["new"]["bootstrap_servers"], json!(["k2:9092"]));
    assert_eq!(current_version(&admin), 1);
}

#[test]
fn versions_are_kept_and_rollback_makes_a_new_one() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let admin = cp.admin();
    let first = apply_yaml(&admin, &config_yaml("k1:9092"));
    assert_eq!(first["version"], 1);
    assert_eq!(apply_yaml(&admin, &config_yaml("k2:9092"))["version"], 2);
    let unchanged = apply_yaml(&admin, &config_yaml("k2:9092"));
    assert_eq!(
        (
            unchanged["version"].as_u64(),
            unchanged["changed"].as_bool()
        ),
        (Some(2), Some(false))
    );

    let rolled = admin
        .post_json("/v1/rollback", &json!({"version": 1}))
        .unwrap();
    assert_eq!(rolled["version"], 3);
    let v1 = admin.get("/v1/config?version=1").unwrap();
    let now = admin.get("/v1/config").unwrap();
    assert_eq!(now["config"], v1["config"]);
    assert_eq!(
        admin.get("/v1/config?version=2").unwrap()["config"]["backend_clusters"][0]
            ["bootstrap_servers"],
        json!(["k2:9092"])
    );

    let versions = admin.get("/v1/versions").unwrap();
    assert_eq!(versions["current"], 3);
    let listed: Vec<u64> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, [1, 2, 3]);
    assert_eq!(versions["versions"][2]["summary"], "rollback to version 1");
    assert!(versions["versions"][0]["created_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));

    let (status, _, _) = api_error(admin.post_json("/v1/rollback", &json!({"version": 42})));
    assert_eq!(status, 404);
    let (status, _, _) = api_error(admin.get("/v1/config?version=42"));
    assert_eq!(status, 404);
}

#[test]
fn first_start_creates_secrets_and_a_restart_keeps_everything() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("cp");
    let cp = Cp::start_with(&dir, 0, None);
    let shown = cp
        .banner
        .iter()
        .find_map(|line| {
            line.rsplit(": ")
                .next()
                .filter(|_| line.contains("admin token"))
        })
        .unwrap()
        .to_owned();
    let stored = std::fs::read_to_string(dir.join("admin-token")).unwrap();
    assert_eq!(stored.trim(), shown);
    for secret in ["admin-token", "ca.key", "server.key"] {
        let mode = std::fs::metadata(dir.join(secret))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{secret}");
    }
    let admin = cp.admin_with(Some(&shown));
    apply_yaml(&admin, &config_yaml("k1:9092"));
    apply_yaml(&admin, &config_yaml("k2:9092"));
    let ca_before = std::fs::read(dir.join("ca.pem")).unwrap();
    let port = cp.port;
    cp.stop();

    let cp = Cp::start_with(&dir, port, None);
    assert!(
        cp.banner.iter().all(|line| !line.contains("admin token")),
        "{:?}",
        cp.banner
    );
    assert_eq!(std::fs::read(dir.join("ca.pem")).unwrap(), ca_before);
    let admin = cp.admin_with(Some(&shown));
    let config = admin.get("/v1/config").unwrap();
    assert_eq!(config["version"], 2);
    assert_eq!(
        config["config"]["backend_clusters"][0]["bootstrap_servers"],
        json!(["k2:9092"])
    );
    assert_eq!(
        admin.get("/v1/versions").unwrap()["versions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn openapi_documents_every_route() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let document = cp.admin_with(None).get("/v1/openapi.json").unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = BTreeSet::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let served: BTreeSet<(String, String)> = control_plane::route_table()
        .iter()
        .map(|route| (route.method.to_string(), route.path.to_owned()))
        .collect();
    assert_eq!(served, documented);
    // Every $ref resolves.
    let text = document.to_string();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(
            document["components"]["schemas"].get(name).is_some(),
            "{name}"
        );
    }
}

/// The control plane keeps no secret values: a literal backend password is
/// refused with its path, a reference is stored and served as written.
#[test]
fn literal_secrets_are_refused_and_references_kept() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let admin = cp.admin();
    apply_yaml(&admin, &config_yaml("k1:9092"));
    let with_password = |password: &str| {
        json!({"name": "b2", "bootstrap_servers": ["k2:9092"],
            "authentication": {"type": "sasl_plain", "username": "gw", "password": password}})
    };
    let literal = admin.post_json("/v1/backend_clusters", &with_password("s3cret-value"));
    let (status, message, errors) = api_error(literal);
    assert_eq!(status, 422, "{message}");
    assert!(
        has_error(&errors, "backend_clusters[1].authentication.password"),
        "{errors:?}"
    );
    assert!(!format!("{message}{errors:?}").contains("s3cret-value"));
    admin
        .post_json(
            "/v1/backend_clusters",
            &with_password("${env:KAFKA_GW_PASSWORD}"),
        )
        .unwrap();
    let config = admin.get("/v1/config").unwrap();
    assert_eq!(
        config["config"]["backend_clusters"][1]["authentication"]["password"],
        json!("${env:KAFKA_GW_PASSWORD}")
    );
}
