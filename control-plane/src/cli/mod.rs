//! The `sluice-cp` command line: `serve` and `issue-cert` work on the data
//! directory; the other commands talk to a running control plane.

mod commands;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::client::ClientError;
use crate::datadir::DataDir;
use crate::pki::{write_node_files, Ca, DEFAULT_NODE_VALIDITY_DAYS};
use crate::secret::AdminToken;
use crate::serve::{serve, ServeOptions};

#[derive(Parser)]
#[command(
    name = "sluice-cp",
    version,
    about = "sluice control plane: configuration store, admin API and data-plane config distribution"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane (creates the data directory, CA and token on first start).
    Serve(ServeArgs),
    /// Issue a data-plane node certificate from the CA in the data directory (offline).
    IssueCert(IssueCertArgs),
    /// Apply a whole configuration file (YAML, or JSON when it ends in .json; - for stdin).
    Apply {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Show what would change without storing anything.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Print the current configuration (or a past version).
    Get {
        #[arg(long)]
        version: Option<u64>,
        #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Yaml)]
        output: Output,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Show what applying a file would change.
    Diff {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// List data-plane nodes and what they run.
    Nodes {
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Store a new version with the content of VERSION.
    Rollback {
        version: u64,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// List configuration versions.
    Versions {
        #[command(flatten)]
        remote: RemoteArgs,
    },
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, env = "SLUICE_CP_DATA_DIR")]
    data_dir: PathBuf,
    #[arg(long, env = "SLUICE_CP_LISTEN", default_value = "127.0.0.1:9443")]
    listen: SocketAddr,
    /// Host name or IP address the server certificate covers (repeatable;
    /// default: localhost and 127.0.0.1).
    #[arg(long = "hostname")]
    hostnames: Vec<String>,
    /// Admin bearer token (at least 16 characters); without it the one in
    /// DATA_DIR/admin-token is used, or one is generated.
    #[arg(long, env = "SLUICE_CP_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
}

#[derive(Args)]
struct IssueCertArgs {
    #[arg(long)]
    data_dir: PathBuf,
    /// Becomes the certificate's common name; the control plane knows the node by it.
    #[arg(long)]
    node_id: String,
    /// Where node.pem, node.key and ca.pem are written.
    #[arg(long)]
    out_dir: PathBuf,
    #[arg(long, default_value_t = DEFAULT_NODE_VALIDITY_DAYS)]
    days: u32,
}

/// How to reach a running control plane.
#[derive(Args)]
struct RemoteArgs {
    #[arg(long, env = "SLUICE_CP_URL", default_value = "https://127.0.0.1:9443")]
    url: String,
    #[arg(long, env = "SLUICE_CP_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The control plane's CA certificate (DATA_DIR/ca.pem).
    #[arg(long, env = "SLUICE_CP_CA")]
    ca: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Yaml,
    Json,
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = std::env::var("SLUICE_CP_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Validation errors one per line, as `sluice validate` prints them.
fn report(error: &anyhow::Error) {
    eprintln!("error: {error:#}");
    if let Some(ClientError::Api { errors, .. }) = error.downcast_ref::<ClientError>() {
        for e in errors {
            eprintln!("  {e}");
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => run_serve(args),
        Command::IssueCert(args) => issue_cert(args),
        Command::Apply {
            file,
            dry_run,
            remote,
        } => commands::apply(&remote.client()?, &file, dry_run),
        Command::Get {
            version,
            output,
            remote,
        } => commands::get(&remote.client()?, version, matches!(output, Output::Json)),
        Command::Diff { file, remote } => commands::diff(&remote.client()?, &file),
        Command::Nodes { remote } => commands::nodes(&remote.client()?),
        Command::Rollback { version, remote } => commands::rollback(&remote.client()?, version),
        Command::Versions { remote } => commands::versions(&remote.client()?),
    }
}

impl RemoteArgs {
    fn client(&self) -> anyhow::Result<crate::client::AdminClient> {
        let token = self
            .token
            .as_deref()
            .map(AdminToken::new)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--token: {e}"))?;
        Ok(crate::client::AdminClient::new(
            &self.url,
            token,
            self.ca.as_deref(),
        )?)
    }
}

fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let admin_token = args
        .admin_token
        .map(AdminToken::new)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--admin-token: {e}"))?;
    let hostnames = if args.hostnames.is_empty() {
        vec!["localhost".to_owned(), "127.0.0.1".to_owned()]
    } else {
        args.hostnames
    };
    let options = ServeOptions {
        data_dir: args.data_dir,
        listen: args.listen,
        hostnames,
        admin_token,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sluice-cp")
        .build()?;
    runtime.block_on(serve(options))
}

fn issue_cert(args: IssueCertArgs) -> anyhow::Result<()> {
    let dir = DataDir::open(&args.data_dir)?;
    let ca = Ca::load(&dir)?;
    let issued = ca.node_cert(&args.node_id, args.days)?;
    write_node_files(&args.out_dir, &issued, ca.cert_pem())?;
    println!(
        "wrote node.pem, node.key and ca.pem for node {:?} to {}",
        args.node_id,
        args.out_dir.display()
    );
    Ok(())
}
