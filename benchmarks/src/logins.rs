//! `logins`: SASL logins per second against a virtual cluster that
//! terminates SASL, and what they cost the gateway. Each of `--threads`
//! loops connects, logs in (SaslHandshake, then one SaslAuthenticate for
//! PLAIN or two for SCRAM) and closes, for `--duration`. With `--pid` the
//! gateway's CPU time over the run is read from /proc, giving logins per
//! gateway CPU-second. The SCRAM client derives its salted password once
//! (as a real client with a fixed password may), so the tool's own PBKDF2
//! does not limit the rate.

use std::time::Instant;

use bytes::Bytes;
use cp_sync::scram::{ClientFirst, SaltedCache, ScramAlgorithm};
use kafka_protocol::messages::{
    ApiKey, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;

use crate::cli::{LoginsArgs, Mechanism};
use crate::error::BenchError;
use crate::kafka::blocking::BlockingConn;
use crate::kafka::ProtocolError;
use crate::procfs;

#[derive(Debug, Serialize)]
pub struct LoginsResult {
    pub mechanism: &'static str,
    pub threads: usize,
    pub logins: u64,
    pub failed: u64,
    pub seconds: f64,
    pub logins_per_sec: f64,
    pub target_cpu_seconds: Option<f64>,
    pub logins_per_cpu_second: Option<f64>,
}

pub fn run(args: &LoginsArgs) -> Result<(), BenchError> {
    let secret = secret(args)?;
    let secret = secret.as_str();
    let cpu = |pid| procfs::cpu_seconds(pid).map_err(|e| BenchError::Io(e.to_string()));
    let cpu_before = args.pid.map(cpu).transpose()?;
    let started = Instant::now();
    let until = started + args.duration;
    let counts: Vec<(u64, u64)> = std::thread::scope(|scope| {
        let loops: Vec<_> = (0..args.threads)
            .map(|_| scope.spawn(|| login_loop(args, secret, until)))
            .collect();
        loops
            .into_iter()
            .map(|h| h.join().unwrap_or((0, 0)))
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let cpu = match (args.pid, cpu_before) {
        (Some(pid), Some(before)) => Some(cpu(pid)? - before),
        _ => None,
    };
    let logins: u64 = counts.iter().map(|c| c.0).sum();
    let result = LoginsResult {
        mechanism: args.mechanism.name(),
        threads: args.threads,
        logins,
        failed: counts.iter().map(|c| c.1).sum(),
        seconds,
        logins_per_sec: logins as f64 / seconds,
        target_cpu_seconds: cpu,
        logins_per_cpu_second: cpu.filter(|c| *c > 0.0).map(|c| logins as f64 / c),
    };
    let text = serde_json::to_string_pretty(&result).map_err(|e| BenchError::Io(e.to_string()))?;
    println!("{text}");
    if let Some(path) = &args.json {
        std::fs::write(path, text)
            .map_err(|e| BenchError::Io(format!("{}: {e}", path.display())))?;
    }
    match result.failed {
        0 => Ok(()),
        n => Err(BenchError::Io(format!("{n} logins failed"))),
    }
}

/// The password, or for OAUTHBEARER the token read from its file.
fn secret(args: &LoginsArgs) -> Result<String, BenchError> {
    match (args.mechanism, &args.token_file) {
        (Mechanism::Oauthbearer, Some(path)) => std::fs::read_to_string(path)
            .map(|t| t.trim().to_owned())
            .map_err(|e| BenchError::Usage(format!("{}: {e}", path.display()))),
        (Mechanism::Oauthbearer, None) => {
            Err(BenchError::Usage("OAUTHBEARER needs --token-file".into()))
        }
        _ => Ok(args.password.clone()),
    }
}

/// (succeeded, failed) logins of one loop.
fn login_loop(args: &LoginsArgs, secret: &str, until: Instant) -> (u64, u64) {
    let mut cache = SaltedCache::default();
    let (mut ok, mut failed) = (0, 0);
    while Instant::now() < until {
        match login_once(args, secret, &mut cache) {
            Ok(()) => ok += 1,
            Err(_) => failed += 1,
        }
    }
    (ok, failed)
}

fn login_once(args: &LoginsArgs, secret: &str, cache: &mut SaltedCache) -> Result<(), BenchError> {
    let mut conn = BlockingConn::connect(&args.bootstrap)?;
    let mechanism = args.mechanism.name();
    let handshake =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism));
    let answer: SaslHandshakeResponse = (conn.call(ApiKey::SaslHandshake, 1, &handshake))
        .map_err(|e| BenchError::protocol("SaslHandshake", e))?;
    refused(answer.error_code)?;
    let algorithm = match args.mechanism {
        Mechanism::Plain => {
            let message = format!("\0{}\0{secret}", args.username);
            authenticate(&mut conn, message.into_bytes())?;
            return Ok(());
        }
        Mechanism::Oauthbearer => {
            let message = format!("n,,\u{1}auth=Bearer {secret}\u{1}\u{1}");
            authenticate(&mut conn, message.into_bytes())?;
            return Ok(());
        }
        Mechanism::ScramSha256 => ScramAlgorithm::Sha256,
        Mechanism::ScramSha512 => ScramAlgorithm::Sha512,
    };
    let nonce =
        cp_sync::scram::new_nonce().ok_or_else(|| BenchError::Io("no random nonce".into()))?;
    let first = ClientFirst::new(algorithm, &args.username, &nonce);
    let server_first = authenticate(&mut conn, first.message())?;
    let (proof, last) = (first.answer_cached(&server_first, secret, cache))
        .map_err(|e| BenchError::Io(e.to_string()))?;
    let server_final = authenticate(&mut conn, proof)?;
    last.check(&server_final)
        .map_err(|e| BenchError::Io(e.to_string()))
}

fn authenticate(conn: &mut BlockingConn, message: Vec<u8>) -> Result<Bytes, BenchError> {
    let request = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(message));
    let answer: SaslAuthenticateResponse = (conn.call(ApiKey::SaslAuthenticate, 1, &request))
        .map_err(|e| BenchError::protocol("SaslAuthenticate", e))?;
    refused(answer.error_code)?;
    Ok(answer.auth_bytes)
}

fn refused(code: i16) -> Result<(), BenchError> {
    match kafka_protocol::ResponseError::try_from_code(code) {
        None => Ok(()),
        Some(error) => Err(BenchError::protocol(
            "login",
            ProtocolError::Kafka {
                api: ApiKey::SaslAuthenticate,
                error,
            },
        )),
    }
}
