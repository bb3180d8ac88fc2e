//! [`RemoteRule`]: a rule sent to a service in its text form, and tuned
//! over HTTP by its ID.

use std::fmt;

use serde_json::{json, Value};

use super::client::Remote;
use crate::rule_text::spell;
use crate::testing::inboxes::registry::answers_only_recipients;
use crate::testing::scripting::action::Action;
use crate::testing::scripting::trigger::Trigger;

/// A rule added by [`RemoteServer::respond`](crate::RemoteServer::respond) or [`RemoteInbox::respond`](crate::RemoteInbox::respond):
/// as [`RuleHandle`](crate::RuleHandle), over HTTP.
pub struct RemoteRule {
    remote: Remote,
    id: u64,
}

impl RemoteRule {
    /// Fire only `n` times in all.
    pub fn times(self, n: usize) -> RemoteRule {
        expect(self.remote.ok(
            "PATCH",
            &format!("/api/v1/rules/{}", self.id),
            Some(&json!({ "times": n })),
        ));
        self
    }

    /// How many times the rule fired so far.
    pub fn hits(&self) -> usize {
        let rule = expect(self.remote.ok("GET", &format!("/api/v1/rules/{}", self.id), None));
        rule["Hits"].as_u64().unwrap_or_default() as usize
    }

    /// Takes the rule out.
    pub fn remove(&self) {
        expect(
            self.remote
                .ok("DELETE", &format!("/api/v1/rules/{}", self.id), None),
        );
    }
}

impl fmt::Debug for RemoteRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteRule {} on {}", self.id, self.remote.base)
    }
}

#[track_caller]
pub(crate) fn expect<T>(answer: Result<T, String>) -> T {
    answer.unwrap_or_else(|error| panic!("smtp-fixture: the service did not answer: {error}"))
}

/// Sends `trigger => action` as a rule, for `inbox` if given.
#[track_caller]
pub(crate) fn add_rule(remote: &Remote, trigger: &Trigger, action: Action) -> RemoteRule {
    let Some((kind, text)) = spell(trigger, &action) else {
        panic!(
            "smtp-fixture: respond({trigger}, {action}) has no text form (a closure or raw bytes), so it cannot \
             be sent to a remote server"
        );
    };
    let mut rule = json!({ kind.name(): text });
    if let Some(inbox) = &remote.inbox {
        if !answers_only_recipients(trigger) {
            panic!("smtp-fixture: an inbox's rule answers only its own recipients, and {trigger} comes before any recipient");
        }
        rule["inbox"] = Value::String(inbox.clone());
    }
    let added = expect(remote.ok("POST", "/api/v1/rules", Some(&rule)));
    let id = added["Added"][0].as_u64().unwrap_or_default();
    RemoteRule {
        remote: remote.clone(),
        id,
    }
}
