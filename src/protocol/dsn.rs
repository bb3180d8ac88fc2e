//! Delivery status notification requests (DSN, RFC 3461): `RET` and
//! `ENVID` on MAIL, `NOTIFY` and `ORCPT` on RCPT, checked by the RFC's
//! rules and kept typed, values decoded from xtext.

/// What a bounce should carry (`RET=`, RFC 3461, 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    /// `RET=FULL`: the whole message.
    Full,
    /// `RET=HDRS`: its headers only.
    Headers,
}

/// The DSN parameters of a transaction's MAIL command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailDsn {
    /// `RET=`, if given.
    pub ret: Option<Return>,
    /// `ENVID=`, decoded, if given: the client's identifier for the
    /// transaction, to be quoted in any DSN.
    pub envid: Option<String>,
}

/// When to send a DSN for a recipient (`NOTIFY=`, RFC 3461, 4.1): all
/// false is `NOTIFY=NEVER`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notify {
    /// `SUCCESS`: on delivery.
    pub success: bool,
    /// `FAILURE`: on failure.
    pub failure: bool,
    /// `DELAY`: on a delay.
    pub delay: bool,
}

impl Notify {
    /// `NOTIFY=NEVER`.
    pub fn never(&self) -> bool {
        !(self.success || self.failure || self.delay)
    }
}

/// `ORCPT=addr-type;address` (RFC 3461, 4.2): the recipient as first given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalRecipient {
    /// The address type, e.g. `rfc822`.
    pub addr_type: String,
    /// The address, decoded from xtext.
    pub address: String,
}

/// The DSN parameters of one accepted `RCPT TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientDsn {
    /// The forward path these parameters came with.
    pub recipient: String,
    /// `NOTIFY=`, if given.
    pub notify: Option<Notify>,
    /// `ORCPT=`, if given.
    pub orcpt: Option<OriginalRecipient>,
}

/// A DSN parameter that breaks RFC 3461: the text of the `501` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DsnError(pub(crate) String);

/// The longest `ENVID` (RFC 3461, 4.4) and `ORCPT` (4.2) values, as sent.
const ENVID_MAX: usize = 100;
const ORCPT_MAX: usize = 500;

impl MailDsn {
    /// Takes `keyword[=value]` (keyword upper case, value as sent) if it is a
    /// DSN parameter of MAIL: `Ok(false)` when it is not one.
    pub(crate) fn add(&mut self, keyword: &str, value: Option<&str>) -> Result<bool, DsnError> {
        match keyword {
            "RET" => {
                let ret = match value.map(str::to_ascii_uppercase).as_deref() {
                    Some("FULL") => Return::Full,
                    Some("HDRS") => Return::Headers,
                    _ => return Err(DsnError("RET must be FULL or HDRS".into())),
                };
                once(&mut self.ret, ret, "RET")?;
            }
            "ENVID" => {
                let value = value.unwrap_or_default();
                if value.len() > ENVID_MAX {
                    return Err(DsnError(format!("ENVID is longer than {ENVID_MAX} characters")));
                }
                let envid = decode_xtext(value).ok_or_else(|| DsnError("ENVID is not xtext".into()))?;
                once(&mut self.envid, envid, "ENVID")?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether any DSN parameter was given.
    pub(crate) fn is_empty(&self) -> bool {
        self.ret.is_none() && self.envid.is_none()
    }
}

impl RecipientDsn {
    /// No DSN parameters yet for `recipient`.
    pub(crate) fn new(recipient: &str) -> RecipientDsn {
        RecipientDsn {
            recipient: recipient.to_string(),
            notify: None,
            orcpt: None,
        }
    }

    /// Takes `keyword[=value]` (keyword upper case, value as sent) if it is a
    /// DSN parameter of RCPT: `Ok(false)` when it is not one.
    pub(crate) fn add(&mut self, keyword: &str, value: Option<&str>) -> Result<bool, DsnError> {
        match keyword {
            "NOTIFY" => {
                let notify = parse_notify(value.unwrap_or_default())?;
                once(&mut self.notify, notify, "NOTIFY")?;
            }
            "ORCPT" => {
                let value = value.unwrap_or_default();
                if value.len() > ORCPT_MAX {
                    return Err(DsnError(format!("ORCPT is longer than {ORCPT_MAX} characters")));
                }
                let (addr_type, address) = value
                    .split_once(';')
                    .filter(|(addr_type, _)| is_atom(addr_type))
                    .ok_or_else(|| DsnError("ORCPT must be addr-type;xtext".into()))?;
                let address = decode_xtext(address)
                    .filter(|a| !a.is_empty())
                    .ok_or_else(|| DsnError("ORCPT's address is not xtext".into()))?;
                let orcpt = OriginalRecipient {
                    addr_type: addr_type.to_string(),
                    address,
                };
                once(&mut self.orcpt, orcpt, "ORCPT")?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Whether any DSN parameter was given.
    pub(crate) fn is_empty(&self) -> bool {
        self.notify.is_none() && self.orcpt.is_none()
    }
}

/// `RET=HDRS ENVID=<decoded>`: what was asked, for transcripts and
/// snapshots.
impl std::fmt::Display for MailDsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(ret) = self.ret {
            parts.push(format!(
                "RET={}",
                if ret == Return::Full { "FULL" } else { "HDRS" }
            ));
        }
        if let Some(envid) = &self.envid {
            parts.push(format!("ENVID={envid}"));
        }
        f.write_str(&parts.join(" "))
    }
}

/// `NOTIFY=SUCCESS,DELAY ORCPT=rfc822;<decoded>`.
impl std::fmt::Display for RecipientDsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if let Some(notify) = self.notify {
            let words: Vec<&str> = [
                (notify.success, "SUCCESS"),
                (notify.failure, "FAILURE"),
                (notify.delay, "DELAY"),
            ]
            .into_iter()
            .filter_map(|(on, word)| on.then_some(word))
            .collect();
            let words = if words.is_empty() {
                "NEVER".to_string()
            } else {
                words.join(",")
            };
            parts.push(format!("NOTIFY={words}"));
        }
        if let Some(orcpt) = &self.orcpt {
            parts.push(format!("ORCPT={};{}", orcpt.addr_type, orcpt.address));
        }
        f.write_str(&parts.join(" "))
    }
}

fn once<T>(slot: &mut Option<T>, value: T, keyword: &str) -> Result<(), DsnError> {
    if slot.is_some() {
        return Err(DsnError(format!("{keyword} given twice")));
    }
    *slot = Some(value);
    Ok(())
}

/// `NEVER`, or a comma-separated list of `SUCCESS`, `FAILURE`, `DELAY`
/// (any case, each once).
fn parse_notify(value: &str) -> Result<Notify, DsnError> {
    let bad = || DsnError("NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY".into());
    if value.eq_ignore_ascii_case("NEVER") {
        return Ok(Notify::default());
    }
    let mut notify = Notify::default();
    for word in value.split(',') {
        let flag = match word.to_ascii_uppercase().as_str() {
            "SUCCESS" => &mut notify.success,
            "FAILURE" => &mut notify.failure,
            "DELAY" => &mut notify.delay,
            _ => return Err(bad()),
        };
        if std::mem::replace(flag, true) {
            return Err(bad());
        }
    }
    Ok(notify)
}

/// An addr-type: an atom of RFC 5322 letters, digits and `-`.
fn is_atom(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Decodes xtext (RFC 3461, 4): printable ASCII but `+` and `=`, and `+XX`
/// (two upper-case hex digits) for any byte. `None` when it is not xtext
/// or does not decode to UTF-8.
pub(crate) fn decode_xtext(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => {
                let hex = bytes.get(at + 1..at + 3)?;
                let digit = |b: u8| match b {
                    b'0'..=b'9' => Some(b - b'0'),
                    b'A'..=b'F' => Some(b - b'A' + 10),
                    _ => None,
                };
                decoded.push(digit(hex[0])? * 16 + digit(hex[1])?);
                at += 3;
            }
            b'=' => return None,
            b @ 33..=126 => {
                decoded.push(b);
                at += 1;
            }
            _ => return None,
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_parameters() {
        let cases: &[(&str, Option<&str>, Result<bool, ()>)] = &[
            ("RET", Some("FULL"), Ok(true)),
            ("RET", Some("hdrs"), Ok(true)),
            ("RET", Some("BODY"), Err(())),
            ("RET", None, Err(())),
            ("ENVID", Some("abc+2B"), Ok(true)),
            ("ENVID", Some("a=b"), Err(())),
            ("ENVID", Some(&"x".repeat(101)), Err(())),
            ("ENVID", Some(&"x".repeat(100)), Ok(true)),
            ("SIZE", Some("10"), Ok(false)),
        ];
        for (keyword, value, expected) in cases {
            let got = MailDsn::default().add(keyword, *value).map_err(drop);
            assert_eq!(got, *expected, "{keyword}={value:?}");
        }
    }

    #[test]
    fn recipient_parameters() {
        let cases: &[(&str, Option<&str>, Result<bool, ()>)] = &[
            ("NOTIFY", Some("NEVER"), Ok(true)),
            ("NOTIFY", Some("never"), Ok(true)),
            ("NOTIFY", Some("SUCCESS,FAILURE,DELAY"), Ok(true)),
            ("NOTIFY", Some("NEVER,SUCCESS"), Err(())),
            ("NOTIFY", Some("SUCCESS,SUCCESS"), Err(())),
            ("NOTIFY", Some("SUCCESS,"), Err(())),
            ("NOTIFY", Some(""), Err(())),
            ("NOTIFY", None, Err(())),
            ("ORCPT", Some("rfc822;a+40b"), Ok(true)),
            ("ORCPT", Some("rfc822;"), Err(())),
            ("ORCPT", Some(";a@b"), Err(())),
            ("ORCPT", Some("rfc822"), Err(())),
            ("ORCPT", Some("rfc 822;a@b"), Err(())),
            ("ORCPT", Some("rfc822;a+4"), Err(())),
            ("X-OTHER", Some("1"), Ok(false)),
        ];
        for (keyword, value, expected) in cases {
            let got = RecipientDsn::new("r@example.com")
                .add(keyword, *value)
                .map_err(drop);
            assert_eq!(got, *expected, "{keyword}={value:?}");
        }
        let mut dsn = RecipientDsn::new("r@example.com");
        dsn.add("NOTIFY", Some("NEVER")).unwrap();
        assert!(dsn.notify.unwrap().never());
        assert!(dsn.add("NOTIFY", Some("DELAY")).is_err(), "given twice");
    }

    #[test]
    fn xtext() {
        for (text, decoded) in [
            ("", Some("")),
            ("plain", Some("plain")),
            ("+2B+3D+20", Some("+= ")),
            ("caf+C3+A9", Some("café")),
            ("+", None),
            ("+2", None),
            ("+GG", None),
            ("a b", None),
            ("+FF", None),
        ] {
            assert_eq!(decode_xtext(text).as_deref(), decoded, "{text:?}");
        }
    }
}

/// The examples that were in the documentation before the module became
/// private, kept as tests.
#[cfg(test)]
mod examples {
    #[test]
    fn mail_dsn() {
        use crate::protocol::dsn::{MailDsn, Return};
        let mut dsn = MailDsn::default();
        dsn.add("RET", Some("HDRS")).unwrap();
        dsn.add("ENVID", Some("QQ314159+2Bx")).unwrap();
        assert_eq!(dsn.ret, Some(Return::Headers));
        assert_eq!(dsn.envid.as_deref(), Some("QQ314159+x"));
        assert!(dsn.add("RET", Some("FULL")).is_err(), "given twice");
    }

    #[test]
    fn recipient_dsn() {
        use crate::protocol::dsn::RecipientDsn;
        let mut dsn = RecipientDsn::new("bob@example.com");
        dsn.add("NOTIFY", Some("SUCCESS,DELAY")).unwrap();
        dsn.add("ORCPT", Some("rfc822;Bob+40example.com")).unwrap();
        let notify = dsn.notify.unwrap();
        assert!(notify.success && notify.delay && !notify.failure);
        assert_eq!(dsn.orcpt.unwrap().address, "Bob@example.com");
    }

    #[test]
    fn decode_xtext() {
        use crate::protocol::dsn::decode_xtext;
        assert_eq!(decode_xtext("a+2Bb+3Dc").as_deref(), Some("a+b=c"));
        assert_eq!(decode_xtext("a+2b"), None, "hex digits are upper case");
        assert_eq!(decode_xtext("a=b"), None);
    }
}
