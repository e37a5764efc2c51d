//! The mapping of SPEC §8: a store user or group as a SCIM resource, and the hash that tells
//! whether the provider holds exactly that (computed the same way from either side).

use crate::store::scim::{ScimGroup, ScimUser};
use serde_json::{json, Value};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// A user as roster wants the provider to hold it (active).
pub fn user(u: &ScimUser) -> Value {
    let mut r = json!({
        "schemas": [USER_SCHEMA],
        "externalId": u.unique_id,
        "userName": u.mail,
        "displayName": u.name,
        "name": {"formatted": u.name},
        "emails": [{"value": u.mail, "type": "work", "primary": true}],
        "active": true,
    });
    if let Some(title) = u.title.as_deref().filter(|t| !t.is_empty()) {
        r["title"] = json!(title);
    }
    let phones: Vec<Value> = [(&u.phone, "work"), (&u.phone2, "mobile")]
        .into_iter()
        .filter_map(|(p, kind)| {
            p.as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| json!({"value": p, "type": kind}))
        })
        .collect();
    if !phones.is_empty() {
        r["phoneNumbers"] = Value::Array(phones);
    }
    r
}

/// A group with an ID and its members' provider ids.
pub fn group(g: &ScimGroup, members: &[&str]) -> Value {
    json!({
        "schemas": [GROUP_SCHEMA],
        "externalId": g.group_id,
        "displayName": g.name,
        "members": members.iter().map(|id| json!({"value": id})).collect::<Vec<_>>(),
    })
}

/// The PATCH that sets `active`.
pub fn set_active(active: bool) -> Value {
    json!({
        "schemas": [PATCH_SCHEMA],
        "Operations": [{"op": "replace", "path": "active", "value": active}],
    })
}

/// Whether a user resource is active (a provider that leaves `active` out means active).
pub fn is_active(r: &Value) -> bool {
    r.get("active").and_then(Value::as_bool).unwrap_or(true)
}

fn text(r: &Value, key: &str) -> String {
    match r.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Multi-valued attributes as sorted lines of the sub-attributes roster sets.
fn multi(r: &Value, key: &str, subs: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = r
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| {
                    subs.iter()
                        .map(|s| match item.get(*s) {
                            Some(Value::Bool(b)) => b.to_string(),
                            Some(Value::String(v)) => v.clone(),
                            Some(Value::Null) | None => {
                                if *s == "primary" {
                                    "false".into()
                                } else {
                                    String::new()
                                }
                            }
                            Some(other) => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("\u{1f}")
                })
                .collect()
        })
        .unwrap_or_default();
    lines.sort();
    lines
}

fn digest(parts: &[String]) -> i64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update(&[0x1e]);
    }
    // The store keeps it as SQLite's signed integer; the bits are what matter.
    h.digest() as i64
}

/// The hash of the attributes of a user resource that roster sets, `active` aside: equal for
/// roster's own resource and for the provider's copy when that holds the same values.
pub fn user_hash(r: &Value) -> i64 {
    let mut parts = vec![
        text(r, "externalId"),
        text(r, "userName"),
        text(r, "displayName"),
        r.get("name")
            .map(|n| text(n, "formatted"))
            .unwrap_or_default(),
        text(r, "title"),
    ];
    parts.extend(multi(r, "emails", &["value", "type", "primary"]));
    parts.push(String::new());
    parts.extend(multi(r, "phoneNumbers", &["value", "type"]));
    digest(&parts)
}

/// The hash of a group resource: its name, its external id and its members' ids.
pub fn group_hash(r: &Value) -> i64 {
    let mut parts = vec![text(r, "externalId"), text(r, "displayName")];
    parts.extend(multi(r, "members", &["value"]));
    digest(&parts)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_user_maps_as_the_spec_says() {
        let r = user(&ann());
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
        let bare = user(&ScimUser {
            title: None,
            phone: None,
            phone2: Some("+46709876543".into()),
            ..ann()
        });
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
        let ours = user(&ann());
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
        no_title
            .as_object_mut()
            .map(|o| o.remove("title"))
            .unwrap_or_default();
        assert_ne!(user_hash(&ours), user_hash(&no_title));
    }

    #[test]
    fn a_group_hashes_by_name_and_member_set() {
        let g = ScimGroup {
            group_id: "ICU".into(),
            name: "Intensive care".into(),
            members: vec![],
        };
        let a = group(&g, &["1", "2"]);
        let b = group(&g, &["2", "1"]);
        assert_eq!(group_hash(&a), group_hash(&b));
        assert_ne!(group_hash(&a), group_hash(&group(&g, &["1"])));
        let renamed = ScimGroup {
            name: "ICU".into(),
            ..g.clone()
        };
        assert_ne!(group_hash(&a), group_hash(&group(&renamed, &["1", "2"])));
    }
}
