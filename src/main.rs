use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = riskwarn::cli::Cli::parse();
    match riskwarn::cmd::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = e.exit_code() as u8;
            let e = anyhow::Error::from(e);
            eprintln!("error: {e:#}");
            ExitCode::from(code)
        }
    }
}
