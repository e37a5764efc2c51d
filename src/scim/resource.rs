//! The mapping of SPEC §8: a store user or group as a SCIM resource, the provider's resources
//! read into typed values (only the attributes roster sets; the rest is skipped unread), and
//! the attribute by attribute comparison that tells what the provider holds of what was sent.

use crate::store::scim::{ScimGroup, ScimUser, GROUP_ATTRIBUTES, USER_ATTRIBUTES};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::fmt;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// A text attribute as a provider sends it: a string, or a number or boolean as its JSON
/// text; null, an object or an array read as empty (never an error for the whole answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text")
            }
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Text, E> {
                Ok(Text::default())
            }
            fn visit_none<E>(self) -> Result<Text, E> {
                Ok(Text::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
                Text::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Text, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Text, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A boolean as a provider sends it: `true`, or the text `"true"` (any case); anything else
/// is false.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = Text::deserialize(d)?;
        Ok(Flag(t.0.eq_ignore_ascii_case("true")))
    }
}

/// A multi-valued attribute: a list of values; anything but a list reads as no values, and an
/// item without a `value` is not kept (roster sets none such; a provider's list of millions of
/// `{}` is read in little memory).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Many(pub Vec<Multi>);

impl<'de> Deserialize<'de> for Many {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ManyOf(usize::MAX))
    }
}

/// The most values of a user's `emails` or `phoneNumbers` kept as read: roster sets one or
/// two, so a provider's copy with more differs from it whatever the rest are.
const FEW: usize = 16;

/// A user's `emails` or `phoneNumbers`: at most [`FEW`] values kept, the rest skipped unread.
fn few<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Many>, D::Error> {
    d.deserialize_any(ManyOf(FEW)).map(Some)
}

/// Reads a [`Many`] of at most this many values.
struct ManyOf(usize);

impl<'de> Visitor<'de> for ManyOf {
    type Value = Many;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Many, A::Error> {
        let mut v = Vec::new();
        while v.len() < self.0 {
            let Some(item) = a.next_element::<Option<Multi>>()? else {
                return Ok(Many(v));
            };
            v.extend(item.filter(|m| m.value.is_some()));
        }
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Many(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Many, A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Many::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Many, E> {
        Ok(Many::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Many, E> {
        Ok(Many::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Many, E> {
        Ok(Many::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Many, E> {
        Ok(Many::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Many, E> {
        Ok(Many::default())
    }
    fn visit_unit<E>(self) -> Result<Many, E> {
        Ok(Many::default())
    }
}

/// One value of a multi-valued attribute (an email, a phone number, a member).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Multi {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Text>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<Flag>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Name {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<Text>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Meta {
    pub version: Option<Text>,
}

/// A user or group resource: what roster sends, or what it reads of the provider's copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Res {
    #[serde(skip_deserializing, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<&'static str>,
    #[serde(skip_serializing)]
    pub id: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "few")]
    pub emails: Option<Many>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<Flag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "few")]
    pub phone_numbers: Option<Many>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Many>,
    #[serde(skip_serializing)]
    pub meta: Option<Meta>,
}

fn text(v: &str) -> Option<Text> {
    Some(Text(v.to_string()))
}

impl Res {
    /// The provider's `id`, when it gave one.
    pub fn id(&self) -> Option<String> {
        self.id
            .as_ref()
            .map(|t| t.0.clone())
            .filter(|t| !t.is_empty())
    }

    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_ref().map(|t| t.0.as_str())
    }

    /// The ETag in `meta.version`.
    pub fn version(&self) -> Option<String> {
        self.meta
            .as_ref()
            .and_then(|m| m.version.as_ref())
            .map(|t| t.0.clone())
            .filter(|t| !t.is_empty())
    }

    /// Whether a user resource is active (a provider that leaves `active` out means active).
    pub fn is_active(&self) -> bool {
        self.active.is_none_or(|f| f.0)
    }

    /// Whether this is a representation of a resource at all (an answer may have no body).
    pub fn is_representation(&self) -> bool {
        self.id.is_some()
            || self.external_id.is_some()
            || self.display_name.is_some()
            || self.user_name.is_some()
    }

    /// The members' ids, sorted.
    pub fn member_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .members
            .as_ref()
            .map(|m| {
                m.0.iter()
                    .filter_map(|m| m.value.as_ref().map(|t| t.0.clone()))
                    .collect()
            })
            .unwrap_or_default();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// A user as roster wants the provider to hold it (active).
pub fn user(u: &ScimUser) -> Res {
    let phones: Vec<Multi> = [(&u.phone, "work"), (&u.phone2, "mobile")]
        .into_iter()
        .filter_map(|(p, kind)| {
            p.as_deref().filter(|p| !p.is_empty()).map(|p| Multi {
                value: text(p),
                kind: text(kind),
                primary: None,
            })
        })
        .collect();
    Res {
        schemas: vec![USER_SCHEMA],
        external_id: text(&u.unique_id),
        user_name: text(&u.mail),
        display_name: text(&u.name),
        name: Some(Name {
            formatted: text(&u.name),
        }),
        emails: Some(Many(vec![Multi {
            value: text(&u.mail),
            kind: text("work"),
            primary: Some(Flag(true)),
        }])),
        active: Some(Flag(true)),
        title: u.title.as_deref().filter(|t| !t.is_empty()).and_then(text),
        phone_numbers: (!phones.is_empty()).then_some(Many(phones)),
        ..Res::default()
    }
}

/// A deactivated user whose address was given to another (`import.reuse_mail_of_deactivated`,
/// its mail cleared): inactive, and without the address, which the provider holds unique as a
/// `userName`. Its UniqueID stands in as the `userName` (a SCIM user must have one).
pub fn released(u: &ScimUser) -> Res {
    Res {
        user_name: text(&u.unique_id),
        emails: None,
        active: Some(Flag(false)),
        ..user(u)
    }
}

/// A group with an ID and its members' provider ids.
pub fn group(g: &ScimGroup, members: &[&str]) -> Res {
    Res {
        schemas: vec![GROUP_SCHEMA],
        external_id: text(&g.group_id),
        display_name: text(&g.name),
        members: Some(Many(
            members
                .iter()
                .map(|id| Multi {
                    value: text(id),
                    ..Multi::default()
                })
                .collect(),
        )),
        ..Res::default()
    }
}

/// A resource as the JSON text that is sent.
pub fn body(r: &Res) -> Box<str> {
    // Serializing these plain types cannot fail.
    serde_json::to_string(r)
        .unwrap_or_default()
        .into_boxed_str()
}

/// The PATCH that sets `active`.
pub fn set_active(active: bool) -> Value {
    json!({
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "active", "value": active}],
    })
}

/// The PATCH of a group (RFC 7644 §3.5.2): its new `displayName` when `rename`; the members
/// added, and those removed, each by a value filter path (`members[value eq "ID"]`), or all in
/// one `value` list when `by_value` (the shape some providers take instead).
pub fn group_patch(
    rename: Option<&str>,
    add: &[String],
    remove: &[String],
    by_value: bool,
) -> Value {
    let values =
        |ids: &[String]| -> Vec<Value> { ids.iter().map(|id| json!({"value": id})).collect() };
    let mut ops = Vec::new();
    if let Some(name) = rename {
        ops.push(json!({"op": "replace", "path": "displayName", "value": name}));
    }
    if !add.is_empty() {
        ops.push(json!({"op": "add", "path": "members", "value": values(add)}));
    }
    if by_value && !remove.is_empty() {
        ops.push(json!({"op": "remove", "path": "members", "value": values(remove)}));
    } else {
        for id in remove {
            let quoted = Value::from(id.as_str()).to_string();
            ops.push(json!({"op": "remove", "path": format!("members[value eq {quoted}]")}));
        }
    }
    json!({"schemas": [PATCH_SCHEMA], "Operations": ops})
}

fn t(v: &Option<Text>) -> &str {
    v.as_ref().map_or("", |t| t.0.as_str())
}

/// Multi-valued attributes as sorted lines of the sub-attributes roster sets, joined by
/// U+001E (phone numbers led by one, so that the hash of a user is the one roster computed
/// before it compared attributes one by one: an upgrade sends nobody again).
fn lines(m: &Option<Many>, primary: bool) -> String {
    let mut lines: Vec<String> = m
        .as_ref()
        .map(|m| {
            m.0.iter()
                .map(|item| {
                    let mut l = format!("{}\u{1f}{}", t(&item.value), t(&item.kind));
                    if primary {
                        l.push('\u{1f}');
                        l.push_str(if item.primary.is_some_and(|p| p.0) {
                            "true"
                        } else {
                            "false"
                        });
                    }
                    l
                })
                .collect()
        })
        .unwrap_or_default();
    lines.sort();
    let joined = lines.join("\u{1e}");
    if primary || joined.is_empty() {
        joined
    } else {
        format!("\u{1e}{joined}")
    }
}

/// The attributes roster sets, in the order of `USER_ATTRIBUTES` or `GROUP_ATTRIBUTES`
/// (a group's members aside), each as one comparable text.
pub fn attributes(kind: crate::store::scim::Kind, r: &Res) -> Vec<String> {
    use crate::store::scim::Kind;
    match kind {
        Kind::User => vec![
            t(&r.external_id).to_string(),
            t(&r.user_name).to_string(),
            t(&r.display_name).to_string(),
            r.name.as_ref().map_or("", |n| t(&n.formatted)).to_string(),
            t(&r.title).to_string(),
            lines(&r.emails, true),
            lines(&r.phone_numbers, false),
        ],
        Kind::Group => vec![
            t(&r.external_id).to_string(),
            t(&r.display_name).to_string(),
        ],
    }
}

/// The bit of each attribute (in `USER_ATTRIBUTES` / `GROUP_ATTRIBUTES`) that differs between
/// what was sent and what the provider kept.
pub fn differences(sent: &[String], kept: &[String]) -> i64 {
    sent.iter()
        .zip(kept)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .fold(0, |m, (i, _)| m | (1 << i))
}

/// The hash of the attributes roster sets, `active` and a group's members aside, leaving out
/// those in `mask` (what the provider does not keep): equal for roster's own resource and for
/// the provider's copy when that holds the same values.
pub fn hash(attributes: &[String], mask: i64) -> i64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for (i, a) in attributes.iter().enumerate() {
        if mask & (1 << i) != 0 {
            h.update(b"\x00not kept");
        } else {
            h.update(a.as_bytes());
        }
        h.update(&[0x1e]);
    }
    // The store keeps it as SQLite's signed integer; the bits are what matter.
    h.digest() as i64
}

/// The bit of a group's members in a mask.
pub const MEMBERS_BIT: i64 = 1 << 2;

/// The names of the attributes in a mask.
pub fn names(kind: crate::store::scim::Kind, mask: i64) -> Vec<&'static str> {
    let all = match kind {
        crate::store::scim::Kind::User => USER_ATTRIBUTES,
        crate::store::scim::Kind::Group => GROUP_ATTRIBUTES,
    };
    all.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scim::Kind;

    fn ann() -> ScimUser {
        ScimUser {
            unique_id: "E1".into(),
            name: "Åsa Öberg".into(),
            mail: "asa@example.se".into(),
            title: Some("Nurse".into()),
            phone: Some("+46701234567".into()),
            phone2: None,
            active: true,
        }
    }

    fn read(v: &Value) -> Res {
        serde_json::from_value(v.clone()).unwrap()
    }

    fn user_hash(v: &Value) -> i64 {
        hash(&attributes(Kind::User, &read(v)), 0)
    }

    #[test]
    fn a_user_maps_as_the_spec_says() {
        let r: Value = serde_json::from_str(&body(&user(&ann()))).unwrap();
        assert_eq!(r["schemas"], json!([USER_SCHEMA]));
        assert_eq!(r["externalId"], "E1");
        assert_eq!(r["userName"], "asa@example.se");
        assert_eq!(r["displayName"], "Åsa Öberg");
        assert_eq!(r["name"]["formatted"], "Åsa Öberg");
        assert_eq!(
            r["emails"],
            json!([{"value": "asa@example.se", "type": "work", "primary": true}])
        );
        assert_eq!(r["title"], "Nurse");
        assert_eq!(
            r["phoneNumbers"],
            json!([{"value": "+46701234567", "type": "work"}])
        );
        assert_eq!(r["active"], true);
        let bare: Value = serde_json::from_str(&body(&user(&ScimUser {
            title: None,
            phone: None,
            phone2: Some("+46709876543".into()),
            ..ann()
        })))
        .unwrap();
        assert!(bare.get("title").is_none());
        assert_eq!(
            bare["phoneNumbers"],
            json!([{"value": "+46709876543", "type": "mobile"}])
        );
    }

    /// The provider's copy, with its own additions (id, meta, schemas, order), hashes the same
    /// as roster's resource; any difference in a mapped attribute does not.
    #[test]
    fn the_hash_sees_the_mapped_attributes_only() {
        let ours: Value = serde_json::from_str(&body(&user(&ann()))).unwrap();
        assert_eq!(
            user_hash(&ours),
            hash(&attributes(Kind::User, &user(&ann())), 0)
        );
        let mut theirs = ours.clone();
        theirs["id"] = json!("abc");
        theirs["meta"] = json!({"version": "W/\"3\""});
        theirs["active"] = json!(false);
        theirs["emails"] = json!([{"primary": true, "type": "work", "value": "asa@example.se"}]);
        assert_eq!(user_hash(&ours), user_hash(&theirs));
        let changes: &[(&str, Value)] = &[
            ("title", json!("Head nurse")),
            ("displayName", json!("Åsa")),
            ("userName", json!("asa2@example.se")),
            ("name", json!({"formatted": "x"})),
            ("phoneNumbers", json!([])),
            (
                "emails",
                json!([{"value": "asa@example.se", "type": "work", "primary": true},
                                {"value": "other@example.se", "type": "home"}]),
            ),
            ("externalId", json!("E2")),
        ];
        for (key, value) in changes {
            let mut changed = ours.clone();
            changed[*key] = value.clone();
            assert_ne!(user_hash(&ours), user_hash(&changed), "{key}");
        }
        let mut no_title = ours.clone();
        no_title.as_object_mut().unwrap().remove("title");
        assert_ne!(user_hash(&ours), user_hash(&no_title));
        let sent = attributes(Kind::User, &read(&ours));
        let kept = attributes(Kind::User, &read(&no_title));
        let mask = differences(&sent, &kept);
        assert_eq!(names(Kind::User, mask), ["title"]);
        assert_eq!(hash(&sent, mask), hash(&kept, mask));
    }

    /// The hash of a user (nothing masked) is the one of the earlier releases, so that an
    /// upgraded store sends nobody again.
    #[test]
    fn a_users_hash_is_the_one_stored_before() {
        let old = |parts: &[&str]| {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            for p in parts {
                h.update(p.as_bytes());
                h.update(&[0x1e]);
            }
            h.digest() as i64
        };
        let u = ann();
        let want = old(&[
            "E1",
            "asa@example.se",
            "Åsa Öberg",
            "Åsa Öberg",
            "Nurse",
            "asa@example.se\u{1f}work\u{1f}true",
            "",
            "+46701234567\u{1f}work",
        ]);
        assert_eq!(hash(&attributes(Kind::User, &user(&u)), 0), want);
        let bare = ScimUser {
            title: None,
            phone: None,
            ..ann()
        };
        let want = old(&[
            "E1",
            "asa@example.se",
            "Åsa Öberg",
            "Åsa Öberg",
            "",
            "asa@example.se\u{1f}work\u{1f}true",
            "",
        ]);
        assert_eq!(hash(&attributes(Kind::User, &user(&bare)), 0), want);
    }

    /// Odd values never fail a whole answer: numbers read as text, a list where a text was
    /// expected as empty, an object where a list was expected as no values.
    #[test]
    fn a_providers_odd_values_are_read_leniently() {
        let r = read(
            &json!({"id": 7, "title": ["x"], "emails": {"a": 1}, "active": "False",
                             "displayName": null, "members": [null, {"value": "u1"}]}),
        );
        assert_eq!(r.id().as_deref(), Some("7"));
        assert_eq!(r.title, Some(Text::default()));
        assert_eq!(r.emails, Some(Many::default()));
        assert!(!r.is_active());
        assert_eq!(r.member_ids(), ["u1"]);
    }

    #[test]
    fn a_group_hashes_by_name_and_its_patch_adds_and_removes() {
        let g = ScimGroup {
            group_id: "ICU".into(),
            name: "Intensive care".into(),
            members: vec![],
        };
        let a = hash(&attributes(Kind::Group, &group(&g, &["1", "2"])), 0);
        let renamed = ScimGroup {
            name: "ICU".into(),
            ..g.clone()
        };
        assert_ne!(a, hash(&attributes(Kind::Group, &group(&renamed, &[])), 0));
        assert_eq!(a, hash(&attributes(Kind::Group, &group(&g, &[])), 0));
        let p = group_patch(None, &["a".into()], &["b\"c".into()], false);
        assert_eq!(
            p["Operations"],
            json!([{"op": "add", "path": "members", "value": [{"value": "a"}]},
                   {"op": "remove", "path": "members[value eq \"b\\\"c\"]"}])
        );
        let p = group_patch(None, &[], &["b".into(), "c".into()], true);
        assert_eq!(
            p["Operations"],
            json!([{"op": "remove", "path": "members", "value": [{"value": "b"}, {"value": "c"}]}])
        );
        let p = group_patch(Some("ICU"), &[], &[], false);
        assert_eq!(
            p["Operations"],
            json!([{"op": "replace", "path": "displayName", "value": "ICU"}])
        );
    }
}
