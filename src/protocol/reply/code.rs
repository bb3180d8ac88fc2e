//! The three-digit reply code, checked once where it is made.

use std::error::Error;
use std::fmt;

/// An SMTP reply code: three digits, the first from 2 to 5 (RFC 5321, 4.2).
///
/// A value of this type is always a code a client can read, so the wire
/// form never has to clamp or guess. The first digit is the class a client
/// acts on, hence the class helpers.
///
/// ```
/// use smtp_fixture::ReplyCode;
///
/// let code = ReplyCode::new(451).unwrap();
/// assert!(code.is_transient());
/// assert_eq!(code.get(), 451);
/// assert_eq!(code, 451);
/// assert!(ReplyCode::new(999).is_err());
/// assert!(ReplyCode::try_from(42).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReplyCode(u16);

impl ReplyCode {
    /// `code` if it is from 200 to 599.
    pub const fn new(code: u16) -> Result<ReplyCode, InvalidReplyCode> {
        if code >= 200 && code <= 599 {
            Ok(ReplyCode(code))
        } else {
            Err(InvalidReplyCode(code))
        }
    }

    /// The code as a number, e.g. `250`.
    pub const fn get(self) -> u16 {
        self.0
    }

    /// 2xx: the command succeeded.
    pub const fn is_positive(self) -> bool {
        self.0 / 100 == 2
    }

    /// 3xx: the command is accepted, the client sends more (`354` after
    /// DATA, `334` during AUTH).
    pub const fn is_intermediate(self) -> bool {
        self.0 / 100 == 3
    }

    /// 4xx: a transient failure, the client may retry.
    pub const fn is_transient(self) -> bool {
        self.0 / 100 == 4
    }

    /// 5xx: a permanent failure.
    pub const fn is_permanent(self) -> bool {
        self.0 / 100 == 5
    }

    /// The three ASCII digits.
    pub(crate) const fn digits(self) -> [u8; 3] {
        // Each digit is below 10 by the range check, so `as u8` keeps it.
        [
            b'0' + (self.0 / 100) as u8,
            b'0' + (self.0 / 10 % 10) as u8,
            b'0' + (self.0 % 10) as u8,
        ]
    }
}

impl TryFrom<u16> for ReplyCode {
    type Error = InvalidReplyCode;

    fn try_from(code: u16) -> Result<ReplyCode, InvalidReplyCode> {
        ReplyCode::new(code)
    }
}

impl From<ReplyCode> for u16 {
    fn from(code: ReplyCode) -> u16 {
        code.0
    }
}

/// So that `code == 250` reads as it does with a plain number.
impl PartialEq<u16> for ReplyCode {
    fn eq(&self, other: &u16) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for ReplyCode {
    /// The three digits, e.g. `250`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A number that is no SMTP reply code (not from 200 to 599).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvalidReplyCode(u16);

impl InvalidReplyCode {
    /// The number that was refused.
    pub fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Display for InvalidReplyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not an SMTP reply code (three digits from 200 to 599)",
            self.0
        )
    }
}

impl Error for InvalidReplyCode {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_is_200_to_599() {
        for code in [0, 1, 99, 100, 199, 600, 999, 1000, u16::MAX] {
            assert_eq!(ReplyCode::new(code), Err(InvalidReplyCode(code)), "{code}");
        }
        for code in [200, 250, 354, 421, 599] {
            assert_eq!(ReplyCode::new(code).map(ReplyCode::get), Ok(code));
        }
    }

    #[test]
    fn classes_and_digits() {
        let classes = |code: u16| {
            let code = ReplyCode::new(code).unwrap();
            [
                code.is_positive(),
                code.is_intermediate(),
                code.is_transient(),
                code.is_permanent(),
            ]
        };
        assert_eq!(classes(250), [true, false, false, false]);
        assert_eq!(classes(354), [false, true, false, false]);
        assert_eq!(classes(451), [false, false, true, false]);
        assert_eq!(classes(599), [false, false, false, true]);
        assert_eq!(&ReplyCode::new(205).unwrap().digits(), b"205");
        assert_eq!(ReplyCode::new(205).unwrap().to_string(), "205");
    }
}
