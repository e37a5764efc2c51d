//! The `roster` binary: parse the command line, run it, turn the outcome into an exit code.

use clap::Parser;
use roster::error::{exit_code, Exit};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match roster::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    match roster::app::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `roster users list | head`: a closed pipe is not a failure.
            if err
                .chain()
                .filter_map(|e| e.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            let code = exit_code(&err);
            // A list is printed one escaped line each, so that no value can forge a line.
            if let Some(roster::error::Error::Listed { head, lines }) = err.downcast_ref() {
                eprintln!("{}", roster::render::message(&format!("roster: {head}")));
                for line in lines {
                    eprintln!("  {}", roster::render::message(line));
                }
                return ExitCode::from(code as u8);
            }
            let mut message = format!("roster: {err}");
            for cause in err.chain().skip(1) {
                message.push_str(&format!(": {cause}"));
            }
            eprintln!("{}", roster::render::message(&message));
            if code == Exit::Ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(code as u8)
            }
        }
    }
}

/// A command-line error as clap words it, with the control characters of the values it quotes
/// escaped (SPEC §3.1: a value with a carriage return or an escape cannot forge a line of
/// output or a GitHub workflow command); `--help` and `--version` as clap prints them.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.render().to_string();
    // clap quotes a refused value as it was given: one with a line break would begin a line of
    // its own in clap's lines, so then the whole error is one escaped line.
    let hostile = std::env::args_os()
        .skip(1)
        .any(|a| roster::render::message(&a.to_string_lossy()) != a.to_string_lossy());
    if hostile {
        eprintln!("{}", roster::render::message(text.trim_end()));
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    let lines: Vec<std::borrow::Cow<'_, str>> = text.lines().map(roster::render::message).collect();
    eprintln!("{}", lines.join("\n").trim_end());
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}
