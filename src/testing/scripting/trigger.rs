//! When a scripted rule applies: [`Trigger`], made by the functions in
//! [`on`](crate::on) (or parsed from the command line's text form).

use std::fmt;
use std::sync::Arc;

use crate::protocol::{Command, Message};

pub(crate) type CommandPredicate = dyn Fn(&Command) -> bool + Send + Sync;
pub(crate) type MessagePredicate = dyn Fn(&Message) -> bool + Send + Sync;

/// When a rule applies. Made by the functions in [`on`](crate::on).
#[derive(Clone)]
pub struct Trigger {
    pub(crate) kind: TriggerKind,
}

#[derive(Clone)]
pub(crate) enum TriggerKind {
    Connect,
    Helo,
    MailFrom(Option<String>),
    RcptTo(Option<String>),
    Data,
    Auth,
    Message(Option<Arc<MessagePredicate>>),
    DeliveryTo(String),
    Command(String),
    CommandMatching(Arc<CommandPredicate>),
}

impl Trigger {
    pub(crate) fn connect() -> Trigger {
        Trigger {
            kind: TriggerKind::Connect,
        }
    }
    pub(crate) fn helo() -> Trigger {
        Trigger {
            kind: TriggerKind::Helo,
        }
    }
    pub(crate) fn mail_from(address: Option<&str>) -> Trigger {
        Trigger {
            kind: TriggerKind::MailFrom(address.map(str::to_string)),
        }
    }
    pub(crate) fn rcpt_to(address: Option<&str>) -> Trigger {
        Trigger {
            kind: TriggerKind::RcptTo(address.map(str::to_string)),
        }
    }
    pub(crate) fn data() -> Trigger {
        Trigger {
            kind: TriggerKind::Data,
        }
    }
    pub(crate) fn auth() -> Trigger {
        Trigger {
            kind: TriggerKind::Auth,
        }
    }
    pub(crate) fn message(predicate: Option<Arc<MessagePredicate>>) -> Trigger {
        Trigger {
            kind: TriggerKind::Message(predicate),
        }
    }
    pub(crate) fn delivery_to(address: &str) -> Trigger {
        Trigger {
            kind: TriggerKind::DeliveryTo(address.to_string()),
        }
    }
    pub(crate) fn command(verb: &str) -> Trigger {
        Trigger {
            kind: TriggerKind::Command(verb.to_ascii_uppercase()),
        }
    }
    pub(crate) fn command_matching(predicate: Arc<CommandPredicate>) -> Trigger {
        Trigger {
            kind: TriggerKind::CommandMatching(predicate),
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TriggerKind::Connect => f.write_str("on::connect()"),
            TriggerKind::Helo => f.write_str("on::helo()"),
            TriggerKind::MailFrom(Some(address)) => write!(f, "on::mail_from({address:?})"),
            TriggerKind::MailFrom(None) => f.write_str("on::any_mail_from()"),
            TriggerKind::RcptTo(Some(address)) => write!(f, "on::rcpt_to({address:?})"),
            TriggerKind::RcptTo(None) => f.write_str("on::any_rcpt_to()"),
            TriggerKind::Data => f.write_str("on::data()"),
            TriggerKind::Auth => f.write_str("on::auth()"),
            TriggerKind::Message(None) => f.write_str("on::message()"),
            TriggerKind::Message(Some(_)) => f.write_str("on::message_matching(..)"),
            TriggerKind::DeliveryTo(address) => write!(f, "on::delivery_to({address:?})"),
            TriggerKind::Command(verb) => write!(f, "on::command({verb:?})"),
            TriggerKind::CommandMatching(_) => f.write_str("on::command_matching(..)"),
        }
    }
}

impl fmt::Debug for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
