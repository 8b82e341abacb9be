//! The data-plane side of a real `sluice-cp serve`: node certificates,
//! the configuration long poll, reports and the node list.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::*;
use serde_json::json;
use sluice_test_support::wait::eventually;

#[test]
fn node_certificates_open_the_data_plane_endpoints() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let admin = cp.admin();
    apply_yaml(&admin, &config_yaml("k1:9092"));
    let node_dir = temp.path().join("node");
    issue_node_cert(&admin, "edge-1", &node_dir);
    let url = format!("{}/v1/dataplane/config?wait_ms=0", cp.url);
    let (status, body) = get(&node_agent(&cp.ca(), &node_dir), &url);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 1);
    assert_eq!(body["config"]["backend_clusters"][0]["name"], "main");

    // No certificate: 401.
    let anonymous = cp_sync::remote::https_agent(Some(&cp.ca()), None, None).unwrap();
    let (status, body) = get(&anonymous, &url);
    assert_eq!(status, 401, "{body}");
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("client certificate required"));

    // A certificate from another control plane's CA: 403, saying why.
    let other = Cp::start(&temp.path().join("other"));
    let stranger = temp.path().join("stranger");
    let (_, key, _) = other.issue_cert("edge-1", &stranger);
    let mode = std::fs::metadata(key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let (status, body) = get(&node_agent(&cp.ca(), &stranger), &url);
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("issued by this control plane"),
        "{body}"
    );
    other.stop();

    let (status, _, _) =
        api_error(admin.post_json("/v1/certificates", &json!({"node_id": "bad/id"})));
    assert_eq!(status, 400);
}

#[test]
fn long_poll_answers_on_a_new_version_or_after_its_wait() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let admin = cp.admin();
    apply_yaml(&admin, &config_yaml("k1:9092"));
    let node_dir = temp.path().join("node");
    issue_node_cert(&admin, "edge-1", &node_dir);
    let agent = node_agent(&cp.ca(), &node_dir);

    // Current version: nothing new within the wait.
    let (status, _) = get(
        &agent,
        &format!("{}/v1/dataplane/config?version=1&wait_ms=200", cp.url),
    );
    assert_eq!(status, 204);
    // A version the node does not have: at once.
    let (status, body) = get(
        &agent,
        &format!("{}/v1/dataplane/config?version=7&wait_ms=600000", cp.url),
    );
    assert_eq!((status, body["version"].as_u64()), (200, Some(1)));

    // Waiting on version 1 with a wait far longer than the test: only a new
    // version can end it.
    let poll_url = format!(
        "{}/v1/dataplane/config?version=1&wait_ms=300000&applied_version=1",
        cp.url
    );
    let waiter = std::thread::spawn(move || get(&agent, &poll_url));
    // The poll records applied_version=1 just before it starts waiting.
    let waiting = || admin.get("/v1/nodes").unwrap()["nodes"][0]["applied_version"] == 1;
    assert!(eventually(Duration::from_secs(30), waiting));
    apply_yaml(&admin, &config_yaml("k2:9092"));
    let (status, body) = waiter.join().unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["version"], 2);
    assert_eq!(
        body["config"]["backend_clusters"][0]["bootstrap_servers"],
        json!(["k2:9092"])
    );
}

#[test]
fn nodes_are_listed_after_polling_and_reporting() {
    let temp = tempfile::tempdir().unwrap();
    let cp = Cp::start(&temp.path().join("cp"));
    let admin = cp.admin();
    let node_dir = temp.path().join("node");
    issue_node_cert(&admin, "edge-7", &node_dir);
    let agent = node_agent(&cp.ca(), &node_dir);
    let mut response = agent
        .get(format!("{}/v1/dataplane/config?wait_ms=0", cp.url))
        .header("x-sluice-hostname", "host-7")
        .header("x-sluice-version", "9.9.9")
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let _ = response.body_mut().read_to_string();
    let nodes = admin.get("/v1/nodes").unwrap();
    let node = &nodes["nodes"][0];
    assert_eq!(
        (node["id"].as_str(), node["hostname"].as_str()),
        (Some("edge-7"), Some("host-7"))
    );
    assert_eq!(node["sluice_version"], "9.9.9");
    assert!(node["last_seen"].as_str().unwrap().ends_with('Z'));

    let report = json!({"hostname": "host-7", "sluice_version": "9.9.9", "applied_version": 0,
        "errors": [{"path": "listeners[0]", "message": "cannot read cert.pem"}]});
    let mut response = agent
        .post(format!("{}/v1/dataplane/report", cp.url))
        .header("content-type", "application/json")
        .send(report.to_string())
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        204,
        "{:?}",
        response.body_mut().read_to_string()
    );
    let node = admin.get("/v1/nodes").unwrap()["nodes"][0].clone();
    assert_eq!(node["applied_version"], 0);
    assert_eq!(node["last_errors"][0]["message"], "cannot read cert.pem");
}
