// The flowd console: a page per route (#/events, #/dlq, #/payouts, #/plan,
// #/activity), each drawn from the admin API. Data is only ever put into
// the page as text (textContent), never as HTML.

const main = document.getElementById("main");

// h builds an element: h("td", {class: "num"}, "12.00", child, ...).
function h(tag, attrs = {}, ...children) {
  const svg = ["svg", "rect", "line", "text", "path", "g", "polyline", "title"].includes(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const init = { credentials: "same-origin", headers: { "Accept": "application/json" }, ...options };
  if (init.method && init.method !== "GET") init.headers["X-Flowd-Console"] = "1";
  const res = await fetch(path, init);
  if (res.status === 401) throw new Unauthorized();
  const body = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error((body && body.error) || `HTTP ${res.status}`);
  return body;
}

function toast(msg) {
  const t = document.getElementById("toast");
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

function when(t) {
  if (!t || t.startsWith("0001-")) return "";
  return new Date(t).toLocaleString();
}

function status(s) {
  return h("span", { class: `badge s-${s}`, "data-status": s }, s);
}

function table(headers, rows, empty) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))), h("tbody", {}, rows));
}

// Pages -------------------------------------------------------------------

async function eventsPage(params) {
  const filter = params.get("status") || "";
  const events = await api("/admin/events?limit=200" + (filter ? "&status=" + encodeURIComponent(filter) : ""));
  const select = h("select", { id: "status-filter", onchange: (e) => { location.hash = "#/events" + (e.target.value ? "?status=" + e.target.value : ""); } },
    ["", "received", "running", "retry", "waiting", "review", "done", "skipped", "no_flow", "dead"].map((s) => h("option", { value: s, selected: s === filter }, s || "every status")));
  const detail = h("div", { class: "detail", id: "event-detail" });
  const rows = events.map((ev) => h("tr", { class: "clickable", "data-id": ev.id, onclick: () => showEvent(ev.id, detail) },
    h("td", { class: "num" }, ev.seq), h("td", { class: "mono" }, ev.id), h("td", {}, ev.type), h("td", {}, status(ev.status)),
    h("td", { class: "num" }, ev.attempts), h("td", {}, ev.flow || ""), h("td", { class: "error" }, (ev.error || "").slice(0, 140)), h("td", {}, when(ev.received))));
  return [h("h1", {}, "Events"), h("div", { class: "toolbar" }, h("label", {}, "Status ", select)),
    table(["#", "Event", "Type", "Status", "Attempts", "Flow", "Error", "Received"], rows, "No events."), detail];
}

async function showEvent(id, into) {
  const { event, trail, payload } = await api("/admin/events/" + encodeURIComponent(id));
  const steps = (trail || []).map((s) => h("tr", {}, h("td", { class: "num" }, s.attempt), h("td", {}, s.flow), h("td", { class: "num" }, s.step),
    h("td", {}, s.kind), h("td", { class: "mono" }, s.detail), h("td", {}, when(s.at))));
  into.replaceChildren(
    h("h2", {}, "Event ", h("span", { class: "mono" }, event.id), " ", status(event.status)),
    h("dl", { class: "kv" },
      h("dt", {}, "Type"), h("dd", {}, event.type),
      h("dt", {}, "Plan"), h("dd", { class: "mono" }, event.plan_version || ""),
      h("dt", {}, "Attempts"), h("dd", {}, event.attempts),
      h("dt", {}, "Error"), h("dd", { class: "error" }, event.error || "")),
    h("h2", {}, "Step trail"),
    table(["Attempt", "Flow", "Step", "Kind", "Detail", "At"], steps, "No steps recorded yet."),
    h("h2", {}, "Payload (personal fields masked)"),
    h("pre", { id: "payload" }, JSON.stringify(payload, null, 2)));
  into.scrollIntoView({ behavior: "smooth" });
}

async function dlqPage() {
  const dead = await api("/admin/dlq?limit=500");
  const replay = async (id, button) => {
    button.disabled = true;
    try {
      const r = await api(id ? `/admin/dlq/${encodeURIComponent(id)}/replay` : "/admin/dlq/replay", { method: "POST" });
      toast(`Requeued ${r.requeued} on plan ${r.plan}`);
      setTimeout(route, 800);
    } catch (e) {
      toast(e.message);
      button.disabled = false;
    }
  };
  const rows = dead.map((ev) => h("tr", { "data-id": ev.id },
    h("td", { class: "mono" }, ev.id), h("td", {}, ev.type), h("td", {}, ev.flow || ""), h("td", { class: "num" }, ev.step || ""),
    h("td", { class: "error" }, ev.error || ""), h("td", {}, when(ev.updated)),
    h("td", {}, h("button", { class: "replay", onclick: (e) => replay(ev.id, e.target) }, "Replay"))));
  const all = h("button", { class: "primary", id: "replay-all", disabled: dead.length === 0, onclick: (e) => replay("", e.target) }, "Replay all");
  return [h("h1", {}, "Dead letters"),
    h("p", {}, "Events that will not run again by themselves. Fix the flow or the ERP, then replay: they run on the current plan."),
    h("div", { class: "toolbar" }, all),
    table(["Event", "Type", "Flow", "Step", "Reason", "When", ""], rows, "No dead letters.")];
}

async function reviewPage() {
  const held = await api("/admin/review?limit=500");
  const decide = async (id, approve, row) => {
    const note = row.querySelector("input.note").value;
    row.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const r = await api(`/admin/review/${encodeURIComponent(id)}/${approve ? "approve" : "reject"}`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ note }) });
      toast(`${r.event} ${r.decision}`);
      setTimeout(route, 800);
    } catch (e) {
      toast(e.message);
      row.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  };
  const rows = held.map((ev) => {
    const tr = h("tr", { "data-id": ev.id },
      h("td", { class: "mono" }, ev.id), h("td", {}, ev.type), h("td", {}, ev.flow || ""),
      h("td", { class: "reason" }, ev.error || ""), h("td", {}, when(ev.updated)),
      h("td", {}, h("input", { class: "note", placeholder: "note (why)", "aria-label": "note" })));
    tr.append(h("td", {}, h("button", { class: "approve primary", onclick: () => decide(ev.id, true, tr) }, "Approve"), " ",
      h("button", { class: "reject", onclick: () => decide(ev.id, false, tr) }, "Reject")));
    return tr;
  });
  return [h("h1", {}, "Review"),
    h("p", {}, "Events a flow held for a person (review when ... because ...), with the reason. Approved, an event runs on past its review steps; rejected, it ends skipped with your note."),
    table(["Event", "Type", "Flow", "Reason", "Held", "Note", ""], rows, "Nothing waits for review.")];
}

async function payoutsPage() {
  const rows = await api("/admin/payouts");
  const body = rows.map((r) => {
    const tr = h("tr", { "data-payout": r.payout },
      h("td", { class: "mono" }, r.payout), h("td", { class: "num" }, r.amount), h("td", {}, r.currency),
      h("td", { class: "num" }, r.transactions), h("td", { class: "num" }, r.sum), h("td", { class: "num" }, r.difference), h("td", { class: "num" }, r.fee_ratio || ""),
      h("td", {}, r.journal ? `${r.journal.lines} lines, debits ${r.journal.debits}, credits ${r.journal.credits}` : ""),
      h("td", {}, r.reconciles ? h("span", { class: "badge ok" }, "reconciles") : h("span", { class: "badge bad" }, "differs")));
    const extra = [];
    for (const f of r.flags || []) extra.push(h("tr", { class: "flag" }, h("td", {}), h("td", { colspan: 8, class: "bad" }, "⚑ " + f)));
    for (const p of r.problems || []) extra.push(h("tr", {}, h("td", {}), h("td", { colspan: 8, class: "error" }, p)));
    for (const it of r.items || []) extra.push(h("tr", {}, h("td", {}), h("td", { colspan: 8, class: "mono" }, `${it.id} ${it.type} ${it.net} ${it.currency}`)));
    return [tr, ...extra];
  });
  return [h("h1", {}, "Payouts"),
    h("p", {}, "Each payout's amount against the balance transactions flowd read for it, and the journal it posted."),
    table(["Payout", "Amount", "Currency", "Transactions", "Sum", "Difference", "Fees", "Journal", "Status"], body.flat(), "No payouts yet.")];
}

async function planPage() {
  const info = await api("/admin/plan");
  const out = [h("h1", {}, "Plan ", h("span", { class: "mono" }, info.version || "none"))];
  const last = info.last_reload;
  if (last) {
    out.push(h("p", { id: "last-reload" }, "Last reload ", when(last.at), ": ",
      last.ok ? h("span", { class: "ok" }, "compiled") : h("span", { class: "bad" }, "failed; the plan above keeps running")));
    if (!last.ok) out.push(h("pre", { class: "error" }, last.error));
  }
  const plan = info.plan;
  if (!plan) return out;
  out.push(h("p", {}, `Package ${plan.package}`, plan.env ? `, environment ${plan.env}` : "", `: ${plan.flows.length} flows.`));
  for (const f of plan.flows) out.push(h("h2", {}, `${f.kind} ${f.name}`), graph(f));
  return out;
}

// stepNodes adds a box per lookup, write, when, for and if of steps, and of
// the steps in their bodies, in order.
function stepNodes(steps, nodes) {
  for (const s of steps || []) {
    const text = (s.expr && s.expr.text || "").slice(0, 28);
    if (s.kind === "lookup") nodes.push({ kind: "lookup", label: `lookup ${s.entity || s.name}`, sub: s.miss ? `else ${s.miss.policy}` : "" });
    if (s.kind === "write") nodes.push({ kind: "write", label: `${s.op} ${s.entity}`, sub: s.name || "" });
    if (s.kind === "when") nodes.push({ kind: "when", label: "when", sub: text });
    if (s.kind === "if") nodes.push({ kind: "when", label: "if", sub: text });
    if (s.kind === "for") nodes.push({ kind: "lookup", label: `for ${s.name} in`, sub: s.aggregate ? `${s.aggregate} changes` : s.entity ? `${s.connector}.${s.entity}` : text });
    stepNodes(s.body, nodes);
    stepNodes(s.else, nodes);
  }
}

// graph draws a flow as boxes: its trigger, then each lookup and write (or
// the ledger's list and journal), left to right.
function graph(f) {
  const nodes = [{ kind: "trigger", label: `${f.trigger.connector}.${f.trigger.event || f.trigger.schedule}` }];
  stepNodes(f.steps, nodes);
  if (f.ledger) {
    nodes.push({ kind: "lookup", label: `for ${f.ledger.source.connector}.${f.ledger.source.list}`, sub: `group by ${f.ledger.group_by.map((g) => g.name).join(", ")}` });
    nodes.push({ kind: "write", label: `journal ${f.ledger.journal.entity}`, sub: `${f.ledger.journal.postings.length} postings` });
  }
  const w = 190, gap = 40, hgt = 54;
  const svg = h("svg", { class: "graph", width: nodes.length * (w + gap) + 20, height: hgt + 30, role: "img", "aria-label": `plan of ${f.name}` });
  const fill = { trigger: "#eef4ff", lookup: "#f0f9ff", write: "#ecfdf3", when: "#fffaeb" };
  nodes.forEach((n, i) => {
    const x = 10 + i * (w + gap), y = 15;
    if (i > 0) svg.append(h("line", { x1: x - gap, y1: y + hgt / 2, x2: x - 4, y2: y + hgt / 2, stroke: "#98a2b3", "stroke-width": 2 }),
      h("path", { d: `M${x - 4},${y + hgt / 2 - 5} L${x + 2},${y + hgt / 2} L${x - 4},${y + hgt / 2 + 5} Z`, fill: "#98a2b3" }));
    svg.append(h("g", { class: `node node-${n.kind}` },
      h("rect", { x, y, width: w, height: hgt, rx: 6, fill: fill[n.kind], stroke: "#98a2b3" }),
      h("text", { x: x + 10, y: y + 22 }, n.label.slice(0, 30)),
      h("text", { x: x + 10, y: y + 40, fill: "#667085" }, (n.sub || "").slice(0, 30)),
      h("title", {}, `${n.label} ${n.sub || ""}`)));
  });
  return svg;
}

async function activityPage() {
  const st = await api("/admin/stats?minutes=60&step=1m");
  const series = st.series || [];
  const max = Math.max(1, ...series.map((b) => Math.max(b.received, b.done + b.dead + b.retry)));
  const W = 960, H = 220, pad = 30, bw = (W - pad) / Math.max(1, series.length);
  const svg = h("svg", { class: "chart", id: "activity-chart", width: W, height: H + 40, role: "img", "aria-label": "events per minute" });
  svg.append(h("line", { x1: pad, y1: H, x2: W, y2: H, stroke: "#98a2b3" }), h("text", { x: 2, y: 14 }, String(max)), h("text", { x: 2, y: H }, "0"));
  series.forEach((b, i) => {
    const x = pad + i * bw;
    const bar = (value, offset, cls, color) => {
      const hh = (value / max) * (H - 10);
      return h("rect", { x: x + offset, y: H - hh, width: Math.max(1, bw / 2 - 1), height: hh, fill: color, class: cls }, h("title", {}, `${new Date(b.start).toLocaleTimeString()}: ${value} ${cls}`));
    };
    svg.append(bar(b.received, 0, "received", "#98a2b3"));
    let base = 0;
    for (const [v, cls, color] of [[b.done, "done", "#12b76a"], [b.retry, "retry", "#f79009"], [b.dead, "dead", "#f04438"]]) {
      const hh = (v / max) * (H - 10);
      if (v > 0) svg.append(h("rect", { x: x + bw / 2, y: H - base - hh, width: Math.max(1, bw / 2 - 1), height: hh, fill: color, class: cls }, h("title", {}, `${v} ${cls}`)));
      base += hh;
    }
  });
  const counts = Object.entries(st.counts || {}).map(([k, v]) => h("span", {}, status(k), " ", v));
  return [h("h1", {}, "Activity, the last hour"),
    h("p", { class: "legend" }, h("span", {}, h("i", { class: "sw sw-received" }), "received"), h("span", {}, h("i", { class: "sw sw-done" }), "done"),
      h("span", {}, h("i", { class: "sw sw-retry" }), "retry"), h("span", {}, h("i", { class: "sw sw-dead" }), "dead")),
    svg, h("h2", {}, "Events by status"), h("p", { class: "legend", id: "counts" }, counts)];
}

// Routing -----------------------------------------------------------------

const pages = { events: eventsPage, review: reviewPage, dlq: dlqPage, payouts: payoutsPage, plan: planPage, activity: activityPage };

async function route() {
  const [path, query] = (location.hash.replace(/^#\/?/, "") || "events").split("?");
  const page = pages[path] ? path : "events";
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === page));
  try {
    const content = await pages[page](new URLSearchParams(query || ""));
    signedIn(true);
    main.replaceChildren(...content);
    main.dataset.page = page;
    refreshHeader();
  } catch (e) {
    if (e instanceof Unauthorized) return showLogin();
    main.replaceChildren(h("p", { class: "error" }, "Could not load: " + e.message));
  }
}

async function refreshHeader() {
  try {
    const [plan, dead, held] = await Promise.all([api("/admin/plan"), api("/admin/dlq?limit=1000"), api("/admin/review?limit=1000")]);
    document.getElementById("plan-version").textContent = "plan " + (plan.version || "none");
    document.getElementById("dead-count").textContent = dead.length ? String(dead.length) : "";
    document.getElementById("review-count").textContent = held.length ? String(held.length) : "";
  } catch { /* the page itself reports errors */ }
}

function signedIn(yes) {
  document.getElementById("nav").hidden = !yes;
  document.getElementById("logout").hidden = !yes;
}

function showLogin() {
  signedIn(false);
  main.replaceChildren(document.getElementById("login").content.cloneNode(true));
  main.dataset.page = "login";
  document.getElementById("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = document.getElementById("login-error");
    try {
      await api("/console/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: document.getElementById("token").value }) });
      route();
    } catch (x) {
      err.textContent = x instanceof Unauthorized ? "That is not the admin token." : x.message;
      err.hidden = false;
    }
  });
}

document.getElementById("logout").addEventListener("click", async () => {
  await fetch("/console/logout", { method: "POST", credentials: "same-origin" });
  showLogin();
});
window.addEventListener("hashchange", route);
route();
