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
