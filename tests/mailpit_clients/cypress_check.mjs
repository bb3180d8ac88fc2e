// cypress-mailpit's commands against smtp-fixture --http, without Cypress:
// its own MailpitCommands class (the pinned package's code, unchanged) runs
// in node over a small stand-in for `Cypress` and `cy` whose `cy.request`
// is a real HTTP request (following redirects and failing on a non-2xx
// status, as Cypress does). Every command is called; every request is
// printed with its answer.
//
// Usage: node cypress_check.mjs SMTP_PORT HTTP_URL
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const [port, url] = process.argv.slice(2);
const here = fileURLToPath(new URL(".", import.meta.url));
const python = process.env.PYTHON || "python3";
execFileSync(python, [here + "send_mail.py", port], { encoding: "utf8" });
const ok = (what) => console.log("ok:", what);

// The package's class is an ES module in a package not marked as one: load
// its source, unchanged, from a copy named .mjs.
const require = createRequire(import.meta.url);
const source = readFileSync(require.resolve("cypress-mailpit/dist/src/MailpitCommands.js"), "utf8");
const { version } = JSON.parse(readFileSync(require.resolve("cypress-mailpit/package.json"), "utf8"));
const copy = mkdtempSync(join(tmpdir(), "cypress-mailpit-"));
writeFileSync(join(copy, "MailpitCommands.mjs"), source);
const { MailpitCommands } = await import(join(copy, "MailpitCommands.mjs")).finally(() => rmSync(copy, { recursive: true }));

const requests = [];
globalThis.Cypress = {
  expose: (name) => (name === "MAILPIT_URL" ? url : undefined),
  config: (name) => (name === "defaultCommandTimeout" ? 4000 : undefined),
};
// Cypress chains read like promises here: `.then` callbacks may return
// values or further chains.
globalThis.cy = {
  env: () => Promise.resolve({}),
  wrap: (value) => Promise.resolve(value),
  wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  request: async ({ method, url: target, qs, body }) => {
    const address = new URL(target);
    for (const [key, value] of Object.entries(qs || {})) address.searchParams.set(key, String(value));
    const response = await fetch(address, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const path = address.href.slice(url.length);
    const landed = response.redirected ? ` (redirected to ${new URL(response.url).pathname})` : "";
    requests.push(`${method} ${path} -> ${response.status}${landed}`);
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    const type = response.headers.get("content-type") || "";
    return { status: response.status, body: type.includes("json") ? JSON.parse(text) : text };
  },
};

const mailpit = new MailpitCommands();
const called = new Set();
const command = (name, ...args) => {
  called.add(name);
  return mailpit[name](...args);
};
const quick = { timeout: 2000, interval: 100 };

const all = await command("mailpitGetAllMails");
assert.deepEqual(all.messages.map((m) => m.Subject), ["Invoice 42", "Welcome Ann"]);
const latest = await command("mailpitGetMail");
assert.equal(latest.Subject, "Invoice 42");
const welcome = await command("mailpitGetMail", all.messages[1].ID);
assert.equal(welcome.Subject, "Welcome Ann");
ok("mailpitGetAllMails, mailpitGetMail (latest and by ID)");

assert.equal((await command("mailpitSearchEmails", "subject:welcome")).messages_count, 1);
assert.equal((await command("mailpitGetEmailsBySubject", "Invoice")).messages_count, 1);
assert.equal((await command("mailpitGetEmailsByTo", "bob@example.com")).messages[0].Subject, "Invoice 42");
await command("mailpitHasEmailsBySubject", "Welcome", 0, 50, quick);
await command("mailpitNotHasEmailsBySubject", "Refund", 0, 50, quick);
await command("mailpitHasEmailsByTo", "ann@example.com", 0, 50, quick);
await command("mailpitNotHasEmailsByTo", "nobody@example.com", 0, 50, quick);
await command("mailpitHasEmailsBySearch", "is:read", 0, 50, quick); // mailpitGetMail read both
await command("mailpitNotHasEmailsBySearch", "subject:nothing-like-this", 0, 50, quick);
ok("search commands, and the waiting ones");

assert.equal(await command("mailpitGetSubject", welcome), "Welcome Ann");
assert.deepEqual(await command("mailpitGetRecipientAddress", welcome), ["ann@example.com"]);
assert.equal(await command("mailpitGetFromAddress", welcome), "shop@example.com");
assert.deepEqual(await command("mailpitGetAttachments", latest), ["invoice.pdf"]);
assert.match(await command("mailpitGetMailHTMlBody", welcome), /<p>Hello Ann, <a href="https:\/\/shop\.test\/confirm\?token=t1">/);
assert.match(await command("mailpitGetMailTextBody", welcome), /^Hello Ann, confirm at https:\/\/shop\.test\/confirm\?token=t1/);
ok("the child commands (the HTML and text bodies through //view/)");

await command("mailpitSetAllEmailStatusAsRead");
assert.equal((await command("mailpitGetAllMails")).unread, 0);
await command("mailpitSetAllEmailStatusAsUnRead");
assert.equal((await command("mailpitGetAllMails")).unread, 2);
await command("mailpitSetStatusAsRead", welcome);
await command("mailpitSetStatusAsUnRead", [welcome]);
await command("mailpitSetStatusAsRead", [latest]);
assert.deepEqual((await command("mailpitSearchEmails", "is:unread")).messages.map((m) => m.ID), [welcome.ID]);
ok("read status, for all and for some");

// Two routes are not served by choice (docs/service.md): their commands
// get the documented 404.
await assert.rejects(command("mailpitGetMailSpamAssassinSummary", welcome), /sa-check: 404/);
called.add("mailpitGetMailSpamAssainSummary"); // the deprecated alias of the line above
await assert.rejects(command("mailpitSendMail", { subject: "sent over HTTP" }), /\/api\/v1\/send: 404/);
ok("sa-check and send: 404, as documented");

await command("mailpitDeleteEmailsBySearch", "subject:welcome");
assert.deepEqual((await command("mailpitGetAllMails")).messages.map((m) => m.Subject), ["Invoice 42"]);
await command("mailpitDeleteAllEmails");
assert.equal((await command("mailpitGetAllMails")).total, 0);
ok("delete by search, delete all");

const every = [...MailpitCommands.parentCypressCommands, ...MailpitCommands.childCypressCommands];
assert.deepEqual(every.filter((name) => !called.has(name)), [], "every command of the package is replayed");
console.log(`cypress-mailpit ${version}: ${every.length} commands, ${requests.length} requests:`);
for (const line of [...new Set(requests)]) console.log("  " + line);
console.log("cypress_check: all passed");
