//! The HTTP API: admin routes (bearer token), data-plane routes (node
//! certificate) and the OpenAPI document. [`route_table`] is the one list
//! of routes: the router is built from it and a test checks the OpenAPI
//! document against it.

mod auth;
mod config;
mod dataplane;
mod entities;
mod error;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, Method, Uri};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;
use tokio::sync::watch;

use crate::document::Kind;
use crate::pki::Ca;
use crate::secret::AdminToken;
use crate::store::{Store, StoreError};

pub use error::ApiError;

/// The OpenAPI 3 description of every route, served at
/// `GET /v1/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// Configuration documents may carry inline PEM; 16 MiB leaves room for
/// that without letting one request exhaust memory.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    token: AdminToken,
    ca: Ca,
    /// The current configuration version; long polls wait on changes.
    versions: watch::Sender<u64>,
}

impl AppState {
    pub fn new(store: Store, token: AdminToken, ca: Ca) -> Result<AppState, StoreError> {
        let current = store.current()?.version;
        let (versions, _) = watch::channel(current);
        Ok(AppState {
            inner: Arc::new(Inner {
                store,
                token,
                ca,
                versions,
            }),
        })
    }

    fn token(&self) -> &AdminToken {
        &self.inner.token
    }

    fn ca(&self) -> &Ca {
        &self.inner.ca
    }

    /// Runs blocking work (SQLite, key generation) off the async workers.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&AppState) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || work(&state))
            .await
            .map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Wakes every long poll waiting for a version other than `version`.
    /// Two commits may announce out of order; only a newer version counts,
    /// or the feed would fall behind the database and polls would answer
    /// at once, again and again.
    fn announce(&self, version: u64) {
        self.inner.versions.send_if_modified(|current| {
            let newer = version > *current;
            if newer {
                *current = version;
            }
            newer
        });
    }

    fn watch_versions(&self) -> watch::Receiver<u64> {
        self.inner.versions.subscribe()
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Bearer token.
    Admin,
    /// Client certificate from the control plane's CA.
    Node,
}

/// One route: method, path (OpenAPI syntax), access and handler.
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    handler: MethodRouter<AppState>,
}

fn spec(
    method: Method,
    path: &'static str,
    access: Access,
    handler: MethodRouter<AppState>,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        handler,
    }
}

/// Every route the control plane serves.
pub fn route_table() -> Vec<RouteSpec> {
    use Access::{Admin, Node, Public};
    let mut routes = vec![
        spec(Method::GET, "/v1/openapi.json", Public, get(openapi)),
        spec(Method::GET, "/v1/config", Admin, get(config::get_config)),
        spec(Method::PUT, "/v1/config", Admin, put(config::put_config)),
        spec(Method::GET, "/v1/versions", Admin, get(config::versions)),
        spec(Method::POST, "/v1/rollback", Admin, post(config::rollback)),
        spec(
            Method::POST,
            "/v1/certificates",
            Admin,
            post(dataplane::issue_certificate),
        ),
        spec(Method::GET, "/v1/nodes", Admin, get(dataplane::nodes)),
        spec(
            Method::GET,
            "/v1/dataplane/config",
            Node,
            get(dataplane::poll_config),
        ),
        spec(
            Method::POST,
            "/v1/dataplane/report",
            Node,
            post(dataplane::report),
        ),
    ];
    for kind in Kind::ALL {
        routes.extend(entity_routes(kind));
    }
    routes
}

fn entity_routes(kind: Kind) -> Vec<RouteSpec> {
    type S = State<AppState>;
    type Name = Path<String>;
    let (list, item) = match kind {
        Kind::BackendClusters => ("/v1/backend_clusters", "/v1/backend_clusters/{name}"),
        Kind::VirtualClusters => ("/v1/virtual_clusters", "/v1/virtual_clusters/{name}"),
        Kind::Listeners => ("/v1/listeners", "/v1/listeners/{name}"),
    };
    vec![
        spec(
            Method::GET,
            list,
            Access::Admin,
            get(move |s: S| entities::list(s, kind)),
        ),
        spec(
            Method::POST,
            list,
            Access::Admin,
            post(move |s: S, b: Bytes| entities::create(s, kind, b)),
        ),
        spec(
            Method::GET,
            item,
            Access::Admin,
            get(move |s: S, n: Name| entities::get_one(s, kind, n)),
        ),
        spec(
            Method::PUT,
            item,
            Access::Admin,
            put(move |s: S, n: Name, b: Bytes| entities::put(s, kind, n, b)),
        ),
        spec(
            Method::DELETE,
            item,
            Access::Admin,
            delete(move |s: S, n: Name| entities::delete(s, kind, n)),
        ),
    ]
}

/// The router for `state`, built from [`route_table`].
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for route in route_table() {
        let handler = match route.access {
            Access::Admin => route.handler.route_layer(middleware::from_fn_with_state(
                state.clone(),
                auth::require_admin,
            )),
            Access::Public | Access::Node => route.handler,
        };
        // Routes on one path with different methods merge.
        router = router.route(route.path, handler);
    }
    router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no such endpoint: {method} {}; see GET /v1/openapi.json",
        uri.path()
    ))
}
