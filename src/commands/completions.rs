//! `roster completions SHELL` and `roster man`: generated from the clap definitions.

use crate::cli::Cli;
use clap::CommandFactory;

pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "roster", &mut out);
    out
}

/// The one man page the package installs (`roster.1`): the program's own sections, then a
/// COMMANDS section with every command's synopsis, description and options, so that
/// `man roster` documents `users list --search` too (it names no `roster-users(1)` page, which
/// no package installs).
pub fn man() -> std::io::Result<Vec<u8>> {
    let mut cmd = Cli::command();
    cmd.build();
    let page = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    page.render_title(&mut out)?;
    let mut body = Vec::new();
    page.render_name_section(&mut body)?;
    page.render_synopsis_section(&mut body)?;
    page.render_description_section(&mut body)?;
    page.render_options_section(&mut body)?;
    body.extend_from_slice(b".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        command_section(&mut body, sub)?;
    }
    page.render_extra_section(&mut body)?;
    page.render_version_section(&mut body)?;
    out.extend_from_slice(&without_preambles(&body));
    Ok(out)
}

/// One command as a subsection of COMMANDS (`.SS "roster users list"`): its description,
/// synopsis and own options (the global ones are the page's); a command with subcommands
/// gives one subsection each.
fn command_section(out: &mut Vec<u8>, cmd: &clap::Command) -> std::io::Result<()> {
    if cmd.get_name() == "help" {
        return Ok(());
    }
    if cmd.has_subcommands() {
        for sub in cmd.get_subcommands() {
            command_section(out, sub)?;
        }
        return Ok(());
    }
    let globals: Vec<clap::Id> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().clone())
        .collect();
    let mut own = cmd.clone();
    for id in globals {
        own = own.mut_arg(id, |a| a.hide(true));
    }
    let name = own.get_bin_name().unwrap_or(own.get_name()).to_string();
    let page = clap_mangen::Man::new(own);
    let mut section = Vec::new();
    page.render_description_section(&mut section)?;
    page.render_synopsis_section(&mut section)?;
    page.render_options_section(&mut section)?;
    out.extend_from_slice(format!(".SS \"{name}\"\n").as_bytes());
    let text = String::from_utf8_lossy(&section);
    for line in text.lines() {
        match line {
            ".SH DESCRIPTION" => {}
            ".SH SYNOPSIS" | ".SH OPTIONS" => out.extend_from_slice(b".PP\n"),
            _ => {
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
        }
    }
    Ok(())
}

/// The page with roff's apostrophe preamble (`.ie \n(.g .ds Aq …`), which each rendered
/// section repeats, kept only where the title put it.
fn without_preambles(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::with_capacity(body.len());
    for line in text.lines() {
        if line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq") {
            continue;
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}
