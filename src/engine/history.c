/*
 * history.c - the history of an account or a tenant: a ring of what
 * changed it (docs/history.md; the shape is in history.h).
 *
 * Who has one. An entity's history begins with its first STATUS_CHANGE
 * to a status other than HEALTHY; from then on every STATUS_CHANGE, every
 * action record applied to it (applied or not) and every NOTIFICATION is
 * an entry. Before that there is none, so the millions of accounts that
 * are always HEALTHY cost no byte more: the history hangs off the
 * extension, which such accounts mostly do not have, and the account
 * struct did not grow.
 *
 * The ring. Entries are 24 bytes; the ring starts with room for four and
 * doubles (the entries are laid out oldest first when it grows) up to
 * history.max.entries, then overwrites its oldest entry, freeing the
 * strings of the entry it drops. An action's actor and note are copied
 * into one allocation, only when the action has either; both are cut at
 * their bound (RP_HISTORY_ACTOR_MAX, RP_HISTORY_NOTE_MAX), on a UTF-8
 * character boundary, since a record read from Kafka may carry longer
 * ones than the HTTP API accepts.
 *
 * Determinism. Entries take their times from the events (the clock) and
 * the records, never from a wall clock, so a replay rebuilds the same
 * history; nothing here produces output, so `repute replay` prints the
 * same bytes as without it.
 *
 * The changelog form (rp_history_encode/decode) is an optional trailing
 * section of the entity's value, written by state.c only when the
 * history is not empty (docs/history.md, "In the changelog").
 */
#include "engine/history.h"

#include <stdlib.h>
#include <string.h>

#include "engine/account.h"

#define FIRST_CAP 4

static uint16_t cap_for(uint32_t max) {
    if (max > RP_HISTORY_MAX_ENTRIES)
        max = RP_HISTORY_MAX_ENTRIES;
    return (uint16_t)(max < FIRST_CAP ? max : FIRST_CAP);
}

static history *hist_new(rp_acct_table *t, uint16_t cap) {
    history *h = rp_acct_alloc(t, sizeof(history) + cap * sizeof(hist_entry));
    if (h) {
        h->head = h->n = 0;
        h->cap = cap;
    }
    return h;
}

void rp_history_free(rp_acct_table *t, history *h) {
    if (!h)
        return;
    for (uint16_t i = 0; i < h->n; i++)
        rp_acct_free(t, h->e[(h->head + i) % h->cap].text);
    rp_acct_free(t, h);
}

/* The room for one more entry of x's history (allocated, grown or its
 * oldest entry dropped as needed); NULL on ENOMEM. */
static hist_entry *slot(rp_acct_table *t, account_ext *x, uint32_t max) {
    history *h = x->hist;
    if (max > RP_HISTORY_MAX_ENTRIES)
        max = RP_HISTORY_MAX_ENTRIES;
    if (h->n == h->cap && h->cap < max) {
        uint32_t cap = (uint32_t)h->cap * 2;
        history *g = hist_new(t, (uint16_t)(cap < max ? cap : max));
        if (!g)
            return NULL;
        for (uint16_t i = 0; i < h->n; i++)
            g->e[i] = h->e[(h->head + i) % h->cap];
        g->n = h->n;
        rp_acct_free(t, h);
        x->hist = h = g;
    }
    if (h->n < h->cap)
        return &h->e[(h->head + h->n++) % h->cap];
    hist_entry *old = &h->e[h->head];
    rp_acct_free(t, old->text);
    old->text = NULL;
    h->head = (uint16_t)((h->head + 1) % h->cap);
    return old;
}

/* Where a string of n bytes is cut to at most max, on a UTF-8 character
 * boundary. */
static uint16_t cut(rp_str s, size_t max) {
    if (!s.ptr)
        return 0;
    size_t n = s.len;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s.ptr[n] & 0xc0) == 0x80)
            n--;
    }
    return (uint16_t)n;
}

/* Fills e's strings; false on ENOMEM. */
static bool set_text(rp_acct_table *t, hist_entry *e, rp_str actor, uint16_t al,
                     rp_str note, uint16_t nl) {
    e->actor_len = al;
    e->note_len = nl;
    e->text = NULL;
    if (!al && !nl)
        return true;
    e->text = rp_acct_alloc(t, (size_t)al + nl + 2);
    if (!e->text)
        return false;
    if (al)
        memcpy(e->text, actor.ptr, al);
    e->text[al] = '\0';
    if (nl)
        memcpy(e->text + al + 1, note.ptr, nl);
    e->text[al + 1 + nl] = '\0';
    return true;
}

static void put(rp_acct_table *t, account *a, uint32_t max, int64_t time,
                int kind, int x1, int x2, int x3) {
    hist_entry *e = slot(t, a->ext, max);
    if (!e)
        return;
    memset(e, 0, sizeof(*e));
    e->time = time;
    e->kind = (uint8_t)kind;
    e->a = (uint8_t)x1;
    e->b = (uint8_t)x2;
    e->c = (uint8_t)x3;
}

void rp_history_status(rp_acct_table *t, account *a, uint32_t max, int64_t time,
                       int from, int to, int cause) {
    if (max == 0 || !a->ext)
        return;
    if (!a->ext->hist) {
        /* From HEALTHY to HEALTHY (an issue changed, not the status)
         * begins none; a change from another status does, which an
         * entity restored from a state without a history makes. */
        if (to == RP_ASTATUS_HEALTHY && from == RP_ASTATUS_HEALTHY)
            return;
        a->ext->hist = hist_new(t, cap_for(max));
        if (!a->ext->hist)
            return;
    }
    put(t, a, max, time, RP_HISTORY_STATUS_CHANGE, from, to, cause);
}

void rp_history_notification(rp_acct_table *t, account *a, uint32_t max,
                             int64_t time, int issue, int stage) {
    if (max == 0 || !a->ext || !a->ext->hist)
        return;
    put(t, a, max, time, RP_HISTORY_NOTIFICATION, issue, stage, 0);
}

void rp_history_action(rp_acct_table *t, account *a, uint32_t max, int64_t time,
                       const rp_action *act, bool applied) {
    if (max == 0 || !a->ext || !a->ext->hist)
        return;
    hist_entry *e = slot(t, a->ext, max);
    if (!e)
        return;
    memset(e, 0, sizeof(*e));
    e->time = time;
    e->kind = RP_HISTORY_ACTION;
    e->a = (uint8_t)act->action;
    e->b = act->has_issue ? (uint8_t)act->issue : 0xff;
    e->c = applied;
    if (!set_text(t, e, act->actor, cut(act->actor, RP_HISTORY_ACTOR_MAX),
                  act->note, cut(act->note, RP_HISTORY_NOTE_MAX)))
        e->actor_len = e->note_len = 0; /* kept, without its strings */
}

/* ------------------------------------------------------------ reading */

static void entry_out(const hist_entry *e, rp_history_entry *o) {
    memset(o, 0, sizeof(*o));
    o->kind = (rp_history_kind)e->kind;
    o->time = e->time;
    switch (e->kind) {
    case RP_HISTORY_STATUS_CHANGE:
        o->from = (rp_account_status)e->a;
        o->to = (rp_account_status)e->b;
        o->cause = (rp_issue_kind)e->c;
        break;
    case RP_HISTORY_ACTION:
        o->action = (rp_action_type)e->a;
        o->has_issue = e->b != 0xff;
        o->issue = o->has_issue ? (rp_issue_kind)e->b : (rp_issue_kind)0;
        o->applied = e->c != 0;
        if (e->actor_len)
            o->actor = (rp_str){e->text, e->actor_len};
        if (e->note_len)
            o->note = (rp_str){e->text + e->actor_len + 1, e->note_len};
        break;
    default:
        o->issue = (rp_issue_kind)e->a;
        o->stage = (rp_stage)e->b;
        break;
    }
}

int rp_history_walk(const history *h, rp_engine_history_fn fn, void *opaque) {
    for (uint16_t i = h ? h->n : 0; i > 0; i--) {
        rp_history_entry o;
        entry_out(&h->e[(h->head + i - 1) % h->cap], &o);
        int rc = fn(opaque, &o);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ changelog */

size_t rp_history_encode_bound(const history *h) {
    size_t bound = VARINT_MAX;
    for (uint16_t i = 0; h && i < h->n; i++) {
        const hist_entry *e = &h->e[(h->head + i) % h->cap];
        bound += 5 + VARINT_MAX + 2 * VARINT_MAX + e->actor_len + e->note_len;
    }
    return bound;
}

unsigned char *rp_history_encode(unsigned char *p, const history *h) {
    p = rp_varint_put_u(p, h->n);
    for (uint16_t i = 0; i < h->n; i++) {
        const hist_entry *e = &h->e[(h->head + i) % h->cap];
        *p++ = e->kind;
        p = rp_varint_put_s(p, e->time);
        *p++ = e->a;
        *p++ = e->b;
        *p++ = e->c;
        if (e->kind != RP_HISTORY_ACTION)
            continue;
        *p++ = (unsigned char)((e->actor_len ? 1 : 0) | (e->note_len ? 2 : 0));
        if (e->actor_len) {
            p = rp_varint_put_u(p, e->actor_len);
            memcpy(p, e->text, e->actor_len);
            p += e->actor_len;
        }
        if (e->note_len) {
            p = rp_varint_put_u(p, e->note_len);
            memcpy(p, e->text + e->actor_len + 1, e->note_len);
            p += e->note_len;
        }
    }
    return p;
}

/* Whether the three small fields of an entry of kind k are ones the
 * engine writes. */
static bool fields_ok(unsigned k, unsigned a, unsigned b, unsigned c) {
    switch (k) {
    case RP_HISTORY_STATUS_CHANGE:
        return a < RP_ASTATUS__COUNT && b < RP_ASTATUS__COUNT &&
               c < RP_ISSUE__COUNT;
    case RP_HISTORY_ACTION:
        return a < RP_ACTION__COUNT && (b < RP_ISSUE__COUNT || b == 0xff) &&
               c <= 1;
    case RP_HISTORY_NOTIFICATION:
        return a < RP_ISSUE__COUNT && b < RP_STAGE__COUNT && c == 0;
    default: return false;
    }
}

/* One string of an action (1 to max bytes, no NUL), in *s. */
static bool get_text(rp_varint_reader *r, size_t max, rp_str *s) {
    uint64_t n = rp_varint_get_u(r);
    if (r->bad || n == 0 || n > max || n > (uint64_t)(r->end - r->p) ||
        memchr(r->p, '\0', (size_t)n))
        return false;
    *s = (rp_str){(const char *)r->p, (size_t)n};
    r->p += n;
    return true;
}

/* Reads one entry into e (NULL: read and check it, keep nothing). */
static int decode_entry(rp_acct_table *t, rp_varint_reader *r, hist_entry *e) {
    unsigned k = rp_varint_get_byte(r);
    int64_t time = rp_varint_get_s(r);
    unsigned a = rp_varint_get_byte(r), b = rp_varint_get_byte(r),
             c = rp_varint_get_byte(r);
    if (r->bad || !fields_ok(k, a, b, c))
        return RP_EBADDATA;
    rp_str actor = RP_STR_NULL, note = RP_STR_NULL;
    if (k == RP_HISTORY_ACTION) {
        unsigned flags = rp_varint_get_byte(r);
        if (r->bad || flags > 3 ||
            ((flags & 1) && !get_text(r, RP_HISTORY_ACTOR_MAX, &actor)) ||
            ((flags & 2) && !get_text(r, RP_HISTORY_NOTE_MAX, &note)))
            return RP_EBADDATA;
    }
    if (!e)
        return 0;
    memset(e, 0, sizeof(*e));
    e->time = time;
    e->kind = (uint8_t)k;
    e->a = (uint8_t)a;
    e->b = (uint8_t)b;
    e->c = (uint8_t)c;
    return set_text(t, e, actor, (uint16_t)actor.len, note, (uint16_t)note.len)
               ? 0
               : RP_ENOMEM;
}

int rp_history_decode(rp_acct_table *t, account *a, uint32_t max,
                      rp_varint_reader *r) {
    uint64_t n = rp_varint_get_u(r);
    /* Each entry takes five bytes at least; the engine writes no empty
     * history and never more than the largest ring. */
    if (r->bad || n == 0 || n > RP_HISTORY_MAX_ENTRIES ||
        n > (uint64_t)(r->end - r->p) / 5)
        return RP_EBADDATA;
    if (max > RP_HISTORY_MAX_ENTRIES)
        max = RP_HISTORY_MAX_ENTRIES;
    uint64_t skip = n > max ? n - max : 0; /* the oldest, beyond max */
    history *h = NULL;
    if (n > skip) {
        uint16_t cap = cap_for(max);
        h = hist_new(t, (uint16_t)(n - skip > cap ? n - skip : cap));
        if (!h)
            return RP_ENOMEM;
        a->ext->hist = h;
    }
    for (uint64_t i = 0; i < n; i++) {
        int rc = decode_entry(t, r, i < skip ? NULL : &h->e[h->n]);
        if (rc != 0)
            return rc;
        if (i >= skip)
            h->n++;
    }
    return 0;
}
