// A stand-in for repute's HTTP server, for working on the dashboard without
// Kafka: serves src/http/assets/ and the /v1 JSON endpoints from the canned
// state in mock-data.json (the bundled example's real output; see
// make-mock-data.mjs).
//
//   node tests/browser/mock-server.mjs            # http://127.0.0.1:8080/
//   PORT=8090 MOCK_EXTRA=300 node tests/browser/mock-server.mjs
//
// MOCK_EXTRA=N adds N made-up accounts in every status (for pagination and
// for the look of a busy list). Files are read on every request: edit and
// reload. The caller is an operator (GET /v1/me); a POSTed action is
// answered 202 and, a second later, bumps the account's sequence (as a
// status change would), so the page's pending state can be seen;
// MOCK_ROLE=viewer shows the page without buttons.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const assets = join(here, '../../src/http/assets');
const data = JSON.parse(readFileSync(join(here, 'mock-data.json'), 'utf8'));
const port = Number(process.env.PORT || 8080), host = process.env.HOST || '127.0.0.1';
const ORDER = ['SENDING_PAUSED', 'PENDING_SENDING_PAUSE', 'PENDING_END_OF_REVIEW_DECISION', 'UNDER_REVIEW', 'HEALTHY'];
const TYPES = { html: 'text/html; charset=utf-8', css: 'text/css; charset=utf-8', js: 'text/javascript; charset=utf-8', svg: 'image/svg+xml', png: 'image/png' };

const accounts = new Map(data.accounts.map((a) => [a.account_id, a]));
const extra = Number(process.env.MOCK_EXTRA || 0);
for (let i = 1; i <= extra; i++) {
  const id = `shop-${String(i).padStart(4, '0')}`;
  const status = ORDER[i % 17 === 0 ? 0 : i % 13 === 0 ? 1 : i % 7 === 0 ? 2 : i % 3 === 0 ? 3 : 4];
  const rate = status === 'HEALTHY' ? 0.01 + (i % 30) / 1000 : status === 'SENDING_PAUSED' ? 0.11 + (i % 9) / 100 : 0.05 + (i % 40) / 1000;
  const kind = status === 'PENDING_END_OF_REVIEW_DECISION' ? 'COMPROMISED_CREDENTIALS' : 'BOUNCE_RATE';
  const mst = { SENDING_PAUSED: 'SENDING_PAUSE', PENDING_SENDING_PAUSE: 'PENDING_SENDING_PAUSE' }[status] || (status === 'HEALTHY' ? 'HEALTHY' : 'UNDER_REVIEW');
  const ends = status === 'UNDER_REVIEW' ? data.clock + (i % 7 + 1) * 86400e3 : null;
  const m = (r, review, pause, st) => ({ status: st, rate: r, count: Math.round(r * 2000), volume: 2000,
    window_start: data.clock - 7 * 86400e3, window_end: data.clock, review_threshold: review, pause_threshold: pause });
  accounts.set(id, {
    account_id: id, status, sequence: 3, clock: data.clock, manual_review: i % 5 === 0, links: [], review_ends_at: ends,
    bounce: m(rate, 0.05, 0.1, kind === 'BOUNCE_RATE' ? mst : 'HEALTHY'), complaint: m(0.0004, 0.001, 0.005, 'HEALTHY'),
    issues: status === 'HEALTHY' ? [] : [{ kind, status: kind === 'BOUNCE_RATE' ? mst : 'UNDER_REVIEW', since: data.clock - 86400e3,
      review_ends_at: ends, manual: kind !== 'BOUNCE_RATE', incidents: kind === 'BOUNCE_RATE' ? null : 1 }],
    hours: [], notifications: [],
  });
}
const sorted = () => [...accounts.keys()].sort();

function send(res, code, body, type = 'application/json') {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  // The same Content-Security-Policy as repute's own server (src/api/api.c).
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': buf.length, 'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'" });
  res.end(buf);
}

function route(req, res) {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (p === '/readyz' || p === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
  if (p === '/v1/summary') {
    const by = Object.fromEntries(ORDER.map((s) => [s, 0]));
    for (const a of accounts.values()) by[a.status]++;
    return send(res, 200, { ready: true, clock: data.clock, clock_mode: 'event', partitions: data.partitions, accounts: accounts.size, by_status: by, thresholds: data.thresholds });
  }
  if (p === '/v1/accounts') {
    const st = (url.searchParams.get('status') || '').split(',').filter(Boolean);
    const q = url.searchParams.get('q') || '', after = url.searchParams.get('after');
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit')) || 50, 1), 500);
    const ids = sorted().filter((id) => (!after || id > after) && id.includes(q) && (!st.length || st.includes(accounts.get(id).status)));
    const page = ids.slice(0, limit).map((id) => {
      const a = accounts.get(id);
      return { account_id: id, status: a.status, bounce_rate: a.bounce.rate, complaint_rate: a.complaint.rate,
        review_ends_at: a.review_ends_at, issues: a.issues.map((i) => i.kind) };
    });
    return send(res, 200, { accounts: page, next: ids.length > limit ? page[page.length - 1].account_id : null });
  }
  if (p === '/v1/me') {
    const role = process.env.MOCK_ROLE || 'operator';
    return send(res, 200, { name: 'mock', role, can_act: role === 'operator', read_only: false });
  }
  if (req.method === 'POST' && p.startsWith('/v1/accounts/') && p.endsWith('/actions')) {
    let id;
    try { id = decodeURIComponent(p.slice(13, -8)); } catch { return send(res, 400, { error: 'bad_request', message: 'bad percent-encoding' }); }
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      let b;
      try { b = JSON.parse(body); } catch { return send(res, 400, { error: 'bad_request', field: 'body', message: 'body: not JSON' }); }
      const a = accounts.get(id);
      if (a) setTimeout(() => { a.sequence += 1; }, 1000);
      send(res, 202, { status: 'accepted', event_id: b.event_id || `http-mock-${Date.now()}`, account_id: id, tenant: null,
        action: b.action, issue: b.issue || null, actor: 'mock', topic: 'repute.actions', partition: 0, offset: 0 });
    });
    return undefined;
  }
  if (p.startsWith('/v1/accounts/')) {
    let id;
    try { id = decodeURIComponent(p.slice(13)); } catch { return send(res, 400, { error: 'bad_request', message: 'bad percent-encoding' }); }
    // The history (docs/history.md), made up from the account's
    // notifications: the mock keeps no state of its own.
    const h = id.endsWith('/history') ? accounts.get(id.slice(0, -8)) : null;
    if (h) return send(res, 200, { account_id: h.account_id, tenant: null, max_entries: 32,
      entries: (h.notifications || []).map((n) => ({ time: n.event_time, kind: 'notification', issue: n.issue, stage: n.stage })) });
    const a = accounts.get(id);
    if (a) return send(res, 200, { ...a, notifications_note: 'notifications published by this instance since it took the account\'s partition; earlier ones are on the output topic' });
    const partition = [...Buffer.from(id)].reduce((h, c) => (h * 31 + c) >>> 0, 7) % 8;
    const owned = data.partitions.includes(partition);
    return send(res, 404, { error: 'not_found', account_id: id, partition, owned,
      message: owned ? `No record for account ${id} has been seen yet.` :
        `Account ${id} belongs to partition ${partition}, which another repute instance holds.` });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method_not_allowed' });
  const name = p === '/' ? 'index.html' : p.slice(1);
  if (!/^[\w.-]+$/.test(name)) return send(res, 404, { error: 'not_found' });
  try {
    return send(res, 200, readFileSync(join(assets, name)), TYPES[name.split('.').pop()] || 'application/octet-stream');
  } catch {
    return send(res, 404, { error: 'not_found' });
  }
}

createServer(route).listen(port, host, () => console.log(`mock repute dashboard on http://${host}:${port}/`));
