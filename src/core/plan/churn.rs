//! The churn safeguard (SPEC §2): tonight's creates, updates and removals, each compared with
//! its median over the last applied imports, so that a night far outside the usual is held
//! even when it is under the fixed limits.

use super::{Plan, Settings, Tripped};
use crate::core::number::thousands;
use crate::core::policy::{number, MaxChurn};
use serde::Serialize;

/// The fewest earlier applied imports the safeguard compares with; with fewer it does not apply.
pub const MIN_NIGHTS: usize = 5;
/// The most recent applied imports it takes.
pub const NIGHTS: usize = 30;

/// One earlier applied import, as the runs table keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Night {
    pub run: i64,
    pub creates: u64,
    pub updates: u64,
    pub removals: u64,
}

/// What a run compares with: `import.max_churn`, `import.churn_floor`, and the applied
/// imports before it (newest first, at most [`NIGHTS`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Churn {
    pub max: MaxChurn,
    pub floor: u64,
    pub nights: Vec<Night>,
}

/// The median of each count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Medians {
    pub create: f64,
    pub update: f64,
    pub remove: f64,
}

/// What the churn safeguard compared a plan with, for the plan's JSON and the run's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChurnCheck {
    /// `import.max_churn` as configured: `10x` or `off`.
    pub max_churn: String,
    pub churn_floor: u64,
    /// False when off, or with fewer than [`MIN_NIGHTS`] applied imports before this one.
    pub checked: bool,
    /// The applied imports compared with (at most [`NIGHTS`]).
    pub imports: usize,
    /// The oldest and the newest of their runs.
    pub runs: Option<[i64; 2]>,
    pub median: Option<Medians>,
}

impl Default for ChurnCheck {
    fn default() -> Self {
        ChurnCheck {
            max_churn: MaxChurn::Off.to_string(),
            churn_floor: 0,
            checked: false,
            imports: 0,
            runs: None,
            median: None,
        }
    }
}

/// The history a churn safeguard tripped on, kept with the tripped safeguard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChurnTrip {
    /// `creates`, `updates` or `removals`.
    pub of: &'static str,
    pub factor: f64,
    pub median: f64,
    pub churn_floor: u64,
    pub imports: usize,
    pub runs: [i64; 2],
}

/// The median of some counts: the middle one, or the mean of the two middle ones.
pub fn median(values: &[u64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2] as f64,
        n => (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0,
    }
}

impl Churn {
    /// The check this history allows: the medians when on and there are enough nights.
    pub fn check(&self) -> ChurnCheck {
        let nights = &self.nights[..self.nights.len().min(NIGHTS)];
        let on = matches!(self.max, MaxChurn::Factor(_));
        let checked = on && nights.len() >= MIN_NIGHTS;
        let of = |f: fn(&Night) -> u64| median(&nights.iter().map(f).collect::<Vec<_>>());
        ChurnCheck {
            max_churn: self.max.to_string(),
            churn_floor: self.floor,
            checked,
            imports: nights.len(),
            runs: match (nights.last(), nights.first()) {
                (Some(oldest), Some(newest)) => Some([oldest.run, newest.run]),
                _ => None,
            },
            median: checked.then(|| Medians {
                create: of(|n| n.creates),
                update: of(|n| n.updates),
                remove: of(|n| n.removals),
            }),
        }
    }
}

/// Trip the churn safeguard of each count that is above factor × its median and above the
/// floor, unless its `--allow-*` flag lets the count through (then it is overridden).
pub(super) fn check(plan: &mut Plan, s: &Settings) {
    let check = s.churn.check();
    plan.churn = check.clone();
    let (MaxChurn::Factor(factor), Some(median), Some(runs)) =
        (s.churn.max, check.median, check.runs)
    else {
        return;
    };
    let counts = [
        (
            "creates",
            plan.counts.create,
            median.create,
            "--allow-creates",
            s.allow_creates,
        ),
        (
            "updates",
            plan.counts.update,
            median.update,
            "--allow-updates",
            s.allow_updates,
        ),
        (
            "removals",
            plan.counts.remove,
            median.remove,
            "--allow-removals",
            s.allow_removals,
        ),
    ];
    for (of, count, median, flag, allow) in counts {
        let churn_limit = whole_limit(factor, median).max(s.churn.floor);
        if count <= churn_limit {
            continue;
        }
        // Short enough for a line of the report: the count, the median and the history.
        let floor = if churn_limit == s.churn.floor {
            format!(" and import.churn_floor {}", thousands(s.churn.floor))
        } else {
            String::new()
        };
        let history = format!(
            "{of}: {} × median {}{floor} of {} applied imports (runs {}–{})",
            number(factor),
            median_text(median),
            check.imports,
            runs[0],
            runs[1],
        );
        let trip = ChurnTrip {
            of,
            factor,
            median,
            churn_floor: s.churn.floor,
            imports: check.imports,
            runs,
        };
        let entry = |limit: u64, setting: String| Tripped {
            safeguard: "max_churn",
            count,
            limit,
            setting,
            release: format!("{flag} {count}"),
            churn: Some(trip.clone()),
        };
        match allow {
            Some(allow) if allow >= count => plan
                .overridden
                .push(entry(allow, format!("{flag} {allow} (above {history})"))),
            Some(allow) if allow > churn_limit => {
                plan.tripped.push(entry(allow, format!("{flag} {allow}")))
            }
            _ => plan.tripped.push(entry(churn_limit, history)),
        }
    }
}

/// A median as a count is written (`1,100`, `2.5`, `33`): a whole number or one half.
fn median_text(median: f64) -> String {
    if median.fract() == 0.0 && (0.0..1e15).contains(&median) {
        thousands(median as u64)
    } else {
        number(median)
    }
}

/// ⌊factor × median⌋: a whole count exceeds factor × median exactly when it exceeds this. The
/// factor is written in decimal (`2.3x`), which binary floating point only approximates (2.3 ×
/// 50 is 114.99999999999999): a product a hair under a whole number is that number.
fn whole_limit(factor: f64, median: f64) -> u64 {
    let product = factor * median;
    (product + product.abs() * 1e-9).floor() as u64
}

impl ChurnTrip {
    /// `updates 2,018 > 10 × median 33` (and the floor, when it is the higher bound).
    pub fn describe(&self, count: u64) -> String {
        let mut text = format!(
            "{} {} > {} × median {}",
            self.of,
            thousands(count),
            number(self.factor),
            median_text(self.median)
        );
        if self.churn_floor >= whole_limit(self.factor, self.median) {
            text += &format!(" and > import.churn_floor {}", thousands(self.churn_floor));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_exact_for_decimal_factors() {
        assert_eq!(whole_limit(2.3, 50.0), 115);
        assert_eq!(whole_limit(1.13, 100.0), 113);
        assert_eq!(whole_limit(1.4, 45.0), 63);
        assert_eq!(whole_limit(2.5, 3.5), 8);
        assert_eq!(whole_limit(10.0, 0.0), 0);
        assert_eq!(whole_limit(1.0000001, 100.0), 100);
    }

    #[test]
    fn medians_of_odd_and_even_histories() {
        assert_eq!(median(&[5, 1, 3]), 3.0);
        assert_eq!(median(&[30, 33, 35, 40]), 34.0);
        assert_eq!(median(&[1, 2]), 1.5);
        assert_eq!(median(&[]), 0.0);
    }

    fn nights(updates: &[u64]) -> Vec<Night> {
        updates
            .iter()
            .enumerate()
            .rev()
            .map(|(i, &u)| Night {
                run: i as i64 + 1,
                creates: 1,
                updates: u,
                removals: 0,
            })
            .collect()
    }

    #[test]
    fn fewer_than_five_nights_are_not_checked() {
        let churn = Churn {
            max: MaxChurn::Factor(10.0),
            floor: 50,
            nights: nights(&[30, 31, 32, 33]),
        };
        let check = churn.check();
        assert!(!check.checked);
        assert_eq!(check.imports, 4);
        let churn = Churn {
            nights: nights(&[30, 31, 32, 33, 34]),
            ..churn
        };
        let check = churn.check();
        assert!(check.checked);
        assert_eq!(check.runs, Some([1, 5]));
        assert_eq!(check.median.map(|m| m.update), Some(32.0));
    }

    #[test]
    fn only_the_last_thirty_count() {
        // 40 nights: ten old big ones, then thirty small ones (newest first).
        let mut all = vec![1000; 10];
        all.extend(vec![3; 30]);
        let churn = Churn {
            max: MaxChurn::Factor(10.0),
            floor: 50,
            nights: nights(&all),
        };
        let check = churn.check();
        assert_eq!(check.imports, 30);
        assert_eq!(check.median.map(|m| m.update), Some(3.0));
        assert_eq!(check.runs, Some([11, 40]));
    }

    #[test]
    fn the_description_names_the_median() {
        let trip = ChurnTrip {
            of: "updates",
            factor: 10.0,
            median: 33.0,
            churn_floor: 50,
            imports: 30,
            runs: [1, 30],
        };
        assert_eq!(trip.describe(2018), "updates 2,018 > 10 × median 33");
        let wide = ChurnTrip {
            median: 1100.0,
            factor: 1.5,
            ..trip.clone()
        };
        assert_eq!(wide.describe(2000), "updates 2,000 > 1.5 × median 1,100");
        let low = ChurnTrip {
            median: 2.5,
            ..trip
        };
        assert_eq!(
            low.describe(60),
            "updates 60 > 10 × median 2.5 and > import.churn_floor 50"
        );
    }
}
