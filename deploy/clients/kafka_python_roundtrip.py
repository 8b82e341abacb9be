"""A produce and read-back round trip with kafka-python (a pure-Python
Kafka client, a third client implementation beside Kafka's Java clients
and librdkafka), logging in with SASL when asked.

    kafka_python_roundtrip.py --bootstrap HOST:PORT --topic T --count N
        [--mechanism PLAIN|SCRAM-SHA-256|SCRAM-SHA-512 --username U --password P]
        [--mechanism OAUTHBEARER --token-file FILE]

Prints the values read back, one per line, and exits 0; on any error it
prints the error to stderr and exits 1. SLUICE_KAFKA_PYTHON_DEBUG=1 logs
the client's every step to stderr.
"""

import argparse
import logging
import os
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.net.sasl.oauth import AbstractTokenProvider


class FileToken(AbstractTokenProvider):
    """The bearer token in a file, read at each login."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def token(self):
        with open(self.path) as f:
            return f.read().strip()


def client_config(args):
    config = {"bootstrap_servers": args.bootstrap, "request_timeout_ms": 30000}
    if args.mechanism == "OAUTHBEARER":
        config.update(
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="OAUTHBEARER",
            sasl_oauth_token_provider=FileToken(args.token_file),
        )
    elif args.mechanism:
        config.update(
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism=args.mechanism,
            sasl_plain_username=args.username,
            sasl_plain_password=args.password,
        )
    return config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--mechanism")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--token-file")
    args = parser.parse_args()
    if os.environ.get("SLUICE_KAFKA_PYTHON_DEBUG"):
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    config = client_config(args)
    try:
        producer = KafkaProducer(acks="all", **config)
        for i in range(args.count):
            producer.send(args.topic, f"kp-{i}".encode()).get(timeout=30)
        producer.close()
        consumer = KafkaConsumer(consumer_timeout_ms=30000, **config)
        partition = TopicPartition(args.topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        values = []
        for record in consumer:
            values.append(record.value.decode())
            if len(values) >= args.count:
                break
        consumer.close()
    except Exception as e:  # the test reads the reason from stderr
        print(f"kafka-python: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print("\n".join(values))
    return 0


if __name__ == "__main__":
    sys.exit(main())
