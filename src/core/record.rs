//! Import records: the columns of the file, the checks on one record, and its compact form.

use super::problem::{Code, Problem};
use super::text::{has_control, is_invisible};
use super::{mail, phone};
use std::borrow::Cow;
use std::collections::HashMap;

/// A column of the import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    UniqueId,
    Name,
    Mail,
    Title,
    Phone,
    Phone2,
    Groups,
    Skip,
}

pub const FIELDS: [Field; 8] = [
    Field::UniqueId,
    Field::Name,
    Field::Mail,
    Field::Title,
    Field::Phone,
    Field::Phone2,
    Field::Groups,
    Field::Skip,
];

impl Field {
    /// The column name as SPEC §1 writes it.
    pub fn column(self) -> &'static str {
        match self {
            Field::UniqueId => "UniqueID",
            Field::Name => "Name",
            Field::Mail => "Mail",
            Field::Title => "Title",
            Field::Phone => "TelephoneNumber",
            Field::Phone2 => "SecondaryTelephoneNumber",
            Field::Groups => "Groups",
            Field::Skip => "Skip",
        }
    }

    /// Match a header cell (already trimmed) case-insensitively.
    pub fn from_header(cell: &str) -> Option<Field> {
        FIELDS
            .iter()
            .copied()
            .find(|f| f.column().eq_ignore_ascii_case(cell))
    }

    pub fn required(self) -> bool {
        matches!(self, Field::UniqueId | Field::Name | Field::Mail)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Which columns a file has and where: `position[field]` is the cell index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    pub position: [Option<usize>; 8],
    /// Number of cells in the header row.
    pub width: usize,
    /// The cells of the header that are empty (ignored unless a record has a value there).
    pub unnamed: Vec<usize>,
    /// The file's name of a column that `[columns]` maps: problems name it.
    pub names: [Option<Box<str>>; 8],
    /// The columns filled from a template of several cells (`[columns]`).
    pub templates: Vec<(Field, Vec<Part>)>,
}

/// A piece of a column template: text, or the cell at an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(Box<str>),
    Cell(usize),
}

impl Columns {
    pub fn has(&self, field: Field) -> bool {
        self.position[field.index()].is_some() || self.templates.iter().any(|(f, _)| *f == field)
    }

    /// The column's name as the file writes it (for a template, its headers joined by `+`).
    pub fn name(&self, field: Field) -> &str {
        self.names[field.index()]
            .as_deref()
            .unwrap_or(field.column())
    }
}

/// Fill a template from a record's cells: white space (not control characters, which the
/// checks report) collapsed to one space, and none at either end.
fn fill<C: Cells + ?Sized>(parts: &[Part], cells: &C) -> String {
    let mut out = String::new();
    let mut space = false;
    for part in parts {
        let text = match part {
            Part::Text(t) => t,
            Part::Cell(i) => cells.cell(*i).unwrap_or(""),
        };
        for c in text.chars() {
            if c.is_whitespace() && !c.is_control() {
                space = !out.is_empty();
            } else {
                if space {
                    out.push(' ');
                    space = false;
                }
                out.push(c);
            }
        }
    }
    out
}

/// Settings the record checks depend on.
#[derive(Debug, Clone)]
pub struct Rules {
    pub group_separator: String,
    pub region: Option<phone::Region>,
    /// `csv.max_cell_chars`: a longer cell is a `too-long` error and is never stored.
    pub max_cell_chars: usize,
    /// `[groups.aliases]`: a Group ID as the file writes it → the Group ID in the store.
    pub aliases: HashMap<String, String>,
}

/// The default of `csv.max_cell_chars`.
pub const MAX_CELL_CHARS: usize = 1000;

impl Default for Rules {
    fn default() -> Self {
        Rules {
            group_separator: ",".into(),
            region: None,
            max_cell_chars: MAX_CELL_CHARS,
            aliases: HashMap::new(),
        }
    }
}

/// The number of characters of `text` when it has more than `max`, counted no further than
/// needed: a cell's bytes bound its characters, so a short cell is not counted at all.
pub fn chars_over(text: &str, max: usize) -> Option<usize> {
    if text.len() <= max {
        return None;
    }
    let n = text.chars().count();
    (n > max).then_some(n)
}

/// A header name or a value as a problem quotes it: at most 80 characters, the rest cut with
/// `…`, so that no message grows with the cell it names.
pub fn quoted(text: &str) -> Cow<'_, str> {
    const QUOTE_CHARS: usize = 80;
    match text.char_indices().nth(QUOTE_CHARS) {
        None => Cow::Borrowed(text),
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
    }
}

/// Why no import file could name this Group ID, if none could (SPEC §3): a Groups cell is
/// split on the separator and trimmed, and a cell with a control character is an error. So a
/// Group ID must be non-empty, without a control character or the separator, without spaces
/// (or invisible characters) at either end, and no longer than a cell may be (`max_chars`,
/// `csv.max_cell_chars`: a longer cell is `too-long`).
pub fn unnameable_group_id(id: &str, separator: &str, max_chars: usize) -> Option<String> {
    if id.is_empty() {
        return Some("the Group ID is empty".into());
    }
    if let Some(n) = chars_over(id, max_chars) {
        return Some(format!(
            "the Group ID has {n} characters; csv.max_cell_chars allows {max_chars} in a Groups cell"
        ));
    }
    if has_control(id) {
        return Some("the Group ID contains a control character".into());
    }
    if !separator.is_empty() && id.contains(separator) {
        return Some(format!(
            "the Group ID contains the group separator `{separator}` (csv.group_separator), so a Groups cell would name several groups"
        ));
    }
    if trim(id) != id {
        return Some("the Group ID starts or ends with a space".into());
    }
    if unescape_formula(id) != id {
        return Some(format!(
            "the Group ID starts with `'` before a formula character, which a cell drops (an export's escape), so a Groups cell that starts with it names `{}`",
            quoted(unescape_formula(id))
        ));
    }
    None
}

/// A cell as `users export` wrote it, read back: the export puts a `'` before a value that
/// starts with `=`, `+`, `-` or `@` (so that a spreadsheet does not run it as a formula), and
/// the reading takes it off again, so that applying an export changes nothing (SPEC §3).
pub fn unescape_formula(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => cell,
    }
}

/// The UniqueID a record names, for protecting its user when the record is invalid: trimmed
/// of spaces, control and invisible characters (SPEC §2: `"E1003\t"` still protects E1003).
pub fn protected_id(cell: &str, max: usize) -> Option<&str> {
    let id = cell.trim_matches(|c: char| c.is_whitespace() || c.is_control() || is_invisible(c));
    (!id.is_empty()
        && !has_control(id)
        && !id.chars().any(is_invisible)
        && chars_over(id, max).is_none())
    .then_some(id)
}

/// A checked data record, kept in one allocation: the values of its fields joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    pub skip: bool,
    buf: Box<str>,
    /// End offsets in `buf` of unique id, name, mail, title, phone, phone2, groups.
    ends: [u32; 7],
}

/// Group IDs inside a record's buffer are separated by this (a control character never in a cell).
const GROUP_JOIN: char = '\u{1f}';

impl Record {
    fn part(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.buf[start..self.ends[i] as usize]
    }
    pub fn unique_id(&self) -> &str {
        self.part(0)
    }
    pub fn name(&self) -> &str {
        self.part(1)
    }
    pub fn mail(&self) -> &str {
        self.part(2)
    }
    pub fn title(&self) -> &str {
        self.part(3)
    }
    /// The primary phone in E.164, or "" when the cell is empty.
    pub fn phone(&self) -> &str {
        self.part(4)
    }
    pub fn phone2(&self) -> &str {
        self.part(5)
    }
    /// The group IDs of the record: split, trimmed, without empties or duplicates, sorted.
    pub fn groups(&self) -> impl Iterator<Item = &str> + Clone {
        self.part(6).split(GROUP_JOIN).filter(|g| !g.is_empty())
    }

    /// Build a record from already checked values (used by tests and by `users export`).
    pub fn from_parts(line: u64, skip: bool, parts: [&str; 6], mut groups: Vec<&str>) -> Record {
        groups.sort_unstable();
        groups.dedup();
        let sorted = groups;
        // Exactly the length, so that turning the buffer into a box does not reallocate.
        let joins = sorted.len().saturating_sub(1) * GROUP_JOIN.len_utf8();
        let len = parts.iter().chain(&sorted).map(|p| p.len()).sum::<usize>() + joins;
        let mut buf = String::with_capacity(len);
        let mut ends = [0u32; 7];
        for (i, p) in parts.iter().enumerate() {
            buf.push_str(p);
            ends[i] = buf.len() as u32;
        }
        for (i, g) in sorted.iter().enumerate() {
            if i > 0 {
                buf.push(GROUP_JOIN);
            }
            buf.push_str(g);
        }
        ends[6] = buf.len() as u32;
        Record {
            line,
            skip,
            buf: buf.into_boxed_str(),
            ends,
        }
    }
}

/// The result of checking one record on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Valid(Record),
    /// The record has at least one error (see [`Rejected`]).
    Invalid(Rejected),
}

/// What an invalid record keeps: its UniqueID when it could be read, so that the user it names
/// is left alone rather than treated as absent, and its Name cell as the file has it (control
/// characters as spaces), for reports. Both in one string, inline when together up to 24
/// bytes, so that an entry is 56 bytes (issue 31: a first import holds an entry a record) and
/// a file of short invalid records makes no allocation a record (SPEC §5: memory bounded by
/// the file; 1,000,000 two-field rows `E1;N` made as many allocations of 32 bytes for names
/// of one letter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Four bytes ([`line_of_invalid`]).
    line: u32,
    /// The length of the UniqueID at the start of `text`, [`NO_ID`] for none.
    id_len: u32,
    /// The rest of `text` is the Name cell (else there is none).
    named: bool,
    /// The record has another number of fields than the header: it gets only
    /// `field-count` (SPEC §1), no `duplicate-id` of its own, though its UniqueID still
    /// counts for the other records' and protects its user.
    field_count: bool,
    text: compact_str::CompactString,
}

/// [`Rejected::id_len`] of a record without a UniqueID.
const NO_ID: u32 = u32::MAX;

impl Rejected {
    pub fn new(line: u64, unique_id: Option<&str>, name: Option<&str>, field_count: bool) -> Self {
        let id = unique_id.filter(|u| u.len() < NO_ID as usize);
        let mut text = compact_str::CompactString::with_capacity(
            id.map_or(0, str::len) + name.map_or(0, str::len),
        );
        text.push_str(id.unwrap_or(""));
        text.push_str(name.unwrap_or(""));
        Rejected {
            line: line_of_invalid(line),
            id_len: id.map_or(NO_ID, |u| u.len() as u32),
            named: name.is_some(),
            field_count,
            text,
        }
    }

    pub fn line(&self) -> u64 {
        u64::from(self.line)
    }

    pub fn unique_id(&self) -> Option<&str> {
        (self.id_len != NO_ID).then(|| &self.text[..self.id_len as usize])
    }

    pub fn name(&self) -> Option<&str> {
        let start = if self.id_len == NO_ID {
            0
        } else {
            self.id_len as usize
        };
        self.named.then(|| &self.text[start..])
    }

    /// A record of the wrong field count, which gets only that code (SPEC §1).
    pub fn field_count(&self) -> bool {
        self.field_count
    }
}

/// The line of an invalid entry as it keeps it: a file of 2^32 records would need 224 GiB for
/// its entries alone, so it is never read (lines past that would read as the last).
pub fn line_of_invalid(line: u64) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

impl Entry {
    pub fn line(&self) -> u64 {
        match self {
            Entry::Valid(r) => r.line,
            Entry::Invalid(r) => r.line(),
        }
    }
    pub fn unique_id(&self) -> Option<&str> {
        match self {
            Entry::Valid(r) => Some(r.unique_id()),
            Entry::Invalid(r) => r.unique_id(),
        }
    }

    /// A record of the wrong field count, which gets only that code (SPEC §1).
    pub fn wrong_field_count(&self) -> bool {
        matches!(self, Entry::Invalid(r) if r.field_count())
    }
}

/// Trim what SPEC §1 calls spaces: white space that is not a control character, so that a
/// newline at the end of a quoted cell is still seen (and reported) as a control character,
/// and invisible characters ([`is_invisible`]: a zero-width space, a byte-order mark), so that
/// a key cell (UniqueID, Mail, a Group ID) never differs from its look-alike by one of them.
pub fn trim(cell: &str) -> &str {
    // Most cells start and end with a visible ASCII character: nothing to trim.
    let visible = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
    if visible(cell.as_bytes().first()) && visible(cell.as_bytes().last()) {
        return cell;
    }
    cell.trim_matches(|c: char| (c.is_whitespace() && !c.is_control()) || is_invisible(c))
}

/// The raw cells of a record as the CSV reader gave them, read by position (the reader's own
/// record implements it, so that no list of cells is built per record).
pub trait Cells {
    fn count(&self) -> usize;
    fn cell(&self, i: usize) -> Option<&str>;
    /// The text of all the cells in one piece, when the reader holds it so: the record is
    /// scanned once for control characters and measured once for cells too long, not cell
    /// by cell. `None`: each cell is scanned.
    fn whole(&self) -> Option<&str> {
        None
    }
}

impl Cells for [&str] {
    fn count(&self) -> usize {
        self.len()
    }
    fn cell(&self, i: usize) -> Option<&str> {
        self.get(i).copied()
    }
}

/// Check one data record (SPEC §1): a record with the wrong number of fields gets only that
/// error; a cell over `csv.max_cell_chars` is read no further; a `Skip` = 1 record is checked
/// for its UniqueID only; else every field is read and checked, and the record is valid when
/// no check failed.
pub fn check<C: Cells + ?Sized>(
    cells: &C,
    line: u64,
    columns: &Columns,
    rules: &Rules,
) -> (Entry, Vec<Problem>) {
    check_with(cells, line, columns, rules, |checked, problems| {
        (checked.into_entry(line), problems)
    })
}

/// What [`check`] found, before a valid record's values are joined into a [`Record`]: they
/// still borrow from the cells, for a reading that only looks at them (`validate`).
pub enum Checked<'r> {
    Valid(Values<'r>),
    /// An invalid record, with its Mail when that is an address ([`Checked::mail`]).
    Invalid(Entry, Option<&'r str>),
}

/// A valid record's values: unique id, name, mail, title, phone, phone2 (as [`Record`] has
/// them), and its Group IDs sorted without duplicates.
pub struct Values<'r> {
    pub skip: bool,
    pub parts: [Cow<'r, str>; 6],
    pub groups: Vec<&'r str>,
}

impl Values<'_> {
    pub fn unique_id(&self) -> &str {
        &self.parts[0]
    }
    pub fn mail(&self) -> &str {
        &self.parts[2]
    }
}

impl Checked<'_> {
    pub fn into_entry(self, line: u64) -> Entry {
        match self {
            Checked::Valid(v) => {
                let parts = [0, 1, 2, 3, 4, 5].map(|i| &*v.parts[i]);
                Entry::Valid(Record::from_parts(line, v.skip, parts, v.groups))
            }
            Checked::Invalid(entry, _) => entry,
        }
    }

    /// The Mail that counts for `duplicate-mail` (SPEC §1: every occurrence, whether or not
    /// the record has other errors): an address, as the file writes it (trimmed). None of a
    /// `Skip` = 1 record (its Mail is not read), of one of the wrong field count (it gets only
    /// that code), nor a Mail that is empty, has a control character or is not an address.
    pub fn mail(&self) -> Option<&str> {
        match self {
            Checked::Valid(v) => (!v.skip).then(|| v.mail()),
            Checked::Invalid(_, mail) => *mail,
        }
    }
}

/// [`check`], the result handed to `then` before any [`Record`] is built.
pub fn check_with<C: Cells + ?Sized, R>(
    cells: &C,
    line: u64,
    columns: &Columns,
    rules: &Rules,
    then: impl FnOnce(Checked<'_>, Vec<Problem>) -> R,
) -> R {
    let record = Reading::new(cells, line, columns);
    let mut problems = Vec::new();
    let checked = record.checked(rules, &mut problems);
    then(checked, problems)
}

/// One record being checked: its cells, where each field is, and the values of the fields a
/// template fills (the only allocation a record costs before its [`Record`]).
struct Reading<'a, C: Cells + ?Sized> {
    cells: &'a C,
    line: u64,
    columns: &'a Columns,
    /// The values a template fills, by field (none without templates: no allocation).
    filled: Vec<(Field, String)>,
    /// No cell has a control character ([`Cells::whole`]).
    plain: bool,
    /// No cell has more bytes than this ([`Cells::whole`]).
    longest: usize,
}

impl<'a, C: Cells + ?Sized> Reading<'a, C> {
    fn new(cells: &'a C, line: u64, columns: &'a Columns) -> Self {
        let filled = columns
            .templates
            .iter()
            .map(|(field, parts)| (*field, fill(parts, cells)))
            .collect();
        Reading {
            cells,
            line,
            columns,
            filled,
            plain: cells.whole().is_some_and(|t| !has_control(t)),
            longest: cells.whole().map_or(usize::MAX, str::len),
        }
    }

    /// A field's value: trimmed, and without the `'` an export puts before a formula.
    fn cell(&self, f: Field) -> Option<&str> {
        match self.filled(f) {
            Some(value) => Some(value),
            None => self.columns.position[f.index()]
                .and_then(|i| self.cells.cell(i))
                .map(trim)
                .map(unescape_formula),
        }
    }

    /// The value a template fills for a field, if one does (a later template of the same
    /// field wins, as it did when they were kept by field).
    fn filled(&self, f: Field) -> Option<&str> {
        if self.filled.is_empty() {
            return None;
        }
        self.filled
            .iter()
            .rev()
            .find(|(field, _)| *field == f)
            .map(|(_, value)| value.as_str())
    }

    /// The checks of [`check`], in its order.
    fn checked<'s>(&'s self, rules: &'s Rules, problems: &mut Vec<Problem>) -> Checked<'s> {
        if let Some(wrong) = self.field_count() {
            problems.push(wrong);
            return Checked::Invalid(self.invalid(rules, true), None);
        }
        self.too_long(rules, problems);
        if !problems.is_empty() {
            // Read no further, but its Mail still counts for duplicates when it is an address.
            return Checked::Invalid(self.invalid(rules, false), self.address(rules));
        }
        let skip = self.skip(problems);
        let unique_id = self.unique_id(problems);
        if skip {
            return self.skipped(unique_id, rules, problems);
        }
        let name = self.read(Field::Name, problems);
        if name == Some("") {
            self.missing(Field::Name, problems);
        }
        let mail = self.mail(problems);
        let title = self.read(Field::Title, problems).unwrap_or("");
        let phones = [
            self.phone(Field::Phone, rules, problems),
            self.phone(Field::Phone2, rules, problems),
        ];
        let mut groups = self.groups(rules, problems);
        if !problems.is_empty() {
            return Checked::Invalid(self.invalid(rules, false), mail);
        }
        groups.sort_unstable();
        groups.dedup();
        let [phone, phone2] = phones;
        let text = |t: Option<&'s str>| Cow::Borrowed(t.unwrap_or(""));
        let parts = [
            Cow::Borrowed(unique_id),
            text(name),
            text(mail),
            Cow::Borrowed(title),
            phone,
            phone2,
        ];
        Checked::Valid(Values {
            skip: false,
            parts,
            groups,
        })
    }

    fn problem(&self, f: Field, code: Code, message: impl Into<String>) -> Problem {
        Problem::new(Some(self.line), Some(self.columns.name(f)), code, message)
    }

    /// An invalid record keeps the UniqueID it names (its user is left alone) and its Name
    /// as the file has it, control characters as spaces (for reports); `field_count`: it has
    /// the wrong number of fields.
    fn invalid(&self, rules: &Rules, field_count: bool) -> Entry {
        let unique_id = self
            .cell(Field::UniqueId)
            .and_then(|u| protected_id(u, rules.max_cell_chars));
        let name = self
            .cell(Field::Name)
            .filter(|n| !n.is_empty())
            .map(|n| quoted(n).replace(|c: char| c.is_control(), " "));
        Entry::Invalid(Rejected::new(
            self.line,
            unique_id,
            name.as_deref(),
            field_count,
        ))
    }

    /// A record with another number of fields than the header.
    fn field_count(&self) -> Option<Problem> {
        let count = self.cells.count();
        (count != self.columns.width).then(|| {
            Problem::new(
                Some(self.line),
                None,
                Code::FieldCount,
                format!(
                    "the record has {count} fields, the header has {}",
                    self.columns.width
                ),
            )
        })
    }

    /// Each cell, and each value a template fills, longer than `csv.max_cell_chars`.
    fn too_long(&self, rules: &Rules, problems: &mut Vec<Problem>) {
        let max = rules.max_cell_chars;
        // A cell's bytes bound its characters: when the whole record is short, no cell is long.
        let cells = if self.longest <= max {
            0
        } else {
            self.cells.count()
        };
        for i in 0..cells {
            let Some(n) = self.cells.cell(i).and_then(|c| chars_over(c, max)) else {
                continue;
            };
            let column = FIELDS
                .iter()
                .find(|f| self.columns.position[f.index()] == Some(i))
                .map(|f| self.columns.name(*f));
            problems.push(Problem::new(
                Some(self.line),
                column,
                Code::TooLong,
                format!(
                    "the cell{} has {n} characters; csv.max_cell_chars allows {max}",
                    column.map_or_else(|| format!(" in field {}", i + 1), |_| String::new()),
                ),
            ));
        }
        for (field, _) in &self.columns.templates {
            let value = self.filled(*field).unwrap_or("");
            if let Some(n) = chars_over(value, max) {
                problems.push(self.problem(
                    *field,
                    Code::TooLong,
                    format!(
                        "the value made from these columns has {n} characters; csv.max_cell_chars allows {max}"
                    ),
                ));
            }
        }
    }

    /// A field's value, or none (and a `control-char` error) when it has a control character.
    fn read(&self, f: Field, problems: &mut Vec<Problem>) -> Option<&str> {
        let value = self.cell(f)?;
        // A template's text is not among the cells: its value is always scanned.
        let known_plain = self.plain && self.filled(f).is_none();
        if known_plain || !has_control(value) {
            return Some(value);
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            problems.push(self.problem(
                f,
                Code::ControlChar,
                format!("the cell contains the control character U+{:04X}", c as u32),
            ));
            return None;
        }
        Some(value)
    }

    fn missing(&self, f: Field, problems: &mut Vec<Problem>) {
        problems.push(self.problem(f, Code::MissingField, format!("{} is required", f.column())));
    }

    /// `Skip`: empty, `0` or `1`.
    fn skip(&self, problems: &mut Vec<Problem>) -> bool {
        match self.read(Field::Skip, problems).unwrap_or("") {
            "" | "0" => false,
            "1" => true,
            other => {
                problems.push(self.problem(
                    Field::Skip,
                    Code::BadSkip,
                    format!("Skip must be empty, 0 or 1, not `{other}`"),
                ));
                false
            }
        }
    }

    /// The UniqueID, trimmed of invisible characters like spaces; one inside is an error (see
    /// [`is_invisible`]), and so is an empty one.
    fn unique_id(&self, problems: &mut Vec<Problem>) -> &str {
        let unique_id = self.read(Field::UniqueId, problems).map(|id| {
            id.trim_matches(|c: char| is_invisible(c) || (c.is_whitespace() && !c.is_control()))
        });
        let unique_id = match unique_id.and_then(|id| id.chars().find(|&c| is_invisible(c))) {
            Some(c) => {
                problems.push(self.problem(
                    Field::UniqueId,
                    Code::ControlChar,
                    format!(
                        "the UniqueID contains the invisible character U+{:04X}",
                        c as u32
                    ),
                ));
                None
            }
            None => unique_id,
        };
        if unique_id == Some("") {
            self.missing(Field::UniqueId, problems);
        }
        unique_id.unwrap_or("")
    }

    /// A `Skip` = 1 record: its other cells are not read.
    fn skipped<'s>(
        &'s self,
        unique_id: &'s str,
        rules: &Rules,
        problems: &[Problem],
    ) -> Checked<'s> {
        if !problems.is_empty() {
            return Checked::Invalid(self.invalid(rules, false), None);
        }
        let parts = [unique_id, "", "", "", "", ""].map(Cow::Borrowed);
        Checked::Valid(Values {
            skip: true,
            parts,
            groups: Vec::new(),
        })
    }

    /// The Mail: required, and an address (SPEC §1); `None` when it is not one.
    fn mail(&self, problems: &mut Vec<Problem>) -> Option<&str> {
        match self.read(Field::Mail, problems)? {
            "" => self.missing(Field::Mail, problems),
            m => match mail::check(m) {
                Ok(()) => return Some(m),
                Err(message) => problems.push(self.problem(Field::Mail, Code::BadMail, message)),
            },
        }
        None
    }

    /// The Mail of a record read no further (a cell too long), when it is an address: what
    /// [`Reading::mail`] would give, without its problems.
    fn address(&self, rules: &Rules) -> Option<&str> {
        let mut problems = Vec::new();
        let mail = self.cell(Field::Mail)?;
        if chars_over(mail, rules.max_cell_chars).is_some() {
            return None;
        }
        self.mail(&mut problems)
    }

    /// A phone in E.164, or "" when the cell is empty (or wrong: then a `bad-phone` error).
    fn phone(&self, field: Field, rules: &Rules, problems: &mut Vec<Problem>) -> Cow<'_, str> {
        match self.read(field, problems) {
            None | Some("") => Cow::Borrowed(""),
            Some(raw) => match phone::normalize(raw, rules.region) {
                Ok(e164) => e164,
                Err(message) => {
                    problems.push(self.problem(field, Code::BadPhone, message));
                    Cow::Borrowed("")
                }
            },
        }
    }

    /// The Group IDs: split on the separator, trimmed, empties dropped, aliases mapped
    /// (duplicates are merged by [`Record::from_parts`]).
    fn groups<'r>(&'r self, rules: &'r Rules, problems: &mut Vec<Problem>) -> Vec<&'r str> {
        let cell = self.read(Field::Groups, problems).unwrap_or("");
        if cell.is_empty() {
            return Vec::new();
        }
        fn tidy<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
            ids.map(trim).filter(|g| !g.is_empty()).collect()
        }
        let mut groups = match rules.group_separator.as_bytes() {
            // A one-byte separator is found by a byte search, not a substring search.
            [b] if b.is_ascii() => tidy(cell.split(char::from(*b))),
            _ => tidy(cell.split(rules.group_separator.as_str())),
        };
        if !rules.aliases.is_empty() {
            for g in &mut groups {
                if let Some(to) = rules.aliases.get(*g) {
                    *g = to;
                }
            }
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 31: a first import holds an entry a record; an invalid one keeps no more.
    #[test]
    fn an_entry_is_56_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 56);
    }

    #[test]
    fn group_ids_no_file_can_name() {
        let cases = [
            ("MEDAKUT", ",", true),
            ("Akut vård", ",", true),
            ("A,B", ",", false),
            ("A,B", ";", true),
            ("A;B", ";", false),
            ("A||B", "||", false),
            ("G\u{1b}[2J", ",", false),
            ("G\t", ",", false),
            ("G\u{85}", ",", false),
            (" G", ",", false),
            ("G ", ",", false),
            ("G\u{200B}", ",", false),
            ("", ",", false),
            (&"G".repeat(1001), ",", false),
            ("'=X", ",", false),
            ("'@X", ",", false),
            ("'X", ",", true),
            ("=X", ",", true),
        ];
        for (id, separator, ok) in cases {
            assert_eq!(
                unnameable_group_id(id, separator, 1000).is_none(),
                ok,
                "{id:?} {separator:?}"
            );
        }
    }

    fn columns(header: &[&str]) -> Columns {
        let mut c = Columns {
            width: header.len(),
            ..Columns::default()
        };
        for (i, h) in header.iter().enumerate() {
            if let Some(f) = Field::from_header(h) {
                c.position[f.index()] = Some(i);
            }
        }
        c
    }

    /// The header of the files these tests check.
    const HEADER: [&str; 6] = [
        "UniqueID",
        "Name",
        "Mail",
        "TelephoneNumber",
        "Groups",
        "Skip",
    ];

    fn codes(cells: &[&str]) -> Vec<(&'static str, Option<String>)> {
        let cols = columns(&HEADER);
        let (_, problems) = check(cells, 2, &cols, &Rules::default());
        problems
            .iter()
            .map(|p| (p.code.as_str(), p.column.clone()))
            .collect()
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn record_rules() {
        let col = |s: &str| Some(s.to_string());
        let cases: Vec<(Vec<&str>, Vec<(&str, Option<String>)>)> = vec![
            (
                vec!["E1", "Anna", "anna@example.se", "+46701234567", "ICU", ""],
                vec![],
            ),
            (vec!["E1", "Anna", "anna@example.se", "", "", "0"], vec![]),
            (
                vec!["E1", "Anna", "anna@example.se"],
                vec![("field-count", None)],
            ),
            (
                vec!["E1", "Anna", "anna@example.se", "", "", "", "x"],
                vec![("field-count", None)],
            ),
            (
                vec!["", "Anna", "anna@example.se", "", "", ""],
                vec![("missing-field", col("UniqueID"))],
            ),
            (
                vec!["E1", " ", "anna@example.se", "", "", ""],
                vec![("missing-field", col("Name"))],
            ),
            (
                vec!["E1", "Anna", "", "", "", ""],
                vec![("missing-field", col("Mail"))],
            ),
            (
                vec!["E1", "An\u{85}na", "anna@example.se", "", "", ""],
                vec![("control-char", col("Name"))],
            ),
            (
                vec!["E1", "An\u{7f}na", "anna@example.se", "", "", ""],
                vec![("control-char", col("Name"))],
            ),
            (
                vec!["E1", "Änna \u{a0}Å", "anna@example.se", "", "", ""],
                vec![],
            ),
            (
                vec!["E1", "Anna", "anna@", "", "", ""],
                vec![("bad-mail", col("Mail"))],
            ),
            (
                vec!["E1", "Anna", "anna@example.se", "0701234567", "", ""],
                vec![("bad-phone", col("TelephoneNumber"))],
            ),
            (
                vec!["E1", "Anna", "anna@example.se", "", "", "yes"],
                vec![("bad-skip", col("Skip"))],
            ),
            (
                vec!["E1", "An\nna", "anna@example.se", "", "", ""],
                vec![("control-char", col("Name"))],
            ),
            (
                vec!["E1", "Anna\n", "anna@example.se", "", "", ""],
                vec![("control-char", col("Name"))],
            ),
            // A Skip record is checked only for its UniqueID.
            (vec!["E1", "", "not a mail", "junk", "", "1"], vec![]),
            (
                vec!["", "", "", "", "", "1"],
                vec![("missing-field", col("UniqueID"))],
            ),
        ];
        for (cells, want) in cases {
            let got = codes(&cells);
            assert_eq!(got, want, "{cells:?}");
        }
    }

    /// What `validate` looks at without building the record is what the record holds.
    #[test]
    fn checked_values_are_the_records() {
        let cols = columns(&HEADER);
        let rows: [[&str; 6]; 7] = [
            [
                " E1 ",
                "Åsa",
                "Asa@Example.se",
                "+46 70-123 45 67",
                "B, A,,B ",
                "",
            ],
            ["E2\u{200B}", "Bo", "bo@x.se", "", "", ""],
            ["E3", "Cy", "\"cy\"@x.se", "", "A", ""],
            ["E4", "Di", "di@x.se", "", "", "1"],
            [
                "\u{FEFF}E5",
                "Ed",
                "ed@x.se",
                "'0046812345678",
                "G\u{200B},G",
                "0",
            ],
            ["E6", "", "fi@x.se", "", "", ""],
            ["E7", "Gu", "gu@x.se", "+4670", "", ""],
        ];
        for row in rows {
            let (entry, problems) = check(&row[..], 3, &cols, &Rules::default());
            let (same, again) = check_with(&row[..], 3, &cols, &Rules::default(), |c, p| {
                let keys = match &c {
                    Checked::Valid(v) => {
                        let groups = v.groups.iter().map(|g| g.to_string()).collect();
                        Some((
                            v.skip,
                            v.unique_id().to_owned(),
                            v.mail().to_owned(),
                            groups,
                        ))
                    }
                    Checked::Invalid(..) => None,
                };
                (keys, p)
            });
            assert_eq!(problems, again, "{row:?}");
            let want = match entry {
                Entry::Valid(r) => Some((
                    r.skip,
                    r.unique_id().to_owned(),
                    r.mail().to_owned(),
                    r.groups().map(str::to_owned).collect::<Vec<_>>(),
                )),
                Entry::Invalid(_) => None,
            };
            assert_eq!(same, want, "{row:?}");
        }
    }

    #[test]
    fn valid_record_is_normalised() {
        let cols = columns(&[
            "uniqueid",
            "NAME",
            "Mail",
            "Title",
            "TelephoneNumber",
            "SecondaryTelephoneNumber",
            "Groups",
        ]);
        let cells = [
            " E1 ",
            " Åsa Öberg ",
            "Asa@Example.se",
            "Nurse",
            "+46 70-123 45 67",
            "0046 8 123 456 78",
            "NIGHT, ICU,,ICU ",
        ];
        let (entry, problems) = check(&cells[..], 7, &cols, &Rules::default());
        assert!(problems.is_empty(), "{problems:?}");
        let Entry::Valid(r) = entry else {
            panic!("not valid")
        };
        assert_eq!(r.unique_id(), "E1");
        assert_eq!(r.name(), "Åsa Öberg");
        assert_eq!(r.mail(), "Asa@Example.se");
        assert_eq!(r.title(), "Nurse");
        assert_eq!(r.phone(), "+46701234567");
        assert_eq!(r.phone2(), "+46812345678");
        assert_eq!(r.groups().collect::<Vec<_>>(), ["ICU", "NIGHT"]);
        assert_eq!(r.line, 7);
    }

    /// Cells that say whether any has a control character, as a reader holding the record's
    /// text in one piece does.
    struct Scanned<'a>(&'a [&'a str], &'a str);

    impl Cells for Scanned<'_> {
        fn count(&self) -> usize {
            self.0.len()
        }
        fn cell(&self, i: usize) -> Option<&str> {
            self.0.get(i).copied()
        }
        fn whole(&self) -> Option<&str> {
            Some(self.1)
        }
    }

    /// A record scanned once ([`Cells::whole`]) is checked as one whose every cell is scanned
    /// and measured, templates (whose text may hold a control character) included.
    #[test]
    fn a_record_scanned_once_checks_the_same() {
        let mut cols = columns(&["UniqueID", "Name", "Mail", "TelephoneNumber", "Groups", "X"]);
        let plain = cols.clone();
        cols.templates = vec![
            (
                Field::Title,
                vec![Part::Cell(5), Part::Text("\u{7}".into())],
            ),
            (
                Field::Title,
                vec![Part::Cell(1), Part::Text(" ".into()), Part::Cell(5)],
            ),
        ];
        let rows: &[&[&str]] = &[
            &["E1", "Åsa", "a@x.se", "+46701234567", "G1,G2", "x"],
            &["E1\t", "Åsa", "a@x.se", "+46701234567", "G1", "x"],
            &["E1", "Å\u{85}sa", "a@x.se", "", "G1", ""],
            &["E1", "Åsa", "a@x.se", "", "G1\u{1b}", ""],
            &["E1", "Åsa", "a@x.se", "", "G1", "\u{7f}"],
            &["E1", "Åsa", "a\n@x.se", "", "", ""],
            &["E1", "Åsa", "a@x.se", "+46\u{0}70", "", ""],
            &["E1", "Åsa", "a@x.se"],
        ];
        for columns in [&plain, &cols] {
            for row in rows {
                let want = check(*row, 3, columns, &Rules::default());
                let whole = row.concat();
                let got = check(&Scanned(row, &whole), 3, columns, &Rules::default());
                assert_eq!(got, want, "{row:?}");
                let rules = Rules {
                    max_cell_chars: 3,
                    ..Rules::default()
                };
                let want = check(*row, 3, columns, &rules);
                let got = check(&Scanned(row, &whole), 3, columns, &rules);
                assert_eq!(got, want, "{row:?} at most 3");
            }
        }
    }

    #[test]
    fn templates_fill_with_spaces_collapsed() {
        let parts = |cells: &[usize], text: &str| -> Vec<Part> {
            let mut out = Vec::new();
            for (n, &i) in cells.iter().enumerate() {
                if n > 0 {
                    out.push(Part::Text(text.into()));
                }
                out.push(Part::Cell(i));
            }
            out
        };
        let cases: &[(&[&str], Vec<Part>, &str)] = &[
            (&["Åsa", "Öberg"], parts(&[0, 1], " "), "Åsa Öberg"),
            (
                &["  Björn   Erik ", " Lind"],
                parts(&[0, 1], " "),
                "Björn Erik Lind",
            ),
            (&["", "Lind"], parts(&[0, 1], " "), "Lind"),
            (&["", ""], parts(&[0, 1], " "), ""),
            (&["Ek", "Eva"], parts(&[0, 1], ", "), "Ek, Eva"),
            (&["", "Eva"], parts(&[0, 1], ", "), ", Eva"),
            (&["A\tB", "C"], parts(&[0, 1], " "), "A\tB C"),
            (&["A\u{a0}\u{a0}B", "C"], parts(&[0, 1], " "), "A B C"),
        ];
        for (cells, parts, want) in cases {
            assert_eq!(fill(parts, &cells[..]), *want, "{cells:?}");
        }
    }

    #[test]
    fn group_aliases_map_before_the_checks() {
        let cols = columns(&["UniqueID", "Name", "Mail", "Groups"]);
        let rules = Rules {
            aliases: [("MED".to_string(), "INTMED".to_string())].into(),
            ..Rules::default()
        };
        let cells = ["E1", "Bo", "bo@example.se", "MED, ICU,INTMED"];
        let (entry, _) = check(&cells[..], 2, &cols, &rules);
        let Entry::Valid(r) = entry else {
            panic!("not valid")
        };
        assert_eq!(r.groups().collect::<Vec<_>>(), ["ICU", "INTMED"]);
    }

    #[test]
    fn invalid_record_keeps_its_unique_id() {
        let cols = columns(&["UniqueID", "Name", "Mail"]);
        let (entry, _) = check(&["E9", "Bo", "bad"][..], 3, &cols, &Rules::default());
        assert_eq!(
            entry,
            Entry::Invalid(Rejected::new(3, Some("E9"), Some("Bo"), false))
        );
        let (entry, _) = check(&["E9", "Bo"][..], 4, &cols, &Rules::default());
        assert_eq!(
            entry,
            Entry::Invalid(Rejected::new(4, Some("E9"), Some("Bo"), true))
        );
    }
}
