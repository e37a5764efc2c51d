//! A UniqueID as a plan's [`super::Change`] holds it: a short one (nearly every one, up to 24
//! bytes) inside the change, without an allocation of its own. A first import makes a change a
//! record, and a `String` each would cost a million allocations of 32 bytes beside the records
//! (issue 31). `compact_str` keeps the text inline; it derefs to `&str`, compares, orders and
//! serializes as one.

pub type Uid = compact_str::CompactString;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uid_reads_back_as_it_was_given_short_or_long() {
        let long = "E".repeat(25);
        for text in ["", "E1", "Åsa-ø", &"x".repeat(24), &long] {
            let uid = Uid::new(text);
            assert_eq!(&*uid, text);
            assert_eq!(Uid::from(text.to_string()), uid);
            assert_eq!(format!("{uid}"), text);
            assert_eq!(serde_json::to_string(&uid).unwrap(), format!("\"{text}\""));
        }
        assert!(Uid::new("E1") < Uid::new("E2"));
        assert_eq!(std::mem::size_of::<Option<Uid>>(), 24);
        // A first import holds a change a record: what it costs each (issue 31).
        assert!(std::mem::size_of::<super::super::Change>() <= 56);
    }
}
