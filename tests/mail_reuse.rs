//! A leaver's address for a new hire (SPEC §4 `import.reuse_mail_of_deactivated`): off, a
//! record whose Mail a deactivated user holds is `mail-taken` and the message says the holder
//! is deactivated; on, the record takes it, the holder's mail is cleared with an audit row, and
//! the plan says so in its table and its JSON.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use support::Env;

const HEADER: &str = "UniqueID,Name,Mail,Title";

fn file(rows: &[&str]) -> String {
    let mut out = format!("{HEADER}\n");
    for r in rows {
        out.push_str(r);
        out.push('\n');
    }
    out
}

const ANNA: &str = "E1,Anna Berg,anna@example.se,Nurse";
const BO: &str = "E2,Bo Ek,bo@example.se,Nurse";
const CAI: &str = "E3,Cai Lind,cai@example.se,Nurse";
const DAN: &str = "E4,Dan Ros,dan@example.se,Nurse";

fn config(reuse: bool) -> String {
    format!(
        "[import]\nmax_removals = \"100%\"\nmax_updates = \"100%\"\nmax_invalid = \"100%\"\nreuse_mail_of_deactivated = {reuse}\n"
    )
}

/// Four users imported, then Cai and Dan leave (deactivated).
fn with_leavers(reuse: bool) -> Env {
    let env = Env::new();
    env.write("roster.toml", config(reuse));
    env.import("day1.csv", &file(&[ANNA, BO, CAI, DAN]), &[])
        .ok();
    let run = env.import("day2.csv", &file(&[ANNA, BO]), &[]).ok();
    assert_eq!(run.json()["counts"]["remove"], 2);
    env
}

fn history(env: &Env, user: &str) -> Vec<Value> {
    env.roster(&["users", "history", user, "--format", "json"])
        .ok()
        .json()
        .as_array()
        .cloned()
        .unwrap()
}

#[test]
fn off_a_new_hire_cannot_take_a_leavers_address_and_is_told_why() {
    let env = with_leavers(false);
    let day3 = file(&[ANNA, BO, "E9,Nils Ny,CAI@example.se,Doctor"]);
    let p = env.write("day3.csv", &day3);
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();
    let diff = env.roster(&["diff", "--format", "json"]).ok().json();
    assert_eq!(diff["counts"]["invalid"], 1, "{diff:#}");
    assert_eq!(diff["counts"]["create"], 0, "{diff:#}");
    let run = env.roster(&["apply", "--format", "json"]).ok();
    let doc = run.json();
    let taken: Vec<&Value> = doc["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "mail-taken")
        .collect();
    assert_eq!(taken.len(), 1, "{doc:#}");
    let message = taken[0]["message"].as_str().unwrap();
    assert!(message.contains("E3 (deactivated)"), "{message}");
    // The message names the key that would let it through.
    assert!(
        message.contains("import.reuse_mail_of_deactivated"),
        "{message}"
    );
    assert_eq!(env.user("E3")["mail"], "cai@example.se");
    assert!(env
        .roster(&["users", "show", "E9"])
        .stderr
        .contains("no user"));
}

#[test]
fn on_a_new_hire_takes_a_leavers_address_and_the_leavers_mail_is_cleared() {
    let env = with_leavers(true);
    let day3 = file(&[ANNA, BO, "E9,Nils Ny,CAI@example.se,Doctor"]);
    let p = env.write("day3.csv", &day3);
    env.roster(&["fetch", "--source", p.to_str().unwrap()]).ok();

    // The plan shows it, in JSON and in the table; the leaver's release is no update of the
    // file's (so it trips no safeguard).
    let diff = env.roster(&["diff", "--format", "json"]).ok().json();
    assert_eq!(diff["counts"]["create"], 1, "{diff:#}");
    assert_eq!(diff["counts"]["invalid"], 0, "{diff:#}");
    assert_eq!(diff["counts"]["update"], 0, "{diff:#}");
    assert_eq!(
        diff["mail_reused"],
        serde_json::json!([{"unique_id": "E3", "mail": "cai@example.se", "to": "E9"}]),
        "{diff:#}"
    );
    let table = env.roster(&["diff"]).ok().stdout;
    assert!(
        table.contains("mail reused: cai@example.se from E3 (deactivated) to E9"),
        "{table}"
    );

    let run = env.roster(&["apply"]).ok();
    assert!(
        run.stdout.contains("mail reused: cai@example.se from E3"),
        "{}",
        run.stdout
    );
    let nils = env.user("E9");
    assert_eq!(nils["mail"], "CAI@example.se");
    let cai = env.user("E3");
    assert_eq!(cai["status"], "deactivated");
    assert!(cai["mail"].is_null(), "{cai:#}");
    // The leaver's history says what happened, in the run that did it.
    let rows = history(&env, "E3");
    let last = rows.last().unwrap();
    assert_eq!(last["field"], "mail", "{rows:#?}");
    assert_eq!(last["old"], "cai@example.se");
    assert!(last["new"].is_null());
    assert_eq!(last["run"], history(&env, "E9")[0]["run"]);
    // The address now finds the new hire; applying again changes nothing.
    assert_eq!(env.user("cai@example.se")["unique_id"], "E9");
    let again = env.roster(&["diff", "--format", "json"]).ok().json();
    assert!(again["mail_reused"].is_null(), "{again:#}");

    // An update may take a leaver's address too.
    let day4 = file(&[
        ANNA,
        "E2,Bo Ek,DAN@example.se,Nurse",
        "E9,Nils Ny,CAI@example.se,Doctor",
    ]);
    let run = env.import("day4.csv", &day4, &[]).ok().json();
    assert_eq!(run["counts"]["update"], 1, "{run:#}");
    assert_eq!(run["plan"]["mail_reused"][0]["unique_id"], "E4", "{run:#}");
    assert_eq!(env.user("E2")["mail"], "DAN@example.se");
    assert!(env.user("E4")["mail"].is_null());

    // The leaver comes back with an address of its own: reactivated with it.
    let day5 = file(&[
        ANNA,
        "E2,Bo Ek,DAN@example.se,Nurse",
        "E3,Cai Lind,cai.lind@example.se,Nurse",
        "E9,Nils Ny,CAI@example.se,Doctor",
    ]);
    let run = env.import("day5.csv", &day5, &[]).ok().json();
    assert_eq!(run["counts"]["reactivate"], 1, "{run:#}");
    assert_eq!(env.user("E3")["mail"], "cai.lind@example.se");
    assert_eq!(env.user("E3")["status"], "active");
}

#[test]
fn on_a_user_who_leaves_in_the_same_file_frees_the_address() {
    let env = Env::new();
    env.write("roster.toml", config(true));
    env.import("day1.csv", &file(&[ANNA, BO, CAI]), &[]).ok();
    // Cai leaves and Nils arrives with Cai's address in one file.
    let run = env
        .import(
            "day2.csv",
            &file(&[ANNA, BO, "E9,Nils Ny,cai@example.se,Doctor"]),
            &[],
        )
        .ok()
        .json();
    assert_eq!(run["counts"]["remove"], 1, "{run:#}");
    assert_eq!(run["counts"]["create"], 1, "{run:#}");
    assert_eq!(run["plan"]["mail_reused"][0]["unique_id"], "E3", "{run:#}");
    assert_eq!(env.user("E9")["mail"], "cai@example.se");
    let cai = env.user("E3");
    assert_eq!(cai["status"], "deactivated");
    assert!(cai["mail"].is_null(), "{cai:#}");

    // A holder that stays active is never freed: one missing from a file for the first of two
    // files (remove_after_missing = 2) keeps its address, and the record is mail-taken.
    let mut cfg = config(true);
    cfg.push_str("remove_after_missing = 2\n");
    env.write("roster.toml", cfg);
    let run = env
        .import(
            "day3.csv",
            &file(&[
                ANNA,
                "E9,Nils Ny,cai@example.se,Doctor",
                "E8,Eva,bo@example.se,",
            ]),
            &[],
        )
        .ok()
        .json();
    assert_eq!(run["counts"]["missing"], 1, "{run:#}");
    assert_eq!(run["counts"]["invalid"], 1, "{run:#}");
    assert!(run["plan"]["mail_reused"].is_null(), "{run:#}");
    assert_eq!(env.user("E2")["mail"], "bo@example.se");
}

#[test]
fn on_a_leaver_the_file_names_keeps_its_address() {
    // A Skip record leaves its user exactly as it is, and so does an invalid one.
    let env = with_leavers(true);
    let text = "UniqueID,Name,Mail,Title,Skip\n\
                E1,Anna Berg,anna@example.se,Nurse,\n\
                E2,Bo Ek,bo@example.se,Nurse,\n\
                E3,,,,1\n\
                E9,Nils Ny,cai@example.se,Doctor,\n";
    let run = env.import("day3.csv", text, &[]).ok().json();
    assert_eq!(run["counts"]["invalid"], 1, "{run:#}");
    assert_eq!(env.user("E3")["mail"], "cai@example.se");
}

#[test]
fn a_revert_of_the_run_leaves_the_address_with_whoever_holds_it() {
    let env = with_leavers(true);
    let run = env
        .import(
            "day3.csv",
            &file(&[ANNA, BO, "E9,Nils Ny,cai@example.se,Doctor"]),
            &[],
        )
        .ok()
        .json();
    let id = run["run"].to_string();
    env.roster(&["revert", &id]).ok();
    // The new hire is deactivated and keeps the address; the leaver stays without one.
    assert_eq!(env.user("E9")["status"], "deactivated");
    assert_eq!(env.user("E9")["mail"], "cai@example.se");
    assert!(env.user("E3")["mail"].is_null());

    // With missing_users = "delete" the new hire's removal frees the address: it goes back.
    let env = with_leavers(true);
    let mut cfg = config(true);
    cfg.push_str("missing_users = \"delete\"\n");
    env.write("roster.toml", cfg);
    let run = env
        .import(
            "day3.csv",
            &file(&[ANNA, BO, "E9,Nils Ny,cai@example.se,Doctor"]),
            &[],
        )
        .ok()
        .json();
    let id = run["run"].to_string();
    env.roster(&["revert", &id]).ok();
    assert!(env.roster(&["users", "show", "E9"]).code != 0);
    assert_eq!(env.user("E3")["mail"], "cai@example.se");
}

#[test]
fn a_user_whose_address_was_given_away_is_not_invited_to_it() {
    let env = Env::new();
    // Invitations queued but not sent (no [mail] yet): Cai's is pending when Cai leaves.
    env.write(
        "roster.toml",
        format!("{}send_invitations = true\n", config(true)),
    );
    env.import("day1.csv", &file(&[ANNA, BO, CAI]), &[]).ok();
    env.import("day2.csv", &file(&[ANNA, BO]), &[]).ok();
    env.import(
        "day3.csv",
        &file(&[ANNA, BO, "E9,Nils Ny,cai@example.se,Doctor"]),
        &[],
    )
    .ok();
    // Cai's pending invitation went with the address: only the new hire's is for it.
    let db = env.db();
    let to_cai: Vec<(String, String)> = db
        .prepare("SELECT o.status, u.unique_id FROM outbox o JOIN users u ON u.pk = o.user_pk WHERE o.recipient = 'cai@example.se' AND o.status = 'pending'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(to_cai, [("pending".to_string(), "E9".to_string())]);
    env.write(
        "roster.toml",
        format!(
            "{}\n[mail]\nsmtp_url = \"smtp://127.0.0.1:1\"\ntls = \"none\"\nfrom = \"r@example.se\"\n",
            config(true)
        ),
    );
    let run = env.roster(&["users", "invite", "E3", "--resend"]).code(2);
    assert!(run.stderr.contains("no mail address"), "{}", run.stderr);
}

/// A revert that would give a user back an address another user has now leaves it, and says
/// why: the address is that user's (`mail-taken`, naming the holder), not a field changed
/// since. Both for a user the run changed and for one it deleted.
#[test]
fn a_revert_names_the_user_who_has_the_address_now() {
    let env = with_leavers(false);
    // Run R gives Bo a new address; the next one gives Bo's old one to Eva (E5).
    let run = env
        .import(
            "day3.csv",
            &file(&[ANNA, "E2,Bo Ek,bo.ek@example.se,Nurse"]),
            &[],
        )
        .ok()
        .json();
    let id = run["run"].to_string();
    let eva = "E5,Eva Ny,BO@example.se,Doctor";
    let bo = "E2,Bo Ek,bo.ek@example.se,Nurse";
    env.import("day4.csv", &file(&[ANNA, bo, eva]), &[]).ok();
    let rev = env
        .roster(&["revert", &id, "--dry-run", "--format", "json"])
        .ok()
        .json();
    let conflicts = rev["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{rev:#}");
    let c = &conflicts[0];
    assert_eq!(c["unique_id"], "E2", "{rev:#}");
    assert_eq!(c["field"], "mail", "{rev:#}");
    assert_eq!(c["reason"], "mail-taken", "{rev:#}");
    assert_eq!(c["held_by"], "E5", "{rev:#}");
    assert_eq!(c["taken"], "bo@example.se", "{rev:#}");
    assert_eq!(c["now"], "bo.ek@example.se", "{rev:#}");
    let table = env.roster(&["revert", &id, "--dry-run"]).ok().stdout;
    assert!(!table.contains("changed since"), "{table}");
    assert!(table.contains("bo@example.se is now E5's"), "{table}");

    // A field changed since is still that, with its reason.
    env.import(
        "day5.csv",
        &file(&[ANNA, "E2,Bo Ek,b.ek@example.se,Nurse", eva]),
        &[],
    )
    .ok();
    let rev = env
        .roster(&["revert", &id, "--dry-run", "--format", "json"])
        .ok()
        .json();
    assert_eq!(rev["conflicts"][0]["reason"], "changed-since", "{rev:#}");
    assert!(rev["conflicts"][0]["held_by"].is_null(), "{rev:#}");
    let table = env.roster(&["revert", &id, "--dry-run"]).ok().stdout;
    assert!(table.contains("changed since run"), "{table}");

    // A user the run deleted is not brought back while another user has its address.
    let env = with_leavers(false);
    let mut cfg = config(false);
    cfg.push_str("missing_users = \"delete\"\n");
    env.write("roster.toml", cfg);
    let run = env.import("day3.csv", &file(&[ANNA]), &[]).ok().json();
    let id = run["run"].to_string();
    env.import(
        "day4.csv",
        &file(&[ANNA, "E9,Nils Ny,bo@example.se,Doctor"]),
        &[],
    )
    .ok();
    let rev = env
        .roster(&["revert", &id, "--dry-run", "--format", "json"])
        .ok()
        .json();
    let taken: Vec<&Value> = rev["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["unique_id"] == "E2")
        .collect();
    assert_eq!(taken.len(), 1, "{rev:#}");
    assert_eq!(taken[0]["reason"], "mail-taken", "{rev:#}");
    assert_eq!(taken[0]["held_by"], "E9", "{rev:#}");
    let table = env.roster(&["revert", &id, "--dry-run"]).ok().stdout;
    assert!(table.contains("bo@example.se is now E9's"), "{table}");
}
