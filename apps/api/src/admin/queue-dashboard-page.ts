/**
 * The read-only queue dashboard at `/admin/queues`: one HTML page and one script, both served by
 * the API itself (no CDN, no build step). The script polls `/admin/queues/data.json` and renders
 * with DOM text nodes only, so job ids and error messages can never inject markup.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Hotpath queues</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2430; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
  h3 { font-size: .95rem; margin: 1rem 0 .25rem; color: #4a5568; }
  table { border-collapse: collapse; background: #fff; margin-bottom: .5rem; }
  th, td { border: 1px solid #d9dee7; padding: .25rem .6rem; text-align: right; }
  th { background: #eef1f6; font-weight: 600; }
  td.text, th.text { text-align: left; }
  .muted { color: #6b7280; }
  .bad { color: #b42318; font-weight: 600; }
  .ok { color: #067647; }
  #status { margin-bottom: 1rem; }
</style>
</head>
<body>
<h1>Hotpath queues</h1>
<div id="status" class="muted">loading…</div>
<section id="models"></section>
<h2>Workers</h2>
<section id="workers"></section>
<script src="/admin/queues/app.js"></script>
</body>
</html>
`;

export const DASHBOARD_JS = `'use strict';
(function () {
  var REFRESH_MS = 5000;
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function table(headers, rows, textCols) {
    var t = el('table');
    var head = el('tr');
    headers.forEach(function (h, i) { head.appendChild(el('th', h, textCols.indexOf(i) >= 0 ? 'text' : '')); });
    t.appendChild(head);
    rows.forEach(function (r) {
      var tr = el('tr');
      r.forEach(function (c, i) {
        var cell = c && typeof c === 'object' ? c : { v: c };
        tr.appendChild(el('td', cell.v, (textCols.indexOf(i) >= 0 ? 'text ' : '') + (cell.cls || '')));
      });
      t.appendChild(tr);
    });
    return t;
  }
  function age(s) {
    if (s === null || s === undefined) return '–';
    if (s < 60) return s.toFixed(1) + ' s';
    if (s < 3600) return (s / 60).toFixed(1) + ' min';
    return (s / 3600).toFixed(1) + ' h';
  }
  function sum(a) { return a.reduce(function (n, v) { return n + v; }, 0); }
  function renderModel(m) {
    var box = el('div');
    box.setAttribute('data-model', m.model);
    box.appendChild(el('h2', m.model + ' (' + m.backend + ')'));
    box.appendChild(table(
      ['shard', 'waiting', 'active', 'delayed', 'failed', 'oldest waiting', 'workers'],
      m.shards.map(function (s) {
        return [s.shard, s.waiting, s.active, s.delayed, { v: s.failed, cls: s.failed > 0 ? 'bad' : '' },
          age(s.oldest_waiting_s), { v: s.workers, cls: s.workers === 0 ? 'bad' : 'ok' }];
      }), []));
    var last = function (a) { return a.length ? a[a.length - 1] : 0; };
    box.appendChild(el('div', 'throughput: ' + last(m.completed_per_min) + ' completed in the last minute, ' +
      sum(m.completed_per_min) + ' in ' + m.completed_per_min.length + ' min; ' + sum(m.failed_per_min) + ' failed', 'muted'));
    box.appendChild(el('h3', 'Recent failures'));
    if (m.recent_failures.length === 0) box.appendChild(el('div', 'none', 'muted'));
    else box.appendChild(table(['job', 'shard', 'code', 'message', 'failed at'],
      m.recent_failures.map(function (f) { return [f.id, f.shard, { v: f.code, cls: 'bad' }, f.message, f.failed_at || '–']; }),
      [0, 2, 3, 4]));
    return box;
  }
  function render(data) {
    var models = document.getElementById('models');
    models.replaceChildren.apply(models, data.models.map(renderModel));
    var workers = document.getElementById('workers');
    if (data.workers.length === 0) workers.replaceChildren(el('div', 'no worker has sent a heartbeat', 'bad'));
    else workers.replaceChildren(table(['worker', 'host', 'pid', 'version', 'state', 'running jobs', 'last heartbeat', 'serves'],
      data.workers.map(function (w) {
        return [w.worker_id, w.host, w.pid, w.version, { v: w.alive ? 'alive' : 'stale', cls: w.alive ? 'ok' : 'bad' },
          w.active_jobs, age(w.age_s) + ' ago',
          w.models.map(function (m) { return m.model + ' [' + m.shards.join(',') + ']' + (m.steals ? ' +steal' : ''); }).join('; ')];
      }), [0, 1, 3, 4, 7]));
    var status = document.getElementById('status');
    status.className = 'muted';
    status.textContent = 'updated ' + data.generated_at + ' (every ' + REFRESH_MS / 1000 + ' s)';
  }
  function refresh() {
    fetch('/admin/queues/data.json', { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(render)
      .catch(function (err) {
        var status = document.getElementById('status');
        status.className = 'bad';
        status.textContent = 'could not load the queues: ' + err.message;
      })
      .finally(function () { setTimeout(refresh, REFRESH_MS); });
  }
  refresh();
})();
`;
