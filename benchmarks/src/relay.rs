//! `relay`: a plain TCP relay on glommio, one executor per CPU, copying
//! bytes both ways with no parsing at all. It is the floor for any gateway
//! on this machine: what forwarding alone costs.
//!
//! Limits: it rewrites nothing, so a Kafka client is only kept on the relay
//! if the brokers behind it advertise the relay's own addresses. With
//! --ports N, listen port P+i relays to target port Q+i; that works for a
//! responder started with `--advertised-host` set to the relay's host and
//! the same ports (relay 127.0.0.2:P -> responder 127.0.0.1:P). A real
//! Kafka advertising its own address sends clients around the relay after
//! their first Metadata; `ping` (bootstrap only) is always relayed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};

use crate::cli::RelayArgs;
use crate::error::BenchError;
use crate::kafka::blocking::resolve;
use crate::kafka::conn::{self, ReadHalf, WriteHalf};
use crate::placement;

const LABEL: &str = "sluice-bench relay";
const COPY_CHUNK: usize = 64 * 1024;

struct Route {
    listen: SocketAddr,
    to: SocketAddr,
}

fn routes(args: &RelayArgs) -> Result<Vec<Route>, BenchError> {
    let listen = resolve(&args.listen).map_err(|e| BenchError::Usage(format!("--listen: {e}")))?;
    let to = resolve(&args.to)?;
    let fits = |port: u16| port as usize + args.ports - 1 <= u16::MAX as usize;
    if !fits(listen.port()) || !fits(to.port()) {
        return Err(BenchError::Usage(format!(
            "--ports {} runs past port 65535",
            args.ports
        )));
    }
    Ok((0..args.ports as u16)
        .map(|i| Route {
            listen: SocketAddr::new(listen.ip(), listen.port() + i),
            to: SocketAddr::new(to.ip(), to.port() + i),
        })
        .collect())
}

pub fn run(args: &RelayArgs) -> Result<(), BenchError> {
    let routes = Arc::new(routes(args)?);
    let plan = placement::plan_from_args(&args.placement)?;
    let (ready_tx, ready_rx) = crossbeam_channel::unbounded::<Result<(), String>>();
    let shared = routes.clone();
    let quiet = args.quiet;
    let handles = placement::spawn_executors(&plan, "sluice-bench-relay", move |_| {
        relay_all(shared, ready_tx, quiet)
    })?;
    for ready in ready_rx.iter().take(plan.len()) {
        ready.map_err(|e| BenchError::Setup(format!("{LABEL}: cannot listen on {e}")))?;
    }
    let pairs: Vec<String> = routes
        .iter()
        .map(|r| format!("{} -> {}", r.listen, r.to))
        .collect();
    eprintln!(
        "{LABEL}: relaying {} with {} executor(s)",
        pairs.join(", "),
        plan.len()
    );
    match args.duration {
        Some(duration) => {
            std::thread::sleep(duration);
            eprintln!("{LABEL}: stopping after {duration:?}");
            Ok(())
        }
        None => placement::join_executors(handles).map(|_| ()),
    }
}

async fn relay_all(
    routes: Arc<Vec<Route>>,
    ready: crossbeam_channel::Sender<Result<(), String>>,
    quiet: bool,
) {
    let mut listeners = Vec::new();
    for route in routes.iter() {
        match TcpListener::bind(route.listen) {
            Ok(l) => listeners.push((l, route.to)),
            Err(e) => {
                let _ = ready.send(Err(format!("{}: {e}", route.listen)));
                return;
            }
        }
    }
    let _ = ready.send(Ok(()));
    let tasks: Vec<_> = listeners
        .into_iter()
        .map(|(listener, to)| glommio::spawn_local(accept_loop(listener, to, quiet)))
        .collect();
    for task in tasks {
        task.await;
    }
}

async fn accept_loop(listener: TcpListener, to: SocketAddr, quiet: bool) {
    loop {
        match listener.accept().await {
            Ok(client) => {
                glommio::spawn_local(relay_one(client, to, quiet)).detach();
            }
            Err(e) => {
                eprintln!("{LABEL}: accept failed: {e}");
                glommio::timer::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn relay_one(client: TcpStream, to: SocketAddr, quiet: bool) {
    let peer = client
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let _ = client.set_nodelay(true);
    let upstream = match conn::connect(to).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{LABEL}: {peer}: cannot connect to {to}: {e}");
            return;
        }
    };
    let (client_read, client_write) = conn::split(conn::Stream::Plain(client));
    let (upstream_read, upstream_write) = conn::split(upstream);
    // Whichever direction ends first ends the pair; Kafka clients do not
    // half-close, so there is nothing left to carry the other way.
    let result = future::race(
        copy(client_read, upstream_write),
        copy(upstream_read, client_write),
    )
    .await;
    if let Err(e) = result {
        if !quiet {
            eprintln!("{LABEL}: {peer} <-> {to}: {e}");
        }
    }
}

async fn copy(mut from: ReadHalf, mut to: WriteHalf) -> std::io::Result<()> {
    let mut buf = vec![0u8; COPY_CHUNK];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        to.write_all(&buf[..n]).await?;
    }
}
