//! Dispatch: commands that need no store return first; the rest get the store and config.

use crate::cli::{Cli, Command};
use crate::commands::{self, Context};
use crate::config::{Config, Env, Overrides};
use crate::error;
use crate::render;

/// Run a command. A panic anywhere becomes an error (exit 1, one clear line), never exit 101:
/// the commands that write run in transactions, which roll back as the panic unwinds.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    crate::stage::catching_panics(|| dispatch(cli))
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
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
    crate::core::command::set_options(cli.config.as_deref(), cli.store.as_deref());
    crate::core::command::set_source(overrides.source.as_deref());
    render::log::init(cli.verbose, cli.quiet);
    render::progress::init(cli.quiet);
    let config = Config::load(&overrides, &Env::from_process())?;
    let ctx = Context {
        config,
        quiet: cli.quiet,
        verbose: cli.verbose,
        format: cli.format,
    };

    match &cli.command {
        Command::Validate(args) => match &args.file {
            Some(path) => commands::validate::run_file(&ctx, args, path),
            None => commands::validate::run_batch(&ctx, args),
        },
        Command::Fetch(args) => commands::fetch::run(&ctx, args),
        Command::Diff(args) => commands::diff::run(&ctx, args),
        Command::Apply(args) => commands::apply::run(&ctx, args),
        Command::Revert(args) => commands::revert::run(&ctx, args),
        Command::Batches(cmd) => commands::batches::run(&ctx, cmd),
        Command::Report(args) => commands::report::run(&ctx, args),
        Command::Groups(cmd) => commands::groups::run(&ctx, cmd),
        Command::Users(cmd) => commands::users::run(&ctx, cmd),
        Command::Sync(args) => commands::sync::run(&ctx, args),
        Command::Push(args) => commands::push::run(&ctx, args),
        Command::Status => commands::status::run(&ctx),
        Command::Completions { .. } | Command::Man => Err(error::usage("handled above")),
    }
}

fn source_flag(cli: &Cli) -> Option<String> {
    match &cli.command {
        Command::Fetch(a) => a.source.clone(),
        Command::Sync(a) => a.source.clone(),
        _ => None,
    }
}
