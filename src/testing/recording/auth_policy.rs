//! Which credentials a fixture accepts: the recorder checks AUTH against
//! it, the builder's `auth_*` options set it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::protocol::auth::Credentials;

/// Which credentials a fixture accepts.
#[derive(Clone, Default)]
pub(crate) enum AuthPolicy {
    /// AUTH is not offered.
    #[default]
    Off,
    /// Any user name and password.
    Any,
    /// These users with these passwords.
    Users(HashMap<String, String>),
    /// Whatever the closure says.
    Check(Arc<dyn Fn(&Credentials) -> bool + Send + Sync>),
}

impl AuthPolicy {
    pub(crate) fn accepts(&self, credentials: &Credentials) -> bool {
        match self {
            AuthPolicy::Off => false,
            AuthPolicy::Any => true,
            AuthPolicy::Users(users) => users
                .get(credentials.username())
                .is_some_and(|password| credentials.check_password(password)),
            AuthPolicy::Check(check) => check(credentials),
        }
    }
}

impl std::fmt::Debug for AuthPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthPolicy::Off => f.write_str("Off"),
            AuthPolicy::Any => f.write_str("Any"),
            AuthPolicy::Users(users) => f.debug_list().entries(users.keys()).finish(),
            AuthPolicy::Check(_) => f.write_str("Check(..)"),
        }
    }
}
