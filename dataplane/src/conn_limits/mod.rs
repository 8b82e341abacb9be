//! Connection limits that span shards: per node, per listener and per
//! client IP address, and the node's connection creation rate, in the
//! broker's words `max.connections`, `max.connections.per.ip` (with its
//! overrides) and `max.connection.creation.rate`.
//!
//! Counting across shards needs state that several cores write, which the
//! data path never does. This is not the data path: it is touched twice per
//! connection (when accepted and when closed), never per request. Counts are
//! atomics; per-IP counts sit in a few mutex-guarded maps, striped by
//! address so that shards rarely meet on one lock, each held for one map
//! update.

mod overrides;
mod rate;

use std::collections::hash_map::{Entry, RandomState};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use cp_sync::config::ListenerLimits;

pub use overrides::{parse_ip_overrides, IpOverrides};
use rate::CreationRate;

/// Stripes of the per-IP maps: enough that a few shards accepting at once
/// seldom share one.
const IP_STRIPES: usize = 16;

/// The node's own limits (`sluice run` flags); `None` is no limit.
#[derive(Debug, Clone, Default)]
pub struct NodeLimits {
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    pub per_ip_overrides: IpOverrides,
    /// New client connections per second, over every listener.
    pub creation_rate: Option<u32>,
}

impl NodeLimits {
    fn per_ip_limit(&self, ip: IpAddr) -> Option<usize> {
        let overridden = self.per_ip_overrides.get(&ip).copied();
        overridden.or(self.max_connections_per_ip)
    }
}

/// Why a connection was refused, with the limit it met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NodeMaxConnections(usize),
    ListenerMaxConnections(usize),
    NodeMaxConnectionsPerIp(usize),
    ListenerMaxConnectionsPerIp(usize),
    CreationRate(u32),
}

/// The open connections of one listener, over every shard.
#[derive(Debug)]
pub struct ListenerCount {
    id: usize,
    active: AtomicUsize,
}

impl ListenerCount {
    #[cfg(test)]
    fn active(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }
}

/// Connections from one address: in all, and per listener (by id; a
/// client seldom uses more than a couple of listeners).
#[derive(Debug, Default)]
struct IpCount {
    total: usize,
    listeners: Vec<(usize, usize)>,
}

impl IpCount {
    fn on(&self, listener: usize) -> usize {
        (self.listeners.iter())
            .find(|(id, _)| *id == listener)
            .map_or(0, |(_, n)| *n)
    }
}

pub struct ConnLimits {
    node: NodeLimits,
    rate: Option<CreationRate>,
    active: AtomicUsize,
    hasher: RandomState,
    ips: Box<[Mutex<HashMap<IpAddr, IpCount>>]>,
    /// By listener name; read when a shard binds a listener, not per connection.
    listeners: Mutex<HashMap<String, Arc<ListenerCount>>>,
}

impl ConnLimits {
    pub fn new(node: NodeLimits) -> Arc<ConnLimits> {
        let rate = node.creation_rate.map(CreationRate::new);
        Arc::new(ConnLimits {
            node,
            rate,
            active: AtomicUsize::new(0),
            hasher: RandomState::new(),
            ips: (0..IP_STRIPES).map(|_| Mutex::default()).collect(),
            listeners: Mutex::default(),
        })
    }

    /// Client connections open on this node, over every listener.
    #[cfg(test)]
    fn active(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    /// The shared count of listener `name`. Counts are kept for every name
    /// ever bound: open connections of a removed listener still end.
    pub fn listener(&self, name: &str) -> Arc<ListenerCount> {
        let mut listeners = lock(&self.listeners);
        let id = listeners.len();
        let count = listeners.entry(name.to_owned()).or_insert_with(|| {
            Arc::new(ListenerCount {
                id,
                active: AtomicUsize::new(0),
            })
        });
        count.clone()
    }

    /// Counts a new connection from `ip` on `listener`, unless that would
    /// break a limit; the count ends when the permit is dropped.
    pub fn admit(
        self: &Arc<Self>,
        listener: &Arc<ListenerCount>,
        limits: Option<&ListenerLimits>,
        ip: IpAddr,
        now: Instant,
    ) -> Result<Permit, Refusal> {
        reserve(&self.active, self.node.max_connections).map_err(Refusal::NodeMaxConnections)?;
        let listener_max = limits.and_then(|l| l.max_connections).map(widen);
        if let Err(max) = reserve(&listener.active, listener_max) {
            self.active.fetch_sub(1, Ordering::Relaxed);
            return Err(Refusal::ListenerMaxConnections(max));
        }
        let mut permit = Permit {
            limits: self.clone(),
            listener: listener.clone(),
            ip,
            ip_counted: false,
        };
        let listener_per_ip = limits.and_then(|l| l.per_ip_limit(ip)).map(widen);
        self.count_ip(listener.id, ip, listener_per_ip)?;
        permit.ip_counted = true;
        if let Some(rate) = &self.rate {
            // Checked last, so a connection refused for a count takes no
            // share of the rate.
            rate.try_take(now)
                .map_err(|()| Refusal::CreationRate(rate.per_second()))?;
        }
        Ok(permit)
    }

    fn count_ip(
        &self,
        listener: usize,
        ip: IpAddr,
        listener_max: Option<usize>,
    ) -> Result<(), Refusal> {
        let node_max = self.node.per_ip_limit(ip);
        let mut stripe = self.stripe(ip);
        let count = stripe.entry(ip).or_default();
        let refusal = match (node_max, listener_max) {
            (Some(max), _) if count.total >= max => Some(Refusal::NodeMaxConnectionsPerIp(max)),
            (_, Some(max)) if count.on(listener) >= max => {
                Some(Refusal::ListenerMaxConnectionsPerIp(max))
            }
            _ => None,
        };
        if let Some(refusal) = refusal {
            if count.total == 0 {
                stripe.remove(&ip);
            }
            return Err(refusal);
        }
        count.total += 1;
        match count.listeners.iter_mut().find(|(id, _)| *id == listener) {
            Some((_, n)) => *n += 1,
            None => count.listeners.push((listener, 1)),
        }
        Ok(())
    }

    fn release_ip(&self, listener: usize, ip: IpAddr) {
        let mut stripe = self.stripe(ip);
        let Entry::Occupied(mut entry) = stripe.entry(ip) else {
            return;
        };
        let count = entry.get_mut();
        count.total = count.total.saturating_sub(1);
        if let Some(at) = count.listeners.iter().position(|(id, _)| *id == listener) {
            match count.listeners.get_mut(at) {
                Some((_, n)) if *n > 1 => *n -= 1,
                _ => {
                    count.listeners.swap_remove(at);
                }
            }
        }
        if count.total == 0 {
            entry.remove();
        }
    }

    fn stripe(&self, ip: IpAddr) -> MutexGuard<'_, HashMap<IpAddr, IpCount>> {
        let index = (self.hasher.hash_one(ip) as usize) % self.ips.len();
        // `ips` is never empty: it is built with IP_STRIPES maps.
        lock(&self.ips[index])
    }

    #[cfg(test)]
    fn count_from(&self, ip: IpAddr) -> usize {
        self.stripe(ip).get(&ip).map_or(0, |count| count.total)
    }
}

/// A panic while a map was locked left it consistent (every update is one
/// step), so a poisoned lock is used as it is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn widen(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Adds one to `count` unless it has reached `max`; `Err(max)` then.
fn reserve(count: &AtomicUsize, max: Option<usize>) -> Result<(), usize> {
    let Some(max) = max else {
        count.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    };
    count
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            (n < max).then_some(n + 1)
        })
        .map(drop)
        .map_err(|_| max)
}

/// One admitted connection's place in every count it took.
pub struct Permit {
    limits: Arc<ConnLimits>,
    listener: Arc<ListenerCount>,
    ip: IpAddr,
    ip_counted: bool,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.ip_counted {
            self.limits.release_ip(self.listener.id, self.ip);
        }
        self.listener.active.fetch_sub(1, Ordering::Relaxed);
        self.limits.active.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests;
