//! Sending a plan: one request per change or bulks, each answer committed before the next
//! request; an answer counts only when it confirms the change, and what it shows the provider
//! kept is compared with what was sent.

use super::client::{self, Repeat, Reply};
use super::plan::{Op, Task};
use super::resource::{self, Res};
use super::{endpoint, kind_name, percent, Pusher};
use crate::store::now;
use crate::store::scim::{Kind, Pushed};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::BTreeSet;
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

/// A bulk response (RFC 7644 §3.7.3), read into what roster uses.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BulkAnswer {
    #[serde(rename = "Operations")]
    operations: Option<Vec<BulkOpAnswer>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BulkOpAnswer {
    bulk_id: Option<resource::Text>,
    status: Option<Value>,
    location: Option<resource::Text>,
    version: Option<resource::Text>,
    response: Option<Value>,
}

impl BulkOpAnswer {
    fn status(&self) -> Option<u16> {
        let code = |v: &Value| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        };
        match self.status.as_ref()? {
            Value::Object(o) => o.get("code").and_then(code),
            v => code(v),
        }
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (100..600).contains(c))
    }

    fn answer(self, status: u16) -> Answer {
        let res: Option<Res> = self
            .response
            .as_ref()
            .and_then(|r| serde_json::from_value::<Res>(r.clone()).ok())
            .filter(Res::is_representation);
        let error: client::ErrorBody = self
            .response
            .as_ref()
            .and_then(|r| serde_json::from_value(r.clone()).ok())
            .unwrap_or_default();
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
            Op::Replace { id, body, .. } => (
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
        let parsed: BulkAnswer = reply.parse().unwrap_or_default();
        let Some(ops) = parsed.operations else {
            let what = format!("POST /Bulk answered {} without Operations", reply.status);
            for task in &tasks {
                self.unconfirmed(task, &what);
            }
            self.bar.inc(tasks.len() as u64);
            return Ok(());
        };
        let mut answers: Vec<Option<BulkOpAnswer>> = (0..tasks.len()).map(|_| None).collect();
        for (n, op) in ops.into_iter().enumerate() {
            let index = op
                .bulk_id
                .as_ref()
                .and_then(|b| b.0.strip_prefix('b'))
                .and_then(|i| i.parse::<usize>().ok())
                .unwrap_or(n);
            if let Some(slot) = answers.get_mut(index) {
                *slot = Some(op);
            }
        }
        let mut done: Vec<String> = Vec::new();
        let kind = tasks[0].kind;
        for (i, (task, answer)) in tasks.iter().zip(answers).enumerate() {
            let status = answer.as_ref().and_then(BulkOpAnswer::status);
            match (answer, status) {
                (Some(a), Some(status)) => self.settle(task, a.answer(status), retry, &mut done)?,
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
