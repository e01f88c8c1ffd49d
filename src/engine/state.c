/*
 * state.c - the changelog: which accounts and tenants changed, and their
 * state as bytes (encode for the changelog, decode to restore).
 *
 * An account is listed on the dirty list the first time a record or a
 * review end touches it after a flush; rp_engine_flush_dirty() encodes
 * each listed account and hands the bytes to the caller, who writes them
 * to the changelog topic under the account id. A restore reads them back
 * into an emptied account and puts its review ends back on the heap.
 *
 * The changelog value of an account, version 1. Integers are LEB128
 * varints (signed ones zig-zagged); hours are deltas from the previous
 * bucket, so a typical account encodes in a few dozen bytes.
 *
 *   u8 version | sequence | n_buckets { dhour sends hard deliveries
 *   complaints } | u8 has_ext [ u8 manual | 14 x issue | n_reports
 *   { time incidents u8 kind } | n_links { len bytes } ]
 *
 *   issue: u8 status | u8 extensions | u8 exhausted | u8 presence
 *          [since] [review_end] [floor] [new_incidents]
 *
 * Tenants (docs/rules.md section 10). A tenant is a changelog record of its
 * own, keyed "<account_id>\xff<tenant>", not a part of its account's
 * value, because:
 *   - an account may hold a thousand tenants, each with up to a few
 *     thousand hourly buckets: in one value they could pass Kafka's
 *     message size, and every change to one stream would rewrite all of
 *     them at every commit, while most records change one tenant;
 *   - an account's value stays exactly what it was (version 1), so a
 *     changelog written before tenants existed restores as it is, and an
 *     account without tenants writes the same bytes as before;
 *   - the key cannot be taken for an account id: 0xff never occurs in
 *     UTF-8, which account ids and tenant names are, and repute's own keys
 *     (src/runtime/proc.h) begin with 0xff where a tenant's has a
 *     non-empty account id first; the runtime passes every key that is
 *     not its own to rp_engine_restore(), which tells the two apart, so
 *     the runtime did not change.
 * A tenant's value is version 2, so that an older repute refuses it (it
 * logs the record as skipped) rather than misreading it, and so that a tenant's
 * value is never restored as an account's or the other way round:
 *
 *   u8 2 | last_applied | the same buckets and ext as version 1 (a
 *   tenant's manual flag 0 and no links; anything else is refused)
 *
 * Histories (docs/history.md). An entity with a history writes version 3
 * (an account) or 4 (a tenant): version 1's or 2's fields, then its
 * history (history.c writes and reads it). Every other entity writes
 * version 1 or 2 exactly as before, so a changelog from before histories
 * restores unchanged (empty histories), and a value cut anywhere is still
 * refused: a version says whether the history must follow, rather than
 * an optional trailing section that a cut at its start would hide.
 *
 * The two kinds of record are restored in whatever order the changelog
 * gives: a tenant's record creates its account (empty) when it comes
 * first, and an account's record replaces the account's own state and
 * leaves its tenants alone. The account's record carries the sequence its
 * tenants' events also take, and is marked dirty whenever one of them
 * publishes, so both are written in the same commit. A forgotten tenant
 * is written as a tombstone (len 0) and then let go of (tenant.c).
 *
 * The encoder writes through a cursor into room reserved up front for the
 * largest encoding the account can have: a commit encodes every dirty
 * account, often one per input record, so there is no call per byte. The
 * decoder trusts nothing: every count is checked against the bytes left
 * before anything is allocated, and a value that does not decode whole
 * leaves the account empty.
 */
#include <stdlib.h>

#include "engine/engine_int.h"
#include "engine/history.h"
#include "engine/varint.h"

#define STATE_VERSION    1 /* an account's value */
#define TENANT_VERSION   2 /* a tenant's value */
#define STATE_VERSION_H  3 /* an account's value with its history */
#define TENANT_VERSION_H 4 /* a tenant's value with its history */

/* ------------------------------------------------------------ encoding */

#define put_u rp_varint_put_u
#define put_s rp_varint_put_s

/* The most bytes rp_state_encode() can write for a. */
static size_t encode_bound(const account *a) {
    const account_ext *x = a->ext;
    size_t bound = 3 + 2 * VARINT_MAX + (size_t)a->n_buckets * 5 * VARINT_MAX;
    if (x) {
        bound += 1 + RP_ISSUE__COUNT * (4 + 4 * VARINT_MAX) + 2 * VARINT_MAX +
                 (size_t)x->n_reports * (2 * VARINT_MAX + 1);
        for (uint32_t i = 0; i < x->n_links; i++)
            bound += VARINT_MAX + strlen(x->links[i]);
        if (x->hist)
            bound += rp_history_encode_bound(x->hist);
    }
    return bound;
}

static unsigned char *encode_ext(unsigned char *p, const account_ext *x) {
    *p++ = x->manual_review;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const issue *is = &x->issues[k];
        unsigned pres = (is->since != NONE) | (is->review_end != NONE) << 1 |
                        (is->floor != NONE) << 2 |
                        (is->new_incidents != 0) << 3;
        *p++ = is->status;
        *p++ = is->extensions;
        *p++ = is->exhausted;
        *p++ = (unsigned char)pres;
        if (pres & 1)
            p = put_s(p, is->since);
        if (pres & 2)
            p = put_s(p, is->review_end);
        if (pres & 4)
            p = put_s(p, is->floor);
        if (pres & 8)
            p = put_s(p, is->new_incidents);
    }
    p = put_u(p, x->n_reports);
    for (uint32_t i = 0; i < x->n_reports; i++) {
        p = put_s(p, x->reports[i].time);
        p = put_u(p, (uint64_t)x->reports[i].incidents);
        *p++ = x->reports[i].kind;
    }
    p = put_u(p, x->n_links);
    for (uint32_t i = 0; i < x->n_links; i++) {
        size_t n = strlen(x->links[i]);
        p = put_u(p, n);
        memcpy(p, x->links[i], n);
        p += n;
    }
    return p;
}

static int state_encode(const account *a, rp_buf *b) {
    rp_buf_reset(b);
    if (rp_buf_reserve(b, encode_bound(a)) != 0)
        return RP_ENOMEM;
    unsigned char *p = (unsigned char *)b->data;
    /* Only an entity with a history writes the versions that carry one,
     * so every other one writes the bytes it always did. */
    bool hist = a->ext && a->ext->hist && a->ext->hist->n;
    if (a->kind == ENTITY_ACCOUNT) {
        *p++ = hist ? STATE_VERSION_H : STATE_VERSION;
        p = put_u(p, a->sequence);
    } else {
        *p++ = hist ? TENANT_VERSION_H : TENANT_VERSION;
        p = put_s(p, a->last_applied);
    }
    p = put_u(p, a->n_buckets);
    int64_t prev = 0;
    for (uint32_t i = 0; i < a->n_buckets; i++) {
        const bucket *k = &a->buckets[i];
        p = put_s(p, k->hour - prev);
        prev = k->hour;
        p = put_u(p, k->sends);
        p = put_u(p, k->hard);
        p = put_u(p, k->deliveries);
        p = put_u(p, k->complaints);
    }
    *p++ = a->ext != NULL;
    if (a->ext)
        p = encode_ext(p, a->ext);
    if (hist)
        p = rp_history_encode(p, a->ext->hist);
    b->len = (size_t)(p - (unsigned char *)b->data);
    b->data[b->len] = '\0';
    return 0;
}

/* ------------------------------------------------------------ decoding */

typedef rp_varint_reader reader;
#define get_u    rp_varint_get_u
#define get_s    rp_varint_get_s
#define get_byte rp_varint_get_byte

/* A count of items of at least one byte each, checked against what is
 * left; UINT64_MAX when it cannot be. */
static uint64_t get_count(reader *r) {
    uint64_t n = get_u(r);
    return r->bad || n > (uint64_t)(r->end - r->p) ? UINT64_MAX : n;
}

static int decode_buckets(rp_acct_table *t, account *a, reader *r) {
    uint64_t nb = get_count(r);
    if (nb == UINT64_MAX)
        return RP_EBADDATA;
    if (nb) {
        a->buckets = rp_acct_alloc(t, nb * sizeof(bucket));
        if (!a->buckets)
            return RP_ENOMEM;
        a->cap_buckets = (uint32_t)nb;
    }
    int64_t hour = 0;
    for (uint64_t i = 0; i < nb && !r->bad; i++) {
        bucket *k = &a->buckets[a->n_buckets++];
        int64_t d = get_s(r);
        /* The engine writes each hour once, in order: anything else (or
         * an hour beyond the bucket's range) is not a state it wrote, and
         * the window, which walks the buckets in order, would misread it. */
        if ((i > 0 && d <= 0) || d > INT32_MAX - hour || d < INT32_MIN - hour)
            r->bad = true;
        hour += r->bad ? 0 : d;
        k->hour = (int32_t)hour;
        k->sends = (uint32_t)get_u(r);
        k->hard = (uint32_t)get_u(r);
        k->deliveries = (uint32_t)get_u(r);
        k->complaints = (uint32_t)get_u(r);
        rp_bucket_add_sat(&a->tot_sends, k->sends);
        rp_bucket_add_sat(&a->tot_hard, k->hard);
        rp_bucket_add_sat(&a->tot_deliveries, k->deliveries);
        rp_bucket_add_sat(&a->tot_complaints, k->complaints);
    }
    if (a->n_buckets)
        a->oldest_hour = a->buckets[0].hour;
    return 0;
}

static void decode_issue(issue *is, reader *r) {
    is->status = (uint8_t)get_byte(r);
    is->extensions = (uint8_t)get_byte(r);
    is->exhausted = (uint8_t)get_byte(r);
    unsigned pres = get_byte(r);
    if (is->status >= RP_ISTATUS__COUNT)
        r->bad = true;
    if (pres & 1)
        is->since = get_s(r);
    if (pres & 2)
        is->review_end = get_s(r);
    if (pres & 4)
        is->floor = get_s(r);
    if (pres & 8)
        is->new_incidents = get_s(r);
}

static int decode_ext(rp_acct_table *t, account *a, reader *r) {
    account_ext *x = rp_acct_ext(t, a);
    if (!x)
        return RP_ENOMEM;
    x->manual_review = get_byte(r) != 0;
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        decode_issue(&x->issues[k], r);
    uint64_t nr = get_count(r);
    if (nr == UINT64_MAX)
        return RP_EBADDATA;
    if (nr) {
        x->reports = rp_acct_alloc(t, nr * sizeof(report_entry));
        if (!x->reports)
            return RP_ENOMEM;
        x->cap_reports = (uint32_t)nr;
    }
    for (uint64_t i = 0; i < nr && !r->bad; i++) {
        report_entry *re = &x->reports[x->n_reports++];
        re->time = get_s(r);
        re->incidents = (int32_t)get_u(r);
        re->kind = (uint8_t)get_byte(r);
        if (re->kind >= RP_ISSUE__COUNT)
            r->bad = true;
    }
    uint64_t nl = get_count(r);
    if (nl == UINT64_MAX)
        return RP_EBADDATA;
    for (uint64_t i = 0; i < nl && !r->bad; i++) {
        uint64_t n = get_u(r);
        /* Links are held as C strings: one with a NUL byte is not a
         * state the engine wrote. */
        if (r->bad || n > (uint64_t)(r->end - r->p) || n == 0 ||
            n > RP_ACCOUNT_ID_MAX || memchr(r->p, '\0', (size_t)n))
            return RP_EBADDATA;
        rp_str other = {(const char *)r->p, (size_t)n};
        r->p += n;
        if (rp_acct_link_add(t, x, other) < 0)
            return RP_ENOMEM;
    }
    return 0;
}

static int state_decode(rp_acct_table *t, account *a, uint32_t hist_max,
                        reader *r) {
    unsigned v = get_byte(r);
    bool hist =
        v == (a->kind == ENTITY_ACCOUNT ? STATE_VERSION_H : TENANT_VERSION_H);
    if (!hist &&
        v != (a->kind == ENTITY_ACCOUNT ? STATE_VERSION : TENANT_VERSION))
        return RP_EBADDATA;
    if (a->kind == ENTITY_ACCOUNT)
        a->sequence = get_u(r);
    else
        a->last_applied = get_s(r);
    int rc = decode_buckets(t, a, r);
    if (rc == 0 && get_byte(r))
        rc = decode_ext(t, a, r);
    /* The history, last, in versions 3 and 4 (never without an ext:
     * only an entity that left HEALTHY has one). */
    if (rc == 0 && hist && !r->bad) {
        if (!a->ext)
            return RP_EBADDATA;
        rc = rp_history_decode(t, a, hist_max, r);
    }
    if (rc != 0)
        return rc;
    /* A tenant has no flag or links of its own (docs/rules.md section 10). */
    if (a->kind != ENTITY_ACCOUNT && a->ext &&
        (a->ext->manual_review || a->ext->n_links))
        return RP_EBADDATA;
    if (r->bad || r->p != r->end)
        return RP_EBADDATA;
    return 0;
}

/* ------------------------------------------------------------ engine */

/* Empties an account or a tenant, off the list of entities that are not
 * HEALTHY (an account keeps its tenants). */
static void account_empty(rp_engine *e, account *a) {
    rp_review_status_set(e, a, RP_ASTATUS_HEALTHY);
    rp_acct_clear(&e->accounts, a);
}

/* The entity a changelog key names: an account id, or a tenant's key. */
static account *restore_target(rp_engine *e, rp_str key, size_t len, int *rc) {
    if (!key.ptr || key.len == 0)
        return *rc = RP_EBADDATA, NULL;
    if (memchr(key.ptr, '\xff', key.len))
        return rp_tenant_restore_target(e, key, len == 0, rc);
    if (key.len > RP_ACCOUNT_ID_MAX)
        return *rc = RP_EBADDATA, NULL;
    account *a = rp_acct_get(&e->accounts, key);
    *rc = a ? 0 : RP_ENOMEM;
    return a;
}

int rp_engine_restore(rp_engine *e, rp_str id, const void *state, size_t len) {
    int rc;
    account *a = restore_target(e, id, len, &rc);
    if (!a)
        return rc;
    account_empty(e, a);
    if (len == 0)
        return 0;
    reader r = {state, (const unsigned char *)state + len, false};
    rc = state_decode(&e->accounts, a, e->history_max, &r);
    if (rc != 0) {
        account_empty(e, a);
        return rc;
    }
    rp_review_status_set(e, a, rp_review_status_of(e, a));
    if (a->ext)
        for (int k = 0; k < RP_ISSUE__COUNT; k++)
            if (a->ext->issues[k].review_end != NONE &&
                rp_rheap_push(&e->heap, a->ext->issues[k].review_end, a) != 0)
                return RP_ENOMEM;
    return 0;
}

void rp_engine_restore_clock(rp_engine *e, int64_t clock) {
    if (clock > e->clock)
        e->clock = clock;
}

int rp_state_dirty_push(rp_engine *e, account *a) {
    if (e->n_dirty == e->cap_dirty) {
        size_t cap = e->cap_dirty ? e->cap_dirty * 2 : 256;
        account **d = realloc(e->dirty, cap * sizeof(*d));
        if (!d)
            return RP_ENOMEM;
        e->dirty = d;
        e->cap_dirty = cap;
    }
    e->dirty[e->n_dirty++] = a;
    a->dirty = 1;
    return 0;
}

int rp_engine_flush_dirty(rp_engine *e, rp_engine_state_fn fn, void *opaque) {
    size_t i = 0;
    int rc = 0;
    for (; i < e->n_dirty; i++) {
        account *a = e->dirty[i];
        if (a->kind == ENTITY_GONE) {
            /* A forgotten tenant: its tombstone, then let go of it. */
            rc = fn(opaque, rp_tenant_key(e, a), NULL, 0);
            if (rc != 0)
                break;
            a->dirty = 0;
            if (a->heap_refs == 0)
                rp_acct_free(&e->accounts, a);
            continue;
        }
        rc = state_encode(a, &e->state);
        if (rc == 0)
            rc = fn(opaque,
                    a->kind == ENTITY_ACCOUNT ? rp_acct_id(a)
                                              : rp_tenant_key(e, a),
                    e->state.data, e->state.len);
        if (rc != 0)
            break;
        a->dirty = 0;
    }
    /* Keep the accounts that were not handed over. */
    if (i > 0 && i < e->n_dirty)
        memmove(e->dirty, e->dirty + i, (e->n_dirty - i) * sizeof(*e->dirty));
    e->n_dirty -= i;
    return rc;
}

size_t rp_engine_dirty_count(const rp_engine *e) {
    return e->n_dirty;
}
