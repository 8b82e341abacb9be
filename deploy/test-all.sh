#!/usr/bin/env bash
# Runs sluice's whole test suite on a fresh machine: installs what the tests
# need (Apache Kafka jars from Maven Central, kcat), then runs every test of
# the workspace. The Kafka tests start and stop their own clusters on free
# loopback ports.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

deploy/kafka-local.sh install
cargo test --workspace --all-targets "$@"
