// The web page of smtp-fixture's service mode: the messages (live, over
// /api/v1/events; searched and paged through the API) and one message, all
// from the HTTP API. No framework, no build step. Message HTML is shown
// only in a sandboxed iframe from /view/ID.html (no scripts; cid: images
// from the message's parts, remote images only when asked).
//
// Where the page is lives in the URL's hash (#query=..&start=..&message=..),
// one history entry per step, so Back and Forward step through the
// messages and pages seen.
"use strict";

const PAGE = 50;

const api = (path, options) =>
  fetch(path, options).then((response) => {
    if (!response.ok) throw new Error(`${response.status} ${options?.method || "GET"} ${path}`);
    return response;
  });
const json = (path) => api(path).then((r) => r.json());
const send = (method, path, body) =>
  api(path, { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const $ = (id) => document.getElementById(id);
const element = (tag, props = {}, children = []) => {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
};

// RFC 2047 encoded words (=?UTF-8?B?...?= and =?ISO-8859-1?Q?...?=) as
// text; the space between two adjacent words goes, as the RFC says.
const decodeWords = (value) =>
  String(value).replace(/=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=(?:\s+(?==\?[^?\s]+\?[bBqQ]\?))?/g, (word, charset, encoding, text) => {
    try {
      const binary =
        encoding.toUpperCase() === "B"
          ? atob(text)
          : text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
      const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
      return new TextDecoder(charset.split("*")[0]).decode(bytes);
    } catch {
      return word;
    }
  });
const address = (a) => (a ? (a.Name ? `${a.Name} <${a.Address}>` : a.Address) : "");
const addresses = (list) => (list || []).map(address).filter(Boolean).join(", ");

// What the page shows, read from the hash.
let shown = { query: null, start: null, message: null };
let listed = { messages: [], messages_count: 0 };

function wanted() {
  const params = new URLSearchParams(location.hash.slice(1));
  return {
    query: params.get("query") || "",
    start: Math.max(0, Number.parseInt(params.get("start") || "0", 10) || 0),
    message: params.get("message") || null,
  };
}

// One history entry per step (Back/Forward walk them), then show it.
function go(change) {
  const next = { ...wanted(), ...change };
  const params = new URLSearchParams();
  if (next.query) params.set("query", next.query);
  if (next.start) params.set("start", String(next.start));
  if (next.message) params.set("message", next.message);
  const hash = `#${params}`;
  if (hash !== location.hash && !(hash === "#" && !location.hash)) history.pushState(null, "", hash);
  return render();
}

function showError(error) {
  $("error").textContent = error ? String(error.message || error) : "";
}

async function render() {
  const want = wanted();
  try {
    if (want.query !== shown.query || want.start !== shown.start) {
      shown.query = want.query;
      shown.start = want.start;
      $("query").value = want.query;
      await loadList();
    }
    if (want.message) {
      if (want.message !== shown.message) await show(want.message);
    } else {
      shown.message = null;
      $("message").hidden = true;
      document.body.dataset.view = "list";
      markSelected();
    }
    showError(null);
  } catch (error) {
    showError(error);
  }
}

function listItem(m) {
  const to = addresses([...(m.To || []), ...(m.Cc || []), ...(m.Bcc || [])]);
  const item = element("li", { className: m.Read ? "" : "unread", tabIndex: 0 }, [
    element("div", { className: "subject", textContent: decodeWords(m.Subject) || "(no subject)" }),
    element("div", { className: "meta from", textContent: address(m.From) || "(no From)" }),
    element("div", { className: "meta to", textContent: to ? `→ ${to}` : "→ (no recipients)" }),
    element("div", { className: "meta", textContent: new Date(m.Created).toLocaleString() }),
  ]);
  if (m.Tags?.length) item.append(element("div", { className: "meta tags", textContent: m.Tags.join(", ") }));
  item.dataset.id = m.ID;
  const open = () => go({ message: m.ID });
  item.addEventListener("click", open);
  item.addEventListener("keydown", (event) => event.key === "Enter" && open());
  return item;
}

let loading = null;
let again = false;
// Reloads the list; calls during a load fold into one more load after it
// (600 messages arriving make a few loads, not 600).
function loadList() {
  if (loading) {
    again = true;
    return loading;
  }
  loading = (async () => {
    do {
      again = false;
      const { query, start } = shown;
      const path = query
        ? `/api/v1/search?query=${encodeURIComponent(query)}&start=${start}&limit=${PAGE}`
        : `/api/v1/messages?start=${start}&limit=${PAGE}`;
      listed = await json(path);
      renderList();
    } while (again);
  })().finally(() => (loading = null));
  return loading;
}

function renderList() {
  const { total, messages_count: matched, unread, messages, start } = listed;
  const what = shown.query ? `${matched} of ${total} messages match` : `${total} message${total === 1 ? "" : "s"}`;
  $("count").textContent = `${what}, ${unread} unread`;
  $("empty").hidden = messages.length !== 0;
  $("empty").textContent = shown.query ? "No message matches." : "No messages yet.";
  $("messages").replaceChildren(...messages.map(listItem));
  $("range").textContent = messages.length ? `${start + 1}–${start + messages.length} of ${matched}` : "";
  $("newer").disabled = start === 0;
  $("older").disabled = start + messages.length >= matched;
  markSelected();
}

function markSelected() {
  for (const item of document.querySelectorAll("#messages li")) {
    item.classList.toggle("selected", item.dataset.id === shown.message);
  }
}

function showTab(name) {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === name));
  }
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("shown", tab.id === `tab-${name}`);
}

function summaryRow(name, value) {
  return value ? element("tr", {}, [element("th", { textContent: name }), element("td", { textContent: value })]) : "";
}

let current = null;

// The authentication badge: DKIM, SPF and DMARC as a receiver would say
// them (with feature `dkim`), the reasons and findings in its tooltip.
function authBadge(auth) {
  const badge = $("auth");
  if (!auth || !auth.Enabled) {
    badge.hidden = true;
    return;
  }
  const dkim = auth.Dkim.length ? auth.Dkim.map((d) => d.Result).join("/") : "none";
  const passed = auth.Dmarc === "pass";
  badge.textContent = `${passed ? "✓" : "✗"} DKIM ${dkim} · SPF ${auth.Spf} · DMARC ${auth.Dmarc}`;
  badge.className = `auth ${passed ? "pass" : "fail"}`;
  const notes = [
    ...auth.Dkim.filter((d) => d.Reason).map((d) => `DKIM d=${d.Domain} s=${d.Selector}: ${d.Reason}`),
    auth.DmarcReason ? `DMARC: ${auth.DmarcReason}` : "",
    ...auth.Deliverability.map((f) => `[${f.Rule}] ${f.Message}`),
  ].filter(Boolean);
  badge.title = [`Authentication-Results: ${auth.Header}`, ...notes].join("\n");
  badge.hidden = false;
}

function htmlFrame(id) {
  const remote = $("remote").checked ? "?remote=1" : "";
  const frame = element("iframe", { title: "HTML part", src: `/view/${id}.html${remote}` });
  // No allow-scripts, no allow-same-origin: the message cannot run code or
  // reach the API; the response's CSP also blocks remote loads unless
  // "Remote images" is ticked.
  frame.setAttribute("sandbox", "");
  return frame;
}

async function show(id) {
  const [message, headers, envelope, raw, transcript, auth] = await Promise.all([
    json(`/api/v1/message/${id}`),
    json(`/api/v1/message/${id}/headers`),
    json(`/api/v1/message/${id}/envelope`),
    api(`/api/v1/message/${id}/raw`).then((r) => r.text()),
    api(`/api/v1/message/${id}/transcript`).then((r) => r.text()).catch(() => "(no transcript kept)"),
    json(`/api/v1/message/${id}/authentication`).catch(() => null),
  ]);
  current = { id, read: true, html: Boolean(message.HTML) };
  shown.message = id;
  $("subject").textContent = decodeWords(message.Subject) || "(no subject)";
  authBadge(auth);
  $("summary").replaceChildren(
    summaryRow("From", address(message.From) || "(no From header)"),
    summaryRow("To", addresses(message.To)),
    summaryRow("Cc", addresses(message.Cc)),
    summaryRow("Bcc", addresses(message.Bcc)),
    summaryRow("Reply-To", addresses(message.ReplyTo)),
    summaryRow("Date", new Date(message.Date).toLocaleString()),
    summaryRow("Envelope", `MAIL FROM <${envelope.From}> → RCPT TO ${envelope.To.map((a) => `<${a}>`).join(", ")}`),
    summaryRow("Tags", (message.Tags || []).join(", ")),
  );
  $("headers").replaceChildren(
    ...Object.entries(headers).flatMap(([name, values]) =>
      values.map((value) =>
        element("tr", {}, [element("th", { textContent: name }), element("td", { textContent: decodeWords(value) })]),
      ),
    ),
  );
  $("tab-text").textContent = message.Text || "(no text part)";
  document.querySelector('#tabs [data-tab="html"]').hidden = !current.html;
  $("tab-html").replaceChildren(current.html ? htmlFrame(id) : "");
  $("tab-raw").textContent = raw;
  $("tab-transcript").textContent = transcript;
  $("download").href = `/api/v1/message/${id}/raw?dl=1`;
  $("download").download = `${id}.eml`;
  $("unread").textContent = "Mark unread";
  $("attachments").replaceChildren(
    ...[...message.Attachments, ...message.Inline].map((a) =>
      element("li", {}, [
        element("a", {
          href: `/api/v1/message/${id}/part/${a.PartID}`,
          download: a.FileName,
          textContent: `${a.FileName} (${a.ContentType}, ${a.Size} bytes)`,
        }),
      ]),
    ),
  );
  if (!$("attachments").children.length) $("attachments").append(element("li", { textContent: "none" }));
  $("message").hidden = false;
  document.body.dataset.view = "message";
  showTab(current.html ? "html" : "text");
  markSelected();
  const item = document.querySelector(`#messages li[data-id="${CSS.escape(id)}"]`);
  item?.classList.remove("unread");
}

function listen() {
  const events = new EventSource("/api/v1/events");
  events.onopen = () => ($("live").textContent = "live");
  events.onerror = () => ($("live").textContent = "reconnecting…");
  for (const name of ["accepted", "deleted", "cleared"]) {
    events.addEventListener(name, () => loadList().catch(showError));
  }
}

// Runs `action`, showing a failure instead of losing it.
const guarded = (action) => () => Promise.resolve().then(action).catch(showError);

async function start() {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  }
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    go({ query: $("query").value.trim(), start: 0, message: null });
  });
  $("home").addEventListener("click", (event) => {
    event.preventDefault();
    go({ query: "", start: 0, message: null });
  });
  $("newer").addEventListener("click", () => go({ start: Math.max(0, shown.start - PAGE), message: null }));
  $("older").addEventListener("click", () => go({ start: shown.start + PAGE, message: null }));
  $("back").addEventListener("click", () => go({ message: null }));
  $("clear").addEventListener(
    "click",
    guarded(async () => {
      if (!confirm("Delete every message?")) return;
      await api("/api/v1/messages", { method: "DELETE" });
      await go({ start: 0, message: null });
      await loadList();
    }),
  );
  $("delete").addEventListener(
    "click",
    guarded(async () => {
      await send("DELETE", "/api/v1/messages", { IDs: [current.id] });
      await go({ message: null });
      await loadList();
    }),
  );
  $("unread").addEventListener(
    "click",
    guarded(async () => {
      current.read = !current.read;
      await send("PUT", "/api/v1/messages", { IDs: [current.id], Read: current.read });
      $("unread").textContent = current.read ? "Mark unread" : "Mark read";
      await loadList();
    }),
  );
  $("remote").addEventListener("change", () => {
    if (current?.html) $("tab-html").replaceChildren(htmlFrame(current.id));
  });
  window.addEventListener("popstate", () => render());
  await render();
  document.body.dataset.state = $("error").textContent ? `error: ${$("error").textContent}` : "ready";
  listen();
}

start();
