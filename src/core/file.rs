//! A file as read and checked on its own: its entries and problems.

use super::problem::{Code, Problem, Severity};
use super::record::{Columns, Entry, Field};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

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
}

impl ImportFile {
    /// True when a file error rejects the whole file.
    pub fn file_error(&self) -> Option<&Problem> {
        self.problems.iter().find(|p| p.code.is_file_error())
    }
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.problems.len() - self.errors()
    }
    pub fn invalid(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e, Entry::Invalid { .. }))
            .count()
    }

    /// Add an `unknown-group` warning for each group ID not in `known`.
    pub fn check_groups(&mut self, known: &HashSet<String>) {
        let warnings: Vec<Problem> = self
            .entries
            .par_iter()
            .filter_map(|entry| match entry {
                Entry::Valid(r) => Some(r),
                Entry::Invalid { .. } => None,
            })
            .flat_map_iter(|r| {
                let column = self.columns.name(Field::Groups);
                r.groups().filter(|g| !known.contains(*g)).map(|g| {
                    Problem::new(
                        Some(r.line),
                        Some(column),
                        Code::UnknownGroup,
                        format!("no group has the ID `{g}`; this membership is ignored"),
                    )
                    .with_value(g)
                })
            })
            .collect();
        self.problems.extend(warnings);
        sort_problems(&mut self.problems);
    }

    /// Count the group IDs that are not in `known`, each once with the number of records that
    /// name it (SPEC §2: a plan shows each unknown ID once), into [`ImportFile::unknown_groups`]
    /// (added to what it holds): a warning for each record would cost a first import with no
    /// groups yet hundreds of bytes per membership.
    pub fn count_unknown_groups(&mut self, known: &HashSet<String>) {
        type Counts<'a> = HashMap<&'a str, u64, foldhash::fast::RandomState>;
        let known: HashSet<&str, foldhash::fast::RandomState> =
            known.iter().map(String::as_str).collect();
        let counted = self
            .entries
            .par_iter()
            .fold(Counts::default, |mut counted, entry| {
                if let Entry::Valid(r) = entry {
                    for g in r.groups().filter(|g| !known.contains(g)) {
                        *counted.entry(g).or_default() += 1;
                    }
                }
                counted
            })
            .reduce(Counts::default, |mut a, b| {
                for (g, n) in b {
                    *a.entry(g).or_default() += n;
                }
                a
            });
        for (g, n) in counted {
            *self.unknown_groups.entry(g.to_string()).or_default() += n;
        }
    }

    /// Each unknown Group ID with the number of records naming it, whether counted or warned
    /// of record by record.
    pub fn unknown_group_counts(&self) -> BTreeMap<String, u64> {
        let mut out = self.unknown_groups.clone();
        for (g, n) in super::report::unknown_groups(&self.problems) {
            *out.entry(g).or_default() += n;
        }
        out
    }

    /// Mark an entry invalid (used for `mail-taken`, found against the store).
    pub fn invalidate(&mut self, index: usize, problem: Problem) {
        if let Entry::Valid(r) = &self.entries[index] {
            let unique_id = Some(r.unique_id().to_owned());
            self.entries[index] = Entry::Invalid {
                line: r.line,
                unique_id,
                name: Some(r.name().to_owned()),
            };
        }
        self.problems.push(problem);
        sort_problems(&mut self.problems);
    }
}

pub fn sort_problems(problems: &mut [Problem]) {
    problems.sort_by_key(|p| (p.line.unwrap_or(0), p.severity != Severity::Error));
}
