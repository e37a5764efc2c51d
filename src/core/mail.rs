//! Mail addresses: RFC 5322 `local@domain` with a dotted domain, compared case-insensitively.

use std::borrow::Cow;
use std::str::FromStr;

/// Check that a cell is a bare address (no display name) whose domain has a dot.
pub fn check(cell: &str) -> Result<(), String> {
    let address = lettre::Address::from_str(cell)
        .map_err(|_| format!("`{cell}` is not a mail address of the form local@domain"))?;
    let domain = address.domain();
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(format!(
            "`{cell}`: the domain `{domain}` needs at least one dot"
        ));
    }
    Ok(())
}

/// The key two addresses are compared by: the address in lower case.
pub fn key(mail: &str) -> Cow<'_, str> {
    if mail.bytes().any(|b| b.is_ascii_uppercase()) || !mail.is_ascii() {
        Cow::Owned(mail.to_lowercase())
    } else {
        Cow::Borrowed(mail)
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
        ];
        for (cell, ok) in cases {
            assert_eq!(check(cell).is_ok(), ok, "{cell}");
        }
    }

    #[test]
    fn keys_fold_case() {
        assert_eq!(key("Anna@Example.SE"), "anna@example.se");
        assert!(matches!(key("anna@example.se"), Cow::Borrowed(_)));
        assert_eq!(key("ÅSA@example.se"), "åsa@example.se");
    }
}
