//! `GET /api/v1/message/{ID}/authentication`: what a receiving server
//! would conclude about a message (DKIM, SPF, DMARC against the fixture's
//! `dns_txt` records, feature `dkim`) and its deliverability findings. The
//! web page's badge reads it. Without feature `dkim`, `"Enabled": false`
//! and the deliverability findings only.

use std::sync::Arc;

use axum::extract::{Path, State};
use serde_json::{json, Value};

use super::api::find;
use super::request::{json_response, ApiResult};
use super::Shared;
use crate::ReceivedMessage;

pub(crate) async fn authentication(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let (message, _) = find(&shared, &id)?;
    let mut body = checks(&message);
    body["Deliverability"] = message
        .deliverability()
        .iter()
        .map(|finding| json!({ "Rule": finding.rule, "Message": finding.message, "Source": finding.source }))
        .collect();
    Ok(json_response(&body))
}

#[cfg(feature = "dkim")]
fn checks(message: &ReceivedMessage) -> Value {
    let auth = message.authentication();
    let dkim: Vec<Value> = auth
        .dkim
        .iter()
        .map(|dkim| {
            json!({
                "Domain": dkim.domain,
                "Selector": dkim.selector,
                "Algorithm": dkim.algorithm,
                "Result": dkim.result,
                "Reason": dkim.reason,
            })
        })
        .collect();
    json!({
        "Enabled": true,
        "Header": auth.header,
        "Dkim": dkim,
        "Spf": auth.spf,
        "SpfDomain": auth.spf_domain,
        "Dmarc": auth.dmarc,
        "DmarcReason": auth.dmarc_reason,
        "FromDomain": auth.from_domain,
        "DkimAligned": auth.dkim_aligned,
    })
}

#[cfg(not(feature = "dkim"))]
fn checks(_: &ReceivedMessage) -> Value {
    json!({ "Enabled": false, "Reason": "built without feature `dkim`: no DKIM, SPF or DMARC checks" })
}
