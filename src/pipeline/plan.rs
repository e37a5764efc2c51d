//! The plan stage: the settings from configuration and flags, and the plan of a read file
//! against the store's directory (the safeguards trip inside it, SPEC §2).

use super::stage;
use crate::cli::ApplyArgs;
use crate::config::Config;
use crate::core::file::ImportFile;
use crate::core::plan::{self, Plan, Settings};
use crate::store::directory::StoreDirectory;
use crate::store::Store;

/// The plan settings from configuration and this run's flags.
pub fn settings(config: &Config, batch: i64, args: &ApplyArgs) -> Settings {
    Settings {
        batch,
        missing_users: config.import.missing_users,
        remove_after_missing: config.import.remove_after_missing,
        keep_phones: config.import.keep_manual_phones,
        max_removals: config.import.max_removals,
        max_updates: config.import.max_updates,
        max_invalid: config.import.max_invalid,
        allow_removals: args.allow.allow_removals,
        allow_updates: args.allow.allow_updates,
        allow_invalid: args.allow.allow_invalid,
        allow_creates: args.allow_creates,
        block_unknown_groups: config.import.unknown_groups == crate::config::UnknownGroups::Block,
        allow_unknown_groups: args.allow_unknown_groups,
        churn: plan::Churn {
            max: config.import.max_churn,
            floor: config.import.churn_floor,
            nights: Vec::new(),
        },
        send_invitations: config.import.send_invitations,
        reuse_mail_of_deactivated: config.import.reuse_mail_of_deactivated,
    }
}

/// [`settings`] with the applied imports the churn safeguard compares with, from the runs
/// table (SPEC §2).
pub fn settings_for(
    store: &Store,
    config: &Config,
    batch: i64,
    args: &ApplyArgs,
) -> anyhow::Result<Settings> {
    let mut settings = settings(config, batch, args);
    if settings.churn.max != crate::config::MaxChurn::Off {
        settings.churn.nights = store.churn_nights(plan::churn::NIGHTS)?;
    }
    Ok(settings)
}

/// Plan a read file against the store's directory.
pub fn plan(
    dir: &StoreDirectory<'_>,
    file: &mut ImportFile,
    settings: &Settings,
) -> anyhow::Result<Plan> {
    stage::enter("plan");
    // One read transaction: the plan's reads see one state of the store, and SQLite takes
    // its locks once rather than for each user it reads.
    let started = std::time::Instant::now();
    let shown = crate::render::progress::stage(&format!(
        "planning {} records",
        crate::render::thousands(file.rows as u64)
    ));
    let snapshot = dir.store().conn.unchecked_transaction()?;
    let plan = plan::plan(file, dir, settings);
    shown.finish_and_clear();
    let plan = plan?;
    snapshot.finish()?;
    log_churn(&plan.churn);
    log::info!(
        "plan: batch {}: {}{} in {}",
        plan.batch,
        crate::render::plan::counts_line(&plan.counts),
        if plan.blocked() {
            " (a safeguard trips)"
        } else {
            ""
        },
        crate::render::log::secs(started)
    );
    Ok(plan)
}

/// The `-v` line of the churn safeguard: what it compared with, or why it did not apply.
fn log_churn(check: &plan::ChurnCheck) {
    match (&check.median, check.runs) {
        (Some(m), Some([from, to])) => log::info!(
            "churn: compared with the medians of the last {} applied imports (runs {from}–{to}): \
             creates {}, updates {}, removals {} (import.max_churn = {}, import.churn_floor = {})",
            check.imports,
            crate::core::policy::number(m.create),
            crate::core::policy::number(m.update),
            crate::core::policy::number(m.remove),
            check.max_churn,
            check.churn_floor
        ),
        _ if check.max_churn == "off" => {
            log::info!("churn: not checked (import.max_churn = off)")
        }
        _ => log::info!(
            "churn: not checked: {} applied import{} before this one, it needs {}",
            check.imports,
            if check.imports == 1 { "" } else { "s" },
            plan::churn::MIN_NIGHTS
        ),
    }
}
