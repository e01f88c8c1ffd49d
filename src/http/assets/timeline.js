/* repute's dashboard: the history of an account or a tenant as a timeline
 * (docs/history.md), newest first, as GET .../history answers it: status
 * changes, the actions people took (with who and their note; one that
 * changed nothing says so) and the notifications sent. Loaded before
 * app.js, which calls ReputeTimeline.html() with its own formatting
 * helpers, so that both speak the same words. Strings from the API are
 * always escaped: a note is whatever an operator typed. */
'use strict';
window.ReputeTimeline = (() => {
  function line(e, f) {
    const issue = (k) => (k ? (f.KIND[k] || k).toLowerCase() : '');
    switch (e.kind) {
      case 'status_change':
        return `<span class="tl-what">${e.from === e.to ? 'Issues changed' : 'Status'}</span> ` +
          (e.from === e.to ? f.badge(e.to, f.ACCOUNT) : `${f.badge(e.from, f.ACCOUNT)} → ${f.badge(e.to, f.ACCOUNT)}`) +
          ` <span class="muted">(${f.esc(issue(e.cause))})</span>`;
      case 'action': {
        const label = (f.ACT[e.action] && f.ACT[e.action].label) || e.action;
        return `<span class="tl-what">${f.esc(label)}</span>${e.issue ? ` <span class="muted">(${f.esc(issue(e.issue))})</span>` : ''}` +
          ` by <b data-testid="history-actor">${e.actor != null ? f.esc(e.actor) : 'someone unnamed'}</b>` +
          (e.applied ? '' : ' <span class="badge s-HEALTHY">changed nothing</span>') +
          (e.note != null ? `<blockquote class="tl-note" data-testid="history-note">${f.esc(e.note)}</blockquote>` : '');
      }
      default:
        return `<span class="tl-what">Notified</span> ${f.esc(f.STAGE[e.stage] || e.stage)} <span class="muted">(${f.esc(issue(e.issue))})</span>`;
    }
  }

  /* The timeline's card; h is the body of .../history (null: not loaded). */
  function html(h, clock, f) {
    const list = (h && h.entries) || [];
    const items = list.map((e) => `<li class="tl-item tl-${f.esc(e.kind)}" data-testid="history-entry" data-kind="${f.esc(e.kind)}"` +
      `${e.action ? ` data-action="${f.esc(e.action)}"` : ''}>` +
      `<span class="tl-when">${f.whenRel(e.time, clock)}</span> ${line(e, f)}</li>`).join('');
    return '<section class="card" aria-labelledby="h-history" data-testid="history"><h2 id="h-history">History</h2>' +
      (h ? `<p class="muted">Newest first: the last ${f.esc(h.max_entries)} status changes, actions and notifications, kept once it has left healthy.</p>` : '') +
      (items ? `<ol class="timeline">${items}</ol>` : '<p class="muted">Nothing yet: it has always been healthy.</p>') + '</section>';
  }

  return { html };
})();
