//! The outbox's retry schedule: which waiting messages are due, when the next
//! one is, and the `[delivery]` keys that set the backoff.

use crate::support::Project;
use nhanluc::config::Config;
use nhanluc::state::State;

fn state(dir: &std::path::Path) -> State {
    State::open(&dir.join("state.sqlite3")).expect("state")
}

fn at(offset_seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::seconds(offset_seconds)
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn queue(state: &State, key: &str) -> i64 {
    assert!(
        state
            .enqueue("digest", key, "a@example.org", "s", b"m")
            .expect("enqueue")
    );
    state
        .pending()
        .expect("pending")
        .into_iter()
        .find(|m| m.key == key)
        .expect("queued")
        .id
}

#[test]
fn only_messages_whose_backoff_has_passed_are_due() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = state(dir.path());
    assert_eq!(
        state.next_outbox_attempt().expect("next"),
        None,
        "nothing waits"
    );

    let later = queue(&state, "later");
    let past = queue(&state, "past");
    let sent = queue(&state, "sent");
    let in_an_hour = at(3600);
    state
        .mark_failed(later, "421 busy", &rfc3339(in_an_hour))
        .expect("mark");
    state
        .mark_failed(past, "421 busy", &rfc3339(at(-5)))
        .expect("mark");
    state.mark_sent(sent).expect("sent");

    let due: Vec<i64> = state
        .pending_due(&rfc3339(at(0)))
        .expect("due")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(due, [past]);
    let next = state
        .next_outbox_attempt()
        .expect("next")
        .expect("some wait");
    assert!(next <= at(0) && next > at(-60), "the past one: {next}");

    // Once the past one is sent, the next is the one due in an hour.
    state.mark_sent(past).expect("sent");
    let next = state
        .next_outbox_attempt()
        .expect("next")
        .expect("one waits");
    assert!(
        (next - in_an_hour).num_milliseconds().abs() <= 1,
        "{next} vs {in_an_hour}"
    );
    assert!(state.pending_due(&rfc3339(at(0))).expect("due").is_empty());
    let an_hour_on = state.pending_due(&rfc3339(at(3601))).expect("due");
    assert_eq!(an_hour_on.len(), 1);
    assert_eq!(an_hour_on[0].id, later);
}

#[test]
fn a_message_never_tried_or_with_an_unreadable_time_is_due_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = state(dir.path());
    let fresh = queue(&state, "fresh");
    let next = state.next_outbox_attempt().expect("next").expect("waits");
    assert!(next < at(0), "{next}");
    let odd = queue(&state, "odd");
    // Written by an older nhanluc with another offset notation, or by hand.
    state.mark_failed(odd, "x", "not a time").expect("mark");
    let due: Vec<i64> = state
        .pending_due(&rfc3339(at(0)))
        .expect("due")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(due, [fresh, odd]);
    // Another notation of the same instant compares as that instant.
    state
        .mark_failed(odd, "x", &at(30).to_rfc3339())
        .expect("mark");
    assert!(
        !state
            .pending_due(&rfc3339(at(0)))
            .expect("due")
            .iter()
            .any(|m| m.id == odd)
    );
}

#[test]
fn the_delivery_keys_set_the_backoff() {
    let project =
        Project::with_config_extra("[delivery]\nretry_first_seconds = 5\nretry_max_seconds = 40\n");
    let config = Config::load(&project.config_file()).expect("config");
    let retry = config.delivery.retry;
    assert_eq!(retry.delay_after(1, 0.0).as_secs(), 5);
    assert_eq!(retry.delay_after(3, 0.0).as_secs(), 20);
    assert_eq!(retry.delay_after(9, 0.0).as_secs(), 40);

    let defaults = Config::load(&Project::new().config_file()).expect("config");
    assert_eq!(defaults.delivery.retry, nhanluc::retry::Backoff::MAIL);
    let long_first = Project::with_config_extra("[delivery]\nretry_first_seconds = 86400\n");
    let config =
        Config::load(&long_first.config_file()).expect("a first delay past the default cap");
    assert_eq!(config.delivery.retry.max.as_secs(), 86400);
}

#[test]
fn delivery_keys_out_of_range_are_refused_with_the_file_and_key() {
    for (extra, key) in [
        ("retry_first_seconds = 0", "delivery.retry_first_seconds"),
        (
            "retry_first_seconds = 99999999",
            "delivery.retry_first_seconds",
        ),
        (
            "retry_first_seconds = 60\nretry_max_seconds = 30",
            "delivery.retry_max_seconds",
        ),
        ("retry_max_seconds = 99999999", "delivery.retry_max_seconds"),
    ] {
        let project = Project::with_config_extra(&format!("[delivery]\n{extra}\n"));
        let out = project.run(&["status"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra}: {stderr}");
        assert!(
            stderr.contains("nhanluc.toml") && stderr.contains(key),
            "{extra}: {stderr}"
        );
    }
}
