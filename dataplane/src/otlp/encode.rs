//! The gathered Prometheus families as one OTLP `ExportMetricsServiceRequest`:
//! counters as cumulative monotonic sums (named without `_total`, as OTLP
//! names them and as Prometheus adds it back on ingestion), gauges as
//! gauges, histograms as explicit-bucket histograms.

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prometheus::proto::{self as prom, MetricFamily, MetricType};

/// Times of one export, in nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// When counting started (process start): the start of every cumulative series.
    pub start: u64,
    pub now: u64,
}

pub fn key_value(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

pub fn request(
    families: &[MetricFamily],
    resource: &[(String, String)],
    times: Times,
) -> ExportMetricsServiceRequest {
    let scope = InstrumentationScope {
        name: "sluice".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    };
    let resource = Resource {
        attributes: resource.iter().map(|(k, v)| key_value(k, v)).collect(),
        ..Default::default()
    };
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(scope),
                metrics: families.iter().filter_map(|f| metric(f, times)).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn metric(family: &MetricFamily, times: Times) -> Option<Metric> {
    let series = family.get_metric();
    let name = family.name();
    let data = match family.get_field_type() {
        MetricType::COUNTER => metric::Data::Sum(Sum {
            data_points: series
                .iter()
                .map(|m| number(m, m.get_counter().get_value(), times))
                .collect(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        }),
        MetricType::GAUGE => metric::Data::Gauge(Gauge {
            data_points: series
                .iter()
                .map(|m| number(m, m.get_gauge().get_value(), times))
                .collect(),
        }),
        MetricType::HISTOGRAM => metric::Data::Histogram(Histogram {
            data_points: series.iter().map(|m| histogram(m, times)).collect(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        }),
        // sluice defines no summaries or untyped metrics.
        _ => return None,
    };
    let otlp_name = match family.get_field_type() {
        MetricType::COUNTER => name.strip_suffix("_total").unwrap_or(name),
        _ => name,
    };
    Some(Metric {
        name: otlp_name.to_string(),
        description: family.help().to_string(),
        unit: if name.ends_with("_seconds") {
            "s".into()
        } else {
            String::new()
        },
        data: Some(data),
        ..Default::default()
    })
}

fn attributes(series: &prom::Metric) -> Vec<KeyValue> {
    series
        .get_label()
        .iter()
        .map(|l| key_value(l.name(), l.value()))
        .collect()
}

fn number(series: &prom::Metric, value: f64, times: Times) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attributes(series),
        start_time_unix_nano: times.start,
        time_unix_nano: times.now,
        value: Some(number_data_point::Value::AsDouble(value)),
        ..Default::default()
    }
}

/// Prometheus buckets are cumulative with an implied +Inf; OTLP wants a
/// count per bucket, the last one being everything above the last bound.
fn histogram(series: &prom::Metric, times: Times) -> HistogramDataPoint {
    let h = series.get_histogram();
    let finite = h
        .get_bucket()
        .iter()
        .filter(|b| b.upper_bound().is_finite());
    let (mut bounds, mut counts, mut below) = (Vec::new(), Vec::new(), 0u64);
    for bucket in finite {
        bounds.push(bucket.upper_bound());
        counts.push(bucket.cumulative_count().saturating_sub(below));
        below = bucket.cumulative_count();
    }
    counts.push(h.get_sample_count().saturating_sub(below));
    HistogramDataPoint {
        attributes: attributes(series),
        start_time_unix_nano: times.start,
        time_unix_nano: times.now,
        count: h.get_sample_count(),
        sum: Some(h.get_sample_sum()),
        bucket_counts: counts,
        explicit_bounds: bounds,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::{CellHistogram, BUCKETS};
    use crate::metrics::snapshot::{RouteCounts, RouteKey, ShardSnapshot, Totals};
    use std::sync::Arc;
    use std::time::Duration;

    /// Families with 9 Fetch requests and a forward histogram holding
    /// 30 µs and 100 s.
    fn families() -> Vec<MetricFamily> {
        let h = CellHistogram::default();
        h.observe(Duration::from_micros(30));
        h.observe(Duration::from_secs(100));
        let mut route = RouteCounts {
            forward: h.snapshot(),
            ..RouteCounts::default()
        };
        route.requests[1] = 9;
        let key = RouteKey {
            listener: Arc::from("l"),
            virtual_cluster: Arc::from("v"),
            backend: Arc::from("b"),
        };
        let snapshot = ShardSnapshot {
            routes: vec![(key, route)],
            ..ShardSnapshot::default()
        };
        crate::metrics::render::shard_families(&Totals::of([&snapshot]))
    }

    #[test]
    fn counters_and_histograms_become_otlp_sums_and_histograms() {
        let times = Times { start: 1, now: 2 };
        let resource = [("service.name".to_string(), "sluice".to_string())];
        let req = request(&families(), &resource, times);
        let metrics = &req.resource_metrics[0].scope_metrics[0].metrics;
        let find = |name: &str| metrics.iter().find(|m| m.name == name).expect(name);
        let Some(metric::Data::Sum(sum)) = &find("sluice_requests").data else {
            panic!("requests is not a sum");
        };
        assert!(sum.is_monotonic);
        let point = &sum.data_points[0];
        assert_eq!(point.value, Some(number_data_point::Value::AsDouble(9.0)));
        assert!(point.attributes.contains(&key_value("api_key", "Fetch")));
        let forward = find("sluice_request_forward_seconds");
        assert_eq!(forward.unit, "s");
        let Some(metric::Data::Histogram(hist)) = &forward.data else {
            panic!("forward is not a histogram");
        };
        let point = &hist.data_points[0];
        assert_eq!(point.count, 2);
        assert_eq!(point.bucket_counts.len(), BUCKETS);
        assert_eq!(
            point.bucket_counts[2], 1,
            "30 µs is in the (25 µs, 50 µs] bucket"
        );
        assert_eq!(
            point.bucket_counts[BUCKETS - 1],
            1,
            "100 s is above every bound"
        );
        assert_eq!(point.start_time_unix_nano, 1);
    }
}
