//! The gateway's own login on a new upstream connection, before any
//! client request is forwarded on it: for virtual clusters whose clients
//! do not pass their SASL logins through to a backend that wants one.

use std::time::Duration;

use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
use sluice_runtime::Stream;

use crate::backend_login::{LoginError, LoginExchange};
use crate::proxy::ConnError;
use cp_sync::credentials::BackendLogin;
use cp_sync::scram::SaltedCache;

/// SASL answers are small; anything larger is a broken broker.
const MAX_LOGIN_FRAME: usize = 64 * 1024;

/// Logs in on `stream`, failing if the broker takes longer than `timeout`.
pub async fn log_in(
    stream: &mut Stream,
    login: &BackendLogin,
    timeout: Duration,
    salted: &mut SaltedCache,
) -> Result<(), ConnError> {
    let conversation = converse(stream, login, salted);
    let late = async {
        glommio::timer::sleep(timeout).await;
        Err(ConnError::BackendLogin(LoginError::Broken {
            mechanism: "SASL",
            reason: format!("no answer within {} ms", timeout.as_millis()),
        }))
    };
    future::or(conversation, late).await
}

async fn converse(
    stream: &mut Stream,
    login: &BackendLogin,
    salted: &mut SaltedCache,
) -> Result<(), ConnError> {
    let mut exchange = LoginExchange::new(login, salted);
    let mut frame = exchange.start();
    loop {
        stream
            .write_all(&frame)
            .await
            .map_err(ConnError::BackendIo)?;
        stream.flush().await.map_err(ConnError::BackendIo)?;
        let body = read_frame(stream).await?;
        match exchange.answer(&body).map_err(ConnError::BackendLogin)? {
            Some(next) => frame = next,
            None => return Ok(()),
        }
    }
}

async fn read_frame(stream: &mut Stream) -> Result<Vec<u8>, ConnError> {
    let mut prefix = [0u8; 4];
    stream
        .read_exact(&mut prefix)
        .await
        .map_err(ConnError::BackendIo)?;
    let len = i32::from_be_bytes(prefix);
    let len = usize::try_from(len)
        .ok()
        .filter(|len| *len <= MAX_LOGIN_FRAME)
        .ok_or_else(|| {
            ConnError::BackendLogin(LoginError::Broken {
                mechanism: "SASL",
                reason: format!("an answer of {len} bytes"),
            })
        })?;
    let mut body = vec![0u8; len];
    stream
        .read_exact(&mut body)
        .await
        .map_err(ConnError::BackendIo)?;
    Ok(body)
}
