//! A file as read and checked on its own: its entries and problems.

use super::problem::{Code, Problem, Severity, Tally};
use super::record::{Columns, Entry, Field};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};

/// A file as read and checked on its own (without the store).
#[derive(Debug, Clone, Default)]
pub struct ImportFile {
    pub delimiter: u8,
    pub encoding: &'static str,
    pub columns: Columns,
    /// Data records read (Skip records and invalid ones included).
    pub rows: usize,
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
    /// Each Group ID that no known group has, with the number of records naming it, when the
    /// file's groups were counted ([`ImportFile::count_unknown_groups`]) rather than warned of
    /// record by record ([`ImportFile::check_groups`]).
    pub unknown_groups: BTreeMap<String, u64>,
    /// Problems of the records counted, not kept in `problems` (see [`ImportFile::keep`]).
    pub dropped: Tally,
    /// `None`: every problem is kept. `Some(n)`: of the records' problems, only the first `n`
    /// errors and the first `n` warnings (by line) are kept, the rest counted in `dropped`, so
    /// that memory does not grow with what is wrong (SPEC §5); the file's own problems (its
    /// header, its encoding) are always kept.
    pub keep: Option<usize>,
    /// The line of the header: problems on a later line are the records'.
    pub header_line: u64,
    /// With `keep`, the entries (by index) whose UniqueID, and those whose Mail, another entry
    /// has too, so that their problems can be told again ([`crate::input::each_problem`]).
    pub duplicate_ids: Vec<u32>,
    pub duplicate_mails: Vec<u32>,
}

impl ImportFile {
    /// True when a file error rejects the whole file.
    pub fn file_error(&self) -> Option<&Problem> {
        self.problems.iter().find(|p| p.code.is_file_error())
    }
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.is_error()).count() + self.dropped.errors() as usize
    }
    pub fn warnings(&self) -> usize {
        self.problems.iter().filter(|p| !p.is_error()).count() + self.dropped.warnings() as usize
    }

    /// True for a problem of a record (not of the header or the whole file): those are the
    /// ones that `keep` limits.
    pub fn of_a_record(&self, p: &Problem) -> bool {
        p.line.is_some_and(|l| l > self.header_line)
            && !matches!(p.code, Code::UnknownColumn | Code::EncodingFallback)
            && !p.code.is_file_error()
    }

    /// Sort the problems, and with `keep`, count those of the records past the first `n`
    /// errors and `n` warnings rather than keep them.
    pub fn limit_problems(&mut self) {
        sort_problems(&mut self.problems);
        let Some(n) = self.keep else {
            return;
        };
        let (mut errors, mut warnings) = (0, 0);
        let mut dropped = std::mem::take(&mut self.dropped);
        let header_line = self.header_line;
        let this = ImportFile {
            header_line,
            ..ImportFile::default()
        };
        self.problems.retain(|p| {
            if !this.of_a_record(p) {
                return true;
            }
            let kept = if p.is_error() {
                &mut errors
            } else {
                &mut warnings
            };
            if *kept < n {
                *kept += 1;
                true
            } else {
                dropped.count(p);
                false
            }
        });
        self.problems.shrink_to_fit();
        self.dropped = dropped;
    }
    pub fn invalid(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e, Entry::Invalid(_)))
            .count()
    }

    /// Add an `unknown-group` warning for each group ID not in `known`.
    pub fn check_groups(&mut self, known: &HashSet<String>) {
        let column = self.columns.name(Field::Groups);
        fn valid(entry: &Entry) -> Option<&super::record::Record> {
            match entry {
                Entry::Valid(r) => Some(r),
                Entry::Invalid(_) => None,
            }
        }
        let warnings: Vec<Problem> = match self.keep {
            None => self
                .entries
                .par_iter()
                .filter_map(valid)
                .flat_map_iter(|r| {
                    r.groups()
                        .filter(|g| !known.contains(*g))
                        .map(|g| unknown_group(r.line, column, g))
                })
                .collect(),
            // In the file's order: the first `n` are kept, the rest counted.
            Some(n) => {
                let mut kept = Vec::new();
                for r in self.entries.iter().filter_map(valid) {
                    for g in r.groups().filter(|g| !known.contains(*g)) {
                        if kept.len() < n {
                            kept.push(unknown_group(r.line, column, g));
                        } else {
                            self.dropped.add(Code::UnknownGroup, Severity::Warning, 1);
                        }
                    }
                }
                kept
            }
        };
        self.problems.extend(warnings);
        self.limit_problems();
    }

    /// Count the group IDs that are not in `known`, each once with the number of records that
    /// name it (SPEC §2: a plan shows each unknown ID once), into [`ImportFile::unknown_groups`]
    /// (added to what it holds): a warning for each record would cost a first import with no
    /// groups yet hundreds of bytes per membership.
    pub fn count_unknown_groups(&mut self, known: &HashSet<String>) {
        // Counted in ordered maps, whose nodes are small blocks: a hash table of 200,000 IDs
        // grows by large blocks that glibc, once one is freed, keeps in the heap with all the
        // large blocks after it (a file naming 300,000 unknown groups peaked 47 MiB higher).
        let known: HashSet<&str, foldhash::fast::RandomState> =
            known.iter().map(String::as_str).collect();
        let unknown = |entry: &'_ Entry| match entry {
            Entry::Valid(r) => r.groups().any(|g| !known.contains(g)),
            Entry::Invalid(_) => false,
        };
        // Most files name no unknown group: that is found on every core.
        let Some(first) = self.entries.par_iter().position_first(unknown) else {
            return;
        };
        let mut counted: BTreeMap<&str, u64> = BTreeMap::new();
        for entry in &self.entries[first..] {
            if let Entry::Valid(r) = entry {
                for g in r.groups().filter(|g| !known.contains(g)) {
                    *counted.entry(g).or_default() += 1;
                }
            }
        }
        for (g, n) in counted {
            *self.unknown_groups.entry(g.to_string()).or_default() += n;
        }
    }

    /// Each unknown Group ID with the number of records naming it, whether counted or warned
    /// of record by record.
    pub fn unknown_group_counts(&self) -> BTreeMap<String, u64> {
        let mut out = self.unknown_groups.clone();
        for (g, n) in super::problem::unknown_groups(&self.problems) {
            *out.entry(g).or_default() += n;
        }
        out
    }

    /// [`ImportFile::unknown_group_counts`] for the plan, which is made once of a reading:
    /// the counted IDs are moved rather than copied (a file that names 200,000 unknown
    /// groups held them twice, SPEC §5), and the file keeps none afterwards.
    pub fn take_unknown_group_counts(&mut self) -> BTreeMap<String, u64> {
        let mut out = std::mem::take(&mut self.unknown_groups);
        for (g, n) in super::problem::unknown_groups(&self.problems) {
            *out.entry(g).or_default() += n;
        }
        out
    }

    /// Mark an entry invalid (used for `mail-taken`, found against the store).
    pub fn invalidate(&mut self, index: usize, problem: Problem) {
        if let Entry::Valid(r) = &self.entries[index] {
            self.entries[index] = Entry::Invalid(super::record::Rejected::new(
                r.line,
                Some(r.unique_id()),
                Some(r.name()),
                false,
            ));
        }
        self.problems.push(problem);
        sort_problems(&mut self.problems);
    }
}

/// The `unknown-group` warning of a record naming a Group ID that no group has.
pub fn unknown_group(line: u64, column: &str, group: &str) -> Problem {
    Problem::new(
        Some(line),
        Some(column),
        Code::UnknownGroup,
        format!("no group has the ID `{group}`; this membership is ignored"),
    )
    .with_value(group)
}

pub fn sort_problems(problems: &mut [Problem]) {
    problems.sort_by_key(|p| (p.line.unwrap_or(0), p.severity != Severity::Error));
}
