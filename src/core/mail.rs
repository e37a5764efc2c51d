//! Mail addresses: RFC 5322 `local@domain` with a dotted domain, compared case-insensitively.

use std::borrow::Cow;
use std::str::FromStr;

/// The most octets an address may have: an SMTP envelope's path holds 256 with its angle
/// brackets (RFC 5321 4.5.3.1.3).
pub const MAX_OCTETS: usize = 254;

/// Check that a cell is a bare address (no display name) whose domain has a dot, short enough
/// for an SMTP envelope.
pub fn check(cell: &str) -> Result<(), String> {
    if cell.len() > MAX_OCTETS {
        return Err(format!(
            "the mail address has {} octets; an SMTP envelope carries at most {MAX_OCTETS}",
            cell.len()
        ));
    }
    // Most addresses have the common shape, which is valid without the full parse.
    if common_shape(cell) {
        return Ok(());
    }
    full_check(cell)
}

/// True for an address of the common shape, which [`full_check`] accepts: one `@`; a local part
/// of at most 64 bytes made of dot-separated non-empty atoms of ASCII letters, digits and the
/// RFC 5322 atom characters, or visible non-ASCII letters and digits; a domain of ASCII
/// letters, digits and hyphens in at least two labels of 1–63 bytes, each starting and ending
/// with a letter or a digit. Anything else (quoted local parts, IDN domains, invisible or
/// control characters) is left to the full check: `false` says "not sure", never "invalid".
fn common_shape(cell: &str) -> bool {
    let Some(at) = memchr::memchr(b'@', cell.as_bytes()) else {
        return false;
    };
    let (user, domain) = (&cell[..at], &cell[at + 1..]);
    user.len() <= 64 && dot_atoms(user) && domain.len() <= 254 && host_name(domain.as_bytes())
}

/// Non-empty atoms joined by single dots (see [`common_shape`]). ASCII bytes are looked up
/// in a table and Latin-1 letters (`À`–`ÿ`, two bytes) told from their bytes; any other
/// character is decoded and asked.
fn dot_atoms(user: &str) -> bool {
    let bytes = user.as_bytes();
    let (mut i, mut after_dot) = (0, true);
    while i < bytes.len() {
        let b = bytes[i];
        let (ok, len) = match b {
            b'.' => (!after_dot, 1),
            _ if b.is_ascii() => (ATEXT[usize::from(b)], 1),
            // U+00C0–U+00FF: every one a letter but `×` (C3 97) and `÷` (C3 B7).
            0xC3 if bytes
                .get(i + 1)
                .is_some_and(|&n| (0x80..=0xBF).contains(&n)) =>
            {
                (!matches!(bytes[i + 1], 0x97 | 0xB7), 2)
            }
            _ => match user[i..].chars().next() {
                Some(c) => (
                    !super::text::is_invisible(c) && is_alphanumeric(c),
                    c.len_utf8(),
                ),
                None => (false, 1),
            },
        };
        if !ok {
            return false;
        }
        after_dot = b == b'.';
        i += len;
    }
    !after_dot
}

/// The ASCII characters of an atom (RFC 5322 `atext`): letters, digits and the characters
/// of `ATEXT_SIGNS`.
const ATEXT: [bool; 128] = {
    let mut table = [false; 128];
    let mut c = 0;
    while c < 128 {
        table[c] = (c as u8).is_ascii_alphanumeric();
        c += 1;
    }
    let mut k = 0;
    while k < ATEXT_SIGNS.len() {
        table[ATEXT_SIGNS[k] as usize] = true;
        k += 1;
    }
    table
};

const ATEXT_SIGNS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";

/// At least two dot-separated labels of 1–63 ASCII letters, digits and hyphens, each starting
/// and ending with a letter or a digit (see [`common_shape`]).
fn host_name(domain: &[u8]) -> bool {
    let (mut label, mut dots, mut last) = (0usize, 0, b'.');
    for &b in domain {
        match b {
            b'.' if label > 0 && last != b'-' => (label, dots) = (0, dots + 1),
            b'-' if label > 0 => label += 1,
            _ if b.is_ascii_alphanumeric() => label += 1,
            _ => return false,
        }
        if label > 63 {
            return false;
        }
        last = b;
    }
    dots > 0 && label > 0 && last != b'-'
}

/// `char::is_alphanumeric` with the Latin letters of U+00C0–U+024F (all letters but `×` and
/// `÷`) answered without the Unicode table lookup.
fn is_alphanumeric(c: char) -> bool {
    match c {
        '×' | '÷' => false,
        'À'..='ɏ' => true,
        _ => c.is_alphanumeric(),
    }
}

/// The check by the mail library's own parser, and whether the transport can carry it.
fn full_check(cell: &str) -> Result<(), String> {
    // An invisible character would make a look-alike of another address.
    if let Some(c) = cell.chars().find(|&c| super::text::is_invisible(c)) {
        return Err(format!(
            "the mail address contains the invisible character U+{:04X}",
            c as u32
        ));
    }
    let address = lettre::Address::from_str(cell)
        .map_err(|_| format!("`{cell}` is not a mail address of the form local@domain"))?;
    if !sendable(&address) {
        let part = if address.domain().starts_with('[') {
            "a domain literal"
        } else {
            "a quoted local part"
        };
        return Err(format!(
            "`{cell}` cannot be carried in a mail's envelope ({part} the mail transport does not read back)"
        ));
    }
    let domain = address.domain();
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(format!(
            "`{cell}`: the domain `{domain}` needs at least one dot"
        ));
    }
    Ok(())
}

/// True when the mail transport can carry the address: an invitation's `To` header (a name and
/// the address) is read back into the SMTP envelope, so the address must come back from it
/// unchanged, with any display name.
fn sendable(address: &lettre::Address) -> bool {
    use lettre::message::{Mailbox, Mailboxes};
    // A dot-atom local part (most addresses) at a domain name is carried as it is: no need to
    // try. A domain literal (`a@[127.0.0.1]`) is not read back from a header.
    let atext = |c: char| c == '.' || c.is_alphanumeric() || (c.is_ascii() && ATEXT[c as usize]);
    if address.user().chars().all(atext)
        && !address.user().starts_with('.')
        && !address.domain().starts_with('[')
    {
        return true;
    }
    ["N", "Åsa, \"Berg\" <x>"].iter().all(|name| {
        let header = Mailboxes::from(Mailbox::new(Some((*name).to_string()), address.clone()));
        Mailboxes::from_str(&header.to_string()).is_ok_and(|back| {
            let back: Vec<Mailbox> = back.into();
            back.len() == 1 && back[0].email == *address
        })
    })
}

/// The key two addresses are compared by: the address in lower case, composed (NFC), so that
/// `å` and `a` with a combining ring are one letter. An address already in lower case and
/// composed (every ASCII one in lower case) is its own key, without a copy.
pub fn key(mail: &str) -> Cow<'_, str> {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    let composed = |m: &str| m.is_ascii() || is_nfc_quick(m.chars()) == IsNormalized::Yes;
    if is_lower_case(mail) && composed(mail) {
        return Cow::Borrowed(mail);
    }
    let lower = mail.to_lowercase();
    if composed(&lower) {
        Cow::Owned(lower)
    } else {
        Cow::Owned(lower.nfc().collect())
    }
}

/// True when every character of `text` is its own lower case (Σ is not, so the final-sigma
/// rule never applies): ASCII bytes but A–Z, and U+00DF–U+00FF (Latin-1's small letters and
/// `÷`: C3 9F–C3 BF) told from their bytes; from any other character on, [`own_lower_case`].
fn is_lower_case(text: &str) -> bool {
    let bytes = text.as_bytes();
    // First one pass without a branch a byte (so that it is vectorised): every byte ASCII but
    // A–Z, or C3, or 9F–BF (in UTF-8 only after a lead byte, which must then be C3: U+00DF–
    // U+00FF). Most keys are told here; the others are read character by character below.
    let plain = bytes.iter().fold(true, |ok, &b| {
        ok & (((b < 0x80) & !b.is_ascii_uppercase()) | (b == 0xC3) | (0x9F..=0xBF).contains(&b))
    });
    if plain {
        return true;
    }
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b if b.is_ascii() => {
                if b.is_ascii_uppercase() {
                    return false;
                }
                i += 1;
            }
            0xC3 if bytes
                .get(i + 1)
                .is_some_and(|&n| (0x9F..=0xBF).contains(&n)) =>
            {
                i += 2
            }
            _ => return text[i..].chars().all(own_lower_case),
        }
    }
    true
}

/// True when a character is its own lower case: ASCII but A–Z, and U+00DF–U+00FF (Latin-1's
/// small letters and `÷`, the bulk of non-ASCII addresses) without a lookup; then a lowercase
/// letter is (the quick test); anything else is looked up.
fn own_lower_case(c: char) -> bool {
    match c {
        _ if c.is_ascii() => !c.is_ascii_uppercase(),
        'ß'..='ÿ' => true,
        _ if c.is_lowercase() => true,
        _ => {
            let mut l = c.to_lowercase();
            l.next() == Some(c) && l.next().is_none()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        let cases = [
            ("anna@example.se", true),
            ("anna.berg+icu@sub.example.co.uk", true),
            ("ÅSA@example.se", true),
            ("anna@localhost", false),
            ("anna@example.", false),
            ("Anna <anna@example.se>", false),
            ("anna", false),
            ("anna@@example.se", false),
            ("@example.se", false),
            ("anna@exa mple.se", false),
            ("", false),
            // Quoted local parts: only those the envelope can carry.
            ("\"fay,x\"@x.org", false),
            ("\"fay x\"@x.org", false),
            ("\"fay<x>\"@x.org", false),
            ("\"fay;x\"@x.org", false),
            ("\"fay\"@x.org", false),
            ("fay.x@x.org", true),
            ("o'brien@x.org", true),
            // A domain literal: the envelope is not read back from the header.
            ("a@[127.0.0.1]", false),
            ("a@[IPv6:::1]", false),
        ];
        for (cell, ok) in cases {
            assert_eq!(check(cell).is_ok(), ok, "{cell}");
        }
    }

    /// The message of an address the envelope cannot carry says which part is the cause.
    #[test]
    fn an_address_the_envelope_cannot_carry_says_why() {
        let cases = [
            ("\"fay x\"@x.org", "a quoted local part"),
            ("a@[127.0.0.1]", "a domain literal"),
            ("a@[IPv6:::1]", "a domain literal"),
        ];
        for (cell, why) in cases {
            let message = check(cell).unwrap_err();
            assert!(message.contains(why), "{cell}: {message}");
        }
    }

    #[test]
    fn latin_letters_are_alphanumeric_without_the_table() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            assert_eq!(
                is_alphanumeric(c),
                c.is_alphanumeric(),
                "U+{:04X}",
                c as u32
            );
        }
    }

    /// The common shape is only ever a shortcut to the full check's `Ok`.
    fn same_as_full(cell: &str) {
        assert_eq!(check(cell), full_check(cell), "{cell:?}");
        if common_shape(cell) {
            assert_eq!(full_check(cell), Ok(()), "{cell:?}");
        }
    }

    #[test]
    fn the_common_shape_agrees_with_the_full_check() {
        let cases = [
            "anna@example.se",
            "kári.ek.1@example.org",
            "henrik.þórsdóttir.0@example.org",
            "ÅSA@example.se",
            "o'brien+x@sub-1.example.co.uk",
            "a!#$%&'*+-/=?^_`{|}~@x.org",
            // Invisible, control and odd characters in each place.
            "an\u{200B}na@example.se",
            "anna\u{AD}@example.se",
            "\u{FEFF}anna@example.se",
            "anna@example.se\u{200B}",
            "anna@exa\u{200D}mple.se",
            "an\tna@example.se",
            "an\u{85}na@example.se",
            "anna@example.se\n",
            "an×na@example.se",
            "an÷na@example.se",
            "an€na@example.se",
            "an😀na@example.se",
            "an\u{301}na@example.se",
            "ana\u{2011}b@example.se",
            // Quoted local parts, brackets, IDN and IP domains.
            "\"fay\"@x.org",
            "\"fay x\"@x.org",
            "\"a@b\"@x.org",
            "\"\"@x.org",
            "a@[127.0.0.1]",
            "a@127.0.0.1",
            "a@exämple.se",
            "a@xn--exmple-cua.se",
            "a@ex_ample.se",
            "a@-example.se",
            "a@example-.se",
            "a@example..se",
            "a@.example.se",
            "a@example.se.",
            "a@localhost",
            "a@@example.se",
            "a@b@example.se",
            "@example.se",
            "a@",
            "a",
            "",
            ".a@example.se",
            "a.@example.se",
            "a..b@example.se",
            "a b@example.se",
            "Anna <anna@example.se>",
            "a,b@example.se",
        ];
        for cell in cases {
            same_as_full(cell);
        }
        let long = |n: usize| "a".repeat(n);
        for n in [63, 64, 65] {
            same_as_full(&format!("{}@example.se", long(n)));
            same_as_full(&format!("a@{}.se", long(n)));
        }
        for n in [250, 251, 252] {
            let domain = vec![long(50); 5].join(".");
            same_as_full(&format!("a@{}.se", &domain[..n - 3]));
        }
    }

    proptest::proptest! {
        #[test]
        fn the_common_shape_agrees_on_any_text(cell in "[aZ9.@\\-_+'\"\\[\\] \t\u{AD}\u{200B}\u{FEFF}\u{85}åÞ×😀ä]{0,12}") {
            same_as_full(&cell);
        }
    }

    #[test]
    fn a_lowercase_character_is_its_own_lower_case() {
        for c in (0..=0x10_FFFF)
            .filter_map(char::from_u32)
            .filter(|c| c.is_lowercase())
        {
            assert_eq!(
                c.to_lowercase().collect::<String>(),
                c.to_string(),
                "U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn own_lower_case_is_the_lookup() {
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let mut l = c.to_lowercase();
            let own = l.next() == Some(c) && l.next().is_none();
            assert_eq!(own_lower_case(c), own, "U+{:04X}", c as u32);
        }
    }

    /// The byte scans agree with the character rules they replace, on every character and on
    /// texts that mix them.
    #[test]
    fn byte_scans_agree_with_the_character_rules() {
        let slow_atoms = |user: &str| {
            let mut after_dot = true;
            for c in user.chars() {
                let ok = match c {
                    '.' => !after_dot,
                    _ if c.is_ascii() => {
                        c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
                    }
                    _ => !crate::core::text::is_invisible(c) && c.is_alphanumeric(),
                };
                if !ok {
                    return false;
                }
                after_dot = c == '.';
            }
            !after_dot
        };
        let slow_lower = |text: &str| text.chars().all(own_lower_case);
        let mut texts = vec![String::new(), ".".into(), "a.".into(), "a..b".into()];
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            texts.push(format!("a{c}b"));
            texts.push(c.to_string());
            texts.push(format!("{c}.ß"));
        }
        for t in &texts {
            assert_eq!(dot_atoms(t), slow_atoms(t), "{t:?}");
            assert_eq!(is_lower_case(t), slow_lower(t), "{t:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn byte_scans_agree_on_any_text(text in "[aZ9.!~ \\\\\"@ßÿÀ×÷ÞåÅΣσ\u{AD}\u{200B}😀\u{301}]{0,10}") {
            let slow_lower = text.chars().all(own_lower_case);
            proptest::prop_assert_eq!(is_lower_case(&text), slow_lower);
            same_as_full(&text);
            same_as_full(&format!("{text}@example.se"));
        }
    }

    #[test]
    fn keys_fold_case() {
        assert_eq!(key("Anna@Example.SE"), "anna@example.se");
        assert!(matches!(key("anna@example.se"), Cow::Borrowed(_)));
        assert_eq!(key("ÅSA@example.se"), "åsa@example.se");
        assert!(matches!(key("åsa@example.se"), Cow::Borrowed(_)));
        assert_eq!(key("ΟΔΟΣ@example.gr"), "οδος@example.gr".to_lowercase());
        assert_eq!(key("ǅ@example.se"), "ǆ@example.se");
    }

    /// Addresses written with the same characters, composed or not (`å` or `a` and a ring
    /// above: a Mac writes the second), are one address: their keys are one, in NFC.
    #[test]
    fn keys_compose_canonically_equal_addresses() {
        let cases = [
            ("a\u{30a}sa@example.se", "åsa@example.se"),
            ("A\u{30a}SA@EXAMPLE.SE", "åsa@example.se"),
            ("\u{212b}sa@example.se", "åsa@example.se"),
            ("o\u{308}berg@exa\u{308}mple.se", "öberg@exämple.se"),
            ("åsa@example.se", "åsa@example.se"),
        ];
        for (address, want) in cases {
            assert_eq!(key(address), want, "{address:?}");
        }
    }
}
