//! Reports of runs: what happened, what was rejected, who was removed, what tripped, and the
//! command that proceeds. Built from plain data so that the terminal, JSON and mail share it.

use super::plan::Counts;
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Run {
    pub id: i64,
    pub batch: Option<i64>,
    pub command: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub counts: Option<Counts>,
    pub message: Option<String>,
    pub detail: Option<serde_json::Value>,
    /// Who ran it: the OS user (and the sudo user).
    pub by: Option<String>,
    pub reason: Option<String>,
    /// The `--allow-*` flags it was run with.
    pub overrides: Option<serde_json::Value>,
    /// For a revert: the run it undid.
    pub reverts: Option<i64>,
}

/// A problem as stored with its run.
#[derive(Debug, Clone, Serialize)]
pub struct StoredProblem {
    pub line: Option<i64>,
    pub column: Option<String>,
    pub code: String,
    pub severity: String,
    pub message: String,
}

/// One run with the problems recorded for it.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    #[serde(flatten)]
    pub run: Run,
    pub problems: Vec<StoredProblem>,
}

/// A report: the runs of a period (or one run) and anything an operator must act on.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub scope: String,
    pub runs: Vec<RunReport>,
    /// Lines that need attention beyond the runs (a stale source, emails stuck in sending).
    pub notices: Vec<String>,
}

impl Report {
    /// True when a run failed, was blocked or rejected, or a notice needs attention.
    pub fn needs_attention(&self) -> bool {
        !self.notices.is_empty()
            || self
                .runs
                .iter()
                .any(|r| matches!(r.run.status.as_str(), "failed" | "blocked" | "rejected"))
    }

    pub fn subject(&self) -> String {
        let worst = self
            .runs
            .iter()
            .map(|r| r.run.status.as_str())
            .find(|s| matches!(*s, "failed" | "blocked" | "rejected"));
        match worst {
            Some(s) => format!("roster: {s} — {}", self.scope),
            None if !self.notices.is_empty() => format!("roster: attention — {}", self.scope),
            None => format!("roster report — {}", self.scope),
        }
    }

    /// The report as plain text (the terminal's `--format text`, and the text part of mail).
    pub fn text(&self) -> String {
        let mut out = format!(
            "roster report — {} (generated {})\n",
            self.scope, self.generated_at
        );
        for n in &self.notices {
            out.push_str(&format!("\nATTENTION: {n}\n"));
        }
        if self.runs.is_empty() {
            out.push_str("\nNo runs.\n");
        }
        for r in &self.runs {
            out.push('\n');
            for line in run_lines(r) {
                out.push_str(&line.text);
                out.push('\n');
            }
        }
        out
    }

    /// The report as an HTML document (the HTML part of mail, and `--format html`).
    pub fn html(&self) -> String {
        let mut out = String::from("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
        out.push_str(&escape_html(&self.subject()));
        out.push_str("</title></head><body style=\"font-family: sans-serif\">\n");
        out.push_str(&format!(
            "<h1>roster report</h1>\n<p>{} (generated {})</p>\n",
            escape_html(&self.scope),
            escape_html(&self.generated_at)
        ));
        for n in &self.notices {
            out.push_str(&format!(
                "<p><strong>Attention:</strong> {}</p>\n",
                escape_html(n)
            ));
        }
        if self.runs.is_empty() {
            out.push_str("<p>No runs.</p>\n");
        }
        for r in &self.runs {
            let lines = run_lines(r);
            let mut iter = lines.iter();
            if let Some(head) = iter.next() {
                out.push_str(&format!("<h2>{}</h2>\n<ul>\n", escape_html(&head.text)));
            }
            for line in iter {
                let text = escape_html(line.text.trim_start());
                if line.command {
                    out.push_str(&format!("<li><code>{text}</code></li>\n"));
                } else {
                    out.push_str(&format!("<li>{text}</li>\n"));
                }
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</body></html>\n");
        out
    }
}

struct Line {
    text: String,
    command: bool,
}

fn run_lines(r: &RunReport) -> Vec<Line> {
    let plain = |text: String| Line {
        text,
        command: false,
    };
    let run = &r.run;
    let mut lines = vec![plain(format!(
        "Run {} ({}), batch {}: {} at {}",
        run.id,
        run.command,
        run.batch.map_or("-".to_string(), |b| b.to_string()),
        run.status,
        run.finished_at.as_deref().unwrap_or(&run.started_at)
    ))];
    if let Some(c) = &run.counts {
        lines.push(plain(format!(
            "  create {}, adopt {}, update {}, reactivate {}, remove {}, missing {}, unchanged {}, skipped {}, invalid {}",
            c.create, c.adopt, c.update, c.reactivate, c.remove, c.missing, c.unchanged, c.skipped, c.invalid
        )));
    }
    if let Some(of) = run.reverts {
        lines.push(plain(format!("  Reverts run {of}")));
    }
    if let Some(by) = &run.by {
        lines.push(plain(format!("  By {by}")));
    }
    if let Some(reason) = &run.reason {
        lines.push(plain(format!("  Reason: {reason}")));
    }
    if let Some(flags) = overrides_text(run.overrides.as_ref()) {
        lines.push(plain(format!("  Overrides: {flags}")));
    }
    if let Some(m) = &run.message {
        lines.push(plain(format!("  {m}")));
    }
    let detail = run.detail.as_ref();
    if let Some(tripped) = detail
        .and_then(|d| d.get("tripped"))
        .and_then(|t| t.as_array())
    {
        for t in tripped {
            let get = |k: &str| {
                t.get(k)
                    .map(|v| v.to_string().trim_matches('"').to_string())
                    .unwrap_or_default()
            };
            if t.get("overridden").and_then(|v| v.as_bool()) == Some(true) {
                lines.push(plain(format!(
                    "  Safeguard {} overridden: {} changes let through by {}",
                    get("safeguard"),
                    get("count"),
                    get("setting")
                )));
                continue;
            }
            lines.push(plain(format!(
                "  Safeguard {} tripped: {} > {} ({})",
                get("safeguard"),
                get("count"),
                get("limit"),
                get("setting")
            )));
        }
        if !tripped.is_empty() && run.status == "blocked" {
            let flags: Vec<String> = tripped
                .iter()
                .filter_map(|t| {
                    t.get("release")
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                })
                .collect();
            lines.push(Line {
                text: format!(
                    "  To apply it anyway: roster apply --batch {} {}",
                    run.batch.unwrap_or_default(),
                    flags.join(" ")
                ),
                command: true,
            });
        }
    }
    if let Some(removals) = detail
        .and_then(|d| d.get("removals"))
        .and_then(|t| t.as_array())
    {
        if !removals.is_empty() {
            let verb = if run.status == "applied" {
                "Removed"
            } else {
                "Would remove"
            };
            let names: Vec<String> = removals
                .iter()
                .map(|x| {
                    format!(
                        "{} {}",
                        x.get("unique_id").and_then(|v| v.as_str()).unwrap_or(""),
                        x.get("name").and_then(|v| v.as_str()).unwrap_or("")
                    )
                })
                .collect();
            lines.push(plain(format!(
                "  {verb} ({}): {}",
                names.len(),
                names.join("; ")
            )));
        }
    }
    let errors: Vec<&StoredProblem> = r
        .problems
        .iter()
        .filter(|p| p.severity == "error")
        .collect();
    if !errors.is_empty() {
        lines.push(plain(format!("  Rejected rows ({}):", errors.len())));
        for p in errors {
            let at = match (p.line, &p.column) {
                (Some(l), Some(c)) => format!("line {l}, {c}"),
                (Some(l), None) => format!("line {l}"),
                (None, Some(c)) => c.clone(),
                (None, None) => "file".to_string(),
            };
            lines.push(plain(format!("    {at}: {} ({})", p.message, p.code)));
        }
    }
    lines
}

/// The `--allow-*` flags a run used, as they were typed: `--allow-updates 2219`.
pub fn overrides_text(overrides: Option<&serde_json::Value>) -> Option<String> {
    let o = overrides?.as_object()?;
    let flags: Vec<String> = o
        .iter()
        .filter_map(|(k, v)| Some(format!("--{} {}", k.replace('_', "-"), v.as_u64()?)))
        .collect();
    (!flags.is_empty()).then(|| flags.join(" "))
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_run_says_what_tripped_and_how_to_proceed() {
        let report = Report {
            generated_at: "2026-11-28T03:00:00Z".into(),
            scope: "run 3".into(),
            runs: vec![RunReport {
                run: Run {
                    id: 3,
                    batch: Some(7),
                    command: "sync".into(),
                    started_at: "2026-11-28T02:00:00Z".into(),
                    finished_at: None,
                    status: "blocked".into(),
                    counts: Some(Counts {
                        remove: 25,
                        ..Counts::default()
                    }),
                    message: None,
                    detail: Some(serde_json::json!({
                        "tripped": [{"safeguard": "max_removals", "count": 25, "limit": 4, "setting": "10%", "release": "--allow-removals 25"}],
                        "removals": [{"unique_id": "E1", "name": "Anna <script>"}]
                    })),
                    ..Run::default()
                },
                problems: vec![StoredProblem {
                    line: Some(4),
                    column: Some("Mail".into()),
                    code: "bad-mail".into(),
                    severity: "error".into(),
                    message: "`x` is bad".into(),
                }],
            }],
            notices: vec![],
        };
        let text = report.text();
        assert!(
            text.contains("Safeguard max_removals tripped: 25 > 4"),
            "{text}"
        );
        assert!(
            text.contains("roster apply --batch 7 --allow-removals 25"),
            "{text}"
        );
        assert!(
            text.contains("Would remove (1): E1 Anna <script>"),
            "{text}"
        );
        assert!(
            text.contains("line 4, Mail: `x` is bad (bad-mail)"),
            "{text}"
        );
        let html = report.html();
        assert!(html.contains("Anna &lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"));
        assert!(report.needs_attention());
        assert_eq!(report.subject(), "roster: blocked — run 3");
    }
}

/// Read WHEN of `--since`: a date (local midnight), an RFC 3339 time, or an age (`24h`, `7d`).
pub fn parse_since(
    text: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use chrono::{DateTime, Duration, Local, NaiveDate, TimeZone, Utc};
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).ok_or("bad date")?;
        return Local
            .from_local_datetime(&midnight)
            .earliest()
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| format!("`{t}` is not a valid local date"));
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: i64 = n.parse().map_err(|_| {
        format!("`{t}` is not a date (2026-11-01), a time (RFC 3339) nor an age (24h, 7d)")
    })?;
    let age = match unit {
        "m" | "min" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        "w" => Duration::weeks(n),
        _ => {
            return Err(format!(
                "`{t}`: an age is a number with m, h, d or w (24h, 7d)"
            ))
        }
    };
    Ok(now - age)
}

#[cfg(test)]
mod since_tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn since_forms() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
            .single()
            .unwrap_or_default();
        let ok = [
            ("24h", "2026-11-27T12:00:00+00:00"),
            ("7d", "2026-11-21T12:00:00+00:00"),
            ("30m", "2026-11-28T11:30:00+00:00"),
            ("2026-11-01T05:00:00+01:00", "2026-11-01T04:00:00+00:00"),
        ];
        for (text, want) in ok {
            assert_eq!(
                parse_since(text, now).map(|d| d.to_rfc3339()),
                Ok(want.to_string()),
                "{text}"
            );
        }
        assert!(parse_since("2026-11-01", now).is_ok());
        for bad in ["yesterday", "5y", "", "2026-13-01"] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }
}
