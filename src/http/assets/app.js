/* repute's dashboard: hash routes #/ (accounts and tenants that need
 * attention), #/account/<id> and #/account/<id>/tenant/<tenant> (a tenant,
 * docs/rules.md section 10: the same page as an account's, for that
 * stream; ids are percent-encoded, so the "/tenant/" is the route's), polling the same server's /v1 JSON every 2 s while the
 * tab is visible. No framework, nothing fetched from elsewhere.
 *
 * When repute asks for tokens (docs/api-auth.md), the first 401 shows a
 * sign-in form; the token is kept in this tab's sessionStorage and sent as
 * `Authorization: Bearer` with every request (never a cookie, so another
 * site cannot make the browser send it: no CSRF).
 *
 * An operator acts from an account's page (docs/api-actions.md): each open
 * issue shows the actions that apply to it now, the account its own (manual
 * review, links); a button opens a dialog that says what will happen and
 * takes a note; confirming POSTs the action, and the page shows it as
 * pending until the account's data show its effect. The dialog lives
 * outside the polled markup, so a refresh never wipes what is being typed.
 * GET v1/me says whether this token may act: a viewer sees no buttons.
 * On a tenant's page the issues' actions go to the tenant's route; the
 * account's own actions (manual review, links) are not offered there.
 *
 * Each page also shows the account's or tenant's history (GET .../history,
 * docs/history.md) as a timeline, drawn by timeline.js. */
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const POLL_MS = 2000, PAGE = 50, HOUR = 3600e3;
  const ATTENTION = ['SENDING_PAUSED', 'PENDING_SENDING_PAUSE', 'PENDING_END_OF_REVIEW_DECISION', 'UNDER_REVIEW'];
  const ACCOUNT = {
    HEALTHY: 'Healthy', UNDER_REVIEW: 'Under review', PENDING_END_OF_REVIEW_DECISION: 'Decision pending',
    PENDING_SENDING_PAUSE: 'Pause pending', SENDING_PAUSED: 'Sending paused',
  };
  const ISSUE = {
    HEALTHY: 'Healthy', ALMOST_HEALED: 'Almost healed', UNDER_REVIEW: 'Under review',
    SENDING_PAUSE: 'Sending paused', PENDING_SENDING_PAUSE: 'Pause pending',
  };
  const KIND = {
    BOUNCE_RATE: 'Bounce rate', COMPLAINT_RATE: 'Complaint rate', ANTI_SPAM_ORGANIZATION: 'Anti-spam organization report',
    LISTBOMBING: 'Listbombing', SPAMTRAP: 'Spamtrap hits', DOMAIN_BLOCKLIST: 'Blocklisted domain',
    MAILBOX_PROVIDER: 'Mailbox provider report', DIRECT_FEEDBACK: 'Direct feedback from recipients',
    RECIPIENT_FEEDBACK: 'Recipient feedback', INTERNAL_REVIEW: 'Internal review', RELATED_ACCOUNT: 'Related account',
    VULNERABLE_SITE: 'Vulnerable site', COMPROMISED_CREDENTIALS: 'Compromised credentials', OTHER: 'Other',
  };
  const STAGE = {
    REVIEW_STARTED: 'Review started', REVIEW_EXTENDED: 'Review extended', DECISION_PENDING: 'Decision pending',
    SENDING_PAUSED: 'Sending paused', PENDING_SENDING_PAUSE: 'Pause pending', SENDING_RESUMED: 'Sending resumed',
    RESOLVED: 'Resolved',
  };
  const STAGE_CLASS = {
    REVIEW_STARTED: 'UNDER_REVIEW', REVIEW_EXTENDED: 'UNDER_REVIEW', DECISION_PENDING: 'PENDING_END_OF_REVIEW_DECISION',
    SENDING_PAUSED: 'SENDING_PAUSED', PENDING_SENDING_PAUSE: 'PENDING_SENDING_PAUSE', SENDING_RESUMED: 'ALMOST_HEALED',
    RESOLVED: 'HEALTHY',
  };
  const COLOR = { ok: '#2f9e63', rev: '#d79a00', bad: '#d92d20' };

  /* ---- formatting ---- */
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const num = (n) => (n == null ? '–' : Number(n).toLocaleString('en-US'));
  const plural = (n, one, many) => `${num(n)} ${n === 1 ? one : many}`;
  function pct(x) {
    if (x == null) return '–';
    const v = x * 100;
    if (v === 0) return '0%';
    return `${+v.toFixed(v >= 1 ? 1 : v >= 0.1 ? 2 : 3)}%`;
  }
  const iso = (ms) => new Date(ms).toISOString();
  const when = (ms) => (ms == null ? '–' : `${iso(ms).slice(0, 16).replace('T', ' ')} UTC`);
  const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const day = (ms) => { const d = new Date(ms); return `${MON[d.getUTCMonth()]} ${d.getUTCDate()}`; };
  /* A time relative to the data's clock (which may be event time). */
  function rel(ms, clock) {
    if (ms == null || clock == null) return '';
    const d = ms - clock, a = Math.abs(d);
    let t;
    if (a < 60e3) return 'now';
    if (a < HOUR) t = plural(Math.round(a / 60e3), 'minute', 'minutes');
    else if (a < 48 * HOUR) t = plural(Math.round(a / HOUR), 'hour', 'hours');
    else t = plural(Math.round(a / (24 * HOUR)), 'day', 'days');
    return d > 0 ? `in ${t}` : `${t} ago`;
  }
  const whenRel = (ms, clock) =>
    ms == null ? '–' : `<time datetime="${iso(ms)}">${when(ms)}</time> <span class="muted">(${rel(ms, clock)})</span>`;
  const badge = (code, words, extra = '') => `<span class="badge s-${esc(code)}"${extra}>${esc(words[code] || code)}</span>`;
  const kindList = (kinds) => {
    const w = kinds.map((k) => (KIND[k] || k).toLowerCase());
    return w.length < 2 ? w.join('') : `${w.slice(0, -1).join(', ')} and ${w[w.length - 1]}`;
  };
  const zone = (r, m) => (r >= m.pause_threshold ? 'bad' : r >= m.review_threshold ? 'rev' : 'ok');

  /* Sets an element's markup only when it changed: polling does not flicker. */
  function put(el, html) {
    if (el._html !== html) { el.innerHTML = html; el._html = html; }
  }

  /* ---- fetching, polling, routing ---- */
  const TOKEN_KEY = 'repute.token';
  const token = {
    get: () => { try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; } },
    set: (t) => { try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ } },
  };
  class AuthError extends Error {
    constructor(message) { super(message); this.name = 'AuthError'; }
  }
  async function getJSON(url, signal) {
    const headers = { Accept: 'application/json' };
    const t = token.get();
    if (t) headers.Authorization = `Bearer ${t}`;
    const r = await fetch(url, { signal, cache: 'no-store', credentials: 'omit', headers });
    let body = null;
    try { body = await r.json(); } catch (e) { /* not JSON */ }
    if (r.status === 401) throw new AuthError(t ? 'That token was not accepted.' : '');
    if (r.status === 429) {
      const wait = r.headers.get('Retry-After');
      throw new Error(`too many failed sign-ins from here${wait ? `; wait ${wait} s` : ''}`);
    }
    if (r.status === 403) throw new Error((body && body.message) || 'this token may not see this');
    if (!r.ok && r.status !== 404) throw new Error(`${url}: HTTP ${r.status}`);
    return { status: r.status, body };
  }

  function route() {
    const h = location.hash.replace(/^#/, '') || '/';
    if (h.startsWith('/account/')) {
      const dec = (x) => { try { return decodeURIComponent(x); } catch (e) { return x; } };
      const rest = h.slice(9), at = rest.indexOf('/tenant/');
      if (at >= 0) return { page: 'account', id: dec(rest.slice(0, at)), tenant: dec(rest.slice(at + 8)) };
      return { page: 'account', id: dec(rest), tenant: null };
    }
    const p = new URLSearchParams(h.split('?')[1] || '');
    const st = (p.get('status') || '').split(',').filter((s) => ATTENTION.includes(s));
    return { page: 'list', q: p.get('q') || '', statuses: st.length ? st : ATTENTION.slice() };
  }

  let timer = 0, gen = 0, ctrl = null, cur = route(), lastOk = 0;
  function setBanner(text) {
    const b = $('banner');
    if (b.hidden !== !text) b.hidden = !text;
    if (b.textContent !== (text || '')) b.textContent = text || '';
  }
  function schedule() {
    clearTimeout(timer);
    if (!document.hidden) timer = setTimeout(tick, POLL_MS);
  }
  async function tick() {
    clearTimeout(timer);
    const my = ++gen;
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    try {
      const warn = cur.page === 'account' ? await loadAccount(cur.id, cur.tenant, ctrl.signal, my) : await loadList(ctrl.signal, my);
      if (my !== gen) return;
      lastOk = Date.now();
      setBanner(warn);
      put($('foot'), `Updates every 2 seconds while this tab is visible. Last update ${esc(new Date(lastOk).toLocaleTimeString())}.`);
    } catch (e) {
      if (e.name === 'AbortError' || my !== gen) return;
      if (e.name === 'AuthError') { askToken(e.message); return; }
      setBanner(`Can't reach repute right now (${e.message}). ${lastOk ? 'Showing the last figures received; ' : ''}retrying every 2 seconds.`);
    }
    if (my === gen) schedule();
  }
  const notReady = (s) => (s && s.ready === false ? 'repute is still restoring its state: figures may be incomplete.' : '');

  /* ---- the attention list ---- */
  let list = { key: '', groups: {} }, summary = null;

  async function loadList(signal, my) {
    const key = `${cur.q}|${cur.statuses}`;
    if (list.key !== key) list = { key, groups: {} };
    const s = (await getJSON('v1/summary', signal)).body || {};
    const groups = {};
    for (const st of cur.statuses) {
      const old = list.groups[st] || { pages: 1 };
      const g = { items: [], next: null, pages: old.pages };
      if (cur.q || ((s.by_status || {})[st] || 0) + ((s.tenants_by_status || {})[st] || 0) > 0) {
        /* The cursor is the last row: an account id, and a tenant's name
         * for a tenant's row. */
        let after = null, afterTenant = null;
        for (let p = 0; p < g.pages; p++) {
          let u = `v1/accounts?status=${st}&limit=${PAGE}`;
          if (cur.q) u += `&q=${encodeURIComponent(cur.q)}`;
          if (after) u += `&after=${encodeURIComponent(after)}`;
          if (after && afterTenant != null) u += `&after_tenant=${encodeURIComponent(afterTenant)}`;
          const r = (await getJSON(u, signal)).body || {};
          g.items.push(...(r.accounts || []));
          after = r.next || null;
          afterTenant = r.next_tenant ?? null;
          if (!after) break;
        }
        g.next = after;
      }
      groups[st] = g;
    }
    if (my !== gen) return '';
    summary = s;
    list.groups = groups;
    renderList();
    return notReady(s);
  }

  function renderList() {
    const s = summary || {}, by = s.by_status || {}, tby = s.tenants_by_status || {}, clock = s.clock;
    const parts = s.partitions || [];
    put($('list-meta'), `${plural(s.accounts || 0, 'account', 'accounts')} on ${parts.length === 1 ? 'partition' : 'partitions'} ${esc(parts.join(', ') || '–')}` +
      (clock ? ` · as of <time datetime="${iso(clock)}">${when(clock)}</time>${s.clock_mode === 'event' ? ' (event time)' : ''}` : ''));
    const all = cur.statuses.length === ATTENTION.length;
    put($('counts'), ATTENTION.map((st) => {
      const on = cur.statuses.includes(st);
      return `<button type="button" class="count s-${st}" data-status="${st}" data-testid="count-${st}" aria-pressed="${on}"` +
        ` title="${on && !all ? 'Show every status that needs attention' : `Show only ${ACCOUNT[st].toLowerCase()}`}">` +
        `<span>${ACCOUNT[st]}</span><b>${num(by[st] || 0)}</b>` +
        (tby[st] ? `<small class="muted" data-testid="tenant-count-${st}">+ ${plural(tby[st], 'tenant', 'tenants')}</small>` : '') + '</button>';
    }).join('') + `<span class="count s-HEALTHY" data-testid="count-HEALTHY"><span>Healthy</span><b>${num(by.HEALTHY || 0)}</b></span>`);
    const html = cur.statuses.map((st) => {
      const g = list.groups[st];
      if (!g || !g.items.length) return '';
      const total = (by[st] || 0) + (tby[st] || 0);
      const rows = g.items.map((a) => {
        const ends = a.review_ends_at, t = a.tenant != null;
        /* A tenant's row names its account, then the tenant. */
        const name = t ? `<a href="${pageHref(a.account_id)}">${esc(a.account_id)}</a> <span class="muted">›</span> ` +
          `<a data-testid="tenant-link" href="${pageHref(a.account_id, a.tenant)}">${esc(a.tenant)}</a> <span class="kind">tenant</span>` :
          `<a data-testid="account-link" href="${pageHref(a.account_id)}">${esc(a.account_id)}</a>`;
        return `<tr data-testid="attention-row" data-account-id="${esc(a.account_id)}"${t ? ` data-tenant="${esc(a.tenant)}"` : ''} data-status="${esc(a.status)}">` +
          `<th scope="row">${name}</th>` +
          `<td>${badge(a.status, ACCOUNT)}</td>` +
          `<td class="num">${a.bounce_rate == null ? '<span class="muted">–</span>' : pct(a.bounce_rate)}</td>` +
          `<td class="num">${a.complaint_rate == null ? '<span class="muted">–</span>' : pct(a.complaint_rate)}</td>` +
          `<td>${esc((a.issues || []).map((k) => KIND[k] || k).join(', ') || '–')}</td>` +
          `<td>${ends == null ? '<span class="muted">–</span>' : whenRel(ends, clock)}</td></tr>`;
      }).join('');
      const shown = cur.q ? `${plural(g.items.length, 'match', 'matches')}${g.next ? ' so far' : ''}` :
        `${num(g.items.length)} of ${num(Math.max(total, g.items.length))} ${tby[st] ? 'accounts and tenants' : (Math.max(total, g.items.length) === 1 ? 'account' : 'accounts')}`;
      return `<section class="group" aria-label="${ACCOUNT[st]}"><table data-testid="group-${st}">` +
        `<caption>${badge(st, ACCOUNT)} <span class="muted">${shown}</span></caption>` +
        '<colgroup><col class="w-id"><col class="w-st"><col class="w-r"><col class="w-r"><col class="w-is"><col></colgroup>' +
        '<thead><tr><th scope="col">Account (› tenant)</th><th scope="col">Status</th><th scope="col" class="num">Bounce rate</th>' +
        '<th scope="col" class="num">Complaint rate</th><th scope="col">Issues</th><th scope="col">Review ends</th></tr></thead>' +
        `<tbody>${rows}</tbody></table>` +
        (g.next ? `<button type="button" class="plain more" data-more="${st}">Show more ${ACCOUNT[st].toLowerCase()}</button>` : '') +
        '</section>';
    }).join('');
    put($('attention'), html || `<p class="empty" data-testid="attention-empty">${cur.q ?
      `No account whose id contains “${esc(cur.q)}” needs attention.` : 'No account needs attention right now.'}</p>`);
  }

  function setListHash(q, statuses) {
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    if (statuses.length !== ATTENTION.length) p.set('status', statuses.join(','));
    const h = `#/${p.toString() ? `?${p}` : ''}`;
    history.replaceState(null, '', h);
    cur = route();
    tick();
  }

  /* ---- the account page (and a tenant's) ---- */
  let account = null;
  const enc = encodeURIComponent;
  const pageHref = (id, tenant) => esc(`#/account/${enc(id)}${tenant == null ? '' : `/tenant/${enc(tenant)}`}`);
  const apiPath = (id, tenant) => `v1/accounts/${enc(id)}${tenant == null ? '' : `/tenants/${enc(tenant)}`}`;
  const sameView = (a, id, tenant) => a && a.account_id === id && (a.tenant ?? null) === (tenant ?? null);

  async function loadAccount(id, tenant, signal, my) {
    if (!me) me = (await getJSON('v1/me', signal)).body || { can_act: false };
    const [r, h] = await Promise.all([getJSON(apiPath(id, tenant), signal),
      getJSON(`${apiPath(id, tenant)}/history`, signal).catch((e) => { if (e.name === 'AuthError') throw e; return null; })]);
    if (my !== gen) return '';
    if (r.status === 404) {
      account = null;
      const b = r.body || {}, name = tenant == null ? id : `${id} › ${tenant}`;
      document.title = `${name}: not found · repute`;
      put($('account'), `<div class="card" data-testid="account-not-found"><h1>${esc(name)}</h1>` +
        `<p class="say err">${esc(b.message || 'This account is not known here.')}</p>` +
        (b.partition != null ? `<p class="muted">The account belongs to partition ${esc(b.partition)}, which this instance ${b.owned ? 'holds' : 'does not hold'}.</p>` : '') +
        '</div>');
      return '';
    }
    account = r.body;
    account.history = h && h.status === 200 ? h.body : null;
    renderAccount(account);
    return '';
  }

  function say(a) {
    const open = a.issues || [], t = a.tenant != null;
    /* A tenant's page speaks of that stream: the rest of the account sends on. */
    const W = t ? { cant: 'this tenant\'s mail can\'t be sent', still: 'this tenant\'s mail can still be sent', until: 'The tenant\'s mail can be sent',
      ok: 'this tenant\'s mail can be sent normally' } : { cant: 'this account can\'t send email', still: 'this account can still send',
      until: 'The account can send', ok: 'this account can send normally' };
    const of = (pred) => kindList(open.filter(pred).map((i) => i.kind));
    const ends = a.review_ends_at;
    const endTxt = ends == null ? '' : ` ${when(ends)} (${rel(ends, a.clock)})`;
    switch (a.status) {
      case 'SENDING_PAUSED':
        return `<strong>Sending paused:</strong> ${W.cant} until the pause is lifted${t ? ' (the account\'s other mail goes on)' : ''}. ` +
          `The cause is the ${esc(of((i) => i.status === 'SENDING_PAUSE'))}. Fix it, submit a remediation that says what you changed, ` +
          'and ask for a review of the pause.';
      case 'PENDING_SENDING_PAUSE':
        return `<strong>Pause pending:</strong> the review of the ${esc(of((i) => i.status === 'PENDING_SENDING_PAUSE'))} ended with the ` +
          `problem still there, and a person at the service will decide whether to pause sending. ${W.until} until then: fix the cause now.`;
      case 'PENDING_END_OF_REVIEW_DECISION':
        return `<strong>Waiting for a decision:</strong> ${W.still} while a person at the service looks at the ` +
          `${esc(of((i) => i.status === 'UNDER_REVIEW' || i.status === 'ALMOST_HEALED'))}. ` +
          'No end date is set for this review; you will be notified of the outcome.';
      case 'UNDER_REVIEW':
        if (open.length && open.every((i) => i.status === 'ALMOST_HEALED'))
          return `<strong>Under review, almost healed:</strong> the ${esc(of(() => true))} is back below the review threshold. ` +
            `Keep it there and the review ends by itself${esc(endTxt)}.`;
        return `<strong>Under review:</strong> ${W.still}, but the ${esc(of((i) => i.status === 'UNDER_REVIEW' || i.status === 'ALMOST_HEALED'))} ` +
          `must improve before the review ends${esc(endTxt)}, or sending may be paused.`;
      default:
        return `<strong>Healthy:</strong> ${W.ok}.${t && a.account_status === 'SENDING_PAUSED' ?
          ' But its account is paused, which stops all of its mail.' : tenantsSay(a)}`;
    }
  }

  /* A HEALTHY account may have tenants that are not: say so. */
  function tenantsSay(a) {
    const bad = (a.tenants || []).filter((x) => x.status !== 'HEALTHY');
    if (!bad.length) return ' Nothing needs your attention.';
    const paused = bad.filter((x) => x.status === 'SENDING_PAUSED').map((x) => x.tenant);
    return ` But ${plural(bad.length, 'of its tenants needs', 'of its tenants need')} attention (below)` +
      (paused.length ? `: ${esc(paused.join(', '))} ${paused.length === 1 ? 'is' : 'are'} paused, and only ${paused.length === 1 ? 'that stream\'s' : 'those streams\''} mail stops.` : '.');
  }

  function renderAccount(a) {
    const clock = a.clock, t = a.tenant != null;
    document.title = `${t ? `${a.tenant} (${a.account_id})` : a.account_id}: ${ACCOUNT[a.status] || a.status} · repute`;
    const links = (a.links || []).map((l) => `<a href="${pageHref(l)}">${esc(l)}</a>`).join(', ');
    const head = '<div class="card"><div class="acct-head">' +
      (t ? `<h1><span data-testid="account-id" hidden>${esc(a.account_id)}</span><span data-testid="tenant-name">${esc(a.tenant)}</span>` +
        ` <span class="kind">tenant of <a data-testid="tenant-account-link" href="${pageHref(a.account_id)}">${esc(a.account_id)}</a></span></h1>` :
        `<h1 data-testid="account-id">${esc(a.account_id)}</h1>`) +
      badge(a.status, ACCOUNT, ` data-testid="account-status" data-status="${esc(a.status)}"`) + '</div>' +
      `<p class="say" data-testid="account-summary">${say(a)}</p><ul class="facts">` +
      (a.review_ends_at != null ? `<li>Review ends <b>${whenRel(a.review_ends_at, clock)}</b></li>` : '') +
      (t ? `<li>Account: <b><a href="${pageHref(a.account_id)}">${esc(a.account_id)}</a> ${badge(a.account_status, ACCOUNT, ' data-testid="tenant-account-status"')}</b></li>` :
        `<li>Linked accounts: <b>${links || 'none'}</b></li>`) +
      `<li>Manual review${t ? ' (the account\'s)' : ''}: <b>${a.manual_review ? 'yes, a person decides before any pause' : 'no'}</b></li>` +
      `<li>As of <b>${clock ? `<time datetime="${iso(clock)}">${when(clock)}</time>` : '–'}</b></li>` +
      `<li>Event <b>#${num(a.sequence)}</b></li>` + (a.partition != null ? `<li>Partition <b>${esc(a.partition)}</b></li>` : '') + '</ul>' +
      accountActs(a) + '</div>';
    const metrics = `<div class="metrics">${metric(a, 'bounce')}${metric(a, 'complaint')}</div>`;
    const timeline = window.ReputeTimeline.html(a.history, clock, { esc, badge, whenRel, KIND, STAGE, ACCOUNT, ACT });
    put($('account'), head + metrics + (t ? '' : tenants(a)) + issues(a) + timeline + notes(a));
  }

  /* An account's tenants (docs/rules.md section 10), in name order, each
   * with its status and a link to its page. */
  function tenants(a) {
    const list = a.tenants || [];
    if (!list.length) return '';
    const rows = list.map((x) => `<tr data-testid="tenant" data-tenant="${esc(x.tenant)}" data-status="${esc(x.status)}">` +
      `<th scope="row"><a data-testid="tenant-link" href="${pageHref(a.account_id, x.tenant)}">${esc(x.tenant)}</a></th>` +
      `<td>${badge(x.status, ACCOUNT)}</td>` +
      `<td class="num">${x.bounce_rate == null ? '<span class="muted">–</span>' : pct(x.bounce_rate)}</td>` +
      `<td class="num">${x.complaint_rate == null ? '<span class="muted">–</span>' : pct(x.complaint_rate)}</td>` +
      `<td>${esc((x.issues || []).map((k) => KIND[k] || k).join(', ') || '–')}</td>` +
      `<td>${x.review_ends_at == null ? '<span class="muted">–</span>' : whenRel(x.review_ends_at, a.clock)}</td></tr>`).join('');
    return '<section class="card" aria-labelledby="h-tenants" data-testid="tenants"><h2 id="h-tenants">Tenants</h2>' +
      '<p class="muted">Streams of this account with a reputation of their own: a paused tenant\'s mail stops, the rest of the account sends on.</p>' +
      '<table><thead><tr><th scope="col">Tenant</th><th scope="col">Status</th><th scope="col" class="num">Bounce rate</th>' +
      '<th scope="col" class="num">Complaint rate</th><th scope="col">Issues</th><th scope="col">Review ends</th></tr></thead>' +
      `<tbody>${rows}</tbody></table></section>`;
  }

  const METRIC = {
    bounce: { name: 'Bounce rate', num: 'hard_bounces', den: 'sends', none: 'No mail sent yet', what: (m) =>
      `${plural(m.count, 'hard bounce', 'hard bounces')} out of ${plural(m.volume, 'message', 'messages')} sent` },
    complaint: { name: 'Complaint rate', num: 'complaints', den: 'deliveries', none: 'No mail delivered to providers that report complaints yet', what: (m) =>
      `${plural(m.count, 'complaint', 'complaints')} out of ${plural(m.volume, 'message', 'messages')} delivered to providers that report complaints` },
  };

  function metric(a, key) {
    const m = a[key] || {}, d = METRIC[key], id = `m-${key}`;
    const value = m.rate == null ?
      `<div class="rate na" data-testid="${key}-rate" data-rate="">Not enough volume yet</div>` :
      `<div class="rate" data-testid="${key}-rate" data-rate="${m.rate}">${pct(m.rate)}</div>`;
    return `<section class="card metric" aria-labelledby="${id}"><div class="metric-top"><h2 id="${id}">${d.name}</h2>` +
      `${badge(m.status || 'HEALTHY', ISSUE, ` data-testid="${key}-status"`)}</div>${value}` +
      `<p>${m.volume ? `${d.what(m)}${m.rate == null ? ' so far: too few to judge' : ''}` : d.none}, ` +
      `${m.window_start ? `${when(m.window_start)} to ${when(m.window_end)}` : 'no window yet'}.</p>` +
      `<p class="muted">Review starts at ${pct(m.review_threshold)}; sending can be paused at ${pct(m.pause_threshold)}.</p>` +
      gauge(m, d.name) + chart(a, m, d) + '</section>';
  }

  /* A bar against the review and pause zones. */
  function gauge(m, name) {
    const W = 600, rv = m.review_threshold, pa = m.pause_threshold;
    if (!(pa > 0)) return '';
    const max = Math.min(Math.max((m.rate || 0) * 1.15, pa * 1.5), pa * 3);
    const x = (v) => +Math.min(W, (v / max) * W).toFixed(1);
    const label = m.rate == null ? `${name}: not enough volume yet` : `${name} ${pct(m.rate)}`;
    let s = `<svg viewBox="0 0 ${W} 46" role="img" aria-label="${esc(label)}; review at ${pct(rv)}, pause at ${pct(pa)}" data-testid="gauge">` +
      `<rect x="0" y="6" width="${x(rv)}" height="20" fill="#cfeedd"/>` +
      `<rect x="${x(rv)}" y="6" width="${(x(pa) - x(rv)).toFixed(1)}" height="20" fill="#fbe3a6"/>` +
      `<rect x="${x(pa)}" y="6" width="${(W - x(pa)).toFixed(1)}" height="20" fill="#f8c9c4"/>`;
    if (m.rate == null) {
      s += `<text x="${W / 2}" y="20" text-anchor="middle">not enough volume yet</text>`;
    } else {
      s += `<rect x="0" y="10" width="${Math.max(3, x(m.rate))}" height="12" rx="2" fill="${COLOR[zone(m.rate, m)]}"/>`;
      if (m.rate > max) s += `<path d="M${W - 9} 8 l9 8 l-9 8z" fill="#7a1209"/>`;
    }
    /* Labels centred under their lines, kept inside and apart. */
    const lr = `review ${pct(rv)}`, lp = `pause ${pct(pa)}`, wr = lr.length * 6.2, wp = lp.length * 6.2;
    const clamp = (c, w) => Math.min(Math.max(c, w / 2), W - w / 2);
    let cr = clamp(x(rv), wr), cp = clamp(x(pa), wp);
    const over = (wr + wp) / 2 + 10 - (cp - cr);
    if (over > 0) { cr = clamp(cr - over / 2, wr); cp = clamp(cr + (wr + wp) / 2 + 10, wp); }
    s += `<line x1="${x(rv)}" x2="${x(rv)}" y1="1" y2="31" stroke="#8a4b00" stroke-width="2"/>` +
      `<line x1="${x(pa)}" x2="${x(pa)}" y1="1" y2="31" stroke="#b42318" stroke-width="2"/>` +
      `<text x="${cr.toFixed(1)}" y="44" text-anchor="middle">${lr}</text>` +
      `<text x="${cp.toFixed(1)}" y="44" text-anchor="middle">${lp}</text>`;
    return `${s}</svg>`;
  }

  /* The rate per hour (or per 6 h / day for long windows) over the metric's
   * window, empty hours left empty, with the threshold lines. */
  function chart(a, m, d) {
    if (!m.window_start || !(m.window_end > m.window_start)) return '';
    const span = (m.window_end - m.window_start) / HOUR;
    const step = (span <= 240 ? 1 : span <= 1440 ? 6 : 24) * HOUR;
    const t0 = Math.floor(m.window_start / step) * step, n = Math.max(1, Math.ceil((m.window_end - t0) / step));
    const b = Array.from({ length: n }, () => [0, 0]);
    for (const h of a.hours || []) {
      if (h.start < m.window_start - HOUR || h.start >= m.window_end) continue;
      const i = Math.floor((h.start - t0) / step);
      if (i >= 0 && i < n) { b[i][0] += h[d.num] || 0; b[i][1] += h[d.den] || 0; }
    }
    const W = 600, H = 180, L = 44, R = 8, T = 10, B = 22, pw = W - L - R, ph = H - T - B;
    let top = m.pause_threshold * 1.3;
    for (const [x, y] of b) if (y) top = Math.max(top, x / y);
    top = Math.min(top, m.pause_threshold * 4) || 1;
    const Y = (v) => (T + ph - (Math.min(v, top) / top) * ph).toFixed(1);
    const bw = pw / n, per = step === HOUR ? 'hour' : step === 6 * HOUR ? '6 hours' : 'day';
    let s = `<svg viewBox="0 0 ${W} ${H}" role="img" data-testid="chart" aria-label="${d.name} per ${per} from ${when(m.window_start)} to ${when(m.window_end)}">` +
      `<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="#fafbfc" stroke="#d5d9e0"/>`;
    let worst = null;
    b.forEach(([x, y], i) => {
      if (!y) return;
      const r = x / y, start = t0 + i * step, yy = Y(r);
      if (!worst || r > worst.r) worst = { r, start };
      s += `<rect x="${(L + i * bw + (bw > 3 ? 0.5 : 0)).toFixed(1)}" y="${Math.min(yy, T + ph - 1.5)}" width="${Math.max(bw - (bw > 3 ? 1 : 0), 0.8).toFixed(2)}"` +
        ` height="${Math.max(T + ph - yy, 1.5).toFixed(1)}" fill="${COLOR[zone(r, m)]}"><title>${when(start)}: ${num(x)} of ${num(y)} (${pct(r)})</title></rect>`;
    });
    for (const [v, c, w] of [[m.review_threshold, '#8a4b00', 'review'], [m.pause_threshold, '#b42318', 'pause']]) {
      /* Colours as attributes or classes: the server's CSP forbids inline styles. */
      s += `<line x1="${L}" x2="${W - R}" y1="${Y(v)}" y2="${Y(v)}" stroke="${c}" stroke-dasharray="5 4" stroke-width="1.5"/>` +
        `<text x="${L - 4}" y="${+Y(v) + 4}" text-anchor="end">${pct(v)}</text>` +
        `<text x="${W - R - 4}" y="${+Y(v) - 4}" text-anchor="end" class="t-${w}">${w}</text>`;
    }
    s += `<text x="${L - 4}" y="${T + ph + 4}" text-anchor="end">0%</text><text x="${L - 4}" y="${T + 8}" text-anchor="end">${pct(top)}</text>`;
    const days = Math.ceil(span / 24), every = Math.max(1, Math.ceil(days / 8)) * 24 * HOUR;
    for (let t = Math.ceil(t0 / every) * every; t < t0 + n * step; t += every) {
      const x = L + ((t - t0) / step) * bw;
      s += `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${T + ph}" y2="${T + ph + 4}" stroke="#8a93a3"/>` +
        `<text x="${x.toFixed(1)}" y="${H - 4}" text-anchor="middle">${day(t)}</text>`;
    }
    s += '</svg>';
    const cap = `${d.name} per ${per}` + (!worst ? '; no volume in this window' : worst.r ? `; highest ${pct(worst.r)} (${when(worst.start)})` : '; none in this window');
    return `<p class="chart-title">${esc(cap)}</p>${s}`;
  }

  function issues(a) {
    const list = a.issues || [];
    const acting = canAct();
    const endOf = (i) => {
      if (i.review_ends_at != null) return whenRel(i.review_ends_at, a.clock);
      if (i.status === 'UNDER_REVIEW' || i.status === 'ALMOST_HEALED') return 'no end: a person decides';
      return '–';
    };
    const rows = list.map((i) => `<tr data-testid="issue" data-kind="${esc(i.kind)}"><th scope="row">${esc(KIND[i.kind] || i.kind)}</th>` +
      `<td>${badge(i.status, ISSUE)}</td><td>${whenRel(i.since, a.clock)}</td><td>${endOf(i)}</td>` +
      `<td>${[i.manual ? 'decided by a person' : '', i.incidents != null ? plural(i.incidents, 'new incident', 'new incidents') : '']
        .filter(Boolean).join('; ') || '–'}</td>` +
      (acting ? `<td class="acts">${issueActs(i).map((t) => actButton(t, i.kind)).join(' ')}</td>` : '') + '</tr>').join('');
    return '<section class="card" aria-labelledby="h-issues"><h2 id="h-issues">Open issues</h2>' + pendingList(a) + (rows ?
      '<table><thead><tr><th scope="col">Issue</th><th scope="col">Status</th><th scope="col">Since</th>' +
      `<th scope="col">Review ends</th><th scope="col">Detail</th>${acting ? '<th scope="col">Act</th>' : ''}</tr></thead><tbody>${rows}</tbody></table>` :
      '<p class="muted">No open issues.</p>') + '</section>';
  }

  function notes(a) {
    const list = a.notifications || [];
    const items = list.map((n) => `<article class="note" data-testid="notification" data-stage="${esc(n.stage)}">` +
      `<h3>${esc(n.title)} <span class="badge s-${STAGE_CLASS[n.stage] || 'HEALTHY'}">${esc(STAGE[n.stage] || n.stage)}</span>` +
      ` <span class="when"><time datetime="${iso(n.event_time)}">${when(n.event_time)}</time> (${rel(n.event_time, a.clock)})</span></h3>` +
      `<p>${esc(n.why)}</p>` +
      (n.rate != null ? `<p class="muted">Rate ${pct(n.rate)} against the ${pct(n.threshold)} threshold.</p>` : '') +
      ((n.actions || []).length ? `<p class="sub">What you can do</p><ul>${n.actions.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '') +
      '</article>').join('');
    return '<section class="card" aria-labelledby="h-notes"><h2 id="h-notes">Notifications</h2>' +
      (a.notifications_note ? `<p class="muted">Newest first: ${esc(a.notifications_note)}.` +
        `${(a.tenants || []).length ? ' A tenant\'s notifications are on its own page.' : ''}</p>` : '') +
      (items || '<p class="muted">No notifications yet.</p>') + '</section>';
  }

  /* ---- acting (docs/api-actions.md) ---- */
  let me = null; /* GET v1/me: {name, role, can_act} for this token */
  const canAct = () => !!(me && me.can_act);
  const NEEDS_NOTE = ['RESUME_SENDING', 'PAUSE_SENDING', 'END_REVIEW', 'SET_MANUAL_REVIEW', 'LINK_ACCOUNT'];
  const ACT = {
    RESUME_SENDING: { label: 'Resume sending', say: (k) => `Sending resumes for the ${k} issue: it goes back into review, with a new review period from now` +
      ' (for a rate, only sending from now on counts). The account can send again unless another issue keeps it paused. The owner is notified.' },
    PAUSE_SENDING: { label: 'Pause sending', say: (k) => `Sending is paused for the ${k} issue: the account can't send until someone resumes it. The owner is notified.` },
    END_REVIEW: { label: 'End review', say: (k) => `The review of the ${k} issue ends now and the issue becomes healthy. The owner is notified that it is resolved.` },
    EXTEND_REVIEW: { label: 'Extend review', say: (k) => `The review of the ${k} issue ends one review period later than now planned. The owner is notified.` },
    REMEDIATION_SUBMITTED: { label: 'Remediation received', say: (k) => `Records that the owner changed something about the ${k} issue: for a rate,` +
      ' only sending from now on counts; for a report, new incidents are counted afresh and the review lasts at least one more review period.' },
    SET_MANUAL_REVIEW: { label: 'Manual review on', say: () => 'Manual review on: a review of this account that would end in a pause waits for a person\'s decision (pause pending) instead.' },
    CLEAR_MANUAL_REVIEW: { label: 'Manual review off', say: () => 'Manual review off: reviews of this account end in a pause by themselves again when the problem is still there.' },
    LINK_ACCOUNT: { label: 'Link an account', say: (k, o) => `Links this account to ${o || 'the account you name below'}: when this account's sending is paused,` +
      ' the linked account gets a related-account report.' },
    UNLINK_ACCOUNT: { label: 'Unlink', say: (k, o) => `Removes the link to ${o}: a pause of this account no longer reports it.` },
  };
  function issueActs(i) {
    const paused = i.status === 'SENDING_PAUSE' || i.status === 'PENDING_SENDING_PAUSE';
    const review = i.status === 'UNDER_REVIEW' || i.status === 'ALMOST_HEALED';
    const t = [];
    if (paused) t.push('RESUME_SENDING');
    if (review || i.status === 'PENDING_SENDING_PAUSE') t.push('END_REVIEW');
    if (review && i.review_ends_at != null) t.push('EXTEND_REVIEW');
    if (review || i.status === 'PENDING_SENDING_PAUSE') t.push('PAUSE_SENDING');
    t.push('REMEDIATION_SUBMITTED');
    return t;
  }
  const actButton = (t, issue, other) => `<button type="button" class="act plain" data-act="${t}"` +
    (issue ? ` data-issue="${esc(issue)}"` : '') + (other != null ? ` data-other="${esc(other)}"` : '') +
    ` data-testid="act-${t}${issue ? `-${esc(issue)}` : ''}">${esc(ACT[t].label)}${other != null ? ` ${esc(other)}` : ''}</button>`;
  function accountActs(a) {
    if (!canAct() || a.tenant != null) return ''; /* the account's own: not a tenant's */
    return '<div class="acts acct-acts" data-testid="account-actions">' +
      actButton(a.manual_review ? 'CLEAR_MANUAL_REVIEW' : 'SET_MANUAL_REVIEW') + ' ' + actButton('LINK_ACCOUNT') + ' ' +
      (a.links || []).map((l) => actButton('UNLINK_ACCOUNT', null, l)).join(' ') + '</div>';
  }

  /* Actions posted and not yet seen in the account's data. */
  let pending = [];
  const PENDING_GIVE_UP_MS = 120e3;
  function settled(p, a) {
    if (p.action === 'SET_MANUAL_REVIEW') return a.manual_review === true;
    if (p.action === 'CLEAR_MANUAL_REVIEW') return a.manual_review === false;
    if (p.action === 'LINK_ACCOUNT') return (a.links || []).includes(p.other);
    if (p.action === 'UNLINK_ACCOUNT') return !(a.links || []).includes(p.other);
    return a.sequence > p.sequence; /* a status change was published */
  }
  function pendingList(a) {
    const ours = (p) => p.account === a.account_id && p.tenant === (a.tenant ?? null);
    pending = pending.filter((p) => !ours(p) || !settled(p, a));
    const mine = pending.filter(ours);
    if (!mine.length) return '';
    return '<ul class="pending-list">' + mine.map((p) => {
      const late = Date.now() - p.at > PENDING_GIVE_UP_MS;
      return `<li class="pending" data-testid="pending" data-act="${p.action}">` +
        `<b>${esc(ACT[p.action].label)}${p.issue ? ` (${esc(KIND[p.issue] || p.issue)})` : ''}${p.other ? ` ${esc(p.other)}` : ''}</b> by ${esc(p.actor)}: ` +
        (late ? 'accepted, but no change has shown yet: it may not have applied (an action that changes nothing is only counted).' :
          'accepted, pending until the account\'s status change arrives…') + '</li>';
    }).join('') + '</ul>';
  }

  let acting = null; /* the dialog's action: {action, issue, other, event_id} */
  function openAct(btn) {
    if (!account) return;
    const t = btn.dataset.act, issue = btn.dataset.issue || null, other = btn.dataset.other || null;
    const tenant = account.tenant ?? null;
    acting = { action: t, issue, other, account: account.account_id, tenant, sequence: account.sequence, event_id: null };
    const k = issue ? (KIND[issue] || issue).toLowerCase() : '';
    $('act-title').textContent = `${ACT[t].label}${issue ? `: ${KIND[issue] || issue}` : ''} for ` +
      (tenant == null ? account.account_id : `the tenant ${tenant} of ${account.account_id}`);
    $('act-say').textContent = ACT[t].say(k, other) + (tenant == null ? '' : ' This acts on the tenant alone: the account and its other tenants are not touched.');
    $('act-related-row').hidden = t !== 'LINK_ACCOUNT';
    $('act-related').required = t === 'LINK_ACCOUNT';
    $('act-related').value = '';
    const need = NEEDS_NOTE.includes(t);
    $('act-note').required = need;
    $('act-note').value = '';
    $('act-note-req').textContent = need ? '(required: say why)' : '(optional)';
    $('act-error').hidden = true;
    $('act-confirm').textContent = 'Confirm';
    $('act-confirm').disabled = false;
    $('act-dialog').showModal();
    (t === 'LINK_ACCOUNT' ? $('act-related') : $('act-note')).focus();
  }
  function actError(msg) {
    $('act-error').textContent = msg;
    $('act-error').hidden = false;
  }
  async function submitAct() {
    const x = acting;
    if (!x) return;
    const note = $('act-note').value.trim();
    if (new TextEncoder().encode(note).length > 2048) { actError('The note is longer than 2048 bytes.'); return; }
    const body = { action: x.action };
    if (x.issue) body.issue = x.issue;
    if (note) body.note = note;
    if (x.action === 'LINK_ACCOUNT') x.other = $('act-related').value.trim();
    if (x.other) body.related_account_id = x.other;
    if (x.event_id) body.event_id = x.event_id; /* a retry: counted once */
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    const t = token.get();
    if (t) headers.Authorization = `Bearer ${t}`;
    $('act-confirm').disabled = true;
    let r, res = {};
    try {
      r = await fetch(`${apiPath(x.account, x.tenant)}/actions`, {
        method: 'POST', cache: 'no-store', credentials: 'omit', headers, body: JSON.stringify(body) });
      try { res = await r.json(); } catch (e) { /* not JSON */ }
    } catch (e) {
      $('act-confirm').disabled = false;
      actError(`Can't reach repute (${e.message}). Nothing was sent; try again.`);
      return;
    }
    $('act-confirm').disabled = false;
    if (r.status === 202) {
      pending.push({ account: x.account, tenant: x.tenant, action: x.action, issue: x.issue, other: x.other, sequence: x.sequence,
        event_id: res.event_id, actor: res.actor || (me && me.name) || 'you', at: Date.now() });
      acting = null;
      $('act-dialog').close();
      if (account) { $('account')._html = null; renderAccount(account); }
      tick();
      return;
    }
    if (r.status === 401) { $('act-dialog').close(); askToken('That token was not accepted.'); return; }
    if (r.status === 503 && res.event_id) {
      x.event_id = res.event_id;
      $('act-confirm').textContent = 'Try again';
    }
    actError(res.message || `HTTP ${r.status}`);
  }
  $('act-form').addEventListener('submit', (e) => { e.preventDefault(); submitAct(); });
  $('act-cancel').addEventListener('click', () => { acting = null; $('act-dialog').close(); });
  $('account').addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-act]');
    if (btn) openAct(btn);
  });

  /* ---- signing in ---- */
  let signingIn = false;
  /* Shows the sign-in form (polling stops until a token is given). */
  function askToken(message) {
    token.set('');
    me = null;
    signingIn = true;
    clearTimeout(timer);
    setBanner('');
    $('signout').hidden = true;
    $('page-list').hidden = true;
    $('page-account').hidden = true;
    $('page-signin').hidden = false;
    const err = $('signin-error');
    err.hidden = !message;
    err.textContent = message || '';
    document.title = 'Sign in · repute';
    $('token').focus();
  }
  $('signin').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('token').value.trim();
    if (!t) return;
    token.set(t);
    me = null;
    $('token').value = '';
    signingIn = false;
    $('page-signin').hidden = true;
    show();
    tick();
  });
  $('signout').addEventListener('click', () => askToken(''));

  /* ---- wiring ---- */
  function show() {
    cur = route();
    if (signingIn) return;
    $('signout').hidden = !token.get();
    $('page-list').hidden = cur.page !== 'list';
    $('page-account').hidden = cur.page !== 'account';
    if (cur.page === 'list') {
      document.title = 'Accounts that need attention · repute';
      if ($('q').value !== cur.q) $('q').value = cur.q;
      if (summary) renderList();
    } else if (!sameView(account, cur.id, cur.tenant)) {
      put($('account'), `<div class="card"><h1>${esc(cur.tenant == null ? cur.id : `${cur.id} › ${cur.tenant}`)}</h1><p class="muted">Loading…</p></div>`);
    }
  }
  window.addEventListener('hashchange', () => {
    if (signingIn) return;
    show();
    window.scrollTo(0, 0);
    $('main').focus({ preventScroll: true });
    tick();
  });
  document.addEventListener('visibilitychange', () => (document.hidden || signingIn ? clearTimeout(timer) : tick()));
  $('jump').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('jump-id').value.trim();
    if (id) { location.hash = `#/account/${encodeURIComponent(id)}`; $('jump-id').value = ''; }
  });
  let debounce = 0;
  $('filter').addEventListener('submit', (e) => e.preventDefault());
  $('q').addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => setListHash($('q').value.trim(), cur.statuses), 250);
  });
  $('counts').addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-status]');
    if (!btn) return;
    const st = btn.dataset.status, only = cur.statuses.length === 1 && cur.statuses[0] === st;
    setListHash(cur.q, only ? ATTENTION.slice() : [st]);
  });
  $('attention').addEventListener('click', (e) => {
    const btn = e.target.closest('button[data-more]');
    if (!btn) return;
    const g = list.groups[btn.dataset.more];
    if (g) { g.pages += 1; btn.disabled = true; btn.textContent = 'Loading…'; $('attention')._html = null; tick(); }
  });
  show();
  tick();
})();
