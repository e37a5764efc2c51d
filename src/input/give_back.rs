//! Reading a file while its bytes are given back (issue 31: a first import's peak): `sync`
//! stores the bytes while they are read, and once they are stored nothing else needs them,
//! so the reading goes from the file's end to its start, a wave of spans at a time, and cuts
//! off the bytes behind it. The file's whole text and all its records are then never held at
//! once. Whoever needs the bytes again (the problems told again, a rejected file's count)
//! reads them back from where they were stored.

use super::split::Span;
use super::{
    data_spans, finish, open_text, parts, placed, read_span, rooms, settle, utf8, vacant,
    ImportFile, ReadOptions, SpanEnd, SpanRead, SPAN_BYTES,
};
use rayon::prelude::*;
use std::borrow::Cow;
use std::sync::{Condvar, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Whether the reading may cut off the bytes it has read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Not yet: they are being stored.
    Pending,
    /// They are stored, and nothing else reads them.
    Allowed,
    /// Never: they are not stored (the same file is there already, or the store failed).
    Never,
}

/// What the thread that stores the bytes tells the reading, once: [`Gate::set`].
pub struct Gate {
    cut: Mutex<Cut>,
    set: Condvar,
    /// Half the file read, the reading waits for the store (see [`Gate::new`]).
    waits: bool,
}

impl Gate {
    /// A gate that says nothing yet. With `waits`, the reading waits for the store once it
    /// has read half the file, so that the records of the other half are made only beside a
    /// cut text: where the reading is the peak (a first import). Beside a loaded directory
    /// (the store starts after its load) the reading goes on, and cuts once it may.
    pub fn new(waits: bool) -> Self {
        Gate {
            cut: Mutex::new(Cut::Pending),
            set: Condvar::new(),
            waits,
        }
    }

    /// Say whether the reading may cut the bytes (once; a second call changes nothing).
    pub fn set(&self, cut: Cut) {
        let mut now = self
            .cut
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *now == Cut::Pending {
            *now = cut;
            self.set.notify_all();
        }
    }

    fn now(&self) -> Cut {
        *self
            .cut
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wait until it is said.
    fn wait(&self) -> Cut {
        let now = self
            .cut
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *self
            .set
            .wait_while(now, |cut| *cut == Cut::Pending)
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What a reading that gives the bytes back gave.
pub enum Given {
    /// The file read; `cut`: its bytes were given back (the list is empty now).
    Read { file: Box<ImportFile>, cut: bool },
    /// The reading needs bytes it gave back already (a span that ends inside a quoted cell,
    /// which is read again with the spans after it): read the file again from its store.
    Again,
}

impl Given {
    fn read(file: ImportFile, cut: bool) -> Given {
        Given::Read {
            file: Box::new(file),
            cut,
        }
    }
}

/// The shared bytes, to read (a reading that panicked left them whole).
pub fn to_read(bytes: &RwLock<Vec<u8>>) -> RwLockReadGuard<'_, Vec<u8>> {
    bytes.read().unwrap_or_else(PoisonError::into_inner)
}

/// The shared bytes, to cut or replace.
pub fn to_write(bytes: &RwLock<Vec<u8>>) -> RwLockWriteGuard<'_, Vec<u8>> {
    bytes.write().unwrap_or_else(PoisonError::into_inner)
}

/// Spans read at once, between two cuts.
const WAVE_SPANS: usize = 12;

/// [`super::read_keeping`] of the bytes in `bytes`, cutting them off behind the reading once
/// `gate` allows it. A file too small to be read in waves, or decoded into a text of its own
/// (not UTF-8), is read as [`super::read_keeping`] reads it, and nothing is cut.
pub fn read_giving_back(
    bytes: &RwLock<Vec<u8>>,
    gate: &Gate,
    opts: &ReadOptions,
    keep: usize,
) -> Given {
    read_giving_back_in(bytes, gate, opts, SPAN_BYTES, WAVE_SPANS, keep)
}

/// [`read_giving_back`] in spans of `span_bytes`, `wave` spans at a time (the tests cut both
/// small).
fn read_giving_back_in(
    bytes: &RwLock<Vec<u8>>,
    gate: &Gate,
    opts: &ReadOptions,
    span_bytes: usize,
    wave: usize,
    keep: usize,
) -> Given {
    let guard = to_read(bytes);
    let mut file = super::new_file(Some(keep));
    let Some((text, data)) = open_text(&guard, opts, &mut file) else {
        return Given::read(file, false);
    };
    let spans = data_spans(&text, data, span_bytes);
    let rooms = rooms(text.as_bytes(), &spans);
    if matches!(text, Cow::Owned(_)) || spans.len() <= 2 * wave {
        let mut file = super::read_text(file, &text, spans, &rooms, opts);
        file.limit_problems();
        return Given::read(file, false);
    }
    // The text is the bytes after a byte-order mark, if any.
    let skip = guard.len() - text.len();
    drop(text);
    drop(guard);
    file.entries.resize_with(rooms.iter().sum(), vacant);
    let read = Waves {
        bytes,
        gate,
        opts,
        spans: &spans,
        skip,
        wave,
        delimiter: file.delimiter,
        columns: &file.columns,
        keep,
    };
    let Some((reads, ends, cut)) = read.all(parts(&mut file.entries, &rooms)) else {
        return Given::Again;
    };
    let guard = to_read(bytes);
    let Some(text) = guard.get(skip..).and_then(|b| utf8(b).ok()) else {
        return Given::Again;
    };
    let delimiter = file.delimiter;
    let columns = file.columns.clone();
    let read_again = |span: &Span| {
        read_span(
            text,
            span,
            delimiter,
            &columns,
            &opts.rules,
            Some(keep),
            &mut [],
        )
    };
    let settled = settle(text, &spans, reads, &ends, &read_again);
    let mut file = finish(file, text, placed(settled, &rooms), opts);
    file.limit_problems();
    drop(guard);
    if cut {
        // What is left of the text (the start of the file): no one reads it any more.
        let mut bytes = to_write(bytes);
        super::free_large(std::mem::take(&mut *bytes));
    }
    Given::read(file, cut)
}

/// The reading of a file's spans in waves, from its end, cutting the bytes behind it.
struct Waves<'a> {
    bytes: &'a RwLock<Vec<u8>>,
    gate: &'a Gate,
    opts: &'a ReadOptions,
    spans: &'a [Span],
    /// The bytes before the text (a byte-order mark).
    skip: usize,
    wave: usize,
    delimiter: u8,
    columns: &'a crate::core::record::Columns,
    keep: usize,
}

impl Waves<'_> {
    /// Read every span into its part, the last wave first, cutting the bytes behind the
    /// reading once the gate allows it and every span read so far leaves nothing to read
    /// again (no invalid record's Mail to read again, no span ending inside a quoted cell,
    /// no CSV error). The readings, how each span ended, and whether bytes were cut; `None`
    /// when the text cut off would be needed.
    fn all(&self, mut parts: Vec<&mut [crate::core::record::Entry]>) -> Option<Read> {
        let n = self.spans.len();
        let mut reads: Vec<Option<(SpanRead, SpanEnd)>> = (0..n).map(|_| None).collect();
        let (mut kept, mut may_cut) = (n, true);
        let mut end = n;
        while end > 0 {
            let start = end.saturating_sub(self.wave);
            if self.gate.waits && may_cut && kept == n && 2 * end <= n {
                self.gate.wait();
            }
            let wave_parts = parts.split_off(start);
            for (k, r) in (start..).zip(self.wave(start, end, wave_parts)?) {
                // The last span may end inside a quoted cell: none is read after it.
                may_cut &= r.0.invalid_mails.is_empty()
                    && r.0.error.is_none()
                    && !r.1.failed
                    && (r.1.clean || k + 1 == n);
                reads[k] = Some(r);
            }
            if may_cut && self.gate.now() == Cut::Allowed {
                let mut bytes = to_write(self.bytes);
                bytes.truncate(self.skip + self.spans[start].start);
                bytes.shrink_to_fit();
                kept = start;
            }
            end = start;
        }
        let (reads, ends): (Vec<SpanRead>, Vec<SpanEnd>) = reads.into_iter().flatten().unzip();
        // A span (but the last) that ends inside a quoted cell is read again with the spans
        // after it, whose text may be cut off.
        let again = ends[..n - 1].iter().any(|e| !e.clean && !e.failed);
        if kept < n && again {
            return None;
        }
        Some((reads, ends, kept < n))
    }

    /// Read spans `start..end` in parallel, each into its part, from the text they span
    /// alone (so that only theirs is checked as UTF-8 again); `None` when it is not there.
    fn wave(
        &self,
        start: usize,
        end: usize,
        parts: Vec<&mut [crate::core::record::Entry]>,
    ) -> Option<Vec<(SpanRead, SpanEnd)>> {
        let guard = to_read(self.bytes);
        let from = self.spans[start].start;
        let to = self.spans[end - 1].end;
        let text = guard
            .get(self.skip + from..self.skip + to)
            .and_then(|b| utf8(b).ok())?;
        let read = self.spans[start..end]
            .par_iter()
            .zip(parts)
            .map(|(span, part)| {
                let here = Span {
                    start: span.start - from,
                    end: span.end - from,
                    line: span.line,
                };
                let (mut r, end) = read_span(
                    text,
                    &here,
                    self.delimiter,
                    self.columns,
                    &self.opts.rules,
                    Some(self.keep),
                    part,
                );
                for m in &mut r.invalid_mails {
                    m.at += from as u64;
                }
                (r, end)
            })
            .collect();
        Some(read)
    }
}

/// The spans' readings, how each ended, and whether bytes were cut.
type Read = (Vec<SpanRead>, Vec<SpanEnd>, bool);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{read_in_spans, Encoding};

    /// Read `bytes` giving them back (the gate says `cut` at once, or from another thread
    /// a moment later when `later`), in spans of `span_bytes`, `wave` at a time: what the
    /// reading gave, and the bytes left.
    fn given(
        bytes: &[u8],
        opts: &ReadOptions,
        span_bytes: usize,
        wave: usize,
        cut: Cut,
        later: bool,
    ) -> (Given, Vec<u8>) {
        let shared = RwLock::new(bytes.to_vec());
        let gate = Gate::new(true);
        let given = std::thread::scope(|s| {
            if later {
                s.spawn(|| {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    gate.set(cut);
                });
            } else {
                gate.set(cut);
            }
            read_giving_back_in(&shared, &gate, opts, span_bytes, wave, 3)
        });
        (given, shared.into_inner().unwrap())
    }

    /// The reading that gives the bytes back gives what the keeping reading gives, and
    /// gives back the bytes only when the gate allows it (all of them), or asks to be read
    /// again; `cuts`: whether it must give them back.
    fn same_as_keeping(bytes: &[u8], opts: &ReadOptions, cuts: bool) {
        let kept = read_in_spans(bytes, opts, 8, Some(3));
        for (span_bytes, wave) in [(1, 1), (8, 1), (8, 2), (13, 3), (40, 1)] {
            for (cut, later) in [
                (Cut::Allowed, false),
                (Cut::Allowed, true),
                (Cut::Never, true),
            ] {
                let what = format!("{bytes:?} spans {span_bytes}, {wave} a wave, {cut:?}");
                let (given, left) = given(bytes, opts, span_bytes, wave, cut, later);
                let Given::Read { file, cut: gave } = given else {
                    assert_eq!(
                        cut,
                        Cut::Allowed,
                        "{what}: read again though nothing was cut"
                    );
                    continue;
                };
                assert_eq!(file.entries, kept.entries, "{what}");
                assert_eq!(file.problems, kept.problems, "{what}");
                assert_eq!(
                    (file.rows, file.errors(), file.warnings()),
                    (kept.rows, kept.errors(), kept.warnings()),
                    "{what}"
                );
                assert_eq!(
                    (&file.duplicate_ids, &file.duplicate_mails),
                    (&kept.duplicate_ids, &kept.duplicate_mails),
                    "{what}"
                );
                assert_eq!(
                    (file.delimiter, file.encoding),
                    (kept.delimiter, kept.encoding)
                );
                if gave {
                    assert!(left.is_empty(), "{what}");
                } else {
                    assert_eq!(left, bytes, "{what}");
                }
                if cuts && span_bytes == 8 && cut == Cut::Allowed {
                    assert!(gave, "{what}: nothing given back");
                }
            }
        }
    }

    fn rows(n: usize, row: impl Fn(usize) -> String) -> String {
        let mut text = String::from("UniqueID,Name,Mail,TelephoneNumber,Groups\n");
        for i in 0..n {
            text.push_str(&row(i));
        }
        text
    }

    #[test]
    fn a_valid_file_is_read_as_the_keeping_reading_reads_it_and_given_back() {
        let valid = rows(40, |i| {
            format!(
                "E{i},\"Åsa, {i}\",a{i}@x.se,+4670123456{},\"G1,G2\"\n",
                i % 10
            )
        });
        same_as_keeping(valid.as_bytes(), &ReadOptions::default(), true);
        let bom = format!("\u{feff}{valid}");
        same_as_keeping(bom.as_bytes(), &ReadOptions::default(), true);
        let crlf = valid.replace('\n', "\r\n");
        same_as_keeping(crlf.as_bytes(), &ReadOptions::default(), true);
    }

    #[test]
    fn problems_and_duplicates_are_the_keeping_readings() {
        // Duplicates far apart, invalid records whose Mail counts, more problems than kept.
        let text = rows(40, |i| match i % 7 {
            0 => format!("E{},N,d{}@x.se,,\n", i % 5, i % 3),
            1 => format!("E{i},,a{}@x.se,,\n", i % 4),
            2 => format!("E{i},N,bad,12,\n"),
            3 => format!("E{i}\n"),
            _ => format!("E{i},N,m{i}@x.se,,G\n"),
        });
        same_as_keeping(text.as_bytes(), &ReadOptions::default(), false);
        // Only duplicate UniqueIDs (no invalid record's Mail to read again): given back.
        let ids = rows(40, |i| format!("E{},N,m{i}@x.se,,\n", i % 13));
        same_as_keeping(ids.as_bytes(), &ReadOptions::default(), true);
    }

    #[test]
    fn a_file_in_another_encoding_is_read_whole() {
        let text = rows(40, |i| format!("E{i},Jörgen {i},j{i}@x.se,,\n"));
        let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
        same_as_keeping(&latin1, &ReadOptions::default(), false);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let opts = ReadOptions {
            encoding: Encoding::Utf16,
            ..ReadOptions::default()
        };
        same_as_keeping(&utf16, &opts, false);
    }

    #[test]
    fn quoted_line_breaks_and_stray_quotes_read_the_same_or_again() {
        let text = rows(40, |i| match i % 9 {
            0 => format!("E{i},\"An\nna\",a{i}@x.se,,\n"),
            4 => format!("E{i},An\"na,a{i}@x.se,,\"G\n\"\n"),
            _ => format!("E{i},N,m{i}@x.se,,G\n"),
        });
        same_as_keeping(text.as_bytes(), &ReadOptions::default(), false);
        // A quote left open runs to the end of the file.
        let open = format!(
            "{}E99,\"N,m@x.se,,\n{}",
            rows(20, |i| format!("E{i},N,m{i}@x.se,,\n")),
            "E100,N,x@x.se,,\n".repeat(20)
        );
        same_as_keeping(open.as_bytes(), &ReadOptions::default(), false);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

        #[test]
        fn any_text_is_read_as_the_keeping_reading_reads_it(
            pieces in proptest::collection::vec(0usize..13, 0..80),
        ) {
            const PIECES: [&str; 13] = [
                "E1", "E2", "Anna", "a@b.se", "\"", "\"\"", ",", "\n", "\r\n", "\"x\ny\"",
                "\"ICU,ER\"", "+46701234567", "E3,Bo,b@b.se,+46701234567,G\n",
            ];
            let mut text = String::from("UniqueID,Name,Mail,TelephoneNumber,Groups\n");
            for p in pieces {
                text.push_str(PIECES[p]);
            }
            same_as_keeping(text.as_bytes(), &ReadOptions::default(), false);
        }
    }
}
