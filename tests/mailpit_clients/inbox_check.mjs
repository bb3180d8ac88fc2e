// Inboxes over HTTP: two made with plain fetch (POST /api/v1/inboxes), mail
// sent with Python's smtplib to both, a refusing rule posted for one inbox
// ("inbox" field), and each inbox's messages read through Mailpit's npm
// client (mailpit-api) with the search term inbox:ID; then one inbox
// deleted with its messages and rules.
//
// Usage: node inbox_check.mjs SMTP_PORT HTTP_URL
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { MailpitClient } from "mailpit-api";

const [port, url] = process.argv.slice(2);
const python = process.env.PYTHON || "python3";
const mailpit = new MailpitClient(url);
const ok = (what) => console.log("ok:", what);

/// Sends one message with smtplib; returns the recipients refused, or the
/// SMTP error's code when every recipient was refused.
function send(to, subject) {
  const script = `
import json, smtplib, sys
from email.message import EmailMessage
message = EmailMessage()
message["From"] = "shop@example.com"
message["To"] = ", ".join(sys.argv[2:])
message["Subject"] = sys.argv[1]
message.set_content("Hello\\n")
try:
    with smtplib.SMTP("127.0.0.1", ${port}) as smtp:
        refused = smtp.send_message(message)
    print(json.dumps({"refused": sorted(refused)}))
except smtplib.SMTPRecipientsRefused as error:
    print(json.dumps({"refused": sorted(error.recipients), "all": True}))
`;
  return JSON.parse(execFileSync(python, ["-c", script, subject, ...to], { encoding: "utf8" }));
}

async function call(method, path, body) {
  const response = await fetch(url + path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, json: await response.json().catch(() => null) };
}

const first = await call("POST", "/api/v1/inboxes");
const second = await call("POST", "/api/v1/inboxes");
assert.equal(first.status, 201);
assert.notEqual(first.json.ID, second.json.ID);
assert.equal(first.json.Query, `inbox:${first.json.ID}`);
assert.match(first.json.Address, new RegExp(`@${first.json.Domain.replaceAll(".", "\\.")}$`));
ok("POST /api/v1/inboxes makes inboxes with their own domains");
const address = (inbox, name) => `${name}@${inbox.json.Domain}`;

const refusing = await call("POST", "/api/v1/rules", {
  reply: "RCPT=550 5.1.1 No such user",
  inbox: second.json.ID,
  times: 1,
});
assert.equal(refusing.status, 201);
assert.equal(refusing.json.rules.length, 1);
const before = await call("POST", "/api/v1/rules", { reply: "MAIL=451 Later", inbox: second.json.ID });
assert.equal(before.status, 400, "a rule before any recipient belongs to the server");
const unknown = await call("POST", "/api/v1/rules", { reply: "RCPT=550 No", inbox: "box999" });
assert.equal(unknown.status, 404);
ok("rules take an inbox field");

assert.deepEqual(send([address(first, "ann")], "for ann"), { refused: [] });
assert.deepEqual(send([address(first, "bob")], "for bob"), { refused: [] });
assert.deepEqual(send([address(second, "cy"), address(first, "dee")], "for cy and dee"), {
  refused: [address(second, "cy")],
});
assert.deepEqual(send([address(second, "cy")], "for cy again"), { refused: [] }, "the rule fired once");
send(["outsider@example.com"], "for nobody's inbox");
ok("the inbox's rule refused only its recipient, once");

const firsts = await mailpit.searchMessages({ query: `inbox:${first.json.ID}` });
assert.deepEqual(firsts.messages.map((m) => m.Subject).sort(), ["for ann", "for bob", "for cy and dee"]);
const seconds = await mailpit.searchMessages({ query: `inbox:${second.json.ID}` });
assert.deepEqual(seconds.messages.map((m) => m.Subject), ["for cy again"]);
const both = await mailpit.searchMessages({ query: `inbox:${first.json.ID} subject:bob` });
assert.deepEqual(both.messages.map((m) => m.Subject), ["for bob"]);
ok("searchMessages with inbox:ID reads one inbox's messages");

const waited = await mailpit.waitForMessage({ query: `inbox:${second.json.ID}` }, { timeout: 2000, interval: 50 });
assert.equal(waited.Subject, "for cy again");
ok("waitForMessage with inbox:ID");

const listed = await call("GET", `/api/v1/messages?query=${encodeURIComponent(`inbox:${second.json.ID}`)}`);
assert.deepEqual(listed.json.messages.map((m) => m.Subject), ["for cy again"]);
const longPoll = await call("GET", `/api/v1/wait?count=3&timeout=2s&query=${encodeURIComponent(`inbox:${first.json.ID}`)}`);
assert.equal(longPoll.status, 200);
assert.equal(longPoll.json.messages.length, 3);
const tooMany = await call("GET", `/api/v1/wait?count=2&timeout=50ms&query=${encodeURIComponent(`inbox:${second.json.ID}`)}`);
assert.equal(tooMany.status, 408);
ok("/api/v1/messages and /api/v1/wait take the inbox term");

await call("POST", "/api/v1/rules", { reply: "RCPT=550 5.1.1 Gone", inbox: first.json.ID });
const deleted = await call("DELETE", `/api/v1/inboxes/${first.json.ID}`);
assert.equal(deleted.status, 200);
assert.equal(deleted.json.Deleted, 3);
assert.equal((await mailpit.searchMessages({ query: `inbox:${first.json.ID}` })).messages.length, 0);
assert.equal((await mailpit.searchMessages({ query: `inbox:${second.json.ID}` })).messages.length, 1);
assert.deepEqual(send([address(first, "ann")], "after the delete"), { refused: [] }, "its rules went with it");
assert.equal((await call("GET", `/api/v1/inboxes/${first.json.ID}`)).status, 404);
assert.equal((await call("DELETE", `/api/v1/inboxes/${first.json.ID}`)).status, 404);
assert.equal((await mailpit.getInfo()).Messages, 3, "the outsider's, the second inbox's and the one after the delete");
ok("DELETE /api/v1/inboxes/ID removes its messages and rules");

console.log("all passed");
