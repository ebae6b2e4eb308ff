/**
 * /status: one self-contained HTML page (no build step, nothing downloaded at run time) that polls
 * /status.json every second and renders the pool, the last decisions with every scorer's scores, the
 * prefix index, the worker pool and flow control. Data goes into the DOM as text only (labels and model
 * names come from clients and pods).
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>epp-ts status</title>
<link rel="icon" href="data:,">
<style>
  :root { --fg: #1d2330; --muted: #6b7385; --line: #e3e6ee; --accent: #2f6fed; --pick: #e6f0ff; --bad: #c0392b; --ok: #1e8e3e; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, -apple-system, Segoe UI, Roboto, sans-serif; color: var(--fg); margin: 0; background: #f7f8fb; }
  header { background: #fff; border-bottom: 1px solid var(--line); padding: 12px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  header span { color: var(--muted); }
  main { padding: 16px 24px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { color: var(--muted); font-weight: 600; font-size: 12px; }
  td.num, th.num { text-align: right; }
  tr.picked td { background: var(--pick); font-weight: 600; }
  .stale { color: var(--bad); }
  .fresh { color: var(--ok); }
  .muted { color: var(--muted); }
  .decision { border-top: 1px solid var(--line); padding: 8px 0; }
  .decision summary { cursor: pointer; }
  .bar { display: inline-block; height: 8px; background: var(--accent); border-radius: 2px; vertical-align: middle; margin-right: 6px; }
  .pill { display: inline-block; padding: 0 6px; border-radius: 10px; background: var(--line); font-size: 12px; }
  #error { color: var(--bad); }
</style>
</head>
<body>
<header>
  <h1>epp-ts</h1>
  <span id="pool"></span>
  <span id="version"></span>
  <span id="uptime"></span>
  <span id="error" role="status"></span>
</header>
<main>
  <section class="wide"><h2>Pool</h2><table id="endpoints"></table></section>
  <section class="wide"><h2>Last decisions <span class="muted" id="decision-count"></span></h2><div id="decisions"></div></section>
  <section><h2>Prefix cache</h2><div id="prefix"></div></section>
  <section><h2>Worker pool</h2><div id="workers"></div></section>
  <section><h2>Flow control</h2><div id="flow"></div></section>
</main>
<script>
'use strict';
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function row(cells, header, cls) {
  const tr = el('tr', undefined, cls);
  for (const c of cells) {
    const isSpec = c !== null && typeof c === 'object';
    const td = el(header ? 'th' : 'td', isSpec ? c.text : c, isSpec ? c.cls : undefined);
    if (c && c.node) td.appendChild(c.node);
    tr.appendChild(td);
  }
  return tr;
}
const pct = (x) => (x === null || x === undefined ? '–' : (100 * x).toFixed(1) + ' %');
const num = (x, d) => (x === null || x === undefined ? '–' : Number(x).toFixed(d || 0));
function table(id, head, rows) {
  const t = $(id) || id;
  t.replaceChildren(row(head, true));
  for (const r of rows) t.appendChild(r);
  return t;
}
function renderPool(s) {
  $('pool').textContent = 'pool ' + s.pool.name + ' · ' + s.pool.endpoints.length + ' endpoints';
  $('version').textContent = s.version;
  $('uptime').textContent = 'up ' + s.uptimeSeconds + ' s';
  table('endpoints', ['endpoint', 'address', 'role', { text: 'waiting', cls: 'num' }, { text: 'running', cls: 'num' }, { text: 'KV use', cls: 'num' }, { text: 'in flight', cls: 'num' }, 'metrics', 'models'],
    s.pool.endpoints.map((e) => row([
      e.name, e.address, e.role || '–',
      { text: num(e.waiting), cls: 'num' }, { text: num(e.running), cls: 'num' }, { text: pct(e.kvCacheUsage), cls: 'num' }, { text: num(e.inFlight), cls: 'num' },
      e.stale ? { text: 'stale: ' + e.stale, cls: 'stale' } : { text: e.metricsAgeMs === null ? 'none yet' : e.metricsAgeMs + ' ms old', cls: 'fresh' },
      e.activeModels.join(', ') || '–',
    ])));
}
function renderDecisions(s) {
  $('decision-count').textContent = '(' + s.decisions.length + ', newest first; at most 50 a second are recorded)';
  const box = $('decisions');
  const open = new Set([...box.querySelectorAll('details[open]')].map((d) => d.dataset.seq));
  box.replaceChildren();
  if (s.decisions.length === 0) box.appendChild(el('p', 'No decision yet: send a request through the gateway.', 'muted'));
  s.decisions.forEach((d, i) => {
    const det = el('details', undefined, 'decision');
    det.dataset.seq = d.seq;
    if (open.has(String(d.seq)) || (open.size === 0 && i === 0)) det.open = true;
    const when = new Date(d.at).toLocaleTimeString();
    const prefix = d.prefix ? ' · prefix ' + d.prefix.matchedBlocks + '/' + d.prefix.totalBlocks + ' blocks cached' : '';
    det.appendChild(el('summary', when + ' · ' + d.model + (d.targetModel !== d.model ? ' → ' + d.targetModel : '') + ' · priority ' + d.priority + ' · ~' + d.promptTokens + ' tokens → ' + (d.destination ? d.destinationName + ' (' + d.destination + ')' : 'no pick') + prefix));
    for (const p of d.profiles) {
      det.appendChild(el('div', 'profile ' + p.profile + (p.profile === d.primaryProfile ? ' (primary)' : '') + (p.failure ? ': ' + p.failure : ''), 'muted'));
      if (p.failure) continue;
      const head = ['endpoint'].concat(p.scorers.map((c) => ({ text: c.scorer + ' ×' + c.weight, cls: 'num' })), [{ text: 'total', cls: 'num' }]);
      const max = Math.max(1e-9, ...p.totals);
      const rows = p.candidates.map((name, k) => {
        const bar = el('span', undefined, 'bar');
        bar.style.width = Math.round((60 * (p.totals[k] || 0)) / max) + 'px';
        const total = el('span', num(p.totals[k], 3));
        const cell = document.createDocumentFragment();
        cell.appendChild(bar); cell.appendChild(total);
        return row([name].concat(p.scorers.map((c) => ({ text: num(c.scores[k], 3), cls: 'num' })), [{ node: cell, cls: 'num' }]), false, p.picked[0] === name ? 'picked' : '');
      });
      det.appendChild(table(el('table'), head, rows));
    }
    box.appendChild(det);
  });
}
function renderPrefix(s) {
  const box = $('prefix');
  box.replaceChildren(el('p', 'Recent hit rate (primary pick, decisions shown): ' + (s.prefix.recentHitRate === null ? '–' : pct(s.prefix.recentHitRate)) + ' over ' + s.prefix.recentRequests + ' requests'));
  if (s.prefix.indexes.length === 0) box.appendChild(el('p', 'No approximate prefix index in this config.', 'muted'));
  else box.appendChild(table(el('table'), ['index', { text: 'blocks', cls: 'num' }, { text: 'entries', cls: 'num' }], s.prefix.indexes.map((x) => row([x.name, { text: x.blocks, cls: 'num' }, { text: x.entries, cls: 'num' }]))));
}
function renderWorkers(s) {
  const w = s.workers;
  const box = $('workers');
  const fallbacks = Object.entries(w.fallbacks).filter(([, n]) => n > 0).map(([k, n]) => k + ' ' + n).join(', ') || 'none';
  box.replaceChildren(el('p', w.threads + ' thread(s) · ' + w.tasks + ' scoring tasks for ' + w.jobs + ' jobs · hand-off ' + (w.handOffUs === undefined || w.handOffUs === null ? '–' : num(w.handOffUs) + ' µs') + ' · fallbacks: ' + fallbacks));
  box.appendChild(table(el('table'), ['profile', 'scorer', 'runs'], w.placements.map((p) => row([p.profile, p.plugin, { node: el('span', p.placement, 'pill') }]))));
}
function renderFlow(s) {
  const box = $('flow');
  if (!s.flowControl) return box.replaceChildren(el('p', 'Off (featureGates: [flowControl] turns it on).', 'muted'));
  const f = s.flowControl;
  box.replaceChildren(el('p', f.queued + ' queued (' + f.queuedBytes + ' bytes) · pool saturation ' + num(f.saturation, 2)));
  box.appendChild(table(el('table'), [{ text: 'priority', cls: 'num' }, { text: 'queued', cls: 'num' }, { text: 'bytes', cls: 'num' }, { text: 'flows', cls: 'num' }], f.bands.map((b) => row([{ text: b.priority, cls: 'num' }, { text: b.queued, cls: 'num' }, { text: b.bytes, cls: 'num' }, { text: b.flows, cls: 'num' }]))));
}
async function refresh() {
  try {
    const res = await fetch('status.json', { cache: 'no-store' });
    if (!res.ok) throw new Error('status.json: HTTP ' + res.status);
    const s = await res.json();
    renderPool(s); renderDecisions(s); renderPrefix(s); renderWorkers(s); renderFlow(s);
    $('error').textContent = '';
    document.body.dataset.updated = String(s.now);
  } catch (err) {
    $('error').textContent = 'cannot reach the EPP: ' + err.message;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
