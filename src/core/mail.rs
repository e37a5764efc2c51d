//! Mail addresses: RFC 5322 `local@domain` with a dotted domain, compared case-insensitively.

use std::borrow::Cow;
use std::str::FromStr;

/// Check that a cell is a bare address (no display name) whose domain has a dot.
pub fn check(cell: &str) -> Result<(), String> {
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
        return Err(format!(
            "`{cell}` cannot be carried in a mail's envelope (a quoted local part the mail transport does not read back)"
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
    let atext = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
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

/// The key two addresses are compared by: the address in lower case. An address already in
/// lower case is its own key, without a copy.
pub fn key(mail: &str) -> Cow<'_, str> {
    let lower = if mail.is_ascii() {
        !mail.bytes().any(|b| b.is_ascii_uppercase())
    } else {
        // Every character its own lower case (Σ is not, so the final-sigma rule never applies).
        // A lowercase letter is (the quick test); anything else is looked up.
        mail.chars().all(|c| {
            if c.is_ascii() {
                return !c.is_ascii_uppercase();
            }
            if c.is_lowercase() {
                return true;
            }
            let mut l = c.to_lowercase();
            l.next() == Some(c) && l.next().is_none()
        })
    };
    if lower {
        Cow::Borrowed(mail)
    } else {
        Cow::Owned(mail.to_lowercase())
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
    fn keys_fold_case() {
        assert_eq!(key("Anna@Example.SE"), "anna@example.se");
        assert!(matches!(key("anna@example.se"), Cow::Borrowed(_)));
        assert_eq!(key("ÅSA@example.se"), "åsa@example.se");
        assert!(matches!(key("åsa@example.se"), Cow::Borrowed(_)));
        assert_eq!(key("ΟΔΟΣ@example.gr"), "οδος@example.gr".to_lowercase());
        assert_eq!(key("ǅ@example.se"), "ǆ@example.se");
    }
}
