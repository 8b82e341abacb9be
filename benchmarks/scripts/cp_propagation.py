#!/usr/bin/env python3
"""Control-plane propagation latency: from a configuration change accepted by
sluice-cp to every shard of every sluice node applying it.

Starts a real sluice-cp and N real sluice nodes (2 shards each) on loopback,
applies --changes configurations one after another through the admin API,
and reads from each node's log when each shard applied each epoch
("configuration applied shard=S epoch=E"). The clock starts when the PUT is
sent (so the figure is an upper bound: it includes the HTTP round trip).

    python3 benchmarks/scripts/cp_propagation.py [--nodes 2] [--changes 50]

Needs target/release/sluice and target/release/sluice-cp (built if missing).
Prints a Markdown table and writes raw figures to --out (JSON).
"""

import argparse
import json
import os
import re
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKEN = "propagation-benchmark-token"
APPLIED = re.compile(r"^(\S+)\s+INFO .*configuration applied shard=(\d+) epoch=(\d+)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config(label, port):
    return f"""backend_clusters:
  - name: kafka
    bootstrap_servers: ["127.0.0.1:1"]
virtual_clusters:
  - {{ name: vc, dns_label: vc, destination: {{ name: kafka }} }}
  - {{ name: other, dns_label: {label}, destination: {{ name: kafka }} }}
listeners:
  - name: plain
    addresses: ["127.0.0.1"]
    ports: ["{port}-{port + 3}"]
    policies:
      - type: forward_to_virtual_cluster
        config: {{ type: port_mapping, destination: {{ name: vc }}, advertised_host: 127.0.0.1 }}
"""


def build():
    for binary, package in (("sluice", "sluice-dataplane"), ("sluice-cp", "sluice-control-plane")):
        if not os.path.exists(os.path.join(ROOT, "target/release", binary)):
            subprocess.run(["cargo", "build", "--release", "-p", package, "--bin", binary], cwd=ROOT, check=True)


def start_cp(work):
    data = os.path.join(work, "cp")
    log = open(os.path.join(work, "cp.log"), "w")
    proc = subprocess.Popen(
        [os.path.join(ROOT, "target/release/sluice-cp"), "serve", "--data-dir", data,
         "--listen", "127.0.0.1:0", "--admin-token", TOKEN],
        stdout=subprocess.PIPE, stderr=log, text=True)
    for line in proc.stdout:
        if line.startswith("sluice-cp listening on "):
            return proc, line.split()[-1], data
    sys.exit("sluice-cp did not start; see " + log.name)


def put(url, ca, text):
    context = ssl.create_default_context(cafile=ca)
    request = urllib.request.Request(url + "/v1/config", data=text.encode(), method="PUT",
                                     headers={"Authorization": "Bearer " + TOKEN,
                                              "Content-Type": "application/yaml"})
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return json.load(response)


def start_node(work, data, url, name):
    node_dir = os.path.join(work, name)
    subprocess.run([os.path.join(ROOT, "target/release/sluice-cp"), "issue-cert", "--data-dir", data,
                    "--node-id", name, "--out-dir", node_dir], check=True, stdout=subprocess.DEVNULL)
    log_path = os.path.join(node_dir, "sluice.log")
    env = dict(os.environ, SLUICE_LOG="info", NO_COLOR="1")
    proc = subprocess.Popen(
        [os.path.join(ROOT, "target/release/sluice"), "run", "--control-plane", url,
         "--cp-cert", os.path.join(node_dir, "node.pem"), "--cp-key", os.path.join(node_dir, "node.key"),
         "--cp-ca", os.path.join(node_dir, "ca.pem"), "--cp-cache", os.path.join(node_dir, "cache.json"),
         "--shards", "2", "--no-pin", "--admin-listen", "off"],
        stderr=open(log_path, "w"), env=env)
    return proc, log_path


def applied_times(log_path):
    """epoch -> list of (shard, unix time) from a node's log."""
    times = {}
    with open(log_path) as log:
        for line in log:
            match = APPLIED.match(line)
            if match:
                stamp = datetime.fromisoformat(match.group(1).replace("Z", "+00:00")).timestamp()
                times.setdefault(int(match.group(3)), []).append((int(match.group(2)), stamp))
    return times


def wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    sys.exit("timed out waiting for " + what)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(args):
    build()
    work = tempfile.mkdtemp(prefix="sluice-propagation-")
    procs = []
    try:
        cp, url, data = start_cp(work)
        procs.append(cp)
        ca = os.path.join(data, "ca.pem")
        port = free_port()
        put(url, ca, config("other-0", port))
        nodes = [start_node(work, data, url, f"node-{i}") for i in range(args.nodes)]
        procs.extend(p for p, _ in nodes)
        logs = [log for _, log in nodes]
        wait_for(lambda: all(1 in applied_times(l) and len(applied_times(l)[1]) == 2 for l in logs), 60,
                 "nodes to apply the first configuration")
        sent = {}
        for i in range(1, args.changes + 1):
            epoch = i + 1
            sent[epoch] = time.time()
            put(url, ca, config(f"other-{i}", port))
            wait_for(lambda: all(len(applied_times(l).get(epoch, [])) == 2 for l in logs), 30,
                     f"epoch {epoch} on every shard")
        latencies = []
        for epoch, start in sent.items():
            last = max(t for l in logs for _, t in applied_times(l)[epoch])
            latencies.append((last - start) * 1000)
        return latencies
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--out", default=os.path.join(ROOT, ".sluice-cache/bench/cp-propagation.json"))
    args = parser.parse_args()
    if args.nodes < 1 or args.changes < 1:
        parser.error("--nodes and --changes must be at least 1")
    latencies = run(args)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as out:
        json.dump({"nodes": args.nodes, "shards_per_node": 2, "latencies_ms": latencies}, out, indent=1)
    print(f"| changes | nodes x shards | p50 ms | p99 ms | max ms |")
    print(f"|---|---|---|---|---|")
    print(f"| {len(latencies)} | {args.nodes} x 2 | {statistics.median(latencies):.1f} | "
          f"{percentile(latencies, 99):.1f} | {max(latencies):.1f} |")


if __name__ == "__main__":
    main()
