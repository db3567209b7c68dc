//! `connecticket`: the server and its admin commands.

use std::process::ExitCode;

/// mimalloc: a request allocates and frees many small objects across two
/// worker threads, which glibc's allocator serves markedly slower.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    use connecticket::cli::config::{parse_from, ParseError};
    let cli = match parse_from(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(ParseError::Clap(error)) => error.exit(),
        Err(ParseError::Config(error)) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    connecticket::telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(connecticket::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // Its reader had all it wanted (`| head`): nothing went wrong.
        Err(error) if connecticket::cli::reader_went_away(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
