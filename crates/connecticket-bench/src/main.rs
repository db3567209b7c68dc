//! `connecticket-bench`: the benchmark behind docs/PERFORMANCE.md.
//!
//! Builds a dataset, starts `connecticket serve` on SQLite and on
//! PostgreSQL (or targets a running server), drives every call of the
//! contract with wrk at a fixed concurrency, runs the floor from
//! `../shared/bench` under the same settings, and prints each call's
//! figures and ratios; then the scenarios: slow readers beside fast ones,
//! two instances on one PostgreSQL database, and the unpaged list of a
//! million tickets. `bench/run` is the one command.

mod attacks;
mod big_list;
mod calls;
mod ceiling;
mod database;
mod dataset;
mod fairness;
mod floor;
mod process;
mod report;
mod scale_out;
mod wrk;

use std::path::PathBuf;

use clap::Parser;

use crate::database::Backend;

#[derive(Parser, Debug)]
#[command(about = "Connecticket's benchmark: figures per call, as ratios to the floor")]
pub struct Args {
    /// Backends to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<Backend>,

    /// Tickets in the dataset (plus a resident per hundred, four ratings
    /// and a comment per ticket, an attachment per fifty).
    #[arg(long, default_value_t = 100_000)]
    tickets: u64,

    /// Tickets in the dataset of the unpaged-list scenario (0: skip it).
    #[arg(long, default_value_t = 1_000_000)]
    big_list_tickets: u64,

    /// A PostgreSQL server where the benchmark may create (and drop) its
    /// database, `connecticket_bench`. On the same machine TLS to the
    /// database protects nothing and costs a fifth of the throughput, so
    /// the default turns it off, as an operator would on loopback.
    #[arg(
        long,
        env = "BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
    )]
    postgres: String,

    /// Measure a server already running here instead (with --api-key and
    /// --api-secret of an application whose provider has the dataset's
    /// shape); only the calls are run.
    #[arg(long, requires_all = ["api_key", "api_secret"])]
    target: Option<String>,
    #[arg(long)]
    api_key: Option<String>,
    #[arg(long)]
    api_secret: Option<String>,

    /// Where the floor's `floor.sh` lives.
    #[arg(long, default_value = "../shared/bench")]
    floor: PathBuf,

    /// Do not run the floor (no ratios then).
    #[arg(long)]
    no_floor: bool,

    /// Skip the scenarios (fairness, two instances, the big list).
    #[arg(long)]
    calls_only: bool,

    /// Run the attacks of docs/SECURITY.md instead (`bench/attacks`): each
    /// against a demo server with production limits while a second client
    /// calls, then the dispatcher's fairness and rate.
    #[arg(long)]
    attacks: bool,

    /// Only these calls (by name; all by default).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,

    /// Where the figures are written as JSON.
    #[arg(long, default_value = "target/bench/results.json")]
    out: PathBuf,

    /// Scratch space for databases and scripts.
    #[arg(long, default_value = "target/bench")]
    work_dir: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.attacks {
        std::fs::create_dir_all(&args.work_dir)?;
        let attacks = attacks::run(&args.work_dir).await?;
        let out = args.work_dir.join("attacks.json");
        std::fs::write(&out, serde_json::to_vec_pretty(&attacks)?)?;
        println!("# figures written to {}", out.display());
        return Ok(());
    }
    let report = report::Runner::new(args)?.run().await?;
    report.print_targets();
    Ok(())
}
