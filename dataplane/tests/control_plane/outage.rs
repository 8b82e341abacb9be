//! The control plane stops: nodes keep serving; a node restarted meanwhile
//! serves its cached configuration; when the control plane is back, nodes
//! take new versions again.

use crate::setup::{Env, WAIT};
use crate::support::cp::{wait_applied, ControlPlane};
use crate::support::raw::RawConn;

fn serves(port: u16) {
    let mut conn = RawConn::connect(&format!("127.0.0.1:{port}"));
    crate::support::produce::produce(&mut conn, "cp-outage", "still served");
}

pub fn outage(env: &Env) {
    let v = {
        let cp = env.cp();
        cp.apply(&env.config("vc-b", "127.0.0.1"));
        cp.version()
    };
    let node = env.node("node-4");
    wait_applied(&env.cp(), &node.id, v, WAIT);
    crate::support::produce::create_topic(
        &mut RawConn::connect(&format!("127.0.0.1:{}", env.port_a)),
        "cp-outage",
    );

    let (cp_dir, cp_port) = {
        let cp = env.cp();
        cp.stop();
        (cp.dir.clone(), cp.port)
    };
    serves(env.port_a);

    // Restarted while the control plane is down: the cache is served.
    let args = node.args.clone();
    drop(node);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let restarted = crate::support::gateway::Gateway::start("# unused\n", 0, &refs);
    restarted.wait_log("cache", WAIT);
    serves(env.port_a);

    // The control plane is back on the same address: the node resyncs.
    *env.cp() = ControlPlane::start(&cp_dir, cp_port);
    let v2 = {
        let cp = env.cp();
        cp.apply(&env.config("vc-b-after-outage", "127.0.0.1"));
        cp.version()
    };
    wait_applied(&env.cp(), "node-4", v2, WAIT);
    serves(env.port_a);
}
