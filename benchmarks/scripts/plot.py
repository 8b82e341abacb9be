#!/usr/bin/env python3
"""Plots of sweep.sh: achieved throughput and p99 produce latency against
offered load, one line per target (median over rounds at each rate).

    plot.py SWEEP_CSV OUT_DIR   -> OUT_DIR/sweep-throughput.png, sweep-p99.png
"""

import csv
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RECORD = 1024  # bytes of record value per record


def main():
    path, out = sys.argv[1], sys.argv[2]
    rows = list(csv.DictReader(open(path)))
    targets = []
    for r in rows:
        if r["target"] not in targets:
            targets.append(r["target"])
    rates = sorted({int(r["offered_records_per_sec"]) for r in rows})

    def series(target, key, scale=1.0):
        xs, ys = [], []
        for rate in rates:
            vals = [float(r[key]) for r in rows
                    if r["target"] == target and int(r["offered_records_per_sec"]) == rate and r[key] not in ("", "None")]
            if vals:
                xs.append(rate * RECORD / 1e6)
                ys.append(statistics.median(vals) * scale)
        return xs, ys

    styles = {"direct": "k-o", "sluice": "C0-s", "kroxylicious": "C1-^", "kafka-proxy": "C2-v"}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for t in targets:
        xs, ys = series(t, "records_per_sec", RECORD / 1e6)
        ax.plot(xs, ys, styles.get(t, "-x"), label=t)
    lim = max(rates) * RECORD / 1e6 * 1.05
    ax.plot([0, lim], [0, lim], ":", color="grey", label="offered = achieved")
    ax.set_xlabel("offered load, MB/s of 1 KiB records (open loop)")
    ax.set_ylabel("achieved MB/s of 1 KiB records (acknowledged)")
    ax.set_title("Produce throughput vs offered load, real Kafka (1 broker)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{out}/sweep-throughput.png", dpi=110)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for t in targets:
        xs, ys = series(t, "p99_ms")
        ax.plot(xs, ys, styles.get(t, "-x"), label=t)
    ax.set_yscale("log")
    ax.set_xlabel("offered load, MB/s of 1 KiB records (open loop)")
    ax.set_ylabel("p99 produce latency, ms (log)")
    ax.set_title("p99 produce latency vs offered load, real Kafka (1 broker)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{out}/sweep-p99.png", dpi=110)


if __name__ == "__main__":
    main()
