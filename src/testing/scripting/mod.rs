//! Scripting: when a client does X ([`Trigger`], made by [`on`]), answer Y
//! ([`Action`]) instead of the server, by the rules of a fixture.

pub(crate) mod action;
pub(crate) mod chaos;
pub(crate) mod clock;
pub(crate) mod memory;
pub mod on;
pub(crate) mod rules;
pub(crate) mod trigger;

#[cfg(any(feature = "http", feature = "remote"))]
pub(crate) use action::ActionKind;
pub use action::{Action, Quota};
#[cfg(feature = "http")]
pub(crate) use chaos::SeededChance;
#[cfg(feature = "http")]
pub(crate) use clock::Clock;
pub use rules::RuleHandle;
#[cfg(feature = "http")]
pub(crate) use rules::{Script, Scripted};
pub use trigger::Trigger;
#[cfg(any(feature = "http", feature = "remote"))]
pub(crate) use trigger::TriggerKind;
