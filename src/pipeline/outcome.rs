//! How an apply ended ([`Status`]) and what it leaves for rendering ([`Outcome`]).

use crate::config::Config;
use crate::core::file::ImportFile;
use crate::core::plan::Plan;
use crate::core::problem::Problem;
use crate::error::Error;
use crate::input;
use crate::store::batches::Batch;
use serde::Serialize;

/// How an apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Applied,
    DryRun,
    Blocked,
    /// `--expect-plan` named another plan than the one computed now: nothing was applied and
    /// nothing recorded (no safeguard tripped; the plan is reviewed again).
    PlanChanged,
    Rejected,
    Failed,
    Unchanged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::DryRun => "dry-run",
            Status::Blocked => "blocked",
            Status::PlanChanged => "plan-changed",
            Status::Rejected => "rejected",
            Status::Failed => "failed",
            Status::Unchanged => "unchanged",
        }
    }
}

/// The outcome of an apply, for rendering.
pub struct Outcome {
    pub run: Option<i64>,
    pub batch: Batch,
    pub status: Status,
    pub file: ImportFile,
    pub plan: Option<Plan>,
    /// For rejected and blocked runs, and a dry run a real run would reject or a safeguard
    /// would block: the one-line reason.
    pub reason: Option<String>,
    /// For a plan a safeguard holds, or would hold (a dry run): the one command that proceeds.
    pub proceed: Option<String>,
    /// The file's bytes, when its reading kept only its first problems ([`super::KEEP_PROBLEMS`]):
    /// the rest are told again from them ([`Outcome::each_problem`]).
    pub source: Option<Vec<u8>>,
}

impl Outcome {
    /// An outcome whose file's problems are all kept (no [`Outcome::source`]).
    pub fn new(
        run: Option<i64>,
        batch: Batch,
        status: Status,
        file: ImportFile,
        plan: Option<Plan>,
        reason: Option<String>,
    ) -> Outcome {
        Outcome {
            run,
            batch,
            status,
            file,
            plan,
            reason,
            proceed: None,
            source: None,
        }
    }

    /// A dry run whose plan a safeguard would block: nothing was recorded, and a real run
    /// would be held (it exits as the real run would, SPEC §3).
    pub fn would_block(&self) -> bool {
        self.status == Status::DryRun && self.plan.as_ref().is_some_and(Plan::blocked)
    }

    /// A dry run of a file a real run would reject (a file error, SPEC §1): nothing was
    /// recorded, and it exits as the real run would (SPEC §3).
    pub fn would_reject(&self) -> Option<&Problem> {
        let dry = self.status == Status::DryRun && self.plan.is_none();
        self.file.file_error().filter(|_| dry)
    }

    /// Tell every problem of the file, in order, to `tell`: those kept, or, when only the
    /// first were kept, all of them read again from [`Outcome::source`].
    pub fn each_problem(
        &self,
        config: &Config,
        tell: &mut dyn FnMut(&Problem) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        match &self.source {
            Some(bytes) => {
                input::each_problem(bytes, &config.read_options(), &self.file, None, tell)
            }
            None => self.file.problems.iter().try_for_each(tell),
        }
    }

    /// The error that gives this outcome its exit code, if it is not a success.
    pub fn error(&self) -> Option<Error> {
        let reason = self.reason.clone().unwrap_or_default();
        match self.status {
            Status::Rejected => Some(Error::Rejected(reason)),
            // SPEC §2: a stale `--expect-plan` exits 4, as a block does.
            Status::Blocked | Status::PlanChanged => Some(Error::Blocked(reason)),
            Status::DryRun if self.would_block() => Some(Error::Blocked(reason)),
            Status::DryRun if self.would_reject().is_some() => Some(Error::Rejected(reason)),
            _ => None,
        }
    }
}
