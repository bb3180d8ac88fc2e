// The web page of `smtp-fixture --http` in a real browser: Debian's
// chromium, headless, driven over the DevTools protocol (node's built-in
// WebSocket, no packages). Checks what a daily user does: the list (live,
// a message without From, an RFC 2047 subject, envelope-only recipients),
// one message (summary, headers, text, the HTML part in a sandboxed iframe
// whose scripts do not run and whose cid: image loads from a part URL,
// remote images only when asked, attachments, source, transcript), read
// and unread, delete one, download, search, Back and Forward, paging
// through 600 messages to the last, a 390 px wide window with nothing
// wider than it, and "Clear all".
//
// Usage: node --experimental-websocket browser_check.mjs HTTP_URL SMTP_PORT ARTIFACT_DIR [CHROMIUM]
// On failure, screenshots at 1280 and 390 px are written to ARTIFACT_DIR.
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const [base, smtpPort, artifacts, chromiumPath = "chromium"] = process.argv.slice(2);
const here = fileURLToPath(new URL(".", import.meta.url));
const sendMail = join(here, "..", "mailpit_clients", "send_mail.py");
const sendDaily = join(here, "send_daily.py");
const ok = (what) => console.log("ok:", what);
const WIDE = { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false };
const NARROW = { width: 390, height: 844, deviceScaleFactor: 1, mobile: true };

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
let screenshots = async () => {};
const fail = async (error) => {
  console.error(error);
  try { await screenshots(); } catch (shotError) { console.error("no screenshots:", shotError); }
  stop();
  process.exit(1);
};
setTimeout(() => fail(new Error("the browser check took over 150 s")), 150_000).unref();

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
const responses = []; // every response the page got: { url, status, mimeType }
socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (pending.has(message.id)) {
    pending.get(message.id)(message);
    pending.delete(message.id);
  } else if (message.method === "Network.responseReceived") {
    const { url, status, mimeType } = message.params.response;
    responses.push({ url, status, mimeType });
  } else if (message.method === "Target.attachedToTarget") {
    // A sandboxed iframe runs in its own process: its requests are seen
    // only through its own session, which waits until watched.
    const { sessionId } = message.params;
    socket.send(JSON.stringify({ id: ++nextId, sessionId, method: "Network.enable" }));
    socket.send(JSON.stringify({ id: ++nextId, sessionId, method: "Runtime.runIfWaitingForDebugger" }));
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
// Waits for `expression` to hold (10 s; the 600 messages get longer).
const waitFor = async (expression, what, timeout = 10_000) => {
  const until = Date.now() + timeout;
  while (Date.now() < until) {
    if (await evaluate(`(() => { try { return ${expression}; } catch { return false; } })()`)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const state = await evaluate(`document.body.dataset.state + " | " + document.getElementById("error")?.textContent`).catch(() => "?");
  throw new Error(`timed out waiting for ${what}: ${expression} (page: ${state})`);
};
const window = (metrics) => call("Emulation.setDeviceMetricsOverride", metrics);
screenshots = async () => {
  mkdirSync(artifacts, { recursive: true });
  for (const metrics of [WIDE, NARROW]) {
    await window(metrics);
    const { data } = await call("Page.captureScreenshot", { format: "png" });
    const file = join(artifacts, `web-page-${metrics.width}px.png`);
    writeFileSync(file, Buffer.from(data, "base64"));
    console.error("screenshot:", file);
  }
};
const text = (selector) => evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent`);
const texts = (selector) => evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => e.textContent)`);
const click = (selector) => evaluate(`document.querySelector(${JSON.stringify(selector)}).click()`);
const listed = () => texts("#messages .subject");
const openMessage = async (subject) => {
  await evaluate(`[...document.querySelectorAll("#messages li")].find((li) => li.querySelector(".subject").textContent === ${JSON.stringify(subject)}).click()`);
  await waitFor(`document.getElementById("subject").textContent === ${JSON.stringify(subject)} && !document.getElementById("message").hidden`, `"${subject}" to open`);
};
const apiJson = async (path) => (await fetch(`${base}${path}`)).json();
const run = (script, ...args) => execFileSync("python3", [script, smtpPort, ...args], { encoding: "utf8" });
// Elements wider than the window, or reaching past its right edge.
const tooWide = () => evaluate(`(() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")].filter((e) => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && (box.right > width + 1 || box.left < -1);
  }).map((e) => \`\${e.tagName.toLowerCase()}#\${e.id}.\${e.className} \${Math.round(e.getBoundingClientRect().left)}..\${Math.round(e.getBoundingClientRect().right)}\`);
  return { width, scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 10) };
})()`);

try {
  await call("Page.enable");
  await call("Network.enable");
  await call("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: true });
  await window(WIDE);
  await call("Page.navigate", { url: `${base}/` });
  await waitFor(`document.body.dataset.state === "ready"`, "the page to load");
  assert.equal(await evaluate(`document.querySelectorAll("#messages li").length`), 0);
  assert.equal(await evaluate(`document.getElementById("empty").hidden`), false);
  await waitFor(`document.getElementById("live").textContent === "live"`, "the event stream");
  ok("an empty list, the event stream open");

  run(sendMail); // two messages, after the page loaded: they must arrive live
  await waitFor(`document.querySelectorAll("#messages li").length === 2`, "the messages to appear live");
  assert.deepEqual(await listed(), ["Invoice 42", "Welcome Ann"]);
  ok("messages appear live, newest first");

  await openMessage("Welcome Ann");
  const welcome = await evaluate(`({
    summary: document.getElementById("summary").textContent,
    text: document.getElementById("tab-text").textContent,
    raw: document.getElementById("tab-raw").textContent,
    transcript: document.getElementById("tab-transcript").textContent,
    sandbox: document.querySelector("#tab-html iframe")?.getAttribute("sandbox"),
    src: document.querySelector("#tab-html iframe")?.getAttribute("src"),
    htmlShown: document.getElementById("tab-html").classList.contains("shown"),
    download: document.getElementById("download").getAttribute("href"),
  })`);
  assert.match(welcome.summary, /FromShop <shop@example\.com>/);
  assert.match(welcome.summary, /ToAnn <ann@example\.com>/);
  assert.match(welcome.summary, /EnvelopeMAIL FROM <shop@example\.com> → RCPT TO <ann@example\.com>/);
  assert.match(welcome.text, /^Hello Ann, confirm at https:\/\/shop\.test\/confirm\?token=t1/);
  assert.match(welcome.raw, /Subject: Welcome Ann/);
  assert.match(welcome.transcript, /C: mail FROM:<shop@example\.com>/i);
  assert.equal(welcome.sandbox, "", "the HTML part is in a sandboxed iframe without permissions");
  assert.match(welcome.src, /^\/view\/\d+\.html$/);
  assert.ok(welcome.htmlShown);
  await click('#tabs [data-tab="headers"]');
  assert.match(await text("#headers"), /Message-Id<welcome@example\.com>/);
  const raw = await evaluate(`fetch(document.getElementById("download").href).then(async (r) => [r.headers.get("content-disposition"), await r.text()])`);
  assert.match(raw[0], /^attachment; filename="\d+\.eml"$/);
  assert.match(raw[1], /Subject: Welcome Ann/);
  ok("one message: summary with the envelope, headers on request, text, source, transcript, .eml download, HTML sandboxed");

  await openMessage("Invoice 42");
  const link = await evaluate(`(() => { const a = document.querySelector("#attachments a"); return { href: a.getAttribute("href"), download: a.download, text: a.textContent }; })()`);
  assert.equal(link.download, "invoice.pdf");
  assert.match(link.text, /invoice\.pdf \(application\/pdf, \d+ bytes\)/);
  const bytes = await evaluate(`fetch(${JSON.stringify(link.href)}).then((r) => r.text())`);
  assert.equal(bytes, "%PDF-1.4 invoice 42\n");
  assert.equal(await evaluate(`document.querySelector('#tabs [data-tab="html"]').hidden`), true, "no HTML tab without HTML");
  assert.ok(await evaluate(`document.getElementById("tab-text").classList.contains("shown")`));
  ok("attachments to download; no HTML tab for a text-only message");

  // Back and Forward step through the messages seen.
  await evaluate(`history.back()`);
  await waitFor(`document.getElementById("subject").textContent === "Welcome Ann"`, "Back to the previous message");
  await evaluate(`history.forward()`);
  await waitFor(`document.getElementById("subject").textContent === "Invoice 42"`, "Forward to the next message");
  ok("Back and Forward step through messages");

  // Read and unread, as the API sees them.
  await click("#unread");
  await waitFor(`document.querySelector("#messages li.selected")?.classList.contains("unread")`, "the message to show unread");
  const invoiceId = await evaluate(`document.querySelector("#messages li.selected").dataset.id`);
  assert.equal((await apiJson(`/api/v1/search?query=is:unread`)).messages.some((m) => m.ID === invoiceId), true);
  await click("#unread");
  await waitFor(`!document.querySelector("#messages li.selected")?.classList.contains("unread")`, "the message to show read");
  ok("mark unread and read again");

  run(sendDaily, "special");
  await waitFor(`document.querySelectorAll("#messages li").length === 5`, "the special messages");
  const items = await evaluate(`[...document.querySelectorAll("#messages li")].map((li) => li.textContent)`);
  const noSender = items.find((t) => t.startsWith("No sender"));
  assert.ok(noSender, `${items}`);
  assert.match(noSender, /\(no From\)/);
  assert.match(noSender, /→ ann@example\.com/, "envelope-only recipients are listed");
  const subject = "Grüße aus Köln ✓ 日本";
  assert.ok((await listed()).includes(subject), `decoded subject in ${await listed()}`);
  await openMessage(subject);
  assert.match(await text("#summary"), /FromJürgen Müller <juergen@example\.com>/);
  await click('#tabs [data-tab="headers"]');
  const headerRows = await texts("#headers tr");
  assert.ok(headerRows.includes(`Subject${subject}`), `decoded Subject header in ${headerRows}`);
  ok("a message without From is listed; an RFC 2047 subject and From shown decoded");

  responses.length = 0;
  await openMessage("Logo inline");
  assert.equal(await evaluate(`document.querySelector('#tabs [data-tab="html"]').hidden`), false);
  const logoId = await evaluate(`document.querySelector("#messages li.selected").dataset.id`);
  const partUrl = new RegExp(`/api/v1/message/${logoId}/part/[0-9.]+$`);
  const until = Date.now() + 10_000;
  while (!responses.some((r) => partUrl.test(r.url)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const image = responses.find((r) => partUrl.test(r.url));
  assert.ok(image, `the iframe loaded no part URL: ${JSON.stringify(responses)}`);
  assert.deepEqual([image.status, image.mimeType], [200, "image/png"]);
  assert.ok(!responses.some((r) => r.url.includes("remote.png")), "no remote image without asking");
  await click("#remote");
  await waitFor(`document.querySelector("#tab-html iframe").getAttribute("src").endsWith("?remote=1")`, "remote images on");
  ok("the cid: image loads from its part URL; remote images only with the toggle");

  // The same HTML opened alone: the image is decoded, and under the
  // sandboxing CSP no script of the message runs.
  await call("Page.navigate", { url: `${base}/view/${logoId}.html` });
  await waitFor(`document.readyState === "complete"`, "the HTML view");
  assert.match(await evaluate(`document.getElementById("logo").getAttribute("src")`), partUrl);
  await waitFor(`document.getElementById("logo").complete && document.getElementById("logo").naturalWidth === 1`, "the inline image to decode");
  execFileSync("python3", [join(here, "send_hostile.py"), smtpPort]);
  const hostile = (await apiJson("/api/v1/messages")).messages[0];
  assert.equal(hostile.Subject, "Hostile");
  await call("Page.navigate", { url: `${base}/view/${hostile.ID}.html` });
  await waitFor(`document.readyState === "complete"`, "the HTML view");
  assert.equal(await evaluate(`document.getElementById("shown").textContent`), "Hello");
  assert.equal(await evaluate(`typeof window.ranInMessage`), "undefined");
  ok("a message's HTML runs no script; its inline image decodes");

  // Delete one.
  await call("Page.navigate", { url: `${base}/#message=${hostile.ID}` });
  await waitFor(`document.body.dataset.state === "ready" && document.getElementById("subject").textContent === "Hostile"`, "the hostile message");
  await click("#delete");
  await waitFor(`!document.querySelector("#messages li[data-id='${hostile.ID}']") && document.getElementById("message").hidden`, "the message to go");
  assert.equal((await apiJson("/api/v1/messages")).total, 5);
  ok("delete one message");

  // Search with the API's syntax.
  await evaluate(`document.getElementById("query").value = "subject:invoice"; document.getElementById("search").requestSubmit()`);
  await waitFor(`document.querySelectorAll("#messages li").length === 1`, "the search");
  assert.deepEqual(await listed(), ["Invoice 42"]);
  assert.match(await text("#count"), /^1 of 5 messages match/);
  await evaluate(`history.back()`);
  await waitFor(`document.querySelectorAll("#messages li").length === 5`, "Back to the whole list");
  ok("search with the API's query syntax; Back leaves it");

  // 600 more: the list pages, and paging reaches the last (oldest) one.
  run(sendDaily, "bulk", "600");
  await waitFor(`document.getElementById("count").textContent.startsWith("605 messages")`, "600 messages to arrive", 60_000);
  assert.equal(await evaluate(`document.querySelectorAll("#messages li").length`), 50);
  assert.equal((await listed())[0], "Bulk 600");
  let pages = 1;
  while (!(await evaluate(`document.getElementById("older").disabled`))) {
    const before = await text("#range");
    await click("#older");
    await waitFor(`document.getElementById("range").textContent !== ${JSON.stringify(before)}`, "the next page");
    pages += 1;
    assert.ok(pages <= 13, "paging never ends");
  }
  assert.equal(pages, 13);
  assert.equal(await text("#range"), "601–605 of 605");
  const oldest = (await apiJson("/api/v1/messages?start=604&limit=1")).messages[0].Subject;
  assert.equal((await listed()).at(-1), oldest);
  assert.equal(oldest, "Welcome Ann");
  ok(`600 more messages: ${pages} pages, the last ends with the oldest`);

  // A phone: 390 px, nothing wider than the window, list and message.
  await call("Page.navigate", { url: `${base}/` });
  await waitFor(`document.body.dataset.state === "ready"`, "the page to load again");
  await window(NARROW);
  await waitFor(`document.documentElement.clientWidth === 390`, "a 390 px window");
  let wide = await tooWide();
  assert.deepEqual(wide.wide, [], `the list at 390 px: ${JSON.stringify(wide)}`);
  assert.ok(wide.scrollWidth <= 390, JSON.stringify(wide));
  await click("#older");
  await waitFor(`document.getElementById("range").textContent.startsWith("51–")`, "page 2 at 390 px");
  await click("#newer");
  await waitFor(`document.getElementById("range").textContent.startsWith("1–")`, "page 1 at 390 px");
  await call("Page.navigate", { url: `${base}/#message=${logoId}` });
  await waitFor(`document.body.dataset.state === "ready" && document.getElementById("subject").textContent === "Logo inline"`, "the HTML message at 390 px");
  for (const tab of ["html", "headers", "raw", "transcript", "text"]) {
    await click(`#tabs [data-tab="${tab}"]`);
    wide = await tooWide();
    assert.deepEqual(wide.wide, [], `the message's ${tab} tab at 390 px: ${JSON.stringify(wide)}`);
  }
  assert.equal(await evaluate(`getComputedStyle(document.querySelector("nav")).display`), "none", "the message alone");
  await click("#back");
  await waitFor(`document.getElementById("message").hidden && getComputedStyle(document.querySelector("nav")).display !== "none"`, "the list again");
  ok("at 390 px nothing is wider than the window (list, paging, every tab of a message)");
  await window(WIDE);

  await evaluate(`window.confirm = () => true; document.getElementById("clear").click()`);
  await waitFor(`document.querySelectorAll("#messages li").length === 0`, "the list to clear");
  assert.equal((await apiJson("/api/v1/messages")).total, 0);
  ok("Clear all deletes every message");
  console.log("browser_check: all passed");
  stop();
  process.exit(0);
} catch (error) {
  await fail(error);
}
