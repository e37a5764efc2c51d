//! A UniqueID as a plan's [`super::Change`] holds it: a short one (nearly every one) inside
//! the change, without an allocation of its own. A first import makes a change a record, and
//! a `String` each would cost a million allocations of 32 bytes beside the records (issue 31).

use serde::{Serialize, Serializer};
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// The longest UniqueID (in bytes) kept inline: with its length, as large as a `String`.
const INLINE: usize = 22;

#[derive(Clone)]
enum Repr {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

/// A UniqueID: read as a `&str` (it derefs to one), compared, ordered and serialized as one.
#[derive(Clone)]
pub struct Uid(Repr);

impl Uid {
    pub fn new(text: &str) -> Uid {
        if text.len() <= INLINE {
            let mut bytes = [0; INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Uid(Repr::Inline {
                len: text.len() as u8,
                bytes,
            })
        } else {
            Uid(Repr::Heap(text.into()))
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Copied whole from a `&str` (`new`): always UTF-8, so the fallback is never taken.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(text) => text,
        }
    }
}

impl Default for Uid {
    fn default() -> Self {
        Uid::new("")
    }
}

impl Deref for Uid {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Uid {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Uid {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Uid {
    fn from(text: &str) -> Self {
        Uid::new(text)
    }
}

impl From<String> for Uid {
    fn from(text: String) -> Self {
        if text.len() <= INLINE {
            Uid::new(&text)
        } else {
            Uid(Repr::Heap(text.into_boxed_str()))
        }
    }
}

impl From<Uid> for String {
    fn from(uid: Uid) -> Self {
        uid.as_str().to_owned()
    }
}

impl PartialEq for Uid {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Uid {}

impl PartialEq<str> for Uid {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Uid {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Uid {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialOrd for Uid {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Uid {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Uid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Uid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Uid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uid_reads_back_as_it_was_given_short_or_long() {
        let long = "E".repeat(INLINE + 1);
        for text in ["", "E1", "Åsa-ø", &"x".repeat(INLINE), &long] {
            let uid = Uid::new(text);
            assert_eq!(&*uid, text);
            assert_eq!(Uid::from(text.to_string()), uid);
            assert_eq!(format!("{uid}"), text);
            assert_eq!(serde_json::to_string(&uid).unwrap(), format!("\"{text}\""));
        }
        assert!(Uid::new("E1") < Uid::new("E2"));
        assert_eq!(std::mem::size_of::<Option<Uid>>(), 24);
        // A first import holds a change a record: what it costs each (issue 31).
        assert!(std::mem::size_of::<super::super::Change>() <= 72);
    }
}
