//! The DNS TXT records a test registered (`Builder::dns_txt`, feature
//! `dkim`): what DKIM, SPF and DMARC checks look up instead of real DNS.
//! The store hands them to every message it records, so a message can be
//! checked long after, and by an inbox.

use std::fmt;
use std::sync::Arc;

/// Name and value pairs, names in lower case without a trailing dot.
#[derive(Clone, Default)]
pub(crate) struct DnsRecords(Arc<Vec<(String, String)>>);

#[cfg_attr(not(feature = "dkim"), allow(dead_code))] // read by the DKIM checks only
impl DnsRecords {
    pub(crate) fn new(records: Vec<(String, String)>) -> DnsRecords {
        DnsRecords(Arc::new(records))
    }

    /// `name` as records are kept: lower case, no trailing dot.
    pub(crate) fn normalized(name: &str) -> String {
        name.trim().trim_end_matches('.').to_ascii_lowercase()
    }

    /// The values registered at `name` (any case, trailing dot or not).
    pub(crate) fn txt(&self, name: &str) -> Vec<&str> {
        let name = DnsRecords::normalized(name);
        self.0
            .iter()
            .filter(|(registered, _)| *registered == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// Every name with a record, once each, in order of registration.
    pub(crate) fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in self.0.iter() {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }
}

/// The records are the fixture's context, not part of a message: two
/// messages compare equal whatever records came with them.
impl PartialEq for DnsRecords {
    fn eq(&self, _: &DnsRecords) -> bool {
        true
    }
}

impl Eq for DnsRecords {}

impl fmt::Debug for DnsRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DnsRecords({} TXT)", self.0.len())
    }
}
