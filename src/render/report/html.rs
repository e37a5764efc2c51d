//! The report as an HTML document (the HTML part of mail, and `report --format html`): tables,
//! and the trend as bars drawn with table cells, with nothing to load from elsewhere. Written
//! with maud's `html!`, which escapes every value spliced into the page; nothing here is
//! spliced in unescaped. The `"\n"`s keep the document in short lines, one row a line.

use super::{command_of, counts_line, long_time, List};
use crate::core::number::thousands;
use crate::core::report::{Report, RunReport, ATTACH_ROWS, LIST_CAP};
use maud::{html, Markup, DOCTYPE};

/// The height of a chart's bars, in pixels.
const BAR_HEIGHT: u64 = 80;

const RUNS_HEADER: [&str; 8] = [
    "Run", "Command", "Status", "Batch", "Finished", "By", "Reason", "Changes",
];

impl Report {
    /// The report as an HTML document: the status and the period, the summary, the trend, the
    /// runs as one table, then each run with its details and lists.
    pub fn html(&self) -> String {
        let changes: Vec<(&str, u64)> = self
            .trend
            .iter()
            .map(|d| (d.date.as_str(), d.changes))
            .collect();
        let users: Vec<(&str, u64)> = self
            .trend
            .iter()
            .map(|d| (d.date.as_str(), d.users))
            .collect();
        html! {
            (DOCTYPE) "\n"
            html {
                head { meta charset="utf-8"; title { (self.subject()) } } "\n"
                body style="font-family: sans-serif; color: #222" {
                    "\n"
                    h1 { "roster: " (self.status) } "\n"
                    p {
                        (self.period()) " — generated " (long_time(&self.generated_at))
                        " (" (self.scope) ")"
                    }
                    "\n"
                    (self.html_summary())
                    @if !self.trend.is_empty() {
                        h2 { "Last " (self.trend.len()) " days" } "\n"
                        (bar_chart("Changes per night", &changes, "#3465a4"))
                        (bar_chart("Users in the directory", &users, "#4e9a06"))
                    }
                    (self.html_runs())
                    @for r in &self.runs {
                        (self.html_run(r))
                    }
                }
            }
            "\n"
        }
        .into_string()
    }

    /// The summary as a table of labels and values; a value that is a command to proceed
    /// with, as code to copy.
    fn html_summary(&self) -> Markup {
        html! {
            h2 { "Summary" } "\n"
            table class="summary" cellpadding="4" style="border-collapse: collapse" {
                "\n"
                @for (label, value) in self.summary() {
                    tr {
                        th align="left" valign="top" { (label) }
                        td {
                            @match command_of(&value.text) {
                                Some(command) => code { (command) },
                                None => (value.text),
                            }
                        }
                    }
                    "\n"
                }
            }
            "\n"
        }
    }

    /// The runs as one table.
    fn html_runs(&self) -> Markup {
        if self.runs.is_empty() {
            return html! {};
        }
        html! {
            h2 { "Runs" } "\n"
            table class="runs" border="1" cellpadding="4" style="border-collapse: collapse" {
                "\n"
                tr {
                    @for h in RUNS_HEADER {
                        th { (h) }
                    }
                }
                "\n"
                @for r in &self.runs {
                    tr {
                        td { (r.run.id) }
                        td { (r.run.command) }
                        td { (run_status(r)) }
                        td { @if let Some(b) = r.run.batch { (b) } }
                        td { (long_time(r.run.finished_at.as_deref().unwrap_or(&r.run.started_at))) }
                        td { (r.by.as_deref().unwrap_or("")) }
                        td { (r.reason.as_deref().unwrap_or("")) }
                        td { (r.run.counts.as_ref().map(counts_line).unwrap_or_default()) }
                    }
                    "\n"
                }
            }
            "\n"
        }
    }

    /// One run: its heading, its details, then its lists as tables.
    fn html_run(&self, r: &RunReport) -> Markup {
        let mut lines = self.detail_lines(r).into_iter().map(|l| l.text);
        let head = lines.next();
        // The lists are tables of their own, below.
        let details: Vec<String> = lines.collect();
        html! {
            @if let Some(head) = head {
                h3 { (head) } "\n"
            }
            @if !details.is_empty() {
                ul {
                    "\n"
                    @for l in &details {
                        li {
                            @match command_of(l) {
                                Some(command) => code { (command) },
                                None => (l.trim_start()),
                            }
                        }
                        "\n"
                    }
                }
                "\n"
            }
            @for list in self.lists(r) {
                (html_list(&list, r.run.id))
            }
        }
    }
}

/// A run's status in the runs' table, with what closed it and what it reverted or was
/// reverted by.
fn run_status(r: &RunReport) -> String {
    let mut status = r.run.status.clone();
    if let Some(c) = r.closed {
        status.push_str(&format!(" ({})", c.text()));
    }
    if let Some(by) = r.reverted_by {
        status.push_str(&format!(" (reverted by run {by})"));
    }
    if let Some(rev) = r.reverts {
        status.push_str(&format!(" (revert of run {rev})"));
    }
    status
}

/// One list of a run as a table of its first [`LIST_CAP`] rows, then where the rest is.
fn html_list(list: &List, run: i64) -> Markup {
    let more = thousands(list.total.saturating_sub(LIST_CAP) as u64);
    html! {
        h4 { (list.title) " (" (thousands(list.total as u64)) ")" } "\n"
        table class="list" border="1" cellpadding="3" style="border-collapse: collapse" {
            "\n"
            tr {
                @for h in list.header {
                    th { (h) }
                }
            }
            "\n"
            @for row in list.rows.iter().take(LIST_CAP) {
                tr {
                    @for cell in row {
                        td { (cell) }
                    }
                }
                "\n"
            }
        }
        "\n"
        @if list.total > ATTACH_ROWS {
            p {
                "… and " (more) " more (the first " (thousands(ATTACH_ROWS as u64))
                " in the attached " (list.file) "; every one: "
                code { (crate::core::command::roster()) " report --run " (run) " --format json" } ")"
            }
            "\n"
        } @else if list.total > LIST_CAP {
            p { "… and " (more) " more (all of them in the attached " (list.file) ")" } "\n"
        }
    }
}

/// A bar chart as a table: one cell per day, its bar a block of that height, so that every
/// mail client shows it without loading anything.
fn bar_chart(title: &str, days: &[(&str, u64)], colour: &str) -> Markup {
    let max = days.iter().map(|d| d.1).max().unwrap_or(0);
    let last = days.len().saturating_sub(1);
    html! {
        table class="chart" role="img" aria-label=(title) cellspacing="1" cellpadding="0"
            style="border-collapse: separate" {
            "\n"
            caption style="text-align: left" { (title) " (max " (thousands(max)) ")" } "\n"
            tr valign="bottom" {
                @for (date, v) in days {
                    td title={ (date) ": " (thousands(*v)) }
                        style={ "width: 12px; height: " (BAR_HEIGHT) "px; vertical-align: bottom" } {
                        div style={
                            "height: " (bar_height(*v, max)) "px; width: 10px; background: " (colour)
                            "; font-size: 1px; line-height: 1px"
                        } { "\u{a0}" }
                    }
                }
            }
            "\n"
            tr {
                @for (i, (date, _)) in days.iter().enumerate() {
                    td style="font-size: 9px" {
                        @if i == 0 || i == last { (date.get(5..).unwrap_or(date)) }
                    }
                }
            }
            "\n"
        }
        "\n"
    }
}

/// The height of a day's bar: the highest day's is the chart's; any day above zero shows.
fn bar_height(value: u64, max: u64) -> u64 {
    if max == 0 {
        0
    } else {
        (value * BAR_HEIGHT).div_ceil(max)
    }
}
