#!/usr/bin/env python3
"""Markdown tables (and summary.json) from the raw results of the table
scripts, plus the BENCHMARKS.md assembler used by all.sh.

    tables.py compare-kafka RESULTS_DIR
    tables.py ceiling RESULTS_DIR
    tables.py latency RESULTS_DIR
    tables.py idle-connections RESULTS_DIR
    tables.py tls RESULTS_DIR
    tables.py auth RESULTS_DIR
    tables.py sweep RESULTS_DIR
    tables.py kafka-perf RESULTS_DIR
    tables.py benchmarks-md BENCHMARKS.md NAME=RESULTS_DIR...

Each table command prints the table, writes RESULTS_DIR/table.md and
RESULTS_DIR/summary.json (the figures the targets are checked against).
Only the standard library is used.
"""

import csv
import json
import os
import re
import statistics
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def num(x):
    """A number with 3 significant digits (no exponent)."""
    if x is None:
        return "n/a"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def cell(fig, ratio=False):
    if not fig:
        return "n/a"
    out = f"{num(fig['median'])} [{num(fig['min'])}-{num(fig['max'])}]"
    if ratio and fig.get("ratio_to_first") is not None:
        out += f" {fig['ratio_to_first']:.2f}x"
    return out


def figures(report, name):
    for t in report["targets"]:
        if t["name"] == name:
            return t["figures"]
    return {}


def fig_of(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def meta_line(results):
    m = load(os.path.join(results, "meta.json"))
    c = m.get("cpus", {})
    return m, (
        f"{m['date']} (HEAD then {m['commit']}; binaries: see Machine and run); "
        f"1-min load at start {m.get('load_at_start') or '?'}."
    )


def not_run_lines(results):
    """Targets the script left out (e.g. a peer that could not be installed)."""
    path = os.path.join(results, "not-run.txt")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        reasons = [line.strip() for line in f if line.strip()]
    return ["", "Not run in this pass: " + "; ".join(reasons) + "."]


def write(results, lines, summary):
    text = "\n".join(lines + not_run_lines(results)) + "\n"
    with open(os.path.join(results, "table.md"), "w") as f:
        f.write(text)
    with open(os.path.join(results, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    sys.stdout.write(text)


# --------------------------------------------------------------- tables ---


def compare_kafka(results):
    m, line = meta_line(results)
    lines = [
        f"Real Kafka 4.4 (1 broker, RF 1, 6 partitions), sluice-bench: produce 1 KiB records x 16 per request, "
        f"acks=all, 2 connections x 5 in flight; consume (one Fetch in flight, max_wait 100 ms) of a pre-filled topic; "
        f"CPU {m['cpus']['kafka']}: Kafka and sluice-bench, CPU {m['cpus']['proxy']}: the proxy under test "
        f"(sluice 1 shard; Kroxylicious and kafka-proxy pinned there, sizing their thread pools to 1 CPU). "
        f"{m['rounds']} interleaved rounds of {m['duration']} s (+{m['warmup']} s warm-up). {line}",
        "",
        "| workload | target | MB/s | ratio | p50 ms | p99 ms | proxy CPU s/GB | tool CPU s/GB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for wl in ("produce", "consume"):
        r = load(os.path.join(results, f"{wl}.json"))
        for t in r["targets"]:
            f = t["figures"]
            ratio = f.get("mb_per_sec", {}).get("ratio_to_first")
            lines.append(
                f"| {wl} | {t['name']} | {cell(f.get('mb_per_sec'))} | "
                f"{'' if ratio is None else f'{ratio:.3f}x'} | {cell(f.get('latency_p50_ms'))} | "
                f"{cell(f.get('latency_p99_ms'))} | {cell(f.get('target_cpu_s_per_gb')) if t['pid'] else '-'} | "
                f"{cell(f.get('tool_cpu_s_per_gb'))} |"
            )
            summary[f"{wl}.{t['name']}.mb_per_sec"] = f.get("mb_per_sec")
            summary[f"{wl}.{t['name']}.cpu_s_per_gb"] = f.get("target_cpu_s_per_gb") if t["pid"] else None
    lines += [
        "",
        "MB = 10^6 bytes of record batches. Cells: median [min-max]; ratio = median / direct's median. "
        "Proxy CPU s/GB = the proxy process's utime+stime in the measured window per 10^9 bytes moved.",
    ]
    write(results, lines, summary)


def ceiling(results):
    m, line = meta_line(results)
    lines = [
        f"**sluice-bench responder (not Kafka)** behind each target. CPU {m['cpus']['responder']}: responders and "
        f"sluice-bench; CPU {m['cpus']['proxy']}: sluice (`--shards 1`) or `sluice-bench relay` (1 executor). "
        f"direct = the tool straight to the responder. {m['rounds']} interleaved rounds of {m['duration']} s "
        f"(+{m['warmup']} s warm-up). {line}",
        "",
        "| workload | target | MB/s | requests/s | ratio to relay | p99 ms | proxy CPU s/GB | proxy CPU busy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for wl, label, key in (
        ("produce-1mib", "produce, 1 MiB requests (64 KiB x 16 records), 2 conns x 4 in flight", "mb_per_sec"),
        ("produce-16kib", "produce, 16 KiB requests (1 KiB x 16 records), 4 conns x 8 in flight", "mb_per_sec"),
        ("ping", "ApiVersions, 4 conns x 32 pipelined", "requests_per_sec"),
        ("consume", "consume, 6 MiB Fetch responses, 1 in flight", "mb_per_sec"),
    ):
        if not os.path.exists(os.path.join(results, f"{wl}.json")):
            continue
        r = load(os.path.join(results, f"{wl}.json"))
        relay = figures(r, "relay").get(key, {}).get("median")
        for t in r["targets"]:
            f = t["figures"]
            med = f.get(key, {}).get("median")
            ratio = f"{med / relay:.2f}x" if relay and med is not None and t["name"] != "direct" else ""
            busy = fig_of([
                (x["target_cpu_seconds"] / x["summary"]["duration_s"]) if x.get("target_cpu_seconds") is not None else None
                for x in t["rounds"]
            ])
            lines.append(
                f"| {label} | {t['name']} | {cell(f.get('mb_per_sec'))} | {cell(f.get('requests_per_sec'))} | {ratio} | "
                f"{cell(f.get('latency_p99_ms'))} | {cell(f.get('target_cpu_s_per_gb')) if t['pid'] else '-'} | "
                f"{(num(busy['median'] * 100) + '%') if busy else '-'} |"
            )
            summary[f"{wl}.{t['name']}.{key}"] = f.get(key)
            summary[f"{wl}.{t['name']}.cpu_s_per_gb"] = f.get("target_cpu_s_per_gb") if t["pid"] else None
            summary[f"{wl}.{t['name']}.busy"] = busy
    lines += [
        "",
        "Proxy CPU busy = proxy CPU seconds / measured seconds (100% = its core was saturated). "
        "For ping, MB/s counts request + response frames. Ratio to relay = median / relay's median.",
    ]
    write(results, lines, summary)


def latency(results):
    m, line = meta_line(results)
    r = load(os.path.join(results, "half-rate.json"))
    d = figures(r, "direct")
    lines = [
        f"Real Kafka (1 broker, 6 partitions, acks=all), produce 1 KiB records x 16 per request, 2 connections x 5 "
        f"in flight, open-loop at "
        f"{num(m['rate'])} records/s = 50% of the maximum measured direct ({num(m['max_rate'])} records/s, median of "
        f"{m['max_runs']} runs). CPU {m['cpus']['kafka']}: Kafka and sluice-bench; CPU {m['cpus']['proxy']}: the proxy. "
        f"{m['rounds']} interleaved rounds of {m['duration']} s. Produce request latency (write to response). {line}",
        "",
        "| target | records/s | p50 ms | p99 ms | p99.9 ms | added p99 ms (median p99 - direct's) | proxy CPU s/GB |",
        "|---|---|---|---|---|---|---|",
    ]
    summary = {"rate": m["rate"], "max_rate": m["max_rate"]}
    dp99 = d.get("latency_p99_ms", {}).get("median")
    for t in r["targets"]:
        f = t["figures"]
        p99 = f.get("latency_p99_ms", {}).get("median")
        added = None if t["name"] == "direct" or p99 is None or dp99 is None else p99 - dp99
        lines.append(
            f"| {t['name']} | {cell(f.get('records_per_sec'))} | {cell(f.get('latency_p50_ms'))} | "
            f"{cell(f.get('latency_p99_ms'))} | {cell(f.get('latency_p999_ms'))} | "
            f"{'-' if added is None else f'{added:+.3f}'} | {cell(f.get('target_cpu_s_per_gb')) if t['pid'] else '-'} |"
        )
        summary[f"{t['name']}.p99"] = f.get("latency_p99_ms")
        summary[f"{t['name']}.added_p99_ms"] = added
    rp = os.path.join(results, "responder-half-rate.json")
    if os.path.exists(rp):
        r = load(rp)
        dp99 = figures(r, "direct").get("latency_p99_ms", {}).get("median")
        dp50 = figures(r, "direct").get("latency_p50_ms", {}).get("median")
        lines += [
            "",
            f"The same offered load ({num(m['rate'])} records/s, same producer settings) against the "
            f"**sluice-bench responder (not Kafka)** on CPU {m['cpus']['responder']}, through sluice (1 shard) and "
            f"through `sluice-bench relay` on CPU {m['cpus']['proxy']}: the latency of the hop itself.",
            "",
            "| target | p50 ms | p99 ms | p99.9 ms | added p50 / p99 ms | proxy CPU s/GB |",
            "|---|---|---|---|---|---|",
        ]
        for t in r["targets"]:
            f = t["figures"]
            p50 = f.get("latency_p50_ms", {}).get("median")
            p99 = f.get("latency_p99_ms", {}).get("median")
            added = "-" if t["name"] == "direct" else f"{p50 - dp50:+.3f} / {p99 - dp99:+.3f}"
            lines.append(
                f"| {t['name']} | {cell(f.get('latency_p50_ms'))} | {cell(f.get('latency_p99_ms'))} | "
                f"{cell(f.get('latency_p999_ms'))} | {added} | "
                f"{cell(f.get('target_cpu_s_per_gb')) if t['pid'] else '-'} |"
            )
            if t["name"] != "direct":
                summary[f"responder.{t['name']}.added_p99_ms"] = p99 - dp99
    write(results, lines, summary)


def idle_connections(results):
    m, line = meta_line(results)
    r = load(os.path.join(results, "connections.json"))
    per = r.get("bytes_per_connection")
    storm = r.get("storm") or {}
    lines = [
        f"sluice (1 shard, CPU {m['cpus']['proxy']}) in front of the sluice-bench responder (not Kafka, CPU "
        f"{m['cpus']['responder']}); sluice-bench `connections` on CPU {m['cpus']['tool']}: every connection does one "
        f"ApiVersions round trip (so sluice has its upstream connection open) and is then held idle for "
        f"{m['settle']} s. Open-file limit {m['nofile']}."
        f"{' Extra sluice flags: `' + m['sluice_args'] + '`.' if m.get('sluice_args') else ''} {line}",
        "",
        "| connections asked | opened | failed | sluice RSS before | RSS after | RSS per connection | connect+ApiVersions+close storm |",
        "|---|---|---|---|---|---|---|",
        f"| {r['connections_requested']:,} | {r['connections_opened']:,} | {r['connection_failures']:,} | "
        f"{(r['rss_before_bytes'] or 0) / 2**20:.1f} MiB | {(r['rss_after_bytes'] or 0) / 2**20:.1f} MiB | "
        f"{'n/a' if per is None else f'{per / 1024:.1f} KiB ({per:,.0f} B)'} | "
        f"{num(storm.get('requests_per_sec')) + ' connects/s, p99 ' + num((storm.get('latency_ms') or {}).get('p99')) + ' ms' if storm else '-'} |",
    ]
    if r.get("first_failure"):
        lines += ["", f"First failure: `{r['first_failure']}`."]
    if m.get("note"):
        lines += ["", m["note"]]
    write(results, lines, {"bytes_per_connection": per, "opened": r["connections_opened"],
                           "requested": r["connections_requested"]})


def per_cpu_second(rounds):
    """MB/s per CPU-second of the target, and its CPU busy share, of compare rounds."""
    per_core = fig_of([
        x["summary"]["mb_per_sec"] * x["summary"]["duration_s"] / x["target_cpu_seconds"]
        if x.get("target_cpu_seconds") else None for x in rounds
    ])
    busy = fig_of([
        x["target_cpu_seconds"] / x["summary"]["duration_s"] if x.get("target_cpu_seconds") is not None else None
        for x in rounds
    ])
    return per_core, busy


def tls(results):
    m, line = meta_line(results)
    lines = [
        f"**sluice-bench responder (not Kafka)** behind sluice (1 shard, CPU {m['cpus']['proxy']}), plaintext listener and "
        f"TLS listener (tls_server, ECDSA P-256 certificate, TLS 1.3 negotiated, rustls/ring) of the same process, "
        f"interleaved. Responder and sluice-bench (its TLS client too) on CPU {m['cpus']['tool']}. "
        f"{m['rounds']} rounds of {m['duration']} s. {line}",
        "",
        "| workload | listener | MB/s | requests/s | p99 ms | sluice CPU s/GB | sluice CPU busy | MB/s per sluice CPU-second | TLS / plaintext |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for wl, label in (("produce-16kib", "produce 1 KiB x 16"), ("produce-1mib", "produce 64 KiB x 16")):
        path = os.path.join(results, f"{wl}.json")
        if not os.path.exists(path):
            continue
        r = load(path)
        base = None
        for t in r["targets"]:
            f = t["figures"]
            per_core, busy = per_cpu_second(t["rounds"])
            mb = f.get("mb_per_sec", {}).get("median")
            if base is None:
                base = (mb, per_core["median"] if per_core else None)
            ratio = f"{mb / base[0]:.2f}x measured, {per_core['median'] / base[1]:.2f}x per CPU-second" if (
                t["name"] != r["targets"][0]["name"] and base[0] and per_core and base[1]) else ""
            lines.append(
                f"| {label} | {t['name']} | {cell(f.get('mb_per_sec'))} | {cell(f.get('requests_per_sec'))} | "
                f"{cell(f.get('latency_p99_ms'))} | {cell(f.get('target_cpu_s_per_gb'))} | "
                f"{num(busy['median'] * 100) + '%' if busy else '-'} | {cell(per_core)} | {ratio} |"
            )
            summary[f"{wl}.{t['name']}.mb_per_sec"] = f.get("mb_per_sec")
            summary[f"{wl}.{t['name']}.mb_per_cpu_s"] = per_core
            summary[f"{wl}.{t['name']}.busy"] = busy
    h = load(os.path.join(results, "handshakes.json"))
    t = h["targets"][0]
    f = t["figures"]
    per_core = fig_of([
        x["summary"]["requests"] / x["target_cpu_seconds"] if x.get("target_cpu_seconds") else None for x in t["rounds"]
    ])
    busy = fig_of([
        x["target_cpu_seconds"] / x["summary"]["duration_s"] if x.get("target_cpu_seconds") is not None else None
        for x in t["rounds"]
    ])
    lines += [
        "",
        "| full TLS handshakes (connect, handshake, ApiVersions through to the responder, close_notify; no resumption), "
        f"{m['handshake_connections']} at once | handshakes/s | p99 ms | sluice CPU busy | handshakes per sluice CPU-second |",
        "|---|---|---|---|---|",
        f"| sluice TLS listener, 1 shard | {cell(f.get('requests_per_sec'))} | {cell(f.get('latency_p99_ms'))} | "
        f"{num(busy['median'] * 100) + '%' if busy else '-'} | {cell(per_core)} |",
        "",
        "Per CPU-second figures divide by the CPU time sluice itself used, so they are per-core capacities even when "
        "sluice-bench (which does the client half of every TLS operation on one core shared with the responder) "
        "was the bottleneck.",
    ]
    summary["handshakes_per_sec"] = f.get("requests_per_sec")
    summary["handshakes_per_cpu_s"] = per_core
    summary["handshakes_busy"] = busy
    write(results, lines, summary)


def auth(results):
    m, line = meta_line(results)
    lines = [
        f"**sluice-bench responder (not Kafka)** behind sluice (1 shard, CPU {m['cpus']['proxy']}): virtual cluster "
        f"`open` (default authentication: anonymous only, no check) and `gated` (PLAIN and SCRAM-SHA-512 terminated "
        f"by sluice, and anonymous: every request of its connections passes the authentication check a logged-in "
        f"connection's requests pass), two listeners of the same process, interleaved. Responder and sluice-bench "
        f"on CPU {m['cpus']['tool']}. {m['rounds']} rounds of {m['duration']} s. {line}",
        "",
        "| workload | virtual cluster | MB/s | requests/s | p99 ms | sluice CPU s/GB | MB/s per sluice CPU-second | gated / open |",
        "|---|---|---|---|---|---|---|---|",
    ]
    summary = {}
    r = load(os.path.join(results, "produce-16kib.json"))
    base = None
    for t in r["targets"]:
        f = t["figures"]
        per_core, _ = per_cpu_second(t["rounds"])
        mb = f.get("mb_per_sec", {}).get("median")
        if base is None:
            base = (mb, per_core["median"] if per_core else None)
        ratio = f"{mb / base[0]:.2f}x measured, {per_core['median'] / base[1]:.2f}x per CPU-second" if (
            t["name"] != r["targets"][0]["name"] and base[0] and per_core and base[1]) else ""
        lines.append(
            f"| produce 1 KiB x 16 | {t['name']} | {cell(f.get('mb_per_sec'))} | {cell(f.get('requests_per_sec'))} | "
            f"{cell(f.get('latency_p99_ms'))} | {cell(f.get('target_cpu_s_per_gb'))} | {cell(per_core)} | {ratio} |"
        )
        summary[f"produce.{t['name']}.mb_per_cpu_s"] = per_core
    lines += [
        "",
        f"| logins ({m['login_threads']} loops of connect, log in, close) | logins/s | logins per sluice CPU-second |",
        "|---|---|---|",
    ]
    kinds = (("plain", "PLAIN, terminated"), ("scram-sha512", "SCRAM-SHA-512, terminated, 4096 iterations"),
             ("oauthbearer", "OAUTHBEARER, terminated, RS256 token (2048-bit key)"))
    for kind, label in kinds:
        runs = [load(os.path.join(results, n)) for n in sorted(os.listdir(results))
                if n.startswith(f"logins-{kind}-") and n.endswith(".json")]
        rate = fig_of([x["logins_per_sec"] for x in runs])
        per_cpu = fig_of([x.get("logins_per_cpu_second") for x in runs])
        lines.append(f"| {label} | {cell(rate)} | {cell(per_cpu)} |")
        summary[f"logins.{kind}.per_sec"] = rate
        summary[f"logins.{kind}.per_cpu_s"] = per_cpu
    lines += [
        "",
        "Per CPU-second figures divide by the CPU time sluice itself used. The SCRAM client derives its salted "
        "password once, as sluice's own verifiers are derived once, so neither side pays PBKDF2 per login.",
    ]
    write(results, lines, summary)


def sweep(results):
    m, line = meta_line(results)
    rows = []
    for name in sorted(os.listdir(results)):
        mm = re.match(r"rate-(\d+)\.json$", name)
        if not mm:
            continue
        r = load(os.path.join(results, name))
        for t in r["targets"]:
            for x in t["rounds"]:
                s = x["summary"]
                rows.append({
                    "offered_records_per_sec": int(mm.group(1)),
                    "target": t["name"],
                    "records_per_sec": s["records_per_sec"],
                    "mb_per_sec": s["mb_per_sec"],
                    "p50_ms": (s.get("latency_ms") or {}).get("p50"),
                    "p99_ms": (s.get("latency_ms") or {}).get("p99"),
                    "errors": s["errors"],
                    "proxy_cpu_s_per_gb": x.get("target_cpu_s_per_gb"),
                })
    with open(os.path.join(results, "sweep.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    targets = []
    for r in rows:
        if r["target"] not in targets:
            targets.append(r["target"])
    rates = sorted({r["offered_records_per_sec"] for r in rows})
    lines = [
        f"Real Kafka (1 broker, 6 partitions, acks=all), produce 1 KiB x 16 records per request, 2 connections x 5 "
        f"in flight, open-loop rates from "
        f"{num(rates[0])} to {num(rates[-1])} records/s (fractions of the direct maximum {num(m['max_rate'])}); "
        f"CPU {m['cpus']['kafka']}: Kafka and sluice-bench, CPU {m['cpus']['proxy']}: the proxy. {m['rounds']} round(s) "
        f"of {m['duration']} s per rate and target. {line}",
        "",
        "![throughput vs offered load](benchmarks/plots/sweep-throughput.png)",
        "![p99 latency vs offered load](benchmarks/plots/sweep-p99.png)",
        "",
        "| offered records/s | " + " | ".join(f"{t} achieved / p99 ms" for t in targets) + " |",
        "|---|" + "---|" * len(targets),
    ]
    for rate in rates:
        cells = []
        for t in targets:
            xs = [r for r in rows if r["target"] == t and r["offered_records_per_sec"] == rate]
            ach = statistics.median([x["records_per_sec"] for x in xs]) if xs else None
            p99 = [x["p99_ms"] for x in xs if x["p99_ms"] is not None]
            cells.append(f"{num(ach)} / {num(statistics.median(p99)) if p99 else 'n/a'}")
        lines.append(f"| {num(rate)} | " + " | ".join(cells) + " |")
    write(results, lines, {"rows": len(rows)})


def kafka_perf(results):
    meta = {}
    with open(os.path.join(results, "meta.txt")) as f:
        for l in f:
            k, _, v = l.rstrip("\n").partition("=")
            meta[k] = v
    rows = list(csv.DictReader(open(os.path.join(results, "results.csv"))))
    targets = meta.get("targets", "").split()

    def figure(target, col):
        return fig_of([float(r[col]) for r in rows if r["target"] == target and r["status"] == "ok" and r[col]])

    m, line = meta_line(results)
    lines = [
        f"Kafka's own `kafka-producer-perf-test` / `kafka-consumer-perf-test` (Kafka {meta.get('kafka')}), "
        f"{meta.get('brokers')} broker, {meta.get('partitions')} partitions, {meta.get('records')} records x "
        f"{meta.get('record_size')} B, acks={meta.get('acks')}, {meta.get('rounds')} rounds ({meta.get('order')} order). "
        f"CPU {meta.get('cpus_kafka')}: Kafka and the perf tools' JVMs; CPU {meta.get('cpus_proxy')}: the proxy "
        f"(sluice 1 shard; the JVM/Go peers see 1 CPU). {line}",
        "",
        "| target | ok runs | producer MB/s | ratio | producer p99 ms | consumer fetch MB/s | ratio | proxy threads | proxy CPU s/GB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    summary = {}
    dp = figure("direct", "p_mb_per_sec")
    dc = figure("direct", "c_fetch_mb_per_sec")
    for t in targets:
        p, c, cpu = figure(t, "p_mb_per_sec"), figure(t, "c_fetch_mb_per_sec"), figure(t, "proxy_cpu_s_per_gb")
        ok = sum(1 for r in rows if r["target"] == t and r["status"] == "ok")
        n = sum(1 for r in rows if r["target"] == t)
        rp = f"{p['median'] / dp['median']:.2f}x" if p and dp else ""
        rc = f"{c['median'] / dc['median']:.2f}x" if c and dc else ""
        lines.append(
            f"| {t} | {ok}/{n} | {cell(p)} | {rp} | {cell(figure(t, 'p_p99_ms'))} | {cell(c)} | {rc} | "
            f"{meta.get('threads_' + t, '-')} | {cell(cpu) if t != 'direct' else '-'} |"
        )
        summary[f"{t}.cpu_s_per_gb"] = cpu
        summary[f"{t}.produce_mb_per_sec"] = p
        summary[f"{t}.consume_mb_per_sec"] = c
    lines += [
        "",
        "MB = 2^20 bytes (the Kafka tools' unit). Proxy CPU s/GB = proxy CPU while producing and consuming over "
        "2 x records x size bytes (10^9 B per GB). Consumer fetch MB/s excludes the group join.",
    ]
    write(results, lines, summary)


# ------------------------------------------------------ BENCHMARKS.md ---


def g(summary, key, field="median"):
    v = summary.get(key)
    if isinstance(v, dict):
        return v.get(field)
    return v


def verdict(ok):
    if ok is None:
        return "n/a"
    return "**pass**" if ok else "**miss**"


def targets_table(s):
    """The issue's targets next to the measured figures."""
    rows = []
    b = s.get("compare-kafka", {})

    def ratio(key_a, key_b, summ):
        a, bb = g(summ, key_a), g(summ, key_b)
        return None if a is None or not bb else a / bb

    a = s.get("kafka-perf", {})
    for wl, goal in (("produce", 0.98), ("consume", 0.95)):
        r = ratio(f"sluice.{wl}_mb_per_sec", f"direct.{wl}_mb_per_sec", a)
        rows.append((f"(a) {wl} throughput, 1 KiB records, real Kafka, Kafka's perf tools",
                     f">= {goal}x direct", "n/a" if r is None else f"{r:.3f}x",
                     verdict(None if r is None else r >= goal)))
    for wl, goal in (("produce", 0.98), ("consume", 0.95)):
        r = ratio(f"{wl}.sluice.mb_per_sec", f"{wl}.direct.mb_per_sec", b)
        relay = ratio(f"{wl}.relay.mb_per_sec", f"{wl}.direct.mb_per_sec", b)
        measured = "n/a" if r is None else f"{r:.3f}x"
        if r is not None and relay is not None:
            measured += f" (plain TCP relay {relay:.3f}x)"
        rows.append((f"(b) {wl} throughput, 1 KiB records, real Kafka", f">= {goal}x direct",
                     measured, verdict(None if r is None else r >= goal)))
    for wl in ("produce", "consume"):
        sl = g(b, f"{wl}.sluice.cpu_s_per_gb")
        peers = [(p, g(b, f"{wl}.{p}.cpu_s_per_gb")) for p in ("kroxylicious", "kafka-proxy")]
        peers = [(p, v) for p, v in peers if v]
        if sl is not None and peers:
            best = min(peers, key=lambda x: x[1])
            rows.append((f"(b) proxy CPU s/GB, {wl}", "sluice <= 1/3 of the best peer's",
                         f"sluice {num(sl)} vs {best[0]} {num(best[1])} = {sl / best[1]:.2f}x",
                         verdict(sl <= best[1] / 3)))
    a = s.get("kafka-perf", {})
    sl = g(a, "sluice.cpu_s_per_gb")
    peers = [(p, g(a, f"{p}.cpu_s_per_gb")) for p in ("kroxylicious", "kafka-proxy")]
    peers = [(p, v) for p, v in peers if v]
    if sl is not None and peers:
        best = min(peers, key=lambda x: x[1])
        rows.append(("(a) proxy CPU s/GB, Kafka perf tools", "sluice <= 1/3 of the best peer's",
                     f"sluice {num(sl)} vs {best[0]} {num(best[1])} = {sl / best[1]:.2f}x", verdict(sl <= best[1] / 3)))
    c = s.get("ceiling", {})
    for wl, label in (("produce-1mib", "1 MiB produce"), ("produce-16kib", "16 KiB produce")):
        sl, rl = g(c, f"{wl}.sluice.cpu_s_per_gb"), g(c, f"{wl}.relay.cpu_s_per_gb")
        if sl is not None and rl:
            rows.append((f"(c) CPU s/GB vs relay, {label} (responder)", "<= 1.5x relay's",
                         f"{num(sl)} vs {num(rl)} = {sl / rl:.2f}x", verdict(sl <= 1.5 * rl)))
    sl, rl = g(c, "produce-1mib.sluice.mb_per_sec"), g(c, "produce-1mib.relay.mb_per_sec")
    if sl is not None and rl:
        rows.append(("(c) single-shard throughput, 1 MiB produce (responder)", ">= 0.7x relay's",
                     f"{num(sl)} vs {num(rl)} MB/s = {sl / rl:.2f}x", verdict(sl >= 0.7 * rl)))
    sl, rl = g(c, "ping.sluice.requests_per_sec"), g(c, "ping.relay.requests_per_sec")
    if sl is not None and rl:
        rows.append(("(c) pipelined small requests per shard (ApiVersions)", ">= 0.8x relay's",
                     f"{num(sl)} vs {num(rl)} req/s = {sl / rl:.2f}x", verdict(sl >= 0.8 * rl)))
    d = s.get("latency", {})
    added = d.get("sluice.added_p99_ms")
    if added is not None:
        rows.append(("(d) added p99 produce latency at half max rate, real Kafka", "<= 0.2 ms over direct",
                     f"{added:+.3f} ms", verdict(added <= 0.2)))
    added = d.get("responder.sluice.added_p99_ms")
    if added is not None:
        relay = d.get("responder.relay.added_p99_ms")
        rows.append(("(d) the same, responder (not Kafka) behind sluice", "<= 0.2 ms over direct",
                     f"{added:+.3f} ms" + ("" if relay is None else f" (relay {relay:+.3f} ms)"), verdict(added <= 0.2)))
    e = s.get("idle-connections", {})
    per = e.get("bytes_per_connection")
    if per is not None:
        rows.append(("(e) RSS per idle connection (with upstream)", "<= 32 KiB",
                     f"{per / 1024:.1f} KiB at {e.get('opened'):,} connections", verdict(per <= 32 * 1024)))
    f = s.get("tls", {})
    pt, tl = g(f, "produce-16kib.plaintext.mb_per_cpu_s"), g(f, "produce-16kib.tls.mb_per_cpu_s")
    mp, mt = g(f, "produce-16kib.plaintext.mb_per_sec"), g(f, "produce-16kib.tls.mb_per_sec")
    if pt and tl:
        rows.append(("(f) TLS per-shard throughput vs plaintext (1 KiB x 16)", ">= 0.5x plaintext per shard",
                     f"{tl / pt:.2f}x per sluice CPU-second ({num(tl)} vs {num(pt)} MB/s per core); "
                     f"{mt / mp:.2f}x measured", verdict(tl / pt >= 0.5)))
    out = ["| target | goal | measured | verdict |", "|---|---|---|---|"]
    out += [f"| {a} | {b_} | {c_} | {d_} |" for a, b_, c_, d_ in rows]
    return out


def benchmarks_md(path, pairs):
    # Tables from earlier runs are kept in a sidecar next to the plots, so
    # `all.sh --only x` replaces table x and re-checks every target.
    store_path = os.path.join(os.path.dirname(os.path.abspath(path)), "benchmarks", "results", "latest.json")
    store = load(store_path) if os.path.exists(store_path) else {}
    for p in pairs:
        name, _, d = p.partition("=")
        if not os.path.exists(os.path.join(d, "table.md")):
            continue
        sp, mp = os.path.join(d, "summary.json"), os.path.join(d, "meta.json")
        store[name] = {
            "results_dir": d,
            "table": open(os.path.join(d, "table.md")).read().rstrip("\n"),
            "summary": load(sp) if os.path.exists(sp) else {},
            "meta": load(mp) if os.path.exists(mp) else {},
        }
    os.makedirs(os.path.dirname(store_path), exist_ok=True)
    with open(store_path, "w") as f:
        json.dump(store, f, indent=1, sort_keys=True)
    summaries = {k: v["summary"] for k, v in store.items()}
    tables = {k: v["table"] for k, v in store.items()}
    metas = {k: v["meta"] for k, v in store.items() if v["meta"]}
    text = open(path).read()

    def put(block, content):
        nonlocal text
        pat = re.compile(rf"(<!-- BEGIN {re.escape(block)} -->\n).*?(<!-- END {re.escape(block)} -->)", re.S)
        if not pat.search(text):
            sys.stderr.write(f"tables.py: no block {block} in {path}\n")
            return
        text = pat.sub(lambda m: m.group(1) + content.rstrip("\n") + "\n" + m.group(2), text)

    for name, t in tables.items():
        put(name, t)
        if name in metas and metas[name].get("command"):
            put(f"{name}-command", "```sh\n" + metas[name]["command"] + "\n```")
    put("targets", "\n".join(targets_table(summaries)))
    if metas:
        order = ["kafka-perf", "compare-kafka", "ceiling", "latency", "idle-connections", "tls", "sweep", "profile"]
        names = sorted(metas, key=lambda k: order.index(k) if k in order else 99)
        m = metas[names[0]]
        dates = sorted(x["date"] for x in metas.values())
        commits = sorted({x["commit"] + (" + uncommitted changes" if x.get("uncommitted_changes") else "")
                          for x in metas.values()})
        put("machine", "\n".join([
            f"- `nproc`: {m['nproc']}; CPU: {m['cpu_model']} (model name in /proc/cpuinfo); "
            f"memory: {m['mem_gib']} GiB; kernel {m['kernel']}",
            f"- run: {dates[0]} to {dates[-1]} (UTC); HEAD of the shared work tree when each table started: "
            + ", ".join(f"`{c}`" for c in commits) + " (other work landed meanwhile; what ran is the next line)",
            "- binaries (copied at the start of the run; every table used these): "
            + " / ".join(sorted({"; ".join(l for l in (metas[k].get("binaries") or "?").splitlines()
                                           if not l.startswith("copied")) for k in names})),
            "- 1-minute load average at the start of each table's measurement: "
            + ", ".join(f"{k} {metas[k]['load_at_start'].split()[0] if metas[k].get('load_at_start') else '?'}"
                        for k in names),
        ]))
    open(path, "w").write(text)


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmd, args = sys.argv[1], sys.argv[2:]
    fns = {
        "compare-kafka": compare_kafka,
        "ceiling": ceiling,
        "latency": latency,
        "idle-connections": idle_connections,
        "tls": tls,
        "auth": auth,
        "sweep": sweep,
        "kafka-perf": kafka_perf,
    }
    if cmd == "benchmarks-md":
        benchmarks_md(args[0], args[1:])
    elif cmd in fns:
        fns[cmd](args[0])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
