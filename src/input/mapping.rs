//! `[columns]`: where each roster column is read from in a file with other headers (SPEC §1,
//! §4). A roster column names one source header, or a template of several
//! (`Name = "{Förnamn} {Efternamn}"`).

use crate::core::record::Field;
use std::collections::BTreeMap;

/// Where a roster column comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// One source header.
    Header(String),
    /// Text and source headers, filled per record (spaces collapsed, then trimmed).
    Template(Vec<Piece>),
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Header(String),
}

impl Source {
    /// The source headers it reads, in order.
    pub fn headers(&self) -> Vec<&str> {
        match self {
            Source::Header(h) => vec![h.as_str()],
            Source::Template(pieces) => pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Header(h) => Some(h.as_str()),
                    Piece::Text(_) => None,
                })
                .collect(),
        }
    }
}

/// The `[columns]` table, checked: each mapped roster column with its source, and the source
/// headers read and dropped without a warning (`ignore`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    pub fields: Vec<(Field, Source)>,
    pub ignore: Vec<String>,
}

impl Mapping {
    pub fn source(&self, field: Field) -> Option<&Source> {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, s)| s)
    }

    /// Check a `[columns]` table; an error names the key.
    pub fn parse(table: &BTreeMap<String, String>) -> Result<Mapping, String> {
        let mut fields: Vec<(Field, Source)> = Vec::new();
        for (key, value) in table {
            let field = Field::from_header(key.trim()).ok_or_else(|| {
                format!(
                    "columns.{key}: not a roster column (UniqueID, Name, Mail, Title, \
                     TelephoneNumber, SecondaryTelephoneNumber, Groups, Skip)"
                )
            })?;
            if fields.iter().any(|(f, _)| *f == field) {
                return Err(format!("columns.{key}: {} is mapped twice", field.column()));
            }
            let source = parse_source(value).map_err(|m| format!("columns.{key}: {m}"))?;
            fields.push((field, source));
        }
        Ok(Mapping {
            fields,
            ignore: Vec::new(),
        })
    }
}

/// `columns.ignore`, checked: no empty header; each trimmed.
pub fn check_ignored(headers: Vec<String>) -> Result<Vec<String>, String> {
    headers
        .into_iter()
        .map(|h| {
            let h = h.trim().to_string();
            if h.is_empty() {
                Err("columns.ignore: a source header is empty".to_string())
            } else {
                Ok(h)
            }
        })
        .collect()
}

/// A header name, or a template when it has `{`.
fn parse_source(value: &str) -> Result<Source, String> {
    if !value.contains(['{', '}']) {
        let header = value.trim();
        if header.is_empty() {
            return Err("the source header is empty".into());
        }
        return Ok(Source::Header(header.to_string()));
    }
    let mut pieces = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            Some(i) if rest.as_bytes()[i] == b'{' => {
                if i > 0 {
                    pieces.push(Piece::Text(rest[..i].to_string()));
                }
                let after = &rest[i + 1..];
                let end = after
                    .find('}')
                    .filter(|&e| !after[..e].contains('{'))
                    .ok_or("a `{` without its `}`: write a template like \"{First} {Last}\"")?;
                let header = after[..end].trim();
                if header.is_empty() {
                    return Err("`{}` names no source header".into());
                }
                pieces.push(Piece::Header(header.to_string()));
                rest = &after[end + 1..];
            }
            Some(_) => return Err("a `}` without its `{`".into()),
            None => {
                pieces.push(Piece::Text(rest.to_string()));
                rest = "";
            }
        }
    }
    Ok(Source::Template(pieces))
}

/// `[groups.aliases]`, checked: neither side empty.
pub fn check_aliases(aliases: &BTreeMap<String, String>) -> Result<(), String> {
    for (from, to) in aliases {
        if from.trim().is_empty() || to.trim().is_empty() || to.chars().any(char::is_control) {
            return Err(format!(
                "groups.aliases.{from}: both the file's and the store's Group ID must be non-empty"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_parsed() {
        let h = |s: &str| Piece::Header(s.into());
        let t = |s: &str| Piece::Text(s.into());
        let cases: &[(&str, Result<Source, ()>)] = &[
            ("Anst.nr", Ok(Source::Header("Anst.nr".into()))),
            (" E-post ", Ok(Source::Header("E-post".into()))),
            (
                "{Förnamn} {Efternamn}",
                Ok(Source::Template(vec![h("Förnamn"), t(" "), h("Efternamn")])),
            ),
            (
                "{ Efternamn }, {Förnamn} (HR)",
                Ok(Source::Template(vec![
                    h("Efternamn"),
                    t(", "),
                    h("Förnamn"),
                    t(" (HR)"),
                ])),
            ),
            ("{Förnamn", Err(())),
            ("Förnamn}", Err(())),
            ("{{A}}", Err(())),
            ("{}", Err(())),
            ("", Err(())),
            ("  ", Err(())),
        ];
        for (text, want) in cases {
            assert_eq!(&parse_source(text).map_err(|_| ()), want, "{text}");
        }
    }

    #[test]
    fn keys_are_roster_columns_once() {
        let table = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let ok = Mapping::parse(&table(&[("uniqueid", "Anst.nr"), ("Mail", "E-post")]));
        assert_eq!(ok.map(|m| m.fields.len()), Ok(2));
        let twice = Mapping::parse(&table(&[("UniqueID", "A"), ("uniqueid", "B")]));
        assert!(twice.is_err_and(|e| e.contains("twice")));
        let unknown = Mapping::parse(&table(&[("Surname", "Efternamn")]));
        assert!(unknown.is_err_and(|e| e.contains("columns.Surname")));
    }
}
