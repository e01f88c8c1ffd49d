// Builds tests/browser/mock-data.json, the canned state that mock-server.mjs
// serves, from the bundled example's real output:
//
//   build/repute replay --config examples/review-and-pause.properties \
//       examples/review-and-pause.jsonl > /tmp/replay.jsonl
//   node tests/browser/make-mock-data.mjs /tmp/replay.jsonl \
//       examples/review-and-pause.jsonl > tests/browser/mock-data.json
//
// Each account's status, metrics and issues are those of its last
// STATUS_CHANGE; its notifications are every NOTIFICATION, newest first; its
// hourly buckets are counted from the input records. An account that never
// changed (initech) is healthy, with rates counted from the input. It is a
// mock: close to what repute serves, not a second implementation of it.
import { readFileSync } from 'node:fs';

const [outPath, inPath] = process.argv.slice(2);
if (!outPath || !inPath) {
  console.error('usage: make-mock-data.mjs REPLAY_OUTPUT.jsonl INPUT.jsonl');
  process.exit(2);
}
const lines = (p) => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const out = lines(outPath), input = lines(inPath);
const HOUR = 3600e3;
const MANUAL = ['INTERNAL_REVIEW', 'RELATED_ACCOUNT', 'VULNERABLE_SITE', 'COMPROMISED_CREDENTIALS', 'OTHER'];
const RATES = ['BOUNCE_RATE', 'COMPLAINT_RATE'];
const thresholds = { bounce: { review: 0.05, pause: 0.10 }, complaint: { review: 0.001, pause: 0.005 } };

const accounts = {};
const acct = (id) => (accounts[id] ||= {
  account_id: id, status: 'HEALTHY', sequence: 0, manual_review: false, links: [], review_ends_at: null,
  bounce: null, complaint: null, issues: [], hours: {}, notifications: [],
});
let clock = 0;
for (const r of input) {
  const t = Date.parse(r.event_time || r.time);
  clock = Math.max(clock, t);
  if (r.type === 'tick') continue;
  const a = acct(r.account_id);
  if (r.type === 'action') {
    if (r.action === 'LINK_ACCOUNT' && !a.links.includes(r.related_account_id)) a.links.push(r.related_account_id);
    if (r.action === 'UNLINK_ACCOUNT') a.links = a.links.filter((l) => l !== r.related_account_id);
    if (r.action === 'SET_MANUAL_REVIEW') a.manual_review = true;
    if (r.action === 'CLEAR_MANUAL_REVIEW') a.manual_review = false;
    continue;
  }
  if (r.type !== 'delivery' && r.type !== 'bounce' && r.type !== 'complaint') continue;
  const sent = r.sent_time ? Date.parse(r.sent_time) : t;
  const start = Math.floor(sent / HOUR) * HOUR;
  const h = (a.hours[start] ||= { start, sends: 0, hard_bounces: 0, deliveries: 0, complaints: 0 });
  if (r.type === 'delivery') { h.sends++; h.deliveries++; }
  if (r.type === 'bounce') { h.sends++; if (r.bounce_type === 'PERMANENT') h.hard_bounces++; }
  if (r.type === 'complaint') h.complaints++;
}
for (const e of out) {
  const a = acct(e.account_id);
  a.sequence = e.sequence;
  if (e.status_change) {
    const s = e.status_change;
    a.status = s.status;
    a.review_ends_at = s.review_ends_at;
    a.bounce = s.bounce;
    a.complaint = s.complaint;
    a.issues = s.issues.map((i) => ({
      ...i, manual: MANUAL.includes(i.kind), incidents: RATES.includes(i.kind) ? null : 0,
    }));
  } else {
    a.notifications.unshift({ sequence: e.sequence, event_time: e.event_time, ...e.notification });
  }
}
const metric = (m, kind, hours) => {
  const [num, den] = kind === 'bounce' ? ['hard_bounces', 'sends'] : ['complaints', 'deliveries'];
  if (!m) {
    const start = hours.length ? hours[0].start : clock - 24 * HOUR;
    const count = hours.reduce((s, h) => s + h[num], 0), volume = hours.reduce((s, h) => s + h[den], 0);
    m = { status: 'HEALTHY', rate: volume >= 200 ? count / volume : null, count, volume,
      window_start: start, window_end: Math.ceil(clock / HOUR) * HOUR };
  }
  return { ...m, review_threshold: thresholds[kind].review, pause_threshold: thresholds[kind].pause };
};
const list = Object.values(accounts).sort((x, y) => (x.account_id < y.account_id ? -1 : 1)).map((a) => {
  const hours = Object.values(a.hours).sort((x, y) => x.start - y.start);
  const bounce = metric(a.bounce, 'bounce', hours), complaint = metric(a.complaint, 'complaint', hours);
  const from = Math.min(bounce.window_start, complaint.window_start), to = Math.max(bounce.window_end, complaint.window_end);
  return {
    account_id: a.account_id, status: a.status, sequence: a.sequence, clock, manual_review: a.manual_review,
    links: a.links, review_ends_at: a.review_ends_at, bounce, complaint, issues: a.issues,
    hours: hours.filter((h) => h.start >= from - HOUR && h.start < to), notifications: a.notifications,
  };
});
process.stdout.write(`${JSON.stringify({ clock, partitions: [0, 1, 2, 3], thresholds, accounts: list }, null, 1)}\n`);
