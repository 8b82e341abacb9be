#!/usr/bin/env bash
# Runs sluice's whole test suite on a fresh machine: installs what the tests
# need (Apache Kafka jars from Maven Central, kcat, kafka-python from PyPI),
# then runs every test of the workspace. The Kafka tests start and stop
# their own clusters on free loopback ports.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

deploy/kafka-local.sh install
# Every test runs here: without Java or Kafka the Kafka tests fail instead
# of being skipped as a plain `cargo test` skips them.
SLUICE_REQUIRE_KAFKA=1 cargo test --workspace --all-targets "$@"
