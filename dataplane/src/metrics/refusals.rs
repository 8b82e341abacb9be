//! Why a client connection was refused right after accept, before it was
//! served: the label of `sluice_connections_refused_total`.

/// A closed set, like the enums in `labels`, so counters are fixed arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefuseReason {
    /// `--max-connections`: the node's connections.
    NodeMaxConnections,
    /// The listener's `limits.max_connections`.
    ListenerMaxConnections,
    /// `--max-connections-per-ip` (or its override for the address).
    NodeMaxConnectionsPerIp,
    /// The listener's `limits.max_connections_per_ip` (or its override).
    ListenerMaxConnectionsPerIp,
    /// `--max-connection-creation-rate`.
    CreationRate,
    /// The process was out of file descriptors: the client was accepted
    /// with the shard's reserve descriptor only to be closed.
    FdExhausted,
}

impl RefuseReason {
    pub const ALL: &'static [RefuseReason] = &[
        RefuseReason::NodeMaxConnections,
        RefuseReason::ListenerMaxConnections,
        RefuseReason::NodeMaxConnectionsPerIp,
        RefuseReason::ListenerMaxConnectionsPerIp,
        RefuseReason::CreationRate,
        RefuseReason::FdExhausted,
    ];
    pub const COUNT: usize = Self::ALL.len();

    pub fn label(self) -> &'static str {
        match self {
            RefuseReason::NodeMaxConnections => "node_max_connections",
            RefuseReason::ListenerMaxConnections => "listener_max_connections",
            RefuseReason::NodeMaxConnectionsPerIp => "node_max_connections_per_ip",
            RefuseReason::ListenerMaxConnectionsPerIp => "listener_max_connections_per_ip",
            RefuseReason::CreationRate => "creation_rate",
            RefuseReason::FdExhausted => "fd_exhausted",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_index_order_with_unique_labels() {
        for (i, reason) in RefuseReason::ALL.iter().enumerate() {
            assert_eq!(reason.index(), i);
        }
        let mut labels: Vec<&str> = RefuseReason::ALL.iter().map(|r| r.label()).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), RefuseReason::COUNT);
    }
}
