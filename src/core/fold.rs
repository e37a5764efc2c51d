//! Text folded for a person's search: lower case, without accents (`Öström` → `ostrom`), so
//! that `users list --search` and a lookup by name ignore both (SPEC §3).

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// `text` in lower case with its diacritics dropped: decomposed (NFD), combining marks left
/// out; the few Latin letters whose stroke is not a combining mark, and `ß`, are mapped by
/// hand.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            // Most text is ASCII: no decomposition to look up.
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            'ø' | 'Ø' => out.push('o'),
            'ł' | 'Ł' => out.push('l'),
            'đ' | 'Đ' => out.push('d'),
            'ı' => out.push('i'),
            // Its upper case is `SS` (`STRAUSS` is `Strauß` in capitals): folded as Unicode does.
            'ß' | 'ẞ' => out.push_str("ss"),
            c => decompose_canonical(c, |d| {
                if !is_combining_mark(d) {
                    out.extend(d.to_lowercase());
                }
            }),
        }
    }
    out
}

/// [`fold`], with each run of white space made one space: the text `users list --search`
/// compares, so that a name with two spaces is found as the name lookup finds it.
pub fn fold_spaces(text: &str) -> String {
    let folded = fold(text);
    if !folded.contains(|c: char| c.is_whitespace() && c != ' ') && !folded.contains("  ") {
        return folded;
    }
    let mut out = String::with_capacity(folded.len());
    let mut space = false;
    for c in folded.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{fold, fold_spaces};

    #[test]
    fn runs_of_white_space_are_one_space() {
        for (text, want) in [
            ("Åke  O'Nüñez", "ake o'nunez"),
            (" Anna\u{a0}\tBerg ", " anna berg "),
            ("Bo Ek", "bo ek"),
        ] {
            assert_eq!(fold_spaces(text), want, "{text:?}");
        }
    }

    #[test]
    fn case_and_accents_are_folded() {
        for (text, want) in [
            ("Öström", "ostrom"),
            ("Märta Söderberg", "marta soderberg"),
            ("ÅSA", "asa"),
            ("Søren Łukasz", "soren lukasz"),
            ("Strauß STRAẞE", "strauss strasse"),
            ("e\u{301}", "e"),
            ("E1001", "e1001"),
            ("", ""),
        ] {
            assert_eq!(fold(text), want, "{text}");
        }
    }
}
