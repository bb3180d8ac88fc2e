//! [`MessageData`]: the bytes of a received message, shared between copies.
//!
//! Why not a `Vec<u8>`: the fixture hands out snapshots
//! ([`messages()`](crate::TestSmtpServer::messages),
//! [`rejected()`](crate::TestSmtpServer::rejected), every `wait_for_*`), and
//! each snapshot clones every [`ReceivedMessage`](crate::ReceivedMessage).
//! With a `Vec<u8>` each clone copied each body; a `MessageData` clone only
//! counts a reference, so `messages()` on a fixture holding 100 000 messages
//! copies no body, and a 32 MiB message exists once in memory however many
//! snapshots hold it. It reads like the `Vec<u8>` it replaces: it derefs to
//! `[u8]` and compares with byte strings, byte slices, `Vec<u8>` and `str`.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::Bytes;

/// The bytes of a received message: immutable, cheap to clone (clones share
/// one buffer), and used like a `&[u8]`.
///
/// ```
/// use smtp_fixture::{Envelope, ReceivedMessage};
///
/// let message = ReceivedMessage::new(Envelope::default(), b"Subject: hi\r\n\r\nhello\r\n".to_vec());
/// assert_eq!(message.data, b"Subject: hi\r\n\r\nhello\r\n");
/// assert_eq!(message.data, "Subject: hi\r\n\r\nhello\r\n");
/// assert!(message.data.starts_with(b"Subject:"));
/// assert_eq!(message.data.len(), 22);
/// assert_eq!(String::from_utf8_lossy(&message.data), "Subject: hi\r\n\r\nhello\r\n");
/// let copy: Vec<u8> = message.data.to_vec();
/// assert_eq!(copy, message.data);
/// ```
///
/// `Debug` shows it as a byte string, which reads better in a failed
/// `assert_eq!` than a list of numbers:
///
/// ```
/// use smtp_fixture::MessageData;
///
/// assert_eq!(format!("{:?}", MessageData::from("Subject: hi\r\n")), r#"b"Subject: hi\r\n""#);
/// ```
#[derive(Clone, Default)]
pub struct MessageData(Bytes);

impl MessageData {
    /// Empty data.
    ///
    /// ```
    /// use smtp_fixture::MessageData;
    ///
    /// assert!(MessageData::new().is_empty());
    /// ```
    pub const fn new() -> MessageData {
        MessageData(Bytes::new())
    }

    /// Data that borrows a static buffer (no allocation, no copy); usable in
    /// a `const`.
    ///
    /// ```
    /// use smtp_fixture::MessageData;
    ///
    /// const HELLO: MessageData = MessageData::from_static(b"hello\r\n");
    /// assert_eq!(HELLO, b"hello\r\n");
    /// ```
    pub const fn from_static(bytes: &'static [u8]) -> MessageData {
        MessageData(Bytes::from_static(bytes))
    }

    /// The bytes as a slice (what `Deref` gives, by name).
    ///
    /// ```
    /// use smtp_fixture::MessageData;
    ///
    /// let data = MessageData::from(b"hi".to_vec());
    /// let slice: &[u8] = data.as_slice();
    /// assert_eq!(slice, b"hi");
    /// ```
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as an owned `Vec<u8>`: without a copy when this is the only
    /// handle on a buffer that came from a `Vec`, with one otherwise (use
    /// [`to_vec`](slice::to_vec) to always copy and keep `self`).
    ///
    /// ```
    /// use smtp_fixture::MessageData;
    ///
    /// let data = MessageData::from(b"hello".to_vec());
    /// let shared = data.clone();
    /// assert_eq!(data.into_vec(), b"hello"); // copied: `shared` still uses the buffer
    /// assert_eq!(shared.into_vec(), b"hello"); // the last handle: the buffer itself
    /// ```
    pub fn into_vec(self) -> Vec<u8> {
        Vec::from(self.0)
    }
}

impl Deref for MessageData {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for MessageData {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<[u8]> for MessageData {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a MessageData {
    type Item = &'a u8;
    type IntoIter = std::slice::Iter<'a, u8>;

    /// ```
    /// use smtp_fixture::MessageData;
    ///
    /// let lines = MessageData::from("a\r\nb\r\n");
    /// assert_eq!((&lines).into_iter().filter(|b| **b == b'\n').count(), 2);
    /// ```
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Debug for MessageData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

// Hash, Eq and Ord are those of the byte slice, as `Borrow<[u8]>` requires
// (a `HashMap<MessageData, _>` can be looked up with a `&[u8]`).
impl Hash for MessageData {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl PartialEq for MessageData {
    fn eq(&self, other: &MessageData) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for MessageData {}

impl PartialOrd for MessageData {
    fn partial_cmp(&self, other: &MessageData) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MessageData {
    fn cmp(&self, other: &MessageData) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

/// `MessageData == other` and `other == MessageData` for types that view
/// as bytes.
macro_rules! compare_both_ways {
    ($([$($params:tt)*] $other:ty => |$value:ident| $bytes:expr;)*) => {$(
        impl<$($params)*> PartialEq<$other> for MessageData {
            fn eq(&self, $value: &$other) -> bool {
                self.as_slice() == $bytes
            }
        }

        impl<$($params)*> PartialEq<MessageData> for $other {
            fn eq(&self, data: &MessageData) -> bool {
                let $value = self;
                $bytes == data.as_slice()
            }
        }
    )*};
}

compare_both_ways! {
    [] [u8] => |other| other;
    ['a] &'a [u8] => |other| *other;
    [const N: usize] [u8; N] => |other| other.as_slice();
    ['a, const N: usize] &'a [u8; N] => |other| other.as_slice();
    [] Vec<u8> => |other| other.as_slice();
    ['a] &'a Vec<u8> => |other| other.as_slice();
    [] str => |other| other.as_bytes();
    ['a] &'a str => |other| other.as_bytes();
    [] String => |other| other.as_bytes();
}

/// Takes the vector's buffer: no copy.
impl From<Vec<u8>> for MessageData {
    fn from(bytes: Vec<u8>) -> MessageData {
        MessageData(Bytes::from(bytes))
    }
}

/// Takes the string's buffer: no copy.
impl From<String> for MessageData {
    fn from(text: String) -> MessageData {
        MessageData(Bytes::from(text))
    }
}

/// Takes the buffer: no copy.
impl From<Box<[u8]>> for MessageData {
    fn from(bytes: Box<[u8]>) -> MessageData {
        MessageData(Bytes::from(bytes))
    }
}

/// Copies the bytes (see [`MessageData::from_static`] for a static buffer
/// without a copy).
impl From<&[u8]> for MessageData {
    fn from(bytes: &[u8]) -> MessageData {
        MessageData(Bytes::copy_from_slice(bytes))
    }
}

/// Copies the bytes, so `ReceivedMessage::new(envelope, b"...")` works.
impl<const N: usize> From<&[u8; N]> for MessageData {
    fn from(bytes: &[u8; N]) -> MessageData {
        MessageData(Bytes::copy_from_slice(bytes))
    }
}

/// Copies the text.
impl From<&str> for MessageData {
    fn from(text: &str) -> MessageData {
        MessageData(Bytes::copy_from_slice(text.as_bytes()))
    }
}

/// See [`MessageData::into_vec`].
impl From<MessageData> for Vec<u8> {
    fn from(data: MessageData) -> Vec<u8> {
        data.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::MessageData;
    use std::collections::{BTreeSet, HashMap};

    #[test]
    fn clones_share_one_buffer() {
        let data = MessageData::from(vec![b'x'; 1 << 20]);
        let clone = data.clone();
        assert_eq!(data.as_ptr(), clone.as_ptr());
    }

    #[test]
    fn from_vec_keeps_the_vec_buffer() {
        for vec in [b"exact".to_vec(), Vec::with_capacity(64)] {
            let mut vec = vec;
            vec.extend_from_slice(b"!");
            let pointer = vec.as_ptr();
            let data = MessageData::from(vec);
            assert_eq!(data.as_ptr(), pointer);
            let back = data.into_vec();
            assert_eq!(back.as_ptr(), pointer, "unique: no copy back");
        }
    }

    #[test]
    fn into_vec_copies_only_when_shared() {
        let data = MessageData::from(b"shared".to_vec());
        let other = data.clone();
        let vec = data.into_vec();
        assert_ne!(vec.as_ptr(), other.as_ptr());
        assert_eq!(vec, other);
    }

    #[test]
    #[allow(clippy::op_ref, clippy::cmp_owned)]
    fn compares_with_every_byte_type_both_ways() {
        let data = MessageData::from("hi");
        let slice: &[u8] = b"hi";
        let array: [u8; 2] = *b"hi";
        let vec = b"hi".to_vec();
        let string = String::from("hi");

        // Each line is one impl: `MessageData == T`, then `T == MessageData`.
        assert!(data == *slice);
        assert!(*slice == data);
        assert!(data == slice);
        assert!(slice == data);
        assert!(data == array);
        assert!(array == data);
        assert!(data == b"hi");
        assert!(b"hi" == data);
        assert!(data == vec);
        assert!(vec == data);
        assert!(data == &vec);
        assert!(&vec == data);
        assert!(data == *"hi");
        assert!(*"hi" == data);
        assert!(data == "hi");
        assert!("hi" == data);
        assert!(data == string);
        assert!(string == data);
        assert!(data == MessageData::from_static(b"hi"));
        assert!(&data == &MessageData::from(slice));
        assert!(data != b"ho");
        assert!(b"ho" != data);
        assert!(data != "hi!");
        assert!(vec![b'h'] != data);
        assert_eq!(data, b"hi");
        assert_eq!(b"hi".as_slice(), data);
        assert_eq!(Vec::from(data.clone()), b"hi");
    }

    #[test]
    fn orders_and_hashes_like_its_bytes() {
        let set: BTreeSet<MessageData> = ["b", "a", "ab"].into_iter().map(MessageData::from).collect();
        let sorted: Vec<&[u8]> = set.iter().map(|d| d.as_slice()).collect();
        assert_eq!(sorted, [b"a".as_slice(), b"ab", b"b"]);
        let mut map = HashMap::new();
        map.insert(MessageData::from("key"), 1);
        assert_eq!(map.get(b"key".as_slice()), Some(&1));
        assert_eq!(MessageData::default(), MessageData::new());
    }

    #[test]
    fn debug_is_a_byte_string() {
        assert_eq!(
            format!("{:?}", MessageData::from("a\r\n\x00\u{e9}")),
            r#"b"a\r\n\0\xc3\xa9""#
        );
    }
}
