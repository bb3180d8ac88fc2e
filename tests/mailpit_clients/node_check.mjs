// Mailpit's npm client (mailpit-api) against smtp-fixture --http: send with
// Python's smtplib (send_mail.py), then list, read, search, fetch the raw
// source and attachments, render the parts, tag, rename and delete tags,
// take an attachment's thumbnail, check the HTML, mark unread, delete, and
// set chaos triggers through the client's own methods: every call Mailpit
// answers for a local catcher.
//
// Usage: node node_check.mjs SMTP_PORT HTTP_URL
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MailpitClient } from "mailpit-api";

const [port, url] = process.argv.slice(2);
const here = fileURLToPath(new URL(".", import.meta.url));
const python = process.env.PYTHON || "python3";
const sent = JSON.parse(execFileSync(python, [here + "send_mail.py", port], { encoding: "utf8" }));
const mailpit = new MailpitClient(url);
const ok = (what) => console.log("ok:", what);

const info = await mailpit.getInfo();
assert.equal(info.Messages, 2);
ok("getInfo counts the messages");

const list = await mailpit.listMessages();
assert.deepEqual(list.messages.map((m) => m.Subject), ["Invoice 42", "Welcome Ann"]);
assert.equal(list.total, 2);
assert.equal(list.messages_count, 2);
ok("listMessages, newest first");
const [invoiceSummary, welcomeSummary] = list.messages;
assert.deepEqual(invoiceSummary.From, { Name: "Shop", Address: "shop@example.com" });
assert.equal(invoiceSummary.Attachments, 1);

const waited = await mailpit.waitForMessages({ count: 2 }, { timeout: 2000, interval: 50 });
assert.equal(waited.messages_count, 2);
ok("waitForMessages");

const invoice = await mailpit.getMessageSummary(invoiceSummary.ID);
assert.equal(invoice.Subject, "Invoice 42");
assert.equal(invoice.MessageID, "invoice42@example.com");
assert.equal(invoice.Attachments.length, 1);
assert.equal(invoice.Attachments[0].FileName, "invoice.pdf");
assert.equal(invoice.Attachments[0].ContentType, "application/pdf");
ok("getMessageSummary");
const latest = await mailpit.getMessageSummary();
assert.equal(latest.ID, invoiceSummary.ID);
ok("getMessageSummary() is the latest");

const headers = await mailpit.getMessageHeaders(invoice.ID);
assert.deepEqual(headers["Message-Id"], ["<invoice42@example.com>"]);
ok("getMessageHeaders");

const source = await mailpit.getMessageSource(invoice.ID);
assert.equal(source, sent.sent[1].Raw);
ok("getMessageSource returns the bytes sent");

const blob = await mailpit.getMessageAttachment(invoice.ID, invoice.Attachments[0].PartID);
assert.equal(Buffer.from(await blob.arrayBuffer()).toString(), sent.invoice);
assert.equal(blob.type, "application/pdf");
ok("getMessageAttachment");

// The width and height of a JPEG, from its first start-of-frame segment.
const jpegSize = (bytes) => {
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], "a JPEG");
  for (let at = 2; at + 9 < bytes.length; at += 2 + bytes.readUInt16BE(at + 2)) {
    if (bytes[at + 1] >= 0xc0 && bytes[at + 1] <= 0xc3) {
      return [bytes.readUInt16BE(at + 7), bytes.readUInt16BE(at + 5)];
    }
  }
  assert.fail("no start-of-frame segment");
};
const thumb = await mailpit.getAttachmentThumbnail(invoice.ID, invoice.Attachments[0].PartID);
assert.equal(thumb.type, "image/jpeg");
assert.deepEqual(jpegSize(Buffer.from(await thumb.arrayBuffer())), [180, 120]);
ok("getAttachmentThumbnail: a blank 180x120 JPEG for a PDF");

assert.match(await mailpit.renderMessageText(invoice.ID), /^Your invoice is attached\./);
assert.match(await mailpit.renderMessageHTML(welcomeSummary.ID), /<p>Hello Ann, <a href="https:\/\/shop\.test\/confirm\?token=t1">/);
await assert.rejects(mailpit.renderMessageHTML(invoice.ID), /404/, "a text-only message has no HTML view");
ok("renderMessageText, renderMessageHTML");

const check = await mailpit.htmlCheck(welcomeSummary.ID);
assert.deepEqual(Object.keys(check).sort(), ["Platforms", "Total", "Warnings"]);
assert.equal(check.Total.Nodes, 2, "<p> and <a>");
assert.ok(check.Total.Tests > 150);
assert.equal(check.Total.Supported + check.Total.Partial + check.Total.Unsupported, 100);
assert.ok(check.Platforms.ios.includes("Apple Mail"));
await assert.rejects(mailpit.htmlCheck(invoice.ID), /400/, "a text-only message has no HTML to check");
ok("htmlCheck");

const configuration = await mailpit.getConfiguration();
assert.equal(configuration.ChaosEnabled, true);
ok("getConfiguration");

const found = await mailpit.searchMessages({ query: "to:ann@example.com" });
assert.deepEqual(found.messages.map((m) => m.Subject), ["Welcome Ann"]);
const phrase = await mailpit.searchMessages({ query: 'subject:"invoice 42"' });
assert.deepEqual(phrase.messages.map((m) => m.ID), [invoice.ID]);
ok("searchMessages");
const one = await mailpit.waitForMessage({ query: "subject:welcome" }, { timeout: 2000, interval: 50 });
assert.equal(one.ID, welcomeSummary.ID);
ok("waitForMessage");

await mailpit.setTags({ IDs: [invoice.ID], Tags: ["billing"] });
assert.deepEqual(await mailpit.getTags(), ["billing"]);
const tagged = await mailpit.searchMessages({ query: "tag:billing" });
assert.deepEqual(tagged.messages.map((m) => m.ID), [invoice.ID]);
ok("setTags, getTags, tag: search");
await mailpit.renameTag("billing", "invoices");
assert.deepEqual(await mailpit.getTags(), ["invoices"]);
await mailpit.deleteTag("invoices");
assert.deepEqual(await mailpit.getTags(), []);
ok("renameTag, deleteTag");

await mailpit.setReadStatus({ IDs: [invoice.ID], Read: false });
const unread = await mailpit.searchMessages({ query: "is:unread" });
assert.deepEqual(unread.messages.map((m) => m.ID), [invoice.ID]);
ok("setReadStatus");

await mailpit.deleteMessagesBySearch({ query: "subject:welcome" });
assert.deepEqual((await mailpit.listMessages()).messages.map((m) => m.Subject), ["Invoice 42"]);
ok("deleteMessagesBySearch");
await mailpit.deleteMessages({ IDs: [invoice.ID] });
assert.equal((await mailpit.listMessages()).total, 0);
ok("deleteMessages by ID");

await assert.rejects(mailpit.getMessageSummary("999"), /404/);
ok("an unknown ID is a 404");

const calm = await mailpit.getChaosTriggers();
assert.deepEqual(calm.Sender, { ErrorCode: 451, Probability: 0 });
assert.deepEqual(calm.Authentication, { ErrorCode: 535, Probability: 0 });
const chaos = await mailpit.setChaosTriggers({ Recipient: { ErrorCode: 450, Probability: 100 } });
assert.deepEqual(chaos.Recipient, { ErrorCode: 450, Probability: 100 });
assert.deepEqual(chaos.Sender, { ErrorCode: 451, Probability: 0 });
assert.deepEqual((await mailpit.getChaosTriggers()).Recipient, chaos.Recipient);
assert.throws(
  () => execFileSync(python, [here + "send_mail.py", port], { encoding: "utf8", stdio: "pipe" }),
  /450.*Chaos recipient error/s,
);
assert.equal((await mailpit.listMessages()).total, 0);
await mailpit.setChaosTriggers();
assert.equal((await mailpit.getChaosTriggers()).Recipient.Probability, 0);
execFileSync(python, [here + "send_mail.py", port], { encoding: "utf8" });
assert.equal((await mailpit.listMessages()).total, 2);
ok("getChaosTriggers, setChaosTriggers: every recipient refused, then none");
console.log("node_check: all passed");
