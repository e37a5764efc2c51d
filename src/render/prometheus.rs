//! The Prometheus text exposition format (version 0.0.4), for node_exporter's textfile
//! collector: each family with its HELP and TYPE lines, then its samples.

use std::fmt::Write as _;

/// Metrics written in order, one family at a time.
#[derive(Default)]
pub struct Metrics {
    text: String,
}

impl Metrics {
    /// A gauge family: `samples` are (labels, value); a family may have no sample.
    pub fn gauge(&mut self, name: &str, help: &str, samples: &[(&[(&str, &str)], f64)]) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} gauge");
        for (labels, value) in samples {
            self.text.push_str(name);
            if !labels.is_empty() {
                let pairs: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                    .collect();
                let _ = write!(self.text, "{{{}}}", pairs.join(","));
            }
            let _ = writeln!(self.text, " {}", number(*value));
        }
    }

    /// One gauge without labels.
    pub fn value(&mut self, name: &str, help: &str, value: f64) {
        self.gauge(name, help, &[(&[], value)]);
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_have_help_type_and_escaped_labels() {
        let mut m = Metrics::default();
        m.value("roster_healthy", "1 when healthy", 1.0);
        m.gauge(
            "roster_users",
            "users",
            &[
                (&[("status", "a\"b\\c\nd")], 2.5),
                (&[("status", "x")], f64::NAN),
            ],
        );
        m.gauge("roster_none", "no sample", &[]);
        assert_eq!(
            m.text(),
            "# HELP roster_healthy 1 when healthy\n# TYPE roster_healthy gauge\nroster_healthy 1\n\
             # HELP roster_users users\n# TYPE roster_users gauge\n\
             roster_users{status=\"a\\\"b\\\\c\\nd\"} 2.5\nroster_users{status=\"x\"} NaN\n\
             # HELP roster_none no sample\n# TYPE roster_none gauge\n"
        );
    }
}
