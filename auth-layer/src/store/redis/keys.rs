//! The names of the store's keys and channel, all under one prefix.

/// Key names for one prefix; see the module docs for what each holds.
pub(super) struct Keys {
    prefix: String,
    /// The sorted set of revocations.
    pub(super) revoked: String,
    /// The channel every revocation is published on.
    pub(super) channel: String,
}

impl Keys {
    pub(super) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            revoked: format!("{prefix}revoked"),
            channel: format!("{prefix}revocations"),
        }
    }

    pub(super) fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(super) fn session(&self, sid: &str) -> String {
        format!("{}s:{sid}", self.prefix)
    }

    pub(super) fn answer(&self, sid: &str) -> String {
        format!("{}a:{sid}", self.prefix)
    }

    pub(super) fn user(&self, sub: &str) -> String {
        format!("{}u:{sub}", self.prefix)
    }
}
