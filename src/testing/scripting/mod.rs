//! Scripting: when a client does X ([`Trigger`], made by [`on`]), answer Y
//! ([`Action`]) instead of the server, by the rules of a fixture.

pub(crate) mod action;
#[cfg_attr(not(feature = "http"), allow(dead_code))] // service mode's chaos, for now
pub(crate) mod chaos;
pub mod on;
pub(crate) mod rules;
pub(crate) mod trigger;

pub use action::Action;
#[cfg(any(feature = "http", feature = "remote"))]
pub(crate) use action::ActionKind;
#[cfg(feature = "http")]
pub(crate) use chaos::SeededChance;
pub use rules::RuleHandle;
#[cfg(feature = "http")]
pub(crate) use rules::{Script, Scripted};
pub use trigger::Trigger;
#[cfg(any(feature = "http", feature = "remote"))]
pub(crate) use trigger::TriggerKind;
