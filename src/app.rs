//! Dispatch: commands that need no store return first; the rest get the store and config.

use crate::cli::{Cli, Command};
use crate::commands::{self, Context};
use crate::config::{Config, Env, Overrides};
use crate::error;
use crate::render;

pub fn run(cli: Cli) -> anyhow::Result<()> {
    // Stateless commands: no configuration, no store, no network.
    match &cli.command {
        Command::Completions { shell } => {
            return Ok(render::emit_bytes(&commands::completions::completions(
                *shell,
            ))?)
        }
        Command::Man => return Ok(render::emit_bytes(&commands::completions::man()?)?),
        _ => {}
    }
    let overrides = Overrides {
        config: cli.config.clone(),
        store: cli.store.clone(),
        source: source_flag(&cli),
    };
    let config = Config::load(&overrides, &Env::from_process())?;
    let ctx = Context {
        config,
        quiet: cli.quiet,
        verbose: cli.verbose,
        format: cli.format,
    };

    if let Command::Validate(args) = &cli.command {
        if let Some(path) = &args.file {
            return commands::validate::run_file(&ctx, args, path);
        }
    }
    Err(error::usage("this command is not available yet"))
}

fn source_flag(cli: &Cli) -> Option<String> {
    match &cli.command {
        Command::Fetch(a) => a.source.clone(),
        _ => None,
    }
}
