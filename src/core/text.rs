//! How roster classifies the characters of a cell: those that show nothing and the control
//! characters, which a cell may not hide (SPEC §1).

/// A character that shows nothing: a Unicode format character (zero-width space and joiners,
/// direction marks, a byte-order mark, a soft hyphen). In a UniqueID it would make an ID that
/// looks like another's differ from it, so a UniqueID is trimmed of them like spaces, and one
/// inside a UniqueID is a `control-char` error.
#[inline]
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// True when the text has a control character (U+0000–U+001F, U+007F–U+009F), found by a
/// scan of the bytes: in UTF-8 those above U+007F are 0xC2 followed by 0x80–0x9F.
#[inline]
pub fn has_control(text: &str) -> bool {
    let bytes = text.as_bytes();
    // A quick scan for any byte that can start one, without a branch a byte (so that it is
    // vectorised: it runs on every cell); the exact one only when there is.
    let maybe = bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == 0x7f) | (b == 0xc2)
    });
    if !maybe {
        return false;
    }
    bytes.iter().enumerate().any(|(i, &b)| {
        b < 0x20 || b == 0x7f || (b == 0xc2 && bytes.get(i + 1).is_some_and(|n| *n < 0xa0))
    })
}

/// A word as a shell reads it back: as it is when plain, else in single quotes; for the
/// commands roster prints for a person to paste (`roster users list --search 'Anna Berg'`).
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.@+,:/%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// An option and its value as a shell reads them back into that option: `--search 'Anna Berg'`,
/// and `--search=-lund` for a value that starts with `-`, which after a space would be read as
/// an option of its own.
pub fn shell_option(flag: &str, value: &str) -> String {
    if value.starts_with('-') {
        shell_word(&format!("{flag}={value}"))
    } else {
        format!("{flag} {}", shell_word(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_scan_agrees_with_char_is_control() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let text = format!("a{c}b");
            assert_eq!(has_control(&text), c.is_control(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn control_scan_finds_one_anywhere_in_a_long_cell() {
        let plain = "Åsa Öberg-Þórsdóttir, överläkare på avdelning 12 (natt) ¢ £".repeat(2);
        assert!(!has_control(&plain));
        for c in [
            '\0', '\t', '\n', '\u{1f}', '\u{7f}', '\u{80}', '\u{85}', '\u{9f}',
        ] {
            for (at, _) in plain.char_indices() {
                let text = format!("{}{c}{}", &plain[..at], &plain[at..]);
                assert!(has_control(&text), "U+{:04X} at {at}", c as u32);
            }
        }
        for c in ['\u{a0}', '\u{a2}', '\u{ff}', '\u{200B}'] {
            let text = format!("{plain}{c}{plain}");
            assert!(!has_control(&text), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn an_option_value_that_starts_with_a_dash_is_joined_to_its_option() {
        for (value, want) in [
            ("ICU", "--group ICU"),
            ("Anna Berg", "--search 'Anna Berg'"),
            ("-lund", "'--search=-lund'"),
            ("-Anna Berg", "'--search=-Anna Berg'"),
        ] {
            let flag = if value == "ICU" {
                "--group"
            } else {
                "--search"
            };
            assert_eq!(shell_option(flag, value), want, "{value}");
        }
    }
}
