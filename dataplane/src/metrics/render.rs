//! Summed shard counters as Prometheus metric families. Families whose
//! label set includes a reason or an api key carry only the series that
//! are non-zero, so a scrape lists what happened rather than every value a
//! label could take; the others are always present (zeros included).

use std::collections::BTreeMap;

use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};
use prometheus::{Encoder, TextEncoder};

use super::budget::budget_families;
use super::histogram::{bounds_seconds, HistogramCounts};
use super::labels::{api_label, rtt_class_label, BackendError, CloseReason, FrameReject, Side};
use super::labels::{auth_slot, PolicyLimit, SaslMechanism, TlsFailure};
use super::refusals::RefuseReason;
use super::snapshot::Totals;

fn labels(pairs: &[(&str, &str)]) -> Vec<LabelPair> {
    (pairs.iter())
        .map(|(name, value)| {
            let mut pair = LabelPair::default();
            pair.set_name(name.to_string());
            pair.set_value(value.to_string());
            pair
        })
        .collect()
}

pub(super) fn counter(value: u64, pairs: &[(&str, &str)]) -> Metric {
    let mut c = Counter::default();
    c.set_value(value as f64);
    let mut m = Metric::from_label(labels(pairs));
    m.set_counter(c);
    m
}

pub(super) fn gauge(value: f64, pairs: &[(&str, &str)]) -> Metric {
    let mut g = Gauge::default();
    g.set_value(value);
    let mut m = Metric::from_label(labels(pairs));
    m.set_gauge(g);
    m
}

fn histogram(counts: &HistogramCounts, pairs: &[(&str, &str)]) -> Metric {
    let buckets = (bounds_seconds().zip(counts.cumulative()))
        .map(|(bound, cumulative)| {
            let mut b = Bucket::default();
            b.set_upper_bound(bound);
            b.set_cumulative_count(cumulative);
            b
        })
        .collect();
    let mut h = Histogram::default();
    h.set_sample_count(counts.count());
    h.set_sample_sum(counts.sum_seconds());
    h.set_bucket(buckets);
    let mut m = Metric::from_label(labels(pairs));
    m.set_histogram(h);
    m
}

/// A family, or nothing when it has no series (the text encoder refuses
/// empty families).
pub(super) fn family(
    name: &str,
    help: &str,
    kind: MetricType,
    metrics: Vec<Metric>,
) -> Option<MetricFamily> {
    if metrics.is_empty() {
        return None;
    }
    let mut f = MetricFamily::default();
    f.set_name(name.to_string());
    f.set_help(help.to_string());
    f.set_field_type(kind);
    f.set_metric(metrics);
    Some(f)
}

pub fn ready_family(ready: bool) -> Option<MetricFamily> {
    let help = "1 while the readiness probe answers 200 (configuration applied, every listener bound on every shard, not draining).";
    family(
        "sluice_ready",
        help,
        MetricType::GAUGE,
        vec![gauge(f64::from(u8::from(ready)), &[])],
    )
}

pub fn shard_families(totals: &Totals) -> Vec<MetricFamily> {
    let mut out = connection_families(totals);
    out.extend(refused_connection_families(totals));
    out.extend(refusal_families(totals));
    out.extend(request_families(totals));
    out.extend(policy_families(totals));
    out.extend(backend_families(totals));
    out.extend(latency_families(totals));
    out.extend(budget_families(&totals.budget));
    out
}

fn connection_families(t: &Totals) -> Vec<MetricFamily> {
    let per_listener = |value: fn(&super::snapshot::ListenerCounts) -> u64, as_counter: bool| {
        (t.listeners.iter())
            .map(|(name, c)| match as_counter {
                true => counter(value(c), &[("listener", name)]),
                false => gauge(value(c) as f64, &[("listener", name)]),
            })
            .collect::<Vec<_>>()
    };
    let mut closed = Vec::new();
    for (name, c) in &t.listeners {
        for reason in CloseReason::ALL.iter().filter(|r| c.closed[r.index()] > 0) {
            closed.push(counter(
                c.closed[reason.index()],
                &[("listener", name), ("reason", reason.label())],
            ));
        }
    }
    let shards = (t.shards.iter())
        .map(|(shard, active)| gauge(*active as f64, &[("shard", &shard.to_string())]))
        .collect();
    [
        family(
            "sluice_client_connections_accepted_total",
            "Client connections accepted.",
            MetricType::COUNTER,
            per_listener(|c| c.accepted, true),
        ),
        family(
            "sluice_client_connections_active",
            "Client connections open now.",
            MetricType::GAUGE,
            per_listener(|c| c.active, false),
        ),
        family(
            "sluice_client_connections_closed_total",
            "Client connections closed, by why they ended.",
            MetricType::COUNTER,
            closed,
        ),
        family(
            "sluice_shard_client_connections_active",
            "Client connections open now, per shard.",
            MetricType::GAUGE,
            shards,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn refused_connection_families(t: &Totals) -> Option<MetricFamily> {
    let mut refused = Vec::new();
    for (name, c) in &t.listeners {
        for reason in RefuseReason::ALL
            .iter()
            .filter(|r| c.refused[r.index()] > 0)
        {
            let pairs = [("listener", &**name), ("reason", reason.label())];
            refused.push(counter(c.refused[reason.index()], &pairs));
        }
    }
    family(
        "sluice_connections_refused_total",
        "Client connections closed right after accept, never served, by the limit they met.",
        MetricType::COUNTER,
        refused,
    )
}

/// The process's file descriptors, read when scraped (never by a shard).
pub fn fd_families() -> Vec<MetricFamily> {
    let open = crate::fd_limit::open_fds().ok().map(|n| {
        let help = "File descriptors the process has open (each client connection holds two).";
        family(
            "sluice_open_fds",
            help,
            MetricType::GAUGE,
            vec![gauge(n as f64, &[])],
        )
    });
    let max = crate::fd_limit::nofile_limit().ok().map(|limit| {
        let help = "The process's soft RLIMIT_NOFILE: open_fds cannot go past it.";
        let max = vec![gauge(limit.soft as f64, &[])];
        family("sluice_max_fds", help, MetricType::GAUGE, max)
    });
    [open, max].into_iter().flatten().flatten().collect()
}

fn refusal_families(t: &Totals) -> Vec<MetricFamily> {
    let (mut tls, mut frames) = (Vec::new(), Vec::new());
    for (name, c) in &t.listeners {
        for side in Side::ALL {
            let s = side.index();
            for reason in TlsFailure::ALL
                .iter()
                .filter(|r| c.tls_failures[s][r.index()] > 0)
            {
                let pairs = [
                    ("listener", &**name),
                    ("side", side.label()),
                    ("reason", reason.label()),
                ];
                tls.push(counter(c.tls_failures[s][reason.index()], &pairs));
            }
            for reason in FrameReject::ALL
                .iter()
                .filter(|r| c.frames_rejected[s][r.index()] > 0)
            {
                let pairs = [
                    ("listener", &**name),
                    ("side", side.label()),
                    ("reason", reason.label()),
                ];
                frames.push(counter(c.frames_rejected[s][reason.index()], &pairs));
            }
        }
    }
    [
        family("sluice_tls_handshake_failures_total", "TLS handshakes that failed: side client is termination at a listener, side backend the gateway's own handshake to a broker.", MetricType::COUNTER, tls),
        family("sluice_frames_rejected_total", "Invalid Kafka frames that closed a connection, by who sent them and what was wrong.", MetricType::COUNTER, frames),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn request_families(t: &Totals) -> Vec<MetricFamily> {
    let (mut requests, mut responses, mut bytes_in, mut bytes_out) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (key, c) in &t.routes {
        let route = [
            ("listener", &*key.listener),
            ("virtual_cluster", &*key.virtual_cluster),
        ];
        for (slot, (&req, &resp)) in c.requests.iter().zip(c.responses.iter()).enumerate() {
            let api = api_label(slot);
            let pairs = [route[0], route[1], ("api_key", api.as_str())];
            if req > 0 {
                requests.push(counter(req, &pairs));
            }
            if resp > 0 {
                responses.push(counter(resp, &pairs));
            }
        }
        bytes_in.push(counter(c.bytes_in, &route));
        bytes_out.push(counter(c.bytes_out, &route));
    }
    [
        family(
            "sluice_requests_total",
            "Requests received from clients, by api key.",
            MetricType::COUNTER,
            requests,
        ),
        family(
            "sluice_responses_total",
            "Responses sent to clients, by the api key of the request they answer.",
            MetricType::COUNTER,
            responses,
        ),
        family(
            "sluice_bytes_in_total",
            "Bytes of request frames received from clients.",
            MetricType::COUNTER,
            bytes_in,
        ),
        family(
            "sluice_bytes_out_total",
            "Bytes of response frames sent to clients.",
            MetricType::COUNTER,
            bytes_out,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn policy_families(t: &Totals) -> Vec<MetricFamily> {
    let mut refusals = Vec::new();
    for (key, c) in &t.routes {
        for limit in PolicyLimit::ALL {
            let labels = [
                ("listener", &*key.listener),
                ("virtual_cluster", &*key.virtual_cluster),
                ("limit", limit.label()),
            ];
            refusals.push(counter(c.policy_refusals[limit.index()], &labels));
        }
    }
    let refusals = family(
        "sluice_policy_refusals_total",
        "Requests refused by a virtual cluster's produce policy, by the limit they broke.",
        MetricType::COUNTER,
        refusals,
    );
    refusals
        .into_iter()
        .chain(authentication_family(t))
        .collect()
}

fn authentication_family(t: &Totals) -> Option<MetricFamily> {
    let mut logins = Vec::new();
    for (key, c) in &t.routes {
        for mechanism in SaslMechanism::ALL {
            for (ok, result) in [(true, "ok"), (false, "failed")] {
                let labels = [
                    ("listener", &*key.listener),
                    ("virtual_cluster", &*key.virtual_cluster),
                    ("mechanism", mechanism.label()),
                    ("result", result),
                ];
                let count = c.authentications[auth_slot(*mechanism, ok)];
                logins.push(counter(count, &labels));
            }
        }
    }
    family(
        "sluice_authentications_total",
        "Client logins the gateway checked itself (terminated SASL), by mechanism and result.",
        MetricType::COUNTER,
        logins,
    )
}

fn backend_families(t: &Totals) -> Vec<MetricFamily> {
    let mut opened: BTreeMap<&str, u64> = BTreeMap::new();
    let mut errors: BTreeMap<(&str, BackendError), u64> = BTreeMap::new();
    for (key, c) in &t.routes {
        *opened.entry(&key.backend).or_default() += c.backend_opened;
        for reason in BackendError::ALL {
            *errors.entry((&key.backend, *reason)).or_default() += c.backend_errors[reason.index()];
        }
    }
    let opened = (opened.iter())
        .map(|(backend, n)| counter(*n, &[("backend", backend)]))
        .collect();
    let errors = (errors.iter().filter(|(_, n)| **n > 0))
        .map(|((backend, reason), n)| {
            counter(*n, &[("backend", backend), ("reason", reason.label())])
        })
        .collect();
    [
        family(
            "sluice_backend_connections_opened_total",
            "Upstream connections opened to backend brokers.",
            MetricType::COUNTER,
            opened,
        ),
        family(
            "sluice_backend_connection_errors_total",
            "Upstream connections that could not be opened, by why.",
            MetricType::COUNTER,
            errors,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn latency_families(t: &Totals) -> Vec<MetricFamily> {
    let (mut forward, mut processing) = (Vec::new(), Vec::new());
    let mut rtt: BTreeMap<(&str, usize), HistogramCounts> = BTreeMap::new();
    for (key, c) in &t.routes {
        let route = [
            ("listener", &*key.listener),
            ("virtual_cluster", &*key.virtual_cluster),
        ];
        forward.push(histogram(&c.forward, &route));
        processing.push(histogram(&c.processing, &route));
        for (class, counts) in c.rtt.iter().enumerate() {
            rtt.entry((&key.backend, class)).or_default().add(counts);
        }
    }
    let rtt = (rtt.iter())
        .map(|((backend, class), counts)| {
            histogram(
                counts,
                &[("backend", backend), ("api_key", rtt_class_label(*class))],
            )
        })
        .collect();
    [
        family("sluice_request_forward_seconds", "Gateway time per request: from the request frame fully read (header peeked) to it written to the backend.", MetricType::HISTOGRAM, forward),
        family("sluice_response_processing_seconds", "Gateway time per response: from the response frame fully read to it (rewritten if needed and) written to the client.", MetricType::HISTOGRAM, processing),
        family("sluice_backend_round_trip_seconds", "Backend time per request: from the request forwarded to its response fully read (api_key is Produce, Fetch or other).", MetricType::HISTOGRAM, rtt),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The Prometheus text exposition format.
pub fn text(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    if let Err(e) = TextEncoder::new().encode_utf8(families, &mut out) {
        out.push_str(&format!("# sluice could not render its metrics: {e}\n"));
    }
    out
}

/// The content type of `text`.
pub fn text_content_type() -> String {
    TextEncoder::new().format_type().to_string()
}
