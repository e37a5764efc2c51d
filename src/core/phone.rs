//! Phone numbers: clean a cell, read it in E.164 and check it by libphonenumber's rules.
//!
//! The general parser of the `phonenumber` crate costs several microseconds a number, which
//! dominates the validation of a large file. Most cells are already in E.164 form
//! (`+46701234567`), so those take a fast path that asks the same metadata the same
//! questions the crate's own `is_valid` asks, without the general parser. The fast path only
//! answers "valid"; anything it is unsure of (a national prefix after the country code, an
//! invalid number) goes to the general parser, so both paths always agree. A test compares
//! them on every example number in the metadata.

use phonenumber::metadata::{Metadata, DATABASE};
use phonenumber::Mode;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The region used for numbers written without a country code.
pub type Region = phonenumber::country::Id;

/// Parse a region code such as `SE`; `None` when it is not a known region.
pub fn parse_region(code: &str) -> Option<Region> {
    code.trim().to_ascii_uppercase().parse().ok()
}

/// Normalise a phone cell to E.164, or say why it is not a valid number.
pub fn normalize(cell: &str, region: Option<Region>) -> Result<String, String> {
    // A leading apostrophe is a spreadsheet's "this is text" mark (and how exports escape a +).
    let body = cell.strip_prefix('\'').unwrap_or(cell);
    let mut cleaned = String::with_capacity(cell.len());
    for c in body.chars() {
        match c {
            ' ' | '-' | '.' | '(' | ')' | '\u{a0}' | '\u{2011}' => {}
            _ => cleaned.push(c),
        }
    }
    if let Some(rest) = cleaned.strip_prefix("00") {
        cleaned = format!("+{rest}");
    }
    let digits = cleaned.strip_prefix('+').unwrap_or(&cleaned);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{cell}` is not a phone number: only digits, spaces, dashes, dots, parentheses and a leading + or 00 may be used"));
    }
    if !cleaned.starts_with('+') && region.is_none() {
        return Err(format!(
            "`{cell}` has no country code: write it as +<country code><number>, or set csv.default_region"
        ));
    }
    if cleaned.starts_with('+') && fast_valid(digits) {
        return Ok(cleaned);
    }
    slow(&cleaned, cell, region)
}

fn slow(cleaned: &str, cell: &str, region: Option<Region>) -> Result<String, String> {
    let region = if cleaned.starts_with('+') {
        None
    } else {
        region
    };
    match phonenumber::parse(region, cleaned) {
        Ok(number) if phonenumber::is_valid(&number) => {
            Ok(number.format().mode(Mode::E164).to_string())
        }
        Ok(_) => Err(format!("`{cell}` is not a valid number for its country")),
        Err(_) => Err(format!("`{cell}` is not a phone number")),
    }
}

/// Regions by country calling code, built once from the crate's metadata.
fn regions() -> &'static HashMap<u16, Vec<&'static Metadata>> {
    static REGIONS: OnceLock<HashMap<u16, Vec<&'static Metadata>>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        let mut map: HashMap<u16, Vec<&'static Metadata>> = HashMap::new();
        let db: &'static phonenumber::metadata::Database = &DATABASE;
        for code in 1..1000u16 {
            if let Some(ids) = db.region(&code) {
                let metas: Vec<_> = if ids.len() == 1 && ids[0] == "001" {
                    db.by_code(&code).into_iter().flatten().take(1).collect()
                } else {
                    ids.iter().filter_map(|id| db.by_id(*id)).collect()
                };
                if !metas.is_empty() {
                    map.insert(code, metas);
                }
            }
        }
        map
    })
}

/// The metadata libphonenumber would pick for a national number (its `source_for`).
fn source_for(metas: &[&'static Metadata], national: &str) -> Option<&'static Metadata> {
    if metas.len() == 1 {
        return Some(metas[0]);
    }
    metas
        .iter()
        .copied()
        .find(|meta| match meta.leading_digits() {
            Some(pattern) => pattern.find(national).is_some_and(|m| m.start() == 0),
            None => is_known_type(meta, national),
        })
}

/// True when the number matches the general pattern and at least one number type.
fn is_known_type(meta: &Metadata, national: &str) -> bool {
    let d = meta.descriptors();
    if !d.general().is_match(national) {
        return false;
    }
    [
        meta.descriptors().premium_rate(),
        meta.descriptors().toll_free(),
        meta.descriptors().shared_cost(),
        meta.descriptors().voip(),
        meta.descriptors().personal_number(),
        meta.descriptors().pager(),
        meta.descriptors().uan(),
        meta.descriptors().voicemail(),
        meta.descriptors().fixed_line(),
        meta.descriptors().mobile(),
    ]
    .into_iter()
    .flatten()
    .any(|desc| desc.is_match(national))
}

/// Answers `true` only when the general parser would read `+digits` unchanged and call it valid.
fn fast_valid(digits: &str) -> bool {
    if !(3..=17).contains(&digits.len()) {
        return false;
    }
    let map = regions();
    let Some((metas, national)) = (1..=3).find_map(|n| {
        let code: u16 = digits[..n].parse().ok()?;
        map.get(&code).map(|m| (m, &digits[n..]))
    }) else {
        return false;
    };
    if national.len() < 2 {
        return false;
    }
    // The parser may strip a national prefix after the country code: leave those to it.
    let Some(parse_meta) = source_for(metas, national.trim_start_matches('0')) else {
        return false;
    };
    if parse_meta
        .national_prefix()
        .is_some_and(|p| national.starts_with(p))
    {
        return false;
    }
    if let Some(re) = parse_meta.national_prefix_for_parsing() {
        if re.find(national).is_some_and(|m| m.start() == 0) {
            return false;
        }
    }
    source_for(metas, national).is_some_and(|meta| is_known_type(meta, national))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_written_forms() {
        let se = parse_region("SE");
        let cases: &[(&str, Option<Region>, Result<&str, ()>)] = &[
            ("+46701234567", None, Ok("+46701234567")),
            ("+46 70-123 45 67", None, Ok("+46701234567")),
            ("0046 8 123 456 78", None, Ok("+46812345678")),
            ("(+46) 70.123.45.67", None, Ok("+46701234567")),
            ("070-123 45 67", se, Ok("+46701234567")),
            ("070-123 45 67", None, Err(())),
            ("+1 (650) 253-0000", None, Ok("+16502530000")),
            ("+44 20 7946 0958", None, Ok("+442079460958")),
            ("+4670123", None, Err(())),
            ("+46 70 123 45 67 ext 2", None, Err(())),
            ("phone", None, Err(())),
            ("+", None, Err(())),
            ("'+46701234567", None, Ok("+46701234567")),
            ("+999 1234567", None, Err(())),
        ];
        for (cell, region, want) in cases {
            let got = normalize(cell, *region);
            match want {
                Ok(w) => assert_eq!(got.as_deref(), Ok(*w), "{cell}"),
                Err(()) => assert!(got.is_err(), "{cell} gave {got:?}"),
            }
        }
    }

    /// The fast path must never disagree with the general parser.
    #[test]
    fn fast_path_agrees_with_general_parser_on_all_examples() {
        let mut checked = 0;
        for meta in DATABASE.iter() {
            let cc = meta.country_code();
            let descs = [
                meta.descriptors().fixed_line(),
                meta.descriptors().mobile(),
                meta.descriptors().toll_free(),
                meta.descriptors().premium_rate(),
                meta.descriptors().voip(),
                meta.descriptors().pager(),
                meta.descriptors().uan(),
                meta.descriptors().personal_number(),
                meta.descriptors().shared_cost(),
                meta.descriptors().voicemail(),
            ];
            for example in descs.into_iter().flatten().filter_map(|d| d.example()) {
                for national in [
                    example.to_string(),
                    format!("0{example}"),
                    format!("{example}9"),
                ] {
                    let digits = format!("{cc}{national}");
                    let cleaned = format!("+{digits}");
                    let slow_result = slow(&cleaned, &cleaned, None);
                    if fast_valid(&digits) {
                        assert_eq!(slow_result.as_deref(), Ok(cleaned.as_str()), "{cleaned}");
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "only {checked} numbers checked");
    }
}
