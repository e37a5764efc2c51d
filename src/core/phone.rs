//! Phone numbers: clean a cell, read it in E.164 and check it by libphonenumber's rules.
//!
//! The general parser of the `phonenumber` crate costs several microseconds a number (its
//! regexes sit behind one shared, locked cache), which would dominate the validation of a
//! large file. Most cells are already in E.164 form (`+46701234567`), so those take a fast
//! path that asks the same questions of the same metadata as the crate's own `is_valid`, with
//! the patterns compiled once per country. When the general parser might read the number
//! differently (a national prefix after the country code), the fast path is unsure and the
//! general parser decides. A test compares both paths on every example number in the metadata.

use phonenumber::metadata::{Descriptor, Descriptors, Metadata, DATABASE};
use phonenumber::Mode;
use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::{Anchored, Input};
use std::borrow::Cow;
use std::sync::OnceLock;

/// The region used for numbers written without a country code.
pub type Region = phonenumber::country::Id;

/// Parse a region code such as `SE`; `None` when it is not a known region.
pub fn parse_region(code: &str) -> Option<Region> {
    code.trim().to_ascii_uppercase().parse().ok()
}

/// Normalise a phone cell to E.164, or say why it is not a valid number. A cell already in
/// E.164 form is returned as it is, without a copy.
pub fn normalize(cell: &str, region: Option<Region>) -> Result<Cow<'_, str>, String> {
    // A leading apostrophe is a spreadsheet's "this is text" mark (and how exports escape a +).
    let body = cell.strip_prefix('\'').unwrap_or(cell);
    let separator = |c: char| matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}' | '\u{2011}');
    // Most cells have no separator: a scan of the bytes (U+00A0 starts with C2, U+2011 with
    // E2) tells, without decoding them.
    let maybe = |b: &u8| matches!(b, b' ' | b'-' | b'.' | b'(' | b')' | 0xC2 | 0xE2);
    let mut cleaned: Cow<'_, str> = if body.as_bytes().iter().any(maybe) && body.contains(separator)
    {
        Cow::Owned(body.chars().filter(|&c| !separator(c)).collect())
    } else {
        Cow::Borrowed(body)
    };
    if let Some(rest) = cleaned.strip_prefix("00") {
        cleaned = Cow::Owned(format!("+{rest}"));
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
    if cleaned.starts_with('+') {
        match fast_check(digits) {
            Fast::Valid => return Ok(cleaned),
            Fast::Invalid => return Err(format!("`{cell}` is not a valid number for its country")),
            Fast::Unsure => {}
        }
    }
    slow(&cleaned, cell, region).map(Cow::Owned)
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

/// A metadata pattern compiled as the crate does (its patterns are written over several lines),
/// anchored at the start: the crate asks for a match that starts at 0, which is the same as
/// asking whether the anchored pattern matches. The patterns are ASCII, so `\d` is [0-9].
///
/// Each becomes a dense DFA, which answers in one pass over the digits with no cache or lock
/// (the regex crate's pool of caches costs more than the match itself on numbers this short).
/// A test compiles every pattern of the metadata, so that `None` is never met at run time.
struct Matcher(dense::DFA<Vec<u32>>);

impl Matcher {
    /// The DFA walked byte by byte, as the search would with `earliest` (any match state
    /// met is a match: the pattern is anchored, so any match starts at 0), without the
    /// search's setup, which costs more than the walk on numbers this short.
    fn is_match(&self, value: &str) -> bool {
        let dfa = &self.0;
        let input = Input::new(value).anchored(Anchored::Yes);
        // The start state is found unless the DFA has no anchored start, and it has.
        let Ok(mut state) = dfa.start_state_forward(&input) else {
            return false;
        };
        for &b in value.as_bytes() {
            state = dfa.next_state(state, b);
            if dfa.is_special_state(state) {
                if dfa.is_match_state(state) {
                    return true;
                }
                if dfa.is_dead_state(state) || dfa.is_quit_state(state) {
                    return false;
                }
            }
        }
        dfa.is_match_state(dfa.next_eoi_state(state))
    }

    /// The search this walk replaces (the tests compare them).
    #[cfg(test)]
    fn is_match_by_search(&self, value: &str) -> bool {
        let input = Input::new(value).anchored(Anchored::Yes).earliest(true);
        matches!(self.0.try_search_fwd(&input), Ok(Some(_)))
    }
}

/// The largest DFA allowed; the metadata's largest is under 20 KiB.
const DFA_BYTES: usize = 1 << 20;

fn compile(pattern: &str) -> Option<Matcher> {
    dense::Builder::new()
        .syntax(
            regex_automata::util::syntax::Config::new()
                .ignore_whitespace(true)
                .unicode(false)
                .utf8(false),
        )
        .configure(
            dense::Config::new()
                .start_kind(StartKind::Anchored)
                .dfa_size_limit(Some(DFA_BYTES))
                .determinize_size_limit(Some(4 * DFA_BYTES)),
        )
        .build(&format!("^(?:{pattern}\n)"))
        .ok()
        .map(Matcher)
}

/// A descriptor's pattern compiled once, with its possible lengths.
struct Pattern {
    re: Matcher,
    lengths: Vec<u16>,
}

impl Pattern {
    fn new(d: &Descriptor) -> Option<Pattern> {
        Some(Pattern {
            re: compile(d.national_number().as_str())?,
            lengths: d.possible_length().to_vec(),
        })
    }

    /// The same test as the crate's `Descriptor::is_match`.
    fn is_match(&self, value: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(value.len() as u16)))
            && self.re.is_match(value)
    }
}

/// The number types a region describes. Any type makes a number valid, so the common ones
/// come first.
fn number_types(d: &Descriptors) -> impl Iterator<Item = &Descriptor> {
    [
        d.mobile(),
        d.fixed_line(),
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
}

/// The patterns of one region, compiled on first use. The crate's own regexes go through a
/// small shared cache that recompiles them when many regions are in use; these do not.
struct Compiled {
    general: Option<Pattern>,
    types: Vec<Pattern>,
    leading_digits: Option<Matcher>,
    national_prefix_for_parsing: Option<Matcher>,
}

struct Country {
    meta: &'static Metadata,
    compiled: OnceLock<Compiled>,
}

impl Country {
    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| {
            let d = self.meta.descriptors();
            Compiled {
                general: Pattern::new(d.general()),
                types: number_types(d).filter_map(Pattern::new).collect(),
                leading_digits: self.meta.leading_digits().and_then(|r| compile(r.as_str())),
                national_prefix_for_parsing: self
                    .meta
                    .national_prefix_for_parsing()
                    .and_then(|r| compile(r.as_str())),
            }
        })
    }

    /// True when the number matches the general pattern and at least one number type.
    fn is_known_type(&self, national: &str) -> bool {
        let c = self.compiled();
        c.general.as_ref().is_some_and(|g| g.is_match(national))
            && c.types.iter().any(|t| t.is_match(national))
    }
}

/// Load the metadata and the patterns of the usual countries now, so that a reading in
/// parallel does not wait for one thread to do it (the crate's database takes ~0.1 s).
pub fn warm_up() {
    let _ = normalize("+46701234567", None);
}

/// Regions by country calling code (the index), built once from the crate's metadata.
fn regions() -> &'static [Vec<Country>] {
    static REGIONS: OnceLock<Vec<Vec<Country>>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        let db: &'static phonenumber::metadata::Database = &DATABASE;
        (0..1000u16)
            .map(|code| {
                let Some(ids) = db.region(&code) else {
                    return Vec::new();
                };
                let metas: Vec<&'static Metadata> = if ids.len() == 1 && ids[0] == "001" {
                    db.by_code(&code).into_iter().flatten().take(1).collect()
                } else {
                    ids.iter().filter_map(|id| db.by_id(*id)).collect()
                };
                metas
                    .into_iter()
                    .map(|meta| Country {
                        meta,
                        compiled: OnceLock::new(),
                    })
                    .collect()
            })
            .collect()
    })
}

/// The region libphonenumber would pick for a national number (its `source_for`).
fn source_for<'a>(regions: &'a [Country], national: &str) -> Option<&'a Country> {
    if regions.len() == 1 {
        return Some(&regions[0]);
    }
    regions.iter().find(|r| match &r.compiled().leading_digits {
        Some(pattern) => pattern.is_match(national),
        None => r.is_known_type(national),
    })
}

/// What the fast path can tell without the general parser.
#[derive(Debug, PartialEq, Eq)]
enum Fast {
    Valid,
    Invalid,
    /// The general parser might read the number differently: ask it.
    Unsure,
}

/// When the general parser would read `+digits` unchanged (no national prefix after the
/// country code), its validity test is the one made here on the same metadata.
fn fast_check(digits: &str) -> Fast {
    if !(3..=17).contains(&digits.len()) {
        return Fast::Unsure;
    }
    let map = regions();
    // Country codes are prefix-free: the first of one, two or three digits that is one.
    let Some((candidates, national)) = (1..=3).find_map(|n| {
        let code = digits
            .bytes()
            .take(n)
            .fold(0, |c, d| c * 10 + usize::from(d - b'0'));
        let regions = &map[code];
        (!regions.is_empty()).then(|| (regions, &digits[n..]))
    }) else {
        return Fast::Unsure;
    };
    if national.len() < 2 {
        return Fast::Unsure;
    }
    // The parser may strip a national prefix after the country code: leave those to it.
    let stripped = national.trim_start_matches('0');
    let Some(parse_region) = source_for(candidates, stripped) else {
        return Fast::Unsure;
    };
    if parse_region
        .meta
        .national_prefix()
        .is_some_and(|p| national.starts_with(p))
    {
        return Fast::Unsure;
    }
    if let Some(re) = &parse_region.compiled().national_prefix_for_parsing {
        if re.is_match(national) {
            return Fast::Unsure;
        }
    }
    let region = if stripped.len() == national.len() {
        Some(parse_region)
    } else {
        source_for(candidates, national)
    };
    if region.is_some_and(|r| r.is_known_type(national)) {
        Fast::Valid
    } else {
        Fast::Invalid
    }
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

    /// Every pattern of a country's metadata: its number types' national numbers, its
    /// leading digits and its national prefix for parsing.
    fn patterns_of(meta: &Metadata) -> impl Iterator<Item = &str> {
        let d = meta.descriptors();
        std::iter::once(d.general())
            .chain(number_types(d))
            .map(|d| d.national_number().as_str())
            .chain(meta.leading_digits().map(|r| r.as_str()))
            .chain(meta.national_prefix_for_parsing().map(|r| r.as_str()))
    }

    #[test]
    fn every_pattern_of_the_metadata_compiles() {
        let mut compiled = 0;
        for meta in DATABASE.iter() {
            for pattern in patterns_of(meta) {
                assert!(compile(pattern).is_some(), "{}: {pattern}", meta.id());
                compiled += 1;
            }
        }
        assert!(compiled > 1000, "only {compiled} patterns");
    }

    /// The fast path must never disagree with the general parser.
    #[test]
    fn fast_path_agrees_with_general_parser_on_all_examples() {
        let mut checked = 0;
        for meta in DATABASE.iter() {
            let cc = meta.country_code();
            for example in number_types(meta.descriptors()).filter_map(|d| d.example()) {
                for national in [
                    example.to_string(),
                    format!("0{example}"),
                    format!("{example}9"),
                ] {
                    let digits = format!("{cc}{national}");
                    let cleaned = format!("+{digits}");
                    let slow_result = slow(&cleaned, &cleaned, None);
                    match fast_check(&digits) {
                        Fast::Valid => {
                            assert_eq!(slow_result.as_deref(), Ok(cleaned.as_str()), "{cleaned}")
                        }
                        Fast::Invalid => assert!(
                            slow_result.is_err(),
                            "{cleaned}: fast says invalid, parser {slow_result:?}"
                        ),
                        Fast::Unsure => {}
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000, "only {checked} numbers checked");
    }

    /// The DFA walk of [`Matcher::is_match`] answers as the search does, for every pattern of
    /// the metadata, on its examples, their prefixes and extensions, and odd bytes.
    #[test]
    fn the_walk_agrees_with_the_search() {
        let mut checked = 0;
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let examples: Vec<String> = number_types(d)
                .filter_map(|d| d.example())
                .map(str::to_string)
                .collect();
            for pattern in patterns_of(meta) {
                let Some(m) = compile(pattern) else { continue };
                for example in &examples {
                    let mut values: Vec<String> = (0..=example.len())
                        .map(|n| example[..n].to_string())
                        .collect();
                    values.extend(["0", "9", "x", "\n", "00"].map(|t| format!("{example}{t}")));
                    values.push(format!("0{example}"));
                    for v in &values {
                        assert_eq!(m.is_match(v), m.is_match_by_search(v), "{pattern} {v:?}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 10_000, "only {checked} checked");
    }
}
