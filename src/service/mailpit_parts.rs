//! Mailpit's JSON shapes for the parts of a message (`Address`,
//! `Attachment` with its `Checksums`, `ListUnsubscribe`): what parsing a
//! message fills in, and the summary and message shapes are made of.

use serde::Serialize;

/// `{"Name": ..., "Address": ...}`, Go's `mail.Address`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Address {
    pub(crate) name: String,
    pub(crate) address: String,
}

/// `Checksums` of an attachment.
#[derive(Debug, Serialize)]
pub(crate) struct Checksums {
    #[serde(rename = "MD5")]
    pub(crate) md5: String,
    #[serde(rename = "SHA1")]
    pub(crate) sha1: String,
    #[serde(rename = "SHA256")]
    pub(crate) sha256: String,
}

/// An attachment or inline part.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Attachment {
    #[serde(rename = "PartID")]
    pub(crate) part_id: String,
    pub(crate) file_name: String,
    pub(crate) content_type: String,
    #[serde(rename = "ContentID")]
    pub(crate) content_id: String,
    pub(crate) size: usize,
    pub(crate) checksums: Checksums,
}

/// `ListUnsubscribe` of a message.
#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListUnsubscribe {
    pub(crate) header: String,
    pub(crate) links: Vec<String>,
    pub(crate) errors: String,
    pub(crate) header_post: String,
}
