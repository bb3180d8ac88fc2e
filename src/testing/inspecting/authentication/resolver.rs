//! The test's DNS, as mail-auth's caches: every lookup is answered from the
//! records the test registered (`Builder::dns_txt`), so mail-auth never
//! asks its resolver, and a name without a record does not exist. Its
//! resolver is built with no name server at all, in case.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::pin::pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dkim::DomainKeyReport;
use mail_auth::dmarc::Dmarc;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::spf::Spf;
use mail_auth::{
    DnsError, DnssecStatus, Error, MessageAuthenticator, Parameters, RecordSet, ResolverCache, Txt,
};

use crate::testing::recording::dns::DnsRecords;

/// The authenticator: its resolver knows no name server.
pub(super) static AUTHENTICATOR: LazyLock<MessageAuthenticator> = LazyLock::new(|| {
    MessageAuthenticator::new(
        ResolverConfig::from_parts(None, Vec::new(), Vec::new()),
        ResolverOpts::default(),
    )
    .unwrap_or_else(|error| panic!("smtp-fixture: cannot build the offline DKIM checker: {error}"))
});

/// The TXT answers: the registered values at each name, parsed as the
/// record kind the name says (`_dmarc.`, `._domainkey.`, else SPF). A name
/// not in the map does not exist (NXDOMAIN).
pub(super) struct TestTxt(HashMap<Box<str>, Txt>);

impl TestTxt {
    pub(super) fn new(records: &DnsRecords) -> TestTxt {
        let mut answers = HashMap::new();
        for name in records.names() {
            // mail-auth asks for lower-case names with the root's dot.
            answers.insert(
                format!("{name}.").into_boxed_str(),
                answer(name, &records.txt(name)),
            );
        }
        TestTxt(answers)
    }
}

impl ResolverCache<Box<str>, Txt> for TestTxt {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        Some(
            self.0
                .get(name)
                .cloned()
                .unwrap_or(Txt::Error(Error::Dns(DnsError::RecordNotFound(
                    ResponseCode::NXDomain,
                )))),
        )
    }

    fn remove<Q>(&self, _: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: Box<str>, _: Txt, _: Instant) {}
}

fn answer(name: &str, values: &[&str]) -> Txt {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("_dmarc.") {
        first_parsed::<Dmarc>(values)
    } else if lower.starts_with("_report._domainkey.") {
        first_parsed::<DomainKeyReport>(values)
    } else if lower.contains("._domainkey.") {
        first_parsed::<DomainKey>(values)
    } else {
        first_parsed::<Spf>(values)
    }
}

fn first_parsed<T: TxtRecordParser + Into<Txt>>(values: &[&str]) -> Txt {
    let mut last = Err(Error::Dns(DnsError::InvalidRecordType));
    for value in values {
        last = T::parse(value.as_bytes());
        if last.is_ok() {
            break;
        }
    }
    last.into()
}

/// Address, MX and PTR lookups find nothing: the test registers TXT
/// records only (SPF's `a` and `mx` mechanisms match no address).
pub(super) struct Nothing;

impl<K, V> ResolverCache<K, RecordSet<V>> for Nothing {
    fn get<Q>(&self, _: &Q) -> Option<RecordSet<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        Some(RecordSet {
            rrset: Arc::from(Vec::new()),
            dnssec_status: DnssecStatus::Indeterminate,
        })
    }

    fn remove<Q>(&self, _: &Q) -> Option<RecordSet<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: K, _: RecordSet<V>, _: Instant) {}
}

/// The parameters for one check: `input` with the test's DNS.
pub(super) type Offline<'x, P> = Parameters<'x, P, TestTxt, Nothing, Nothing, Nothing, Nothing>;

pub(super) fn offline<P>(input: P, txt: &TestTxt) -> Offline<'_, P> {
    Parameters {
        params: input,
        cache_txt: Some(txt),
        cache_mx: Some(&NOTHING),
        cache_ptr: Some(&NOTHING),
        cache_ipv4: Some(&NOTHING),
        cache_ipv6: Some(&NOTHING),
    }
}

static NOTHING: Nothing = Nothing;

/// Runs a check to its end on this thread. Every lookup is answered at
/// once, so the check never waits: no runtime is needed, and it works the
/// same inside an async test or a service route.
pub(super) fn run_offline<F: Future>(check: F) -> F::Output {
    let mut check = pin!(check);
    let mut context = Context::from_waker(Waker::noop());
    // A few polls for any yield inside; a lookup that went to a resolver
    // would stay pending, and that is a bug here.
    for _ in 0..64 {
        if let Poll::Ready(output) = check.as_mut().poll(&mut context) {
            return output;
        }
    }
    panic!("smtp-fixture: a DKIM/SPF/DMARC check waited on DNS; every lookup should be answered from the test's records")
}
