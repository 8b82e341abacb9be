//! Where each decoded entity came from in the document.
//!
//! Parsing keeps going past broken entities so their neighbours are still
//! checked; the config handed to validation then lacks some elements, and
//! these tables map what remains back to document indices for error paths.

use std::collections::HashSet;

use super::errors::DocPath;
use super::schema::Config;

#[derive(Debug, Default)]
pub(crate) struct Origins {
    pub backends: Vec<usize>,
    pub virtual_clusters: Vec<usize>,
    pub listeners: Vec<ListenerOrigin>,
    /// Names of entities that failed to decode: references to them are not
    /// reported as dangling, their own errors already are.
    pub broken_backend_names: HashSet<String>,
    pub broken_virtual_cluster_names: HashSet<String>,
}

#[derive(Debug)]
pub(crate) struct ListenerOrigin {
    pub index: usize,
    /// False when `addresses` failed to decode: the listener is then left out
    /// of overlap checks rather than checked against made-up addresses.
    pub addresses_known: bool,
    pub ports: Vec<usize>,
    pub ports_complete: bool,
    pub policies: Vec<usize>,
    pub policies_complete: bool,
}

impl ListenerOrigin {
    pub(crate) fn identity(index: usize, ports: usize, policies: usize) -> Self {
        Self {
            index,
            addresses_known: true,
            ports: (0..ports).collect(),
            ports_complete: true,
            policies: (0..policies).collect(),
            policies_complete: true,
        }
    }
}

impl Origins {
    /// For a config built in code: every element is where it appears.
    pub(crate) fn identity(config: &Config) -> Self {
        Self {
            backends: (0..config.backend_clusters.len()).collect(),
            virtual_clusters: (0..config.virtual_clusters.len()).collect(),
            listeners: config
                .listeners
                .iter()
                .enumerate()
                .map(|(i, listener)| {
                    ListenerOrigin::identity(i, listener.ports.len(), listener.policies.len())
                })
                .collect(),
            broken_backend_names: HashSet::new(),
            broken_virtual_cluster_names: HashSet::new(),
        }
    }

    pub(crate) fn backend(&self, i: usize) -> DocPath {
        DocPath::root()
            .key("backend_clusters")
            .index(self.backends.get(i).copied().unwrap_or(i))
    }

    pub(crate) fn virtual_cluster(&self, i: usize) -> DocPath {
        DocPath::root()
            .key("virtual_clusters")
            .index(self.virtual_clusters.get(i).copied().unwrap_or(i))
    }

    pub(crate) fn listener_origin(&self, i: usize) -> Option<&ListenerOrigin> {
        self.listeners.get(i)
    }

    /// Listener `i` has no origin only if the tables are wrong; treating it
    /// as fully decoded then errs towards reporting, not hiding, problems.
    fn listener_flag(&self, i: usize, flag: impl Fn(&ListenerOrigin) -> bool) -> bool {
        match self.listener_origin(i) {
            Some(origin) => flag(origin),
            None => true,
        }
    }

    pub(crate) fn addresses_known(&self, i: usize) -> bool {
        self.listener_flag(i, |origin| origin.addresses_known)
    }

    pub(crate) fn ports_complete(&self, i: usize) -> bool {
        self.listener_flag(i, |origin| origin.ports_complete)
    }

    pub(crate) fn policies_complete(&self, i: usize) -> bool {
        self.listener_flag(i, |origin| origin.policies_complete)
    }

    pub(crate) fn listener(&self, i: usize) -> DocPath {
        let index = self.listener_origin(i).map_or(i, |origin| origin.index);
        DocPath::root().key("listeners").index(index)
    }

    pub(crate) fn port(&self, i: usize, k: usize) -> DocPath {
        let index = self
            .listener_origin(i)
            .and_then(|origin| origin.ports.get(k).copied())
            .unwrap_or(k);
        self.listener(i).key("ports").index(index)
    }

    pub(crate) fn policy(&self, i: usize, j: usize) -> DocPath {
        let index = self
            .listener_origin(i)
            .and_then(|origin| origin.policies.get(j).copied())
            .unwrap_or(j);
        self.listener(i).key("policies").index(index)
    }
}
