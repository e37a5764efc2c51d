//! Cutting a file's data records into spans that the cores read at once. A first pass, in
//! parallel, counts each block's quotes and line breaks; a line break after an even number of
//! quotes (counted from the first data record) is outside every quoted cell, so each span
//! starts at a record even when a quoted cell holds line breaks (a `""` inside a quoted cell
//! counts twice and changes nothing). A stray quote in an unquoted cell can make a cut land
//! inside a record: [`super::in_spans`] notices it from the span before and reads on in one
//! piece, so the reading is exact whatever the file holds.

use rayon::prelude::*;

/// A stretch of the data records: `start` is the first byte of a line, `line` its number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
    pub line: u64,
}

/// The line breaks in `bytes`.
pub(super) fn newlines(bytes: &[u8]) -> u64 {
    if bytes.len() < 256 {
        // Between two records: too short for the vector search to pay.
        return bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    }
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// What the first pass counts in a block of the text.
struct Block {
    /// An odd number of quotes.
    odd: bool,
    newlines: u64,
}

fn count(block: &[u8]) -> Block {
    Block {
        odd: memchr::memchr_iter(b'"', block).count() % 2 == 1,
        newlines: newlines(block),
    }
}

/// The offset of the first line break in `block` after a number of the block's quotes that
/// is odd when `odd` (the blocks before have an odd number): the first outside quotes.
fn first_break(block: &[u8], mut odd: bool) -> Option<usize> {
    for i in memchr::memchr2_iter(b'"', b'\n', block) {
        match block[i] {
            b'"' => odd = !odd,
            _ if !odd => return Some(i),
            _ => {}
        }
    }
    None
}

/// Cut the text from `start` (the first byte of the record on `line`) into spans of about
/// `span_bytes`: each cut just after the first line break outside quotes in a block of that
/// size (a block without one is read with the span before it).
pub(super) fn spans(text: &[u8], start: usize, line: u64, span_bytes: usize) -> Vec<Span> {
    if start >= text.len() {
        return Vec::new();
    }
    let span_bytes = span_bytes.max(1);
    let block = |b: usize| &text[b..text.len().min(b.saturating_add(span_bytes))];
    let blocks: Vec<usize> = (start..text.len()).step_by(span_bytes).collect();
    let counts: Vec<Block> = blocks.par_iter().map(|&b| count(block(b))).collect();
    // Before each block: whether the quotes are odd, and the line.
    let mut before = Vec::with_capacity(blocks.len());
    let (mut odd, mut block_line) = (false, line);
    for c in &counts {
        before.push((odd, block_line));
        odd ^= c.odd;
        block_line += c.newlines;
    }
    let cuts: Vec<Option<(usize, u64)>> = (1..blocks.len())
        .into_par_iter()
        .map(|k| {
            let (odd, block_line) = before[k];
            let at = first_break(block(blocks[k]), odd)?;
            let cut = blocks[k] + at + 1;
            Some((cut, block_line + newlines(&text[blocks[k]..cut])))
        })
        .collect();
    let mut spans = vec![Span {
        start,
        end: text.len(),
        line,
    }];
    for (cut, line) in cuts.into_iter().flatten() {
        if let Some(last) = spans.last_mut() {
            last.end = cut;
        }
        if cut < text.len() {
            spans.push(Span {
                start: cut,
                end: text.len(),
                line,
            });
        }
    }
    spans
}

/// The line on which a record of `span` has its first character, from the CSV reader's
/// `position` of it (its byte and line counted from the span's start): the reader counts every
/// line break it has read, so only the blank lines (line breaks) between its position and the
/// record's first character are counted here, not the whole record's bytes. The same line as
/// [`super::LineCounter`] gives, without a second pass over the text.
pub(super) fn record_line(text: &[u8], span: &Span, position: Option<&csv::Position>) -> u64 {
    let (byte, line) = position.map_or((0, 1), |p| (p.byte() as usize, p.line()));
    let mut line = span.line + line.saturating_sub(1);
    let start = span.start.saturating_add(byte).min(text.len());
    for &b in &text[start..] {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::super::{each_record, LineCounter};
    use super::*;

    /// Each record's line, by [`record_line`] and by counting every line break before it
    /// ([`LineCounter`]), for every span that `spans` cuts the text into (and the text in one
    /// span).
    fn same_lines(text: &str) {
        let data = text.find('\n').map_or(text.len(), |i| i + 1);
        let mut cuts = spans(text.as_bytes(), data, 2, 7);
        cuts.push(Span {
            start: data,
            end: text.len(),
            line: 2,
        });
        for span in &cuts {
            let mut counter = LineCounter {
                text: text.as_bytes(),
                offset: span.start,
                line: span.line,
            };
            let _ = each_record(text, span, b',', |cells| {
                let at = span.start + cells.position().map_or(0, |p| p.byte() as usize);
                let want = counter.line_at(at);
                let got = record_line(text.as_bytes(), span, cells.position());
                assert_eq!(got, want, "{text:?} {span:?}");
            });
        }
    }

    #[test]
    fn record_lines_are_the_counted_lines() {
        let h = "UniqueID,Name,Mail\n";
        for records in [
            "E1,A,a@x.se\nE2,B,b@x.se\n",
            "\n\n\nE1,A,a@x.se\n\n\r\n\rE2,B,b@x.se",
            "E1,\"A\nB\r\nC\",a@x.se\nE2,B,b@x.se\n\"E3\n\",\"\",\"\"\"\n\"\n",
            "E1,A\"B,a@x.se\nE2,\"B\nC,b@x.se\n",
            "\r\r\nE1\rE2\r\n\r\nE3\n",
            "   \n  ,\nE1,A,a@x.se\n",
        ] {
            same_lines(&format!("{h}{records}"));
            same_lines(&format!("\u{feff}{h}{records}"));
        }
    }

    proptest::proptest! {
        #[test]
        fn record_lines_are_counted_lines_in_any_text(
            pieces in proptest::collection::vec(0usize..10, 0..60),
        ) {
            const PIECES: [&str; 10] = ["E1", "Åsa", ",", "\"", "\"\"", "\n", "\r\n", "\r", " ", "\"x\ny\""];
            let mut text = String::from("UniqueID,Name,Mail\n");
            for p in pieces {
                text.push_str(PIECES[p]);
            }
            same_lines(&text);
        }
    }
}
