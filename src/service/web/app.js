// The web page of smtp-fixture's service mode: the messages (live, over
// /api/v1/events) and one message, all from the HTTP API. No framework, no
// build step. Message HTML is shown only in a sandboxed iframe from
// /view/ID.html (no scripts, no remote loads).
"use strict";

const api = (path, options) =>
  fetch(path, options).then((response) => {
    if (!response.ok) throw new Error(`${response.status} ${path}`);
    return response;
  });
const $ = (id) => document.getElementById(id);
const element = (tag, props = {}, children = []) => {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
};
const addresses = (list) => (list || []).map((a) => (a.Name ? `${a.Name} <${a.Address}>` : a.Address)).join(", ");

let selected = new URLSearchParams(location.hash.slice(1)).get("message");

async function loadList() {
  const list = await (await api("/api/v1/messages?limit=500")).json();
  $("count").textContent = `${list.total} message${list.total === 1 ? "" : "s"}`;
  $("empty").hidden = list.total !== 0;
  $("messages").replaceChildren(
    ...list.messages.map((m) => {
      const item = element("li", { className: m.Read ? "" : "unread" }, [
        element("div", { className: "subject", textContent: m.Subject || "(no subject)" }),
        element("div", { className: "meta", textContent: `${addresses([m.From])} → ${addresses(m.To)}` }),
        element("div", { className: "meta", textContent: new Date(m.Created).toLocaleString() }),
      ]);
      item.dataset.id = m.ID;
      if (m.ID === selected) item.classList.add("selected");
      item.addEventListener("click", () => show(m.ID));
      return item;
    }),
  );
  if (selected && !list.messages.some((m) => m.ID === selected)) {
    selected = null;
    $("message").hidden = true;
  }
}

function showTab(name) {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === name));
  }
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("shown", tab.id === `tab-${name}`);
}

async function show(id) {
  selected = id;
  history.replaceState(null, "", `#message=${encodeURIComponent(id)}`);
  const [message, headers, raw, transcript] = await Promise.all([
    api(`/api/v1/message/${id}`).then((r) => r.json()),
    api(`/api/v1/message/${id}/headers`).then((r) => r.json()),
    api(`/api/v1/message/${id}/raw`).then((r) => r.text()),
    api(`/api/v1/message/${id}/transcript`).then((r) => r.text()).catch(() => "(no transcript kept)"),
  ]);
  $("subject").textContent = message.Subject || "(no subject)";
  $("headers").replaceChildren(
    ...Object.entries(headers).map(([name, values]) =>
      element("tr", {}, [element("th", { textContent: name }), element("td", { textContent: values.join("\n") })]),
    ),
  );
  $("tab-text").textContent = message.Text || "(no text part)";
  const frame = element("iframe", { title: "HTML part", src: `/view/${id}.html` });
  // No allow-scripts, no allow-same-origin: the message cannot run code or
  // reach the API; the response's CSP also blocks every remote load.
  frame.setAttribute("sandbox", "");
  $("tab-html").replaceChildren(message.HTML ? frame : element("p", { textContent: "(no HTML part)" }));
  $("tab-raw").textContent = raw;
  $("tab-transcript").textContent = transcript;
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
  showTab(message.HTML ? "html" : "text");
  for (const item of document.querySelectorAll("#messages li")) item.classList.toggle("selected", item.dataset.id === id);
}

function listen() {
  const events = new EventSource("/api/v1/events");
  events.onopen = () => ($("live").textContent = "live");
  events.onerror = () => ($("live").textContent = "reconnecting…");
  for (const name of ["accepted", "deleted", "cleared"]) events.addEventListener(name, () => loadList());
}

async function start() {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  }
  $("clear").addEventListener("click", async () => {
    await api("/api/v1/messages", { method: "DELETE" });
    await loadList();
  });
  try {
    await loadList();
    if (selected) await show(selected);
    document.body.dataset.state = "ready";
  } catch (error) {
    document.body.dataset.state = `error: ${error.message}`;
  }
  listen();
}

start();
