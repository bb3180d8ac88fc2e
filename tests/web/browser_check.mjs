// The web page of `smtp-fixture --http` in a real browser: Debian's
// chromium, headless, driven over the DevTools protocol (node's built-in
// WebSocket, no packages). Checks the list, one message (headers, text,
// the HTML part in a sandboxed iframe whose scripts do not run,
// attachments, source, transcript), live updates over the event stream,
// and "Clear all".
//
// Usage: node --experimental-websocket browser_check.mjs HTTP_URL SMTP_PORT [CHROMIUM]
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const [base, smtpPort, chromiumPath = "chromium"] = process.argv.slice(2);
const here = fileURLToPath(new URL(".", import.meta.url));
const sendMail = join(here, "..", "mailpit_clients", "send_mail.py");
const ok = (what) => console.log("ok:", what);

const profile = mkdtempSync(join(tmpdir(), "smtp-fixture-chromium-"));
const browser = spawn(chromiumPath, [
  "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
  "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank",
], {
  stdio: ["ignore", "ignore", "pipe"],
  // Its own process group, so that one kill stops every chromium process;
  // its temporary files inside the profile, so that nothing is left behind.
  detached: true,
  env: { ...process.env, TMPDIR: profile },
});
const stop = () => {
  try { process.kill(-browser.pid, "SIGKILL"); } catch { browser.kill("SIGKILL"); }
  // A process may finish a write as it dies: retry until the profile is gone.
  try { rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); } catch {}
};
const fail = (error) => { console.error(error); stop(); process.exit(1); };
setTimeout(() => fail(new Error("the browser check took over 60 s")), 60_000).unref();

const devtools = await new Promise((resolve, reject) => {
  let seen = "";
  browser.stderr.on("data", (chunk) => {
    seen += chunk;
    const found = seen.match(/DevTools listening on (ws:\/\/\S+)/);
    if (found) resolve(new URL(found[1]));
  });
  browser.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${seen}`)));
}).catch(fail);

const targets = await (await fetch(`http://${devtools.host}/json/list`)).json();
const page = targets.find((t) => t.type === "page");
const socket = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((resolve) => socket.addEventListener("open", resolve));
let nextId = 0;
const pending = new Map();
socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (pending.has(message.id)) {
    pending.get(message.id)(message);
    pending.delete(message.id);
  }
});
const call = (method, params = {}) =>
  new Promise((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, (m) => (m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result)));
    socket.send(JSON.stringify({ id, method, params }));
  });
const evaluate = async (expression) => {
  const { result, exceptionDetails } = await call("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
  if (exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(exceptionDetails)}`);
  return result.value;
};
const waitFor = async (expression, what) => {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (await evaluate(`(() => { try { return ${expression}; } catch { return false; } })()`)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}: ${expression}`);
};
const send = () => execFileSync("python3", [sendMail, smtpPort], { encoding: "utf8" });

try {
  await call("Page.enable");
  await call("Page.navigate", { url: `${base}/` });
  await waitFor(`document.body.dataset.state === "ready"`, "the page to load");
  assert.equal(await evaluate(`document.querySelectorAll("#messages li").length`), 0);
  assert.equal(await evaluate(`document.getElementById("empty").hidden`), false);
  await waitFor(`document.getElementById("live").textContent === "live"`, "the event stream");
  ok("an empty list, the event stream open");

  send(); // two messages, after the page loaded: they must arrive live
  await waitFor(`document.querySelectorAll("#messages li").length === 2`, "the messages to appear live");
  assert.deepEqual(
    await evaluate(`[...document.querySelectorAll("#messages .subject")].map((e) => e.textContent)`),
    ["Invoice 42", "Welcome Ann"],
  );
  ok("messages appear live, newest first");

  await evaluate(`document.querySelector("#messages li:nth-child(2)").click()`);
  await waitFor(`document.getElementById("subject").textContent === "Welcome Ann"`, "the message to open");
  const welcome = await evaluate(`({
    headers: document.getElementById("headers").textContent,
    text: document.getElementById("tab-text").textContent,
    raw: document.getElementById("tab-raw").textContent,
    transcript: document.getElementById("tab-transcript").textContent,
    sandbox: document.querySelector("#tab-html iframe")?.getAttribute("sandbox"),
    src: document.querySelector("#tab-html iframe")?.getAttribute("src"),
    htmlShown: document.getElementById("tab-html").classList.contains("shown"),
  })`);
  assert.match(welcome.headers, /Message-Id<welcome@example\.com>/);
  assert.match(welcome.text, /^Hello Ann, confirm at https:\/\/shop\.test\/confirm\?token=t1/);
  assert.match(welcome.raw, /^Content-Type: multipart\/alternative|Subject: Welcome Ann/m);
  assert.match(welcome.transcript, /C: mail FROM:<shop@example\.com>/i);
  assert.equal(welcome.sandbox, "", "the HTML part is in a sandboxed iframe without permissions");
  assert.match(welcome.src, /^\/view\/\d+\.html$/);
  assert.ok(welcome.htmlShown);
  ok("one message: headers, text, source, transcript, HTML in a sandboxed iframe");

  await evaluate(`document.querySelector("#messages li:nth-child(1)").click()`);
  await waitFor(`document.getElementById("subject").textContent === "Invoice 42"`, "the invoice to open");
  const link = await evaluate(`(() => { const a = document.querySelector("#attachments a"); return { href: a.getAttribute("href"), download: a.download, text: a.textContent }; })()`);
  assert.equal(link.download, "invoice.pdf");
  assert.match(link.text, /invoice\.pdf \(application\/pdf, \d+ bytes\)/);
  const bytes = await evaluate(`fetch(${JSON.stringify(link.href)}).then((r) => r.text())`);
  assert.equal(bytes, "%PDF-1.4 invoice 42\n");
  ok("attachments to download");

  // The message's own scripts: a page of its HTML, opened directly, still
  // runs none of them (the response's CSP sandboxes it).
  execFileSync("python3", [join(here, "send_hostile.py"), smtpPort]);
  await waitFor(`document.querySelectorAll("#messages li").length === 3`, "the hostile message");
  const hostile = await evaluate(`fetch("/api/v1/messages").then((r) => r.json()).then((l) => l.messages[0].ID)`);
  await call("Page.navigate", { url: `${base}/view/${hostile}.html` });
  await waitFor(`document.readyState === "complete"`, "the HTML view");
  assert.equal(await evaluate(`document.getElementById("shown").textContent`), "Hello");
  assert.equal(await evaluate(`typeof window.ranInMessage`), "undefined");
  ok("a message's HTML runs no script");
  await call("Page.navigate", { url: `${base}/` });
  await waitFor(`document.body.dataset.state === "ready"`, "the page to load again");

  await evaluate(`document.getElementById("clear").click()`);
  await waitFor(`document.querySelectorAll("#messages li").length === 0`, "the list to clear");
  const left = await (await fetch(`${base}/api/v1/messages`)).json();
  assert.equal(left.total, 0);
  ok("Clear all deletes every message");
  console.log("browser_check: all passed");
  stop();
  process.exit(0);
} catch (error) {
  fail(error);
}
