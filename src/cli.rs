//! Command-line definitions (clap derive). Their doc comments are the help text, the man page
//! and the completion scripts.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success, including \"nothing to do\" and an unchanged file
  1  runtime failure: network, SFTP, I/O, store, mail
  2  usage or configuration error, including an older batch without --force
  3  the file was rejected
  4  a safeguard blocked the apply (or the push)
  5  another run holds the store's lock";

/// Keep a user directory in step with a CSV file from an HR or IT system.
#[derive(Debug, Parser)]
#[command(name = "roster", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    /// Configuration file [default: $ROSTER_CONFIG, else ./roster.toml when it exists]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The store, a SQLite file [default: $ROSTER_STORE, else store.path, else $XDG_DATA_HOME/roster/roster.db]
    #[arg(long, global = true, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Print nothing on success
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Say more about what is done (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Output format, for commands that print data
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    /// GitHub Actions annotations (validate)
    Github,
    /// Plain text (report)
    Text,
    /// HTML (report)
    Html,
    /// Prometheus text format, for node_exporter's textfile collector (status)
    Prometheus,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store the source file as a new batch
    Fetch(FetchArgs),
    /// Check an import file; with FILE or - it needs no store and writes nothing
    Validate(ValidateArgs),
    /// Show the plan of the newest (or given) batch
    Diff(DiffArgs),
    /// Apply the plan of the newest (or given) batch
    Apply(ApplyArgs),
    /// Undo one run from its audit rows, leaving later changes alone
    Revert(RevertArgs),
    /// The stored files
    #[command(subcommand)]
    Batches(BatchesCommand),
    /// Summarise runs
    Report(ReportArgs),
    /// Manage groups
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// The directory
    #[command(subcommand)]
    Users(UsersCommand),
    /// Fetch, validate, diff, apply, send invitations and the report when due (for cron)
    Sync(SyncArgs),
    /// Bring the SCIM 2.0 provider of [scim] in step with the store
    Push(PushArgs),
    /// Health for operators and monitoring; exit 1 when unhealthy
    Status,
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page
    Man,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Where the file comes from: sftp://user@host[:port]/path, a local path, or - for stdin
    #[arg(long, value_name = "URL")]
    pub source: Option<String>,
    /// Only connect, verify the host key, authenticate and stat the file
    #[arg(long)]
    pub check: bool,
    /// Add the server's host key to known_hosts when it has this fingerprint
    #[arg(long, value_name = "SHA256:…")]
    pub trust_host_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Where the file comes from: sftp://user@host[:port]/path, a local path, or - for stdin
    #[arg(long, value_name = "URL")]
    pub source: Option<String>,
    /// Print what would be done; store nothing, send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Release the churn safeguard of creates up to N for this run
    #[arg(long, value_name = "N")]
    pub allow_creates: Option<u64>,
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Ignore memberships in unknown groups this run (import.unknown_groups = "block")
    #[arg(long)]
    pub allow_unknown_groups: bool,
    /// Why this run is made (recorded with it, shown in history and reports)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[command(flatten)]
    pub shown: ShownArgs,
}

/// Which changes of a plan are printed (SPEC §3.1).
#[derive(Debug, Args, Clone, Default)]
pub struct ShownArgs {
    /// Print at most N changes [default: 50 in a table; every change in JSON]
    #[arg(long, value_name = "N", conflicts_with = "all")]
    pub limit: Option<usize>,
    /// Print every change
    #[arg(long)]
    pub all: bool,
    /// Only changes of this action (repeat, or separate with commas)
    #[arg(long, value_enum, value_name = "A", value_delimiter = ',')]
    pub action: Vec<ActionFilter>,
    /// Only changes that set this field (repeat, or separate with commas)
    #[arg(long, value_enum, value_name = "F", value_delimiter = ',')]
    pub field: Vec<FieldFilter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActionFilter {
    Create,
    Adopt,
    Update,
    Reactivate,
    Remove,
    Missing,
    Invalid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FieldFilter {
    Name,
    Mail,
    Title,
    Phone,
    Phone2,
    Groups,
    Status,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Print what would be sent; send nothing, store nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Read the provider's users and groups and put back whatever drifted
    #[arg(long)]
    pub full: bool,
    /// Raise the removal safeguard to N deactivations or deletions for this push
    #[arg(long, value_name = "N")]
    pub allow_removals: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The file to check, or - for standard input; without it, the newest batch
    #[arg(value_name = "FILE", conflicts_with = "batch")]
    pub file: Option<String>,
    /// Check a stored batch against the store
    #[arg(long, value_name = "N")]
    pub batch: Option<i64>,
    /// Turn warnings into errors
    #[arg(long)]
    pub strict: bool,
    /// The known group IDs, when there is no store (without it, group IDs are not checked)
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub groups: Option<Vec<String>>,
    /// The known groups from a CSV with a GroupID column (the file of roster groups import)
    #[arg(long, value_name = "FILE")]
    pub groups_file: Option<PathBuf>,
    /// The region of phone numbers written without a country code, such as SE [default: csv.default_region]
    #[arg(long, value_name = "XX")]
    pub default_region: Option<String>,
    /// Print at most N problems in a table [default: 50]
    #[arg(long, value_name = "N", conflicts_with = "all")]
    pub limit: Option<usize>,
    /// Print every problem in a table
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The batch to plan [default: the newest]
    #[arg(long, value_name = "N")]
    pub batch: Option<i64>,
    #[command(flatten)]
    pub shown: ShownArgs,
}

/// The `--allow-*` flags of `apply`, `sync` and `revert`: each raises one safeguard for one run.
#[derive(Debug, Args, Clone, Default)]
pub struct AllowArgs {
    /// Raise the removal safeguard to N for this run
    #[arg(long, value_name = "N")]
    pub allow_removals: Option<u64>,
    /// Raise the update safeguard to N for this run
    #[arg(long, value_name = "N")]
    pub allow_updates: Option<u64>,
    /// Raise the invalid-record safeguard to N for this run
    #[arg(long, value_name = "N")]
    pub allow_invalid: Option<u64>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ApplyArgs {
    /// The batch to apply [default: the newest]
    #[arg(long, value_name = "N")]
    pub batch: Option<i64>,
    /// Print what would be done; store nothing, send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Release the churn safeguard of creates up to N for this run
    #[arg(long, value_name = "N")]
    pub allow_creates: Option<u64>,
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Ignore memberships in unknown groups this run (import.unknown_groups = "block")
    #[arg(long)]
    pub allow_unknown_groups: bool,
    /// Apply only if the plan computed now has this digest (as diff and a blocked run show it)
    #[arg(long, value_name = "DIGEST", value_parser = plan_digest)]
    pub expect_plan: Option<String>,
    /// Why this run is made (recorded with it, shown in history and reports)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Apply a batch older than the newest applied one (a rollback)
    #[arg(long)]
    pub force: bool,
    /// Do not push to the SCIM provider after the commit (with [scim])
    #[arg(long)]
    pub no_push: bool,
    #[command(flatten)]
    pub shown: ShownArgs,
}

/// A plan digest: 12 hex digits, kept in lower case.
fn plan_digest(text: &str) -> Result<String, String> {
    if text.len() == 12 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err("a plan digest is 12 hex digits, as roster diff shows it".into())
    }
}

#[derive(Debug, Args, Clone, Default)]
pub struct RevertArgs {
    /// The run to undo (see roster report, roster users history)
    #[arg(value_name = "RUN")]
    pub run: i64,
    /// Print what would be done; store nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Why this run is made (recorded with it, shown in history and reports)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Do not push to the SCIM provider after the commit (with [scim])
    #[arg(long)]
    pub no_push: bool,
}

#[derive(Debug, Subcommand)]
pub enum BatchesCommand {
    /// List the stored files
    List,
    /// Show one batch
    Show { batch: i64 },
    /// Write a batch's bytes to standard output
    Export { batch: i64 },
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// One run
    #[arg(long, value_name = "N", conflicts_with = "since")]
    pub run: Option<i64>,
    /// Every run since WHEN: a date (2026-11-01), a time (RFC 3339) or an age (24h, 7d)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Mail the report to [report] recipients
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List groups with their member counts
    List,
    /// Add a group; with an ID it is managed by imports, without one by hand
    Add {
        /// The Group ID that import files use
        id: Option<String>,
        #[arg(long)]
        name: String,
        /// Why (recorded with the run, shown in history and reports)
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Rename a group (GROUP is an ID or, for a manual group, a name)
    Rename {
        group: String,
        name: String,
        /// Why (recorded with the run, shown in history and reports)
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Remove a group; one with members needs --force
    Remove {
        group: String,
        #[arg(long)]
        force: bool,
        /// Why (recorded with the run, shown in history and reports)
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// List members; --add/--remove change a manual group
    Members {
        group: String,
        /// A UniqueID or mail address to add
        #[arg(long, value_name = "USER")]
        add: Vec<String>,
        /// A UniqueID or mail address to remove
        #[arg(long, value_name = "USER")]
        remove: Vec<String>,
        /// Why (recorded with the run, shown in history and reports)
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Read a CSV with a GroupID column and an optional Name column
    Import {
        file: PathBuf,
        /// The file's encoding (utf-8, utf-16, windows-1252); detected when not given
        /// (csv.encoding is for import files, not this one)
        #[arg(long, value_name = "ENCODING")]
        encoding: Option<String>,
        /// Why (recorded with the run, shown in history and reports)
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
}

impl GroupsCommand {
    /// `--reason` of a command that writes.
    pub fn reason(&self) -> Option<&str> {
        match self {
            GroupsCommand::List => None,
            GroupsCommand::Add { reason, .. }
            | GroupsCommand::Rename { reason, .. }
            | GroupsCommand::Remove { reason, .. }
            | GroupsCommand::Members { reason, .. }
            | GroupsCommand::Import { reason, .. } => reason.as_deref(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users (everyone unless filtered)
    List {
        #[arg(long, value_enum)]
        status: Option<StatusFilter>,
        /// A group ID or a manual group's name
        #[arg(long)]
        group: Option<String>,
        /// Only users whose UniqueID, name, mail or title contains TEXT (ignoring case and
        /// accents)
        #[arg(long, value_name = "TEXT")]
        search: Option<String>,
        /// Print at most N users [default: 50 in a table; every user in JSON]
        #[arg(long, value_name = "N", conflicts_with = "all")]
        limit: Option<usize>,
        /// Print every user
        #[arg(long)]
        all: bool,
    },
    /// Show one user (USER is a UniqueID, a mail address, or the whole name of one user)
    Show { user: String },
    /// The audit log of one user (USER as for show)
    History { user: String },
    /// Add a manual user
    Add(UserFields),
    /// Edit a manual user, or the phone numbers of anyone
    Edit {
        user: String,
        #[command(flatten)]
        fields: EditFields,
        /// Why (recorded with the run, shown in history and reports)
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Remove a manual user
    Remove {
        user: String,
        /// Why (recorded with the run, shown in history and reports)
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Write the directory in the import format
    Export,
    /// Send an invitation to USER (once, unless --resend), every pending one, or every user
    /// never invited
    #[command(group(clap::ArgGroup::new("who").required(true).args(["user", "pending", "uninvited"])))]
    Invite {
        user: Option<String>,
        /// Invite again even though an invitation was sent (or left in `sending` by a run
        /// that stopped)
        #[arg(long, requires = "user")]
        resend: bool,
        /// Send every pending invitation, and list those a stopped run left in `sending`
        #[arg(long)]
        pending: bool,
        /// Invite every active user that was never invited (imported before invitations
        /// were turned on, say)
        #[arg(long)]
        uninvited: bool,
        /// With --uninvited: only the members of this group (Group ID or name)
        #[arg(long, requires = "uninvited")]
        group: Option<String>,
    },
}

impl UsersCommand {
    /// `--reason` of a command that writes.
    pub fn reason(&self) -> Option<&str> {
        match self {
            UsersCommand::Add(f) => f.reason.as_deref(),
            UsersCommand::Edit { reason, .. } | UsersCommand::Remove { reason, .. } => {
                reason.as_deref()
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFilter {
    Active,
    Deactivated,
}

#[derive(Debug, Args)]
pub struct UserFields {
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub mail: String,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub phone2: Option<String>,
    /// Why (recorded with the run, shown in history and reports)
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct EditFields {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub mail: Option<String>,
    /// An empty value clears the title
    #[arg(long)]
    pub title: Option<String>,
    /// An empty value clears the number
    #[arg(long)]
    pub phone: Option<String>,
    /// An empty value clears the number
    #[arg(long)]
    pub phone2: Option<String>,
}
