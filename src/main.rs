use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The user's own mimalloc setting wins.
    if std::env::var_os("MIMALLOC_PURGE_DECOMMITS").is_none() {
        riskwarn::reset_freed_memory();
    }
    let cli = riskwarn::cli::Cli::parse();
    match riskwarn::cmd::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The message already holds its cause; printing the source chain too would repeat it.
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
