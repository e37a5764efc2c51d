//! Sending a plan: one request per change or bulks, each answer committed before the next
//! request; an answer counts only when it confirms the change, and what it shows the provider
//! kept is compared with what was sent.

use super::client::{self, Repeat, Reply};
use super::plan::{Op, Task};
use super::resource::{self, Res};
use super::{endpoint, index, kind_name, percent, Pusher};
use crate::store::now;
use crate::store::scim::{Kind, Pushed};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use ureq::http::Method;

/// A provider's answer to one change, from a single request or one operation of a bulk.
pub struct Answer {
    pub status: u16,
    pub id: Option<String>,
    pub etag: Option<String>,
    /// The provider's representation of the resource, when the answer carries one.
    pub res: Option<Res>,
    /// `status scimType: detail`, for a refusal.
    pub reason: String,
}

impl Answer {
    fn of(reply: &Reply) -> Answer {
        let res: Option<Res> = reply.parse::<Res>().filter(Res::is_representation);
        Answer {
            status: reply.status,
            id: res.as_ref().and_then(Res::id),
            etag: reply
                .etag
                .clone()
                .or_else(|| res.as_ref().and_then(Res::version)),
            reason: reply.reason(),
            res,
        }
    }
}

/// The `Operations` of a bulk response (RFC 7644 §3.7.3), each put in the slot of the
/// operation it answers (its `bulkId` `b<n>`, else its place); at most as many are read as
/// operations were sent, and the rest is skipped unread, so that memory stays a few times the
/// answer's size whatever it holds.
struct Slots<'s, 'a>(&'s mut Vec<Option<BulkOpAnswer<'a>>>);

impl<'de: 'a, 'a> DeserializeSeed<'de> for Slots<'_, 'a> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Slots<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of operations")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        let mut n = 0;
        while n < self.0.len() {
            let Some(op) = seq.next_element::<BulkOpAnswer<'a>>()? else {
                return Ok(());
            };
            let index = op
                .bulk_id
                .as_ref()
                .and_then(|b| b.0.strip_prefix('b'))
                .and_then(|i| i.parse::<usize>().ok())
                .unwrap_or(n);
            if let Some(slot) = self.0.get_mut(index) {
                *slot = Some(op);
            }
            n += 1;
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// A bulk response's body: its `Operations` read into `slots` (see [`Slots`]); `false` when
/// it has none (or is not JSON).
fn read_bulk<'a>(bytes: &'a [u8], slots: &mut Vec<Option<BulkOpAnswer<'a>>>) -> bool {
    struct Body<'s, 'a>(&'s mut Vec<Option<BulkOpAnswer<'a>>>);
    impl<'de: 'a, 'a> Visitor<'de> for Body<'_, 'a> {
        type Value = bool;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a bulk response")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<bool, M::Error> {
            let mut seen = false;
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if key == "Operations" && !seen {
                    map.next_value_seed(Slots(&mut *self.0))?;
                    seen = true;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(seen)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let read = de.deserialize_map(Body(&mut *slots));
    match read {
        Ok(seen) => seen,
        Err(_) => {
            slots.iter_mut().for_each(|s| *s = None);
            false
        }
    }
}

/// One operation of a bulk response: its `response` kept as the text the provider sent (a
/// slice of the answer), read into a resource or an error only when it is settled.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BulkOpAnswer<'a> {
    bulk_id: Option<resource::Text>,
    status: Option<Code>,
    location: Option<resource::Text>,
    version: Option<resource::Text>,
    #[serde(borrow)]
    response: Option<&'a RawValue>,
}

/// A bulk operation's `status`: a number, a text, or (SCIM 1.1's shape) `{"code": …}`.
#[derive(Debug, Default, Clone, Copy)]
struct Code(Option<u64>);

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Code;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a status")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Code, E> {
                Ok(Code(Some(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Code, E> {
                Ok(Code(u64::try_from(v).ok()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Code, E> {
                Ok(Code(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Code, E> {
                Ok(Code(None))
            }
            fn visit_unit<E>(self) -> Result<Code, E> {
                Ok(Code(None))
            }
            fn visit_str<E>(self, v: &str) -> Result<Code, E> {
                Ok(Code(v.trim().parse().ok()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Code, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Code(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Code, A::Error> {
                let mut code = Code(None);
                while let Some(key) = a.next_key::<Cow<'de, str>>()? {
                    if key == "code" {
                        code = a.next_value()?;
                    } else {
                        a.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(code)
            }
        }
        d.deserialize_any(V)
    }
}

impl BulkOpAnswer<'_> {
    fn status(&self) -> Option<u16> {
        self.status?
            .0
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| (100..600).contains(c))
    }

    fn answer(self, status: u16) -> Answer {
        let res: Option<Res> = self
            .response
            .and_then(|r| serde_json::from_str::<Res>(r.get()).ok())
            .filter(Res::is_representation);
        let error: client::ErrorBody = match &res {
            Some(_) => client::ErrorBody::default(),
            None => self
                .response
                .and_then(|r| serde_json::from_str(r.get()).ok())
                .unwrap_or_default(),
        };
        let id = res.as_ref().and_then(Res::id).or_else(|| {
            self.location
                .as_ref()
                .and_then(|l| {
                    l.0.trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .map(str::to_string)
                })
                .filter(|s| !s.is_empty())
        });
        Answer {
            status,
            id,
            etag: self
                .version
                .map(|v| v.0)
                .or_else(|| res.as_ref().and_then(Res::version)),
            reason: client::reason_of(status, &error),
            res,
        }
    }
}

impl Pusher<'_> {
    /// Send the tasks, in bulk when the provider has it, committing each answer. Returns the
    /// keys to plan again (a create that met its own resource, a stale ETag, a vanished id).
    pub(super) fn execute(&mut self, tasks: Vec<Task>) -> anyhow::Result<BTreeSet<String>> {
        let mut retry = BTreeSet::new();
        if tasks.is_empty() {
            return Ok(retry);
        }
        let bulk = self.features.bulk_ops > 1 && self.features.bulk_bytes > 0;
        if !bulk {
            for task in tasks {
                self.mark_sending(std::slice::from_ref(&task))?;
                self.one(&task, &mut retry)?;
            }
            return Ok(retry);
        }
        // Bulk requests within maxOperations and maxPayloadSize; a change too large for a bulk
        // goes alone, and so does a repair of `--full` (its answer shows what was kept).
        let overhead = 200;
        let mut chunk: Vec<Task> = Vec::new();
        let mut size = overhead;
        for task in tasks {
            let bytes = self.bulk_op(&task, 999_999).len() + 1;
            let repair = self.full && matches!(task.op, Op::Replace { .. });
            if repair || bytes + overhead > self.features.bulk_bytes {
                if !chunk.is_empty() {
                    self.send_bulk(std::mem::take(&mut chunk), &mut retry)?;
                    size = overhead;
                }
                self.mark_sending(std::slice::from_ref(&task))?;
                self.one(&task, &mut retry)?;
                continue;
            }
            if chunk.len() >= self.features.bulk_ops || size + bytes > self.features.bulk_bytes {
                self.send_bulk(std::mem::take(&mut chunk), &mut retry)?;
                size = overhead;
            }
            size += bytes;
            chunk.push(task);
        }
        if !chunk.is_empty() {
            self.send_bulk(chunk, &mut retry)?;
        }
        Ok(retry)
    }

    /// Send one change alone (already marked as sending) and settle its answer.
    fn one(&mut self, task: &Task, retry: &mut BTreeSet<String>) -> anyhow::Result<()> {
        let mut done = Vec::new();
        match self.single(task)? {
            Some(answer) => self.settle(task, answer, retry, &mut done)?,
            None => self.lost.push((task.kind, task.key.clone())),
        }
        self.commit(task.kind, &done)?;
        self.bar.inc(1);
        Ok(())
    }

    /// Mark changes as sent before sending them (the outbox's rule): when the answer is lost
    /// (a crash, a hang-up), the next push reads what the provider made of them instead of
    /// sending them again: a create is looked up by its externalId, any other change is read
    /// by its id.
    fn mark_sending(&mut self, tasks: &[Task]) -> anyhow::Result<()> {
        let at = now();
        let mut marked: Vec<(Kind, String, Pushed)> = Vec::new();
        for t in tasks {
            let state = self.state(t.kind);
            let p = state.entry(t.key.clone()).or_default();
            p.sending = Some(at.clone());
            marked.push((t.kind, t.key.clone(), p.clone()));
        }
        for kind in [Kind::User, Kind::Group] {
            let rows: Vec<(&str, &Pushed)> = marked
                .iter()
                .filter(|(k, _, _)| *k == kind)
                .map(|(_, key, p)| (key.as_str(), p))
                .collect();
            if !rows.is_empty() {
                self.store.scim_save(kind, rows)?;
            }
        }
        Ok(())
    }

    pub(super) fn commit(&mut self, kind: Kind, keys: &[String]) -> anyhow::Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let state = match kind {
            Kind::User => &self.users,
            Kind::Group => &self.groups,
        };
        let rows: Vec<(&str, &Pushed)> = keys
            .iter()
            .filter_map(|k| state.get(k).map(|p| (k.as_str(), p)))
            .collect();
        self.store.scim_save(kind, rows)
    }

    fn if_match(&self, task: &Task) -> Option<String> {
        if !self.features.etag {
            return None;
        }
        self.state_ref(task.kind)
            .get(&task.key)
            .and_then(|p| p.etag.clone())
    }

    fn request<'t>(&self, task: &'t Task) -> (Method, String, Option<Cow<'t, str>>) {
        let base = endpoint(task.kind);
        match &task.op {
            Op::Create { body, .. } => (Method::POST, base.to_string(), Some(Cow::Borrowed(body))),
            Op::Replace { id, body, .. } | Op::Release { id, body, .. } => (
                Method::PUT,
                format!("{base}/{}", percent(id)),
                Some(Cow::Borrowed(body)),
            ),
            Op::Patch {
                id,
                rename,
                add,
                remove,
                ..
            } => (
                Method::PATCH,
                format!("{base}/{}", percent(id)),
                Some(Cow::Owned(
                    resource::group_patch(
                        rename.as_deref(),
                        add,
                        remove,
                        self.features.remove_by_value,
                    )
                    .to_string(),
                )),
            ),
            Op::SetActive { id, active } => (
                Method::PATCH,
                format!("{base}/{}", percent(id)),
                Some(Cow::Owned(resource::set_active(*active).to_string())),
            ),
            Op::Delete { id } => (Method::DELETE, format!("{base}/{}", percent(id)), None),
        }
    }

    /// One change alone; `None` when the answer to a create was lost.
    fn single(&mut self, task: &Task) -> anyhow::Result<Option<Answer>> {
        self.sent_by_value = self.features.remove_by_value;
        let (method, path, body) = self.request(task);
        let tag = self.if_match(task);
        let bytes = body.map(|b| b.into_owned().into_bytes());
        let repeat = match task.op {
            Op::Create { .. } => Repeat::Never,
            _ => Repeat::Safe,
        };
        let reply =
            self.client()?
                .send_as(repeat, method, &path, bytes.as_deref(), tag.as_deref())?;
        Ok(reply.as_ref().map(Answer::of))
    }

    /// One operation of a bulk request, as JSON text: the planned body goes in as it is.
    fn bulk_op(&self, task: &Task, index: usize) -> String {
        let (method, path, body) = self.request(task);
        let mut op = format!(
            "{{\"method\":\"{}\",\"path\":{},\"bulkId\":\"b{index}\"",
            method.as_str(),
            Value::from(path)
        );
        if let Some(body) = body {
            op.push_str(",\"data\":");
            op.push_str(&body);
        }
        if let Some(tag) = self.if_match(task) {
            op.push_str(",\"version\":");
            op.push_str(&Value::from(tag).to_string());
        }
        op.push('}');
        op
    }

    fn send_bulk(&mut self, tasks: Vec<Task>, retry: &mut BTreeSet<String>) -> anyhow::Result<()> {
        // The bulkIds are the places in this request: b0, b1, …
        self.sent_by_value = self.features.remove_by_value;
        let mut body = Vec::with_capacity(self.features.bulk_bytes.min(16 << 20));
        body.extend_from_slice(
            format!(
                "{{\"schemas\":[\"{}\"],\"failOnErrors\":{},\"Operations\":[",
                resource::BULK_REQUEST_SCHEMA,
                tasks.len() + 1
            )
            .as_bytes(),
        );
        for (i, task) in tasks.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(self.bulk_op(task, i).as_bytes());
        }
        body.extend_from_slice(b"]}");
        self.mark_sending(&tasks)?;
        let creates = tasks.iter().any(|t| matches!(t.op, Op::Create { .. }));
        let repeat = if creates { Repeat::Never } else { Repeat::Safe };
        let reply = self
            .client()?
            .send_as(repeat, Method::POST, "/Bulk", Some(&body), None)?;
        self.bulk_requests += 1;
        let Some(reply) = reply else {
            return self.bulk_lost(&tasks, retry);
        };
        if !reply.ok() {
            // The provider would not take the bulk as a whole: one request per change.
            for task in &tasks {
                self.one(task, retry)?;
            }
            return Ok(());
        }
        self.bulk_answers(tasks, &reply, retry)
    }

    /// A bulk whose answer was lost: its creates are looked up before they are sent again;
    /// its other changes (the same whenever they are carried out) are planned again.
    fn bulk_lost(&mut self, tasks: &[Task], retry: &mut BTreeSet<String>) -> anyhow::Result<()> {
        for task in tasks {
            match task.op {
                Op::Create { .. } => self.lost.push((task.kind, task.key.clone())),
                _ => {
                    retry.insert(task.key.clone());
                }
            }
        }
        self.bar.inc(tasks.len() as u64);
        Ok(())
    }

    /// Settle each operation of a bulk's answer; an operation the answer does not confirm
    /// stays pending (marked as sent, so the next push reads what became of it).
    fn bulk_answers(
        &mut self,
        tasks: Vec<Task>,
        reply: &Reply,
        retry: &mut BTreeSet<String>,
    ) -> anyhow::Result<()> {
        let mut answers: Vec<Option<BulkOpAnswer>> = (0..tasks.len()).map(|_| None).collect();
        if !read_bulk(&reply.bytes, &mut answers) {
            let what = format!("POST /Bulk answered {} without Operations", reply.status);
            for task in &tasks {
                self.unconfirmed(task, &what);
            }
            self.bar.inc(tasks.len() as u64);
            return Ok(());
        }
        let mut done: Vec<String> = Vec::new();
        let kind = tasks[0].kind;
        for (i, (task, answer)) in tasks.iter().zip(answers).enumerate() {
            let status = answer.as_ref().and_then(BulkOpAnswer::status);
            match (answer, status) {
                (Some(a), Some(status)) => {
                    let answer = a.answer(status);
                    // A create the provider says it made, without saying which id it has (no
                    // `location`, no `id` in its response): looked up by its externalId (with
                    // the lost ones) instead of left pending.
                    if matches!(task.op, Op::Create { .. })
                        && matches!(status, 200 | 201)
                        && answer.id.is_none()
                    {
                        self.made.push((task.kind, task.key.clone()));
                    } else {
                        self.settle(task, answer, retry, &mut done)?;
                    }
                }
                (Some(_), None) => self.unconfirmed(
                    task,
                    &format!("POST /Bulk answered operation b{i} without a status"),
                ),
                (None, _) => {
                    self.unconfirmed(task, &format!("POST /Bulk answered without operation b{i}"))
                }
            }
        }
        self.bar.inc(tasks.len() as u64);
        self.commit(kind, &done)
    }

    /// [`Pusher::recover`], for a provider that is down: before the creates whose answer was
    /// lost are looked up (and sent again), the wait it asked for (`Retry-After`) or the
    /// backoff; each is sent again at most `scim.retries` times in a push, then left pending
    /// (marked as sent: the next push looks it up first).
    pub(super) fn recover_lost(&mut self, kind: Kind) -> anyhow::Result<BTreeSet<String>> {
        let lost: BTreeSet<String> = self
            .lost
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, key)| key.clone())
            .collect();
        let tries = lost
            .iter()
            .filter_map(|k| self.resent[index(kind)].get(k))
            .max()
            .copied();
        if !lost.is_empty() {
            let asked = self.client()?.take_retry_after();
            let wait = asked.unwrap_or_else(|| client::backoff(tries.unwrap_or(0)));
            log::debug!(
                "scim: {} {}(s) whose answer was lost looked up in {:.1}s",
                lost.len(),
                kind_name(kind),
                wait.as_secs_f64()
            );
            std::thread::sleep(wait);
        }
        let mut retry = self.recover(kind)?;
        let retries = self.scim.retries;
        for key in lost {
            let found = self
                .state_ref(kind)
                .get(&key)
                .is_some_and(|p| p.scim_id.is_some());
            if found || !retry.contains(&key) {
                continue;
            }
            let sent = self.resent[index(kind)].entry(key.clone()).or_default();
            if *sent < retries {
                *sent += 1;
                continue;
            }
            retry.remove(&key);
            self.unconfirmed.push(format!(
                "{} {key}: the provider's answers were lost {} times (scim.retries = {retries}); it is looked up before it is sent again",
                kind_name(kind),
                *sent + 1
            ));
        }
        Ok(retry)
    }

    /// A 2xx that confirms nothing: the change stays pending (marked as sent).
    fn unconfirmed(&mut self, task: &Task, what: &str) {
        self.unconfirmed.push(format!(
            "{} {} {}: {what}",
            kind_name(task.kind),
            task.key,
            task.action()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Operations go to the slot of their bulkId (else their place), the status in any of its
    /// shapes; operations beyond those sent are skipped, and a body without any is `false`.
    #[test]
    fn a_bulk_answer_is_read_into_its_slots() {
        let body = br#"{"schemas": ["x"], "Operations": [
            {"bulkId": "b1", "status": "201", "location": "https://h/Users/9"},
            {"bulkId": "b0", "status": {"code": 409},
             "response": {"scimType": "uniqueness", "detail": "taken"}},
            {"bulkId": "b0", "status": 200}, {}, {"status": 500}]}"#;
        let mut slots: Vec<Option<BulkOpAnswer>> = vec![None, None];
        assert!(read_bulk(body, &mut slots));
        let status = |s: &Option<BulkOpAnswer>| s.as_ref().and_then(BulkOpAnswer::status);
        assert_eq!(
            (status(&slots[0]), status(&slots[1])),
            (Some(409), Some(201))
        );
        let a = slots[0].take().unwrap().answer(409);
        assert_eq!(a.reason, "409 uniqueness: taken");
        let a = slots[1].take().unwrap().answer(201);
        assert_eq!(a.id.as_deref(), Some("9"));
        let mut slots: Vec<Option<BulkOpAnswer>> = vec![None];
        assert!(read_bulk(br#"{"Operations": [{"bulkId": "b0", "status": "201", "response": {"id": "9", "userName": "ann"}}]}"#, &mut slots));
        let a = slots[0].take().unwrap().answer(201);
        assert_eq!(a.id.as_deref(), Some("9"));
        assert!(!read_bulk(br#"{"detail": "no"}"#, &mut vec![None]));
        assert!(!read_bulk(b"not json", &mut vec![None]));
    }
}
