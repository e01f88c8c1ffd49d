/*
 * engine.c - the reputation engine: accounts, windows, issues, actions.
 *
 * Design
 * ------
 * The engine is a function from (state, record, time) to (state, output
 * events). It reads no clock and does no I/O; everything it publishes goes
 * through the caller's sink, synchronously and in order, so a replay of the
 * same input is byte-for-byte the same.
 *
 * State is one rp_account per account id, found through an open-addressing
 * table of (hash, pointer) slots. An account is kept small because the
 * engine holds millions of them:
 *
 *   - its hourly buckets are a sorted, sparse array of the hours that saw
 *     anything (20 bytes each), pruned to the window's maximum span;
 *   - everything that most accounts never need (the fourteen issue states,
 *     the report log, the links, the manual-review flag) lives in an
 *     "extension" allocated the first time an account needs it;
 *   - the id is stored inline at the end of the struct.
 *
 * Review ends wait in one binary min-heap of (instant, account), ordered by
 * instant and then by account id so that ties are processed in a stable
 * order. Entries are never removed early: when a review end moves, a new
 * entry is pushed and the old one is skipped when it surfaces, because the
 * account's issue no longer ends at that instant.
 *
 * Publishing works by difference. Before a record (or a review end) touches
 * an account we copy its issue states; the rules then change the account
 * freely, noting for each issue the last notification stage it reached;
 * afterwards one STATUS_CHANGE describes the difference and one
 * NOTIFICATION follows per changed issue that reached a stage. This keeps
 * every rule a plain state change and puts the output contract (SPEC 7) in
 * one place.
 */
#include "repute/engine.h"

#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dedupe.h"
#include "repute/buf.h"
#include "repute/hash.h"
#include "repute/notice.h"

#define NONE INT64_MIN /* an absent time (no review end, no floor) */
#define HOUR RP_MS_PER_HOUR

/* ---------------------------------------------------------------- types */

/* Counts of one hour of attribution time. */
typedef struct bucket {
    int32_t hour;        /* hours since the epoch */
    uint32_t sends;      /* bounce-eligible sends */
    uint32_t hard;       /* hard bounces */
    uint32_t deliveries; /* complaint-eligible deliveries */
    uint32_t complaints;
} bucket;

typedef struct issue {
    int64_t since;         /* when it last left HEALTHY */
    int64_t review_end;    /* NONE when it has none */
    int64_t floor;         /* rate issues: NONE or the floor */
    int64_t new_incidents; /* report issues */
    uint8_t status;        /* rp_issue_status */
    uint8_t extensions;    /* extensions used in this review */
    uint8_t exhausted;     /* out of extensions, waiting for a person */
} issue;

typedef struct report_entry {
    int64_t time;
    int32_t incidents;
    uint8_t kind;
} report_entry;

typedef struct account_ext {
    issue issues[RP_ISSUE__COUNT];
    report_entry *reports;
    uint32_t n_reports, cap_reports;
    char **links; /* NUL-terminated copies, in the order they were made */
    uint32_t n_links, cap_links;
    bool manual_review;
    /* The list of accounts whose status is not HEALTHY (every such
     * account has an ext), so that the HTTP API can list the accounts
     * that need attention without walking millions of healthy ones. */
    struct account *fl_prev, *fl_next;
} account_ext;

typedef struct account {
    uint64_t sequence;
    bucket *buckets;
    uint32_t n_buckets, cap_buckets;
    /* Sums of every stored bucket (saturating): most accounts never reach
     * the window's minimum volume, and then the window is simply all of
     * them, with no walk over the buckets. */
    uint32_t tot_sends, tot_hard, tot_deliveries, tot_complaints;
    /* The clock's hour at the last prune: buckets older than the oldest
     * reachable hour of that clock are gone. Saves touching the bucket
     * array on every record. */
    int32_t pruned_hour;
    int32_t oldest_hour; /* buckets[0].hour, kept here for the same reason */
    account_ext *ext;
    uint64_t hash;
    uint8_t status; /* rp_account_status */
    uint8_t dirty;  /* changed since the last rp_engine_flush_dirty */
    uint16_t id_len;
    char id[]; /* NUL-terminated */
} account;

typedef struct table_slot {
    uint64_t hash;
    account *acct;
} table_slot;

typedef struct heap_entry {
    int64_t at;
    account *acct;
} heap_entry;

/* The two rate issues' windows as they stand at the clock. */
typedef struct rates {
    rp_metric_snapshot m[2]; /* [0] bounce, [1] complaint */
} rates;

/* What a record or a review end changed on one account. */
typedef struct change {
    bool had_ext; /* without one, every issue was HEALTHY: before unset */
    issue before[RP_ISSUE__COUNT];
    int stage[RP_ISSUE__COUNT]; /* -1: none reached */
    uint8_t status_before;
} change;

struct rp_engine {
    rp_config cfg; /* rule settings only; the owned strings are not copied */
    int64_t clock;
    table_slot *slots;
    size_t mask, n_accounts;
    heap_entry *heap;
    size_t n_heap, cap_heap;
    rp_dedupe dedupe;
    rp_engine_stats stats;
    /* Accounts per status other than HEALTHY, and the list of them. */
    uint64_t n_status[RP_ASTATUS__COUNT];
    struct account *flagged;
    int64_t account_bytes;
    /* Accounts changed since the last flush (each listed once). */
    account **dirty;
    size_t n_dirty, cap_dirty;
    rp_buf state; /* reused encoding buffer */
    /* RELATED_ACCOUNT reports the engine applies itself (loopback mode),
     * oldest first; each string is a heap copy. */
    bool loopback;
    /* Dedupe keys taken in since the last rp_engine_dedupe_take(). */
    bool dedupe_log;
    rp_dedupe_key *dlog, *dlog_out;
    size_t n_dlog, cap_dlog, cap_dlog_out;
    struct pending_report {
        char *account, *event_id, *related;
        int64_t time;
    } * pending;
    size_t pending_head, n_pending, cap_pending;
    /* Reused output storage. */
    rp_status_change sc;
    rp_notification note;
    char why[1024];
    char related_id[RP_ACCOUNT_ID_MAX + 48];
};

static const issue healthy_issue = {NONE, NONE, NONE, 0, RP_ISTATUS_HEALTHY,
                                    0,    0};

/* ------------------------------------------------------------ allocation */

/* Account memory goes through these so that account_bytes is what the
 * allocator really handed out, overhead included. */
static void *acct_alloc(rp_engine *e, size_t n) {
    void *p = malloc(n);
    if (p)
        e->account_bytes += (int64_t)malloc_usable_size(p);
    return p;
}

static void *acct_realloc(rp_engine *e, void *old, size_t n) {
    size_t before = old ? malloc_usable_size(old) : 0;
    void *p = realloc(old, n);
    if (p)
        e->account_bytes += (int64_t)malloc_usable_size(p) - (int64_t)before;
    return p;
}

static void acct_free(rp_engine *e, void *p) {
    if (!p)
        return;
    e->account_bytes -= (int64_t)malloc_usable_size(p);
    free(p);
}

/* ------------------------------------------------------------ time */

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t ceil_div(int64_t a, int64_t b) {
    return -floor_div(-a, b);
}

/* ------------------------------------------------------------ accounts */

static int table_grow(rp_engine *e) {
    size_t n = e->slots ? (e->mask + 1) * 2 : 1024;
    table_slot *s = calloc(n, sizeof(*s));
    if (!s)
        return RP_ENOMEM;
    if (e->slots) {
        e->account_bytes -= (int64_t)malloc_usable_size(e->slots);
        for (size_t i = 0; i <= e->mask; i++) {
            if (!e->slots[i].acct)
                continue;
            size_t j = (size_t)e->slots[i].hash & (n - 1);
            while (s[j].acct)
                j = (j + 1) & (n - 1);
            s[j] = e->slots[i];
        }
        free(e->slots);
    }
    e->account_bytes += (int64_t)malloc_usable_size(s);
    e->slots = s;
    e->mask = n - 1;
    return 0;
}

static account *account_find(const rp_engine *e, rp_str id, uint64_t h) {
    if (!e->slots)
        return NULL;
    for (size_t i = (size_t)h & e->mask; e->slots[i].acct;
         i = (i + 1) & e->mask) {
        account *a = e->slots[i].acct;
        if (e->slots[i].hash == h && a->id_len == id.len &&
            memcmp(a->id, id.ptr, id.len) == 0)
            return a;
    }
    return NULL;
}

static account *account_get(rp_engine *e, rp_str id) {
    uint64_t h = rp_hash_bytes(id.ptr, id.len, 0);
    account *a = account_find(e, id, h);
    if (a)
        return a;
    if ((e->n_accounts + 1) * 4 > (e->slots ? e->mask + 1 : 0) * 3 &&
        table_grow(e) != 0)
        return NULL;
    a = acct_alloc(e, sizeof(account) + id.len + 1);
    if (!a)
        return NULL;
    memset(a, 0, sizeof(*a));
    a->pruned_hour = INT32_MIN;
    a->hash = h;
    a->id_len = (uint16_t)id.len;
    memcpy(a->id, id.ptr, id.len);
    a->id[id.len] = '\0';
    size_t i = (size_t)h & e->mask;
    while (e->slots[i].acct)
        i = (i + 1) & e->mask;
    e->slots[i].hash = h;
    e->slots[i].acct = a;
    e->n_accounts++;
    return a;
}

static account_ext *account_ext_get(rp_engine *e, account *a) {
    if (a->ext)
        return a->ext;
    account_ext *x = acct_alloc(e, sizeof(*x));
    if (!x)
        return NULL;
    memset(x, 0, sizeof(*x));
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        x->issues[k] = healthy_issue;
    a->ext = x;
    return x;
}

static void account_destroy(rp_engine *e, account *a);

/* Sets an account's status, keeping the per-status counts and the list of
 * accounts that are not HEALTHY. A status other than HEALTHY needs a->ext. */
static void status_set(rp_engine *e, account *a, rp_account_status st) {
    rp_account_status old = (rp_account_status)a->status;
    if (old == st)
        return;
    if (old != RP_ASTATUS_HEALTHY)
        e->n_status[old]--;
    if (st != RP_ASTATUS_HEALTHY)
        e->n_status[st]++;
    if (old == RP_ASTATUS_HEALTHY) {
        account_ext *x = a->ext;
        x->fl_prev = NULL;
        x->fl_next = e->flagged;
        if (e->flagged)
            e->flagged->ext->fl_prev = a;
        e->flagged = a;
    } else if (st == RP_ASTATUS_HEALTHY) {
        account_ext *x = a->ext;
        if (x->fl_prev)
            x->fl_prev->ext->fl_next = x->fl_next;
        else
            e->flagged = x->fl_next;
        if (x->fl_next)
            x->fl_next->ext->fl_prev = x->fl_prev;
    }
    a->status = (uint8_t)st;
}

static const issue *issue_of(const account *a, int k) {
    return a->ext ? &a->ext->issues[k] : &healthy_issue;
}

static rp_str account_id(const account *a) {
    rp_str s = {a->id, a->id_len};
    return s;
}

/* ------------------------------------------------------------ buckets */

/* The oldest hour any window can still reach at this clock. */
static int64_t oldest_reachable_hour(const rp_engine *e, int64_t clock) {
    int64_t end = (floor_div(clock, HOUR) + 1) * HOUR;
    return ceil_div(end - e->cfg.window_max_span, HOUR);
}

static void sub_sat(uint32_t *c, uint32_t n) {
    /* A saturated total stays saturated: its true value is unknown. */
    if (*c != UINT32_MAX)
        *c -= n;
}

static void bucket_prune(const rp_engine *e, account *a) {
    int64_t cb = floor_div(e->clock, HOUR);
    if (a->pruned_hour == cb)
        return;
    a->pruned_hour = (int32_t)cb;
    int64_t lo_hour = oldest_reachable_hour(e, e->clock);
    if (a->n_buckets == 0 || a->oldest_hour >= lo_hour)
        return;
    uint32_t drop = 0;
    while (drop < a->n_buckets && a->buckets[drop].hour < lo_hour) {
        const bucket *b = &a->buckets[drop];
        sub_sat(&a->tot_sends, b->sends);
        sub_sat(&a->tot_hard, b->hard);
        sub_sat(&a->tot_deliveries, b->deliveries);
        sub_sat(&a->tot_complaints, b->complaints);
        drop++;
    }
    if (drop) {
        memmove(a->buckets, a->buckets + drop,
                (a->n_buckets - drop) * sizeof(bucket));
        a->n_buckets -= drop;
        if (a->n_buckets)
            a->oldest_hour = a->buckets[0].hour;
    }
}

/* Returns the bucket of `hour`, inserting an empty one in order. */
static bucket *bucket_get(rp_engine *e, account *a, int64_t hour) {
    uint32_t n = a->n_buckets;
    if (n && a->buckets[n - 1].hour == hour)
        return &a->buckets[n - 1];
    uint32_t pos = n;
    while (pos > 0 && a->buckets[pos - 1].hour > hour)
        pos--;
    if (pos > 0 && a->buckets[pos - 1].hour == hour)
        return &a->buckets[pos - 1];
    if (n == a->cap_buckets) {
        uint32_t cap = a->cap_buckets ? a->cap_buckets * 2 : 2;
        bucket *b = acct_realloc(e, a->buckets, cap * sizeof(bucket));
        if (!b)
            return NULL;
        a->buckets = b;
        a->cap_buckets = cap;
    }
    memmove(a->buckets + pos + 1, a->buckets + pos, (n - pos) * sizeof(bucket));
    memset(&a->buckets[pos], 0, sizeof(bucket));
    a->buckets[pos].hour = (int32_t)hour;
    if (pos == 0)
        a->oldest_hour = (int32_t)hour;
    a->n_buckets++;
    return &a->buckets[pos];
}

static void add_sat(uint32_t *c, uint32_t n) {
    *c = (*c > UINT32_MAX - n) ? UINT32_MAX : *c + n;
}

/* ------------------------------------------------------------ windows */

/*
 * The representative window of SPEC 3 for one rate: whole buckets counted
 * back from the clock's, until both the volume and the span are enough,
 * never reaching before max span or the floor.
 */
static void window_compute(const rp_engine *e, const account *a, int which,
                           int64_t floor, rp_metric_snapshot *m) {
    const rp_config *c = &e->cfg;
    int64_t cb = floor_div(e->clock, HOUR);
    int64_t end = (cb + 1) * HOUR;
    int64_t b_lo = ceil_div(end - c->window_max_span, HOUR);
    if (floor != NONE && ceil_div(floor, HOUR) > b_lo)
        b_lo = ceil_div(floor, HOUR);
    int64_t b_span = cb + 1 - ceil_div(c->window_min_span, HOUR);
    if (b_span > cb)
        b_span = cb;
    /* Fast path: every stored bucket is inside the window's reach and
     * together they stay under the minimum volume, so the window reaches
     * back to its limit and holds them all. */
    uint32_t tot_vol = which == 0 ? a->tot_sends : a->tot_deliveries;
    if (c->window_min_volume > 0 && (int64_t)tot_vol < c->window_min_volume &&
        floor == NONE && a->pruned_hour == cb) {
        m->volume = tot_vol;
        m->count = which == 0 ? a->tot_hard : a->tot_complaints;
        m->window_end = end;
        m->window_start = b_lo > cb ? end : b_lo * HOUR;
        m->has_rate = m->volume > 0 && m->volume >= c->rate_min_volume;
        m->rate = m->has_rate ? (double)m->count / (double)m->volume : 0.0;
        return;
    }
    bool reached = c->window_min_volume <= 0;
    int64_t b_vol = cb, stop = b_lo;
    if (reached)
        stop = b_span > b_lo ? b_span : b_lo;
    int64_t vol = 0, cnt = 0;
    for (uint32_t i = a->n_buckets; i-- > 0;) {
        const bucket *b = &a->buckets[i];
        if (b->hour > cb)
            continue;
        if (b->hour < stop)
            break;
        vol += which == 0 ? b->sends : b->deliveries;
        cnt += which == 0 ? b->hard : b->complaints;
        if (!reached && vol >= c->window_min_volume) {
            reached = true;
            b_vol = b->hour;
            int64_t s = b_span < b_vol ? b_span : b_vol;
            stop = s > b_lo ? s : b_lo;
        }
    }
    int64_t oldest = stop;
    (void)b_vol;
    m->volume = vol;
    m->count = cnt;
    m->window_end = end;
    m->window_start = oldest > cb ? end : oldest * HOUR;
    m->has_rate = vol > 0 && vol >= c->rate_min_volume;
    m->rate = m->has_rate ? (double)cnt / (double)vol : 0.0;
}

static void rates_compute(const rp_engine *e, const account *a, rates *r) {
    for (int w = 0; w < 2; w++) {
        window_compute(e, a, w, issue_of(a, w)->floor, &r->m[w]);
        r->m[w].status = issue_of(a, w)->status;
    }
}

static double review_rate(const rp_engine *e, int k) {
    return k == RP_ISSUE_BOUNCE_RATE ? e->cfg.bounce_review_rate
                                     : e->cfg.complaint_review_rate;
}

static double pause_rate(const rp_engine *e, int k) {
    return k == RP_ISSUE_BOUNCE_RATE ? e->cfg.bounce_pause_rate
                                     : e->cfg.complaint_pause_rate;
}

/* ------------------------------------------------------------ reports */

static int64_t report_count(const rp_engine *e, const account *a, int kind) {
    if (!a->ext)
        return 0;
    int64_t n = 0, after = e->clock - e->cfg.report_window;
    for (uint32_t i = 0; i < a->ext->n_reports; i++) {
        const report_entry *r = &a->ext->reports[i];
        if (r->kind == kind && r->time > after)
            n += r->incidents;
    }
    return n;
}

static int report_log(rp_engine *e, account_ext *x, int kind, int64_t time,
                      int32_t incidents) {
    /* Forget reports that no window can count any more. */
    int64_t after = e->clock - e->cfg.report_window;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < x->n_reports; i++)
        if (x->reports[i].time > after)
            x->reports[keep++] = x->reports[i];
    x->n_reports = keep;
    if (time <= after)
        return 0; /* it can never count */
    if (x->n_reports == x->cap_reports) {
        uint32_t cap = x->cap_reports ? x->cap_reports * 2 : 2;
        report_entry *r = acct_realloc(e, x->reports, cap * sizeof(*r));
        if (!r)
            return RP_ENOMEM;
        x->reports = r;
        x->cap_reports = cap;
    }
    report_entry *r = &x->reports[x->n_reports++];
    r->time = time;
    r->incidents = incidents;
    r->kind = (uint8_t)kind;
    return 0;
}

/* ------------------------------------------------------------ heap */

static bool heap_less(const heap_entry *x, const heap_entry *y) {
    if (x->at != y->at)
        return x->at < y->at;
    size_t n =
        x->acct->id_len < y->acct->id_len ? x->acct->id_len : y->acct->id_len;
    int c = memcmp(x->acct->id, y->acct->id, n);
    if (c != 0)
        return c < 0;
    return x->acct->id_len < y->acct->id_len;
}

static int heap_push(rp_engine *e, int64_t at, account *a) {
    if (e->n_heap == e->cap_heap) {
        size_t cap = e->cap_heap ? e->cap_heap * 2 : 64;
        heap_entry *h = realloc(e->heap, cap * sizeof(*h));
        if (!h)
            return RP_ENOMEM;
        e->heap = h;
        e->cap_heap = cap;
    }
    size_t i = e->n_heap++;
    e->heap[i].at = at;
    e->heap[i].acct = a;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(&e->heap[i], &e->heap[p]))
            break;
        heap_entry t = e->heap[i];
        e->heap[i] = e->heap[p];
        e->heap[p] = t;
        i = p;
    }
    return 0;
}

static heap_entry heap_pop(rp_engine *e) {
    heap_entry top = e->heap[0];
    e->heap[0] = e->heap[--e->n_heap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < e->n_heap && heap_less(&e->heap[l], &e->heap[m]))
            m = l;
        if (r < e->n_heap && heap_less(&e->heap[r], &e->heap[m]))
            m = r;
        if (m == i)
            break;
        heap_entry t = e->heap[i];
        e->heap[i] = e->heap[m];
        e->heap[m] = t;
        i = m;
    }
    return top;
}

/* ------------------------------------------------------------ dirty */

static int mark_dirty(rp_engine *e, account *a) {
    if (a->dirty)
        return 0;
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

/* ------------------------------------------------------------ status */

static bool in_review(const issue *is) {
    return is->status == RP_ISTATUS_UNDER_REVIEW ||
           is->status == RP_ISTATUS_ALMOST_HEALED;
}

static bool is_manual(const rp_engine *e, int k) {
    return !rp_issue_is_rate((rp_issue_kind)k) && e->cfg.report_manual[k];
}

/* SPEC 6: the first status that holds, in order. */
static rp_account_status account_status_of(const rp_engine *e,
                                           const account *a) {
    if (!a->ext)
        return RP_ASTATUS_HEALTHY;
    bool paused = false, pending = false, decision = false, review = false;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const issue *is = &a->ext->issues[k];
        if (is->status == RP_ISTATUS_SENDING_PAUSE)
            paused = true;
        else if (is->status == RP_ISTATUS_PENDING_SENDING_PAUSE)
            pending = true;
        else if (in_review(is)) {
            review = true;
            if (is_manual(e, k) || is->exhausted)
                decision = true;
        }
    }
    if (paused)
        return RP_ASTATUS_SENDING_PAUSED;
    if (pending)
        return RP_ASTATUS_PENDING_SENDING_PAUSE;
    if (decision)
        return RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION;
    if (review)
        return RP_ASTATUS_UNDER_REVIEW;
    return RP_ASTATUS_HEALTHY;
}

/* ------------------------------------------------------------ transitions */

/*
 * Every rule below changes one issue and notes the stage it reached. A
 * review end that is set is also pushed on the heap.
 */
static int set_review_end(rp_engine *e, account *a, issue *is, int64_t end) {
    is->review_end = end;
    return end != NONE ? heap_push(e, end, a) : 0;
}

static int start_review(rp_engine *e, account *a, change *ch, int k,
                        bool pause_now) {
    issue *is = &a->ext->issues[k];
    is->since = e->clock;
    is->extensions = 0;
    is->exhausted = 0;
    is->new_incidents = 0;
    if (pause_now) {
        is->status = RP_ISTATUS_SENDING_PAUSE;
        is->review_end = NONE;
        ch->stage[k] = RP_STAGE_SENDING_PAUSED;
        return 0;
    }
    is->status = RP_ISTATUS_UNDER_REVIEW;
    ch->stage[k] = RP_STAGE_REVIEW_STARTED;
    return set_review_end(
        e, a, is, is_manual(e, k) ? NONE : e->clock + e->cfg.review_period);
}

static void to_pause(rp_engine *e, account *a, change *ch, int k,
                     bool manual_ok) {
    issue *is = &a->ext->issues[k];
    bool pending = manual_ok && a->ext->manual_review;
    (void)e;
    is->status =
        pending ? RP_ISTATUS_PENDING_SENDING_PAUSE : RP_ISTATUS_SENDING_PAUSE;
    is->review_end = NONE;
    is->exhausted = 0;
    ch->stage[k] =
        pending ? RP_STAGE_PENDING_SENDING_PAUSE : RP_STAGE_SENDING_PAUSED;
}

static void to_healthy(account *a, change *ch, int k) {
    issue *is = &a->ext->issues[k];
    int64_t floor = is->floor; /* the floor outlives the review */
    *is = healthy_issue;
    is->floor = floor;
    ch->stage[k] = RP_STAGE_RESOLVED;
}

/* The end of one issue's review, at the clock (SPEC 5). */
static int end_of_review(rp_engine *e, account *a, change *ch, int k,
                         const rates *r) {
    issue *is = &a->ext->issues[k];
    if (!rp_issue_is_rate((rp_issue_kind)k)) {
        if (is->new_incidents >= e->cfg.report_threshold[k])
            to_pause(e, a, ch, k, true);
        else
            to_healthy(a, ch, k);
        return 0;
    }
    if (is->status == RP_ISTATUS_ALMOST_HEALED) {
        to_healthy(a, ch, k);
        return 0;
    }
    const rp_metric_snapshot *m = &r->m[k];
    if (m->has_rate && m->rate >= pause_rate(e, k)) {
        to_pause(e, a, ch, k, true);
        return 0;
    }
    if (is->extensions < e->cfg.review_max_extensions) {
        is->extensions++;
        ch->stage[k] = RP_STAGE_REVIEW_EXTENDED;
        return set_review_end(e, a, is, is->review_end + e->cfg.review_period);
    }
    is->review_end = NONE;
    is->exhausted = 1;
    ch->stage[k] = RP_STAGE_DECISION_PENDING;
    return 0;
}

/* Both rate issues, after every record (SPEC 5). */
static int evaluate_rates(rp_engine *e, account *a, change *ch,
                          const rates *r) {
    for (int k = 0; k < 2; k++) {
        const rp_metric_snapshot *m = &r->m[k];
        if (!m->has_rate)
            continue;
        const issue *is = issue_of(a, k);
        bool over = m->rate >= review_rate(e, k);
        if (is->status == RP_ISTATUS_HEALTHY) {
            if (!over)
                continue;
            if (!account_ext_get(e, a))
                return RP_ENOMEM;
            bool now = e->cfg.pause_immediate && m->rate >= pause_rate(e, k);
            if (start_review(e, a, ch, k, now) != 0)
                return RP_ENOMEM;
        } else if (in_review(is)) {
            a->ext->issues[k].status =
                over ? RP_ISTATUS_UNDER_REVIEW : RP_ISTATUS_ALMOST_HEALED;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ publishing */

static void change_begin(const account *a, change *ch) {
    ch->had_ext = a->ext != NULL;
    if (ch->had_ext)
        memcpy(ch->before, a->ext->issues, sizeof(ch->before));
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        ch->stage[k] = -1;
    ch->status_before = a->status;
}

static const issue *before_of(const change *ch, int k) {
    return ch->had_ext ? &ch->before[k] : &healthy_issue;
}

static bool issue_changed(const issue *x, const issue *y) {
    return x->status != y->status || x->review_end != y->review_end ||
           x->since != y->since;
}

static void emit(rp_engine *e, account *a, rp_event_kind kind,
                 const rp_engine_sink *sink) {
    rp_event ev;
    ev.account_id = account_id(a);
    ev.sequence = ++a->sequence;
    ev.event_time = e->clock;
    ev.kind = kind;
    ev.status_change = kind == RP_EVENT_STATUS_CHANGE ? &e->sc : NULL;
    ev.notification = kind == RP_EVENT_NOTIFICATION ? &e->note : NULL;
    if (kind == RP_EVENT_STATUS_CHANGE)
        e->stats.status_changes++;
    else
        e->stats.notifications++;
    if (sink && sink->on_event)
        sink->on_event(sink->opaque, &ev);
}

static void fill_issue_state(const issue *is, int k, rp_issue_state *out) {
    out->kind = (rp_issue_kind)k;
    out->status = (rp_issue_status)is->status;
    out->since = is->since;
    out->has_review_end = is->review_end != NONE;
    out->review_ends_at = out->has_review_end ? is->review_end : 0;
}

static int pending_push(rp_engine *e, const rp_record *r) {
    if (e->n_pending == e->cap_pending) {
        size_t cap = e->cap_pending ? e->cap_pending * 2 : 16;
        struct pending_report *q = realloc(e->pending, cap * sizeof(*q));
        if (!q)
            return RP_ENOMEM;
        e->pending = q;
        e->cap_pending = cap;
    }
    struct pending_report *q = &e->pending[e->n_pending];
    q->account = strndup(r->account_id.ptr, r->account_id.len);
    q->event_id = strndup(r->event_id.ptr, r->event_id.len);
    q->related = strndup(r->u.report.related_account_id.ptr,
                         r->u.report.related_account_id.len);
    q->time = r->event_time;
    if (!q->account || !q->event_id || !q->related) {
        free(q->account);
        free(q->event_id);
        free(q->related);
        return RP_ENOMEM;
    }
    e->n_pending++;
    return 0;
}

static void related_reports(rp_engine *e, account *a, uint64_t seq,
                            const rp_engine_sink *sink) {
    for (uint32_t i = 0; i < a->ext->n_links; i++) {
        rp_record r;
        rp_record_init(&r, RP_REC_REPORT);
        int n = snprintf(e->related_id, sizeof(e->related_id),
                         "related:%s:%llu", a->id, (unsigned long long)seq);
        r.event_id.ptr = e->related_id;
        r.event_id.len = (size_t)n;
        r.account_id = rp_str_c(a->ext->links[i]);
        r.event_time = e->clock;
        r.u.report.kind = RP_ISSUE_RELATED_ACCOUNT;
        r.u.report.incidents = 1;
        r.u.report.related_account_id = account_id(a);
        e->stats.related_reports++;
        if (e->loopback)
            pending_push(e, &r); /* on failure the report is lost: ENOMEM */
        else if (sink && sink->on_report)
            sink->on_report(sink->opaque, &r);
    }
}

/* Publishes what changed since change_begin (SPEC 5 "Order", SPEC 7). */
static void change_publish(rp_engine *e, account *a, change *ch,
                           const rp_engine_sink *sink) {
    if (!a->ext)
        return; /* all HEALTHY before and after: nothing to publish */
    status_set(e, a, account_status_of(e, a));
    int cause = -1;
    bool changed[RP_ISSUE__COUNT];
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        changed[k] = issue_changed(before_of(ch, k), issue_of(a, k));
        if (changed[k] && cause < 0)
            cause = k;
    }
    if (cause < 0 && a->status == ch->status_before)
        return;
    if (cause < 0)
        cause = 0;

    rates r;
    rates_compute(e, a, &r);
    rp_status_change *sc = &e->sc;
    sc->previous_status = (rp_account_status)ch->status_before;
    sc->status = (rp_account_status)a->status;
    sc->cause = (rp_issue_kind)cause;
    sc->bounce = r.m[0];
    sc->complaint = r.m[1];
    sc->has_review_end = false;
    sc->review_ends_at = 0;
    sc->n_issues = 0;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const issue *is = issue_of(a, k);
        if (is->status == RP_ISTATUS_HEALTHY)
            continue;
        fill_issue_state(is, k, &sc->issues[sc->n_issues++]);
        if (in_review(is) && is->review_end != NONE &&
            (!sc->has_review_end || is->review_end < sc->review_ends_at)) {
            sc->has_review_end = true;
            sc->review_ends_at = is->review_end;
        }
    }
    emit(e, a, RP_EVENT_STATUS_CHANGE, sink);
    uint64_t seq = a->sequence;

    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        if (!changed[k] || ch->stage[k] < 0)
            continue;
        const issue *is = issue_of(a, k);
        rp_notification *n = &e->note;
        memset(n, 0, sizeof(*n));
        n->issue = (rp_issue_kind)k;
        n->stage = (rp_stage)ch->stage[k];
        n->account_status = (rp_account_status)a->status;
        if (rp_issue_is_rate((rp_issue_kind)k)) {
            n->has_rate = r.m[k].has_rate;
            n->rate = r.m[k].rate;
            n->has_threshold = true;
            n->threshold = (n->stage == RP_STAGE_SENDING_PAUSED ||
                            n->stage == RP_STAGE_PENDING_SENDING_PAUSE)
                               ? pause_rate(e, k)
                               : review_rate(e, k);
        }
        n->has_review_end = is->review_end != NONE;
        n->review_ends_at = n->has_review_end ? is->review_end : 0;
        rp_notice_render(n, e->why, sizeof(e->why));
        emit(e, a, RP_EVENT_NOTIFICATION, sink);
    }

    if (a->status == RP_ASTATUS_SENDING_PAUSED &&
        ch->status_before != RP_ASTATUS_SENDING_PAUSED && a->ext)
        related_reports(e, a, seq, sink);
}

/* ------------------------------------------------------------ clock */

/* Processes the review ends of one account at instant `at`. */
static int review_ends_at(rp_engine *e, account *a, int64_t at,
                          const rp_engine_sink *sink) {
    if (!a->ext)
        return 0;
    bool any = false;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const issue *is = &a->ext->issues[k];
        if (in_review(is) && is->review_end == at)
            any = true;
    }
    if (!any)
        return 0;
    bucket_prune(e, a);
    change ch;
    change_begin(a, &ch);
    rates r;
    rates_compute(e, a, &r);
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        const issue *is = &a->ext->issues[k];
        if (in_review(is) && is->review_end == at &&
            end_of_review(e, a, &ch, k, &r) != 0)
            return RP_ENOMEM;
    }
    change_publish(e, a, &ch, sink);
    return mark_dirty(e, a);
}

static int drain_pending(rp_engine *e, const rp_engine_sink *sink);

int rp_engine_advance(rp_engine *e, int64_t now, const rp_engine_sink *sink) {
    while (e->n_heap > 0 && e->heap[0].at <= now) {
        heap_entry top = heap_pop(e);
        /* A review end already behind the clock is processed at the clock:
         * the clock never moves backwards. */
        if (top.at > e->clock)
            e->clock = top.at;
        int rc = review_ends_at(e, top.acct, top.at, sink);
        /* RELATED_ACCOUNT reports produced here are records at this
         * instant: every review end at this instant (of any account) comes
         * before them (SPEC 5, "Order"). */
        bool instant_done =
            e->n_heap == 0 || e->heap[0].at > top.at || e->heap[0].at > now;
        if (rc == 0 && e->n_pending && instant_done)
            rc = drain_pending(e, sink);
        if (rc != 0)
            return rc;
    }
    if (now > e->clock)
        e->clock = now;
    return 0;
}

/* ------------------------------------------------------------ counting */

static int64_t attribution_time(const rp_engine *e, bool has_sent, int64_t sent,
                                int64_t event_time) {
    int64_t t = has_sent ? sent : event_time;
    int64_t lo = oldest_reachable_hour(e, e->clock) * HOUR;
    if (t < lo)
        t = lo;
    if (t > e->clock)
        t = e->clock;
    return t;
}

static int count_outcome(rp_engine *e, account *a, const rp_record *rec) {
    uint32_t sends = 0, hard = 0, deliveries = 0, complaints = 0;
    bool has_sent;
    int64_t sent;
    switch (rec->type) {
    case RP_REC_DELIVERY: {
        const rp_delivery *d = &rec->u.delivery;
        has_sent = d->has_sent_time;
        sent = d->sent_time;
        sends = !d->simulator && !d->verified_recipient;
        deliveries = !d->simulator && d->feedback_loop;
        break;
    }
    case RP_REC_BOUNCE: {
        const rp_bounce *b = &rec->u.bounce;
        has_sent = b->has_sent_time;
        sent = b->sent_time;
        sends = !b->simulator && !b->verified_recipient;
        hard = sends && b->bounce_type == RP_BOUNCE_PERMANENT &&
               b->bounce_subtype != RP_BSUB_ON_ACCOUNT_SUPPRESSION_LIST;
        break;
    }
    case RP_REC_COMPLAINT: {
        const rp_complaint *c = &rec->u.complaint;
        has_sent = c->has_sent_time;
        sent = c->sent_time;
        complaints = !c->simulator && !c->on_suppression_list &&
                     c->feedback_type != RP_FEEDBACK_NOT_SPAM;
        break;
    }
    default: return 0;
    }
    if (!(sends | hard | deliveries | complaints))
        return 0;
    int64_t t = attribution_time(e, has_sent, sent, rec->event_time);
    bucket *b = bucket_get(e, a, floor_div(t, HOUR));
    if (!b)
        return RP_ENOMEM;
    add_sat(&b->sends, sends);
    add_sat(&b->hard, hard);
    add_sat(&b->deliveries, deliveries);
    add_sat(&b->complaints, complaints);
    add_sat(&a->tot_sends, sends);
    add_sat(&a->tot_hard, hard);
    add_sat(&a->tot_deliveries, deliveries);
    add_sat(&a->tot_complaints, complaints);
    return 0;
}

static int apply_report(rp_engine *e, account *a, change *ch,
                        const rp_report *rep, int64_t event_time) {
    account_ext *x = account_ext_get(e, a);
    if (!x)
        return RP_ENOMEM;
    int k = rep->kind;
    if (report_log(e, x, k, event_time, rep->incidents) != 0)
        return RP_ENOMEM;
    issue *is = &x->issues[k];
    if (is->status != RP_ISTATUS_HEALTHY) {
        is->new_incidents += rep->incidents;
        return 0;
    }
    if (report_count(e, a, k) >= e->cfg.report_threshold[k])
        return start_review(e, a, ch, k, false);
    return 0;
}

/* ------------------------------------------------------------ actions */

static int link_add(rp_engine *e, account_ext *x, rp_str other) {
    for (uint32_t i = 0; i < x->n_links; i++)
        if (strlen(x->links[i]) == other.len &&
            memcmp(x->links[i], other.ptr, other.len) == 0)
            return 0;
    if (x->n_links == x->cap_links) {
        uint32_t cap = x->cap_links ? x->cap_links * 2 : 2;
        char **l = acct_realloc(e, x->links, cap * sizeof(char *));
        if (!l)
            return RP_ENOMEM;
        x->links = l;
        x->cap_links = cap;
    }
    char *s = acct_alloc(e, other.len + 1);
    if (!s)
        return RP_ENOMEM;
    memcpy(s, other.ptr, other.len);
    s[other.len] = '\0';
    x->links[x->n_links++] = s;
    return 1;
}

static bool link_remove(rp_engine *e, account_ext *x, rp_str other) {
    for (uint32_t i = 0; i < x->n_links; i++) {
        if (strlen(x->links[i]) == other.len &&
            memcmp(x->links[i], other.ptr, other.len) == 0) {
            acct_free(e, x->links[i]);
            memmove(x->links + i, x->links + i + 1,
                    (x->n_links - i - 1) * sizeof(char *));
            x->n_links--;
            return true;
        }
    }
    return false;
}

/* Applies an issue-level action to issue k. Returns 1 when it applied, 0
 * when it did not, or a negative code. */
static int action_on_issue(rp_engine *e, account *a, change *ch,
                           const rp_action *act, int64_t eff, int k) {
    issue *is = &a->ext->issues[k];
    bool rate = rp_issue_is_rate((rp_issue_kind)k);
    bool paused = is->status == RP_ISTATUS_SENDING_PAUSE ||
                  is->status == RP_ISTATUS_PENDING_SENDING_PAUSE;
    switch (act->action) {
    case RP_ACTION_REMEDIATION_SUBMITTED:
        if (is->status == RP_ISTATUS_HEALTHY)
            return 0;
        if (rate) {
            is->floor = eff;
            return 1;
        }
        is->new_incidents = 0;
        if (in_review(is) && is->review_end != NONE) {
            int64_t end = eff + e->cfg.review_period;
            if (end > is->review_end) {
                ch->stage[k] = RP_STAGE_REVIEW_EXTENDED;
                if (set_review_end(e, a, is, end) != 0)
                    return RP_ENOMEM;
            }
        }
        return 1;
    case RP_ACTION_RESUME_SENDING:
        if (!paused)
            return 0;
        is->status = rate ? RP_ISTATUS_ALMOST_HEALED : RP_ISTATUS_UNDER_REVIEW;
        is->extensions = 0;
        is->exhausted = 0;
        is->new_incidents = 0;
        if (rate)
            is->floor = eff;
        ch->stage[k] = RP_STAGE_SENDING_RESUMED;
        return set_review_end(e, a, is,
                              is_manual(e, k) ? NONE
                                              : eff + e->cfg.review_period) == 0
                   ? 1
                   : RP_ENOMEM;
    case RP_ACTION_PAUSE_SENDING:
        if (!in_review(is) && is->status != RP_ISTATUS_PENDING_SENDING_PAUSE)
            return 0;
        to_pause(e, a, ch, k, false);
        return 1;
    case RP_ACTION_END_REVIEW:
        if (!in_review(is) && is->status != RP_ISTATUS_PENDING_SENDING_PAUSE)
            return 0;
        to_healthy(a, ch, k);
        return 1;
    case RP_ACTION_EXTEND_REVIEW:
        if (!in_review(is) || is->review_end == NONE)
            return 0;
        ch->stage[k] = RP_STAGE_REVIEW_EXTENDED;
        return set_review_end(e, a, is,
                              is->review_end + e->cfg.review_period) == 0
                   ? 1
                   : RP_ENOMEM;
    default: return 0;
    }
}

static int apply_action(rp_engine *e, account *a, change *ch,
                        const rp_action *act, int64_t event_time) {
    int64_t eff = act->has_effective_time ? act->effective_time : event_time;
    int applied = 0;
    switch (act->action) {
    case RP_ACTION_SET_MANUAL_REVIEW:
    case RP_ACTION_CLEAR_MANUAL_REVIEW: {
        account_ext *x = account_ext_get(e, a);
        if (!x)
            return RP_ENOMEM;
        x->manual_review = act->action == RP_ACTION_SET_MANUAL_REVIEW;
        applied = 1;
        break;
    }
    case RP_ACTION_LINK_ACCOUNT:
    case RP_ACTION_UNLINK_ACCOUNT: {
        rp_str other = act->related_account_id;
        if (!other.ptr || other.len == 0 || other.len > RP_ACCOUNT_ID_MAX ||
            rp_str_eq(other, account_id(a)))
            break;
        if (act->action == RP_ACTION_UNLINK_ACCOUNT) {
            applied = a->ext && link_remove(e, a->ext, other);
            break;
        }
        account_ext *x = account_ext_get(e, a);
        if (!x)
            return RP_ENOMEM;
        applied = link_add(e, x, other);
        if (applied < 0)
            return applied;
        break;
    }
    default:
        if (!a->ext)
            break; /* every issue is HEALTHY: nothing to act on */
        for (int k = 0; k < RP_ISSUE__COUNT; k++) {
            if (act->has_issue && (int)act->issue != k)
                continue;
            int rc = action_on_issue(e, a, ch, act, eff, k);
            if (rc < 0)
                return rc;
            applied |= rc;
        }
        break;
    }
    if (!applied)
        e->stats.actions_not_applied++;
    return 0;
}

/* ------------------------------------------------------------ apply */

static int apply_at_clock(rp_engine *e, const rp_record *rec,
                          const rp_engine_sink *sink);

static int dedupe_log_add(rp_engine *e, uint64_t fp) {
    if (e->n_dlog == e->cap_dlog) {
        size_t cap = e->cap_dlog ? e->cap_dlog * 2 : 256;
        rp_dedupe_key *k = realloc(e->dlog, cap * sizeof(*k));
        if (!k)
            return RP_ENOMEM;
        e->dlog = k;
        e->cap_dlog = cap;
    }
    e->dlog[e->n_dlog].fp = fp;
    e->dlog[e->n_dlog].at = e->clock;
    e->n_dlog++;
    return 0;
}

void rp_engine_set_dedupe_log(rp_engine *e, bool on) {
    e->dedupe_log = on;
}

size_t rp_engine_dedupe_take(rp_engine *e, const rp_dedupe_key **keys) {
    /* Hand over the filled list and keep the other one for new keys, so
     * the caller's pointer stays valid while the engine goes on. */
    rp_dedupe_key *out = e->dlog;
    size_t n = e->n_dlog;
    e->dlog = e->dlog_out;
    e->dlog_out = out;
    size_t cap = e->cap_dlog;
    e->cap_dlog = e->dlog ? e->cap_dlog_out : 0;
    e->cap_dlog_out = cap;
    e->n_dlog = 0;
    *keys = out;
    return n;
}

int rp_engine_dedupe_restore(rp_engine *e, const rp_dedupe_key *keys,
                             size_t n) {
    for (size_t i = 0; i < n; i++)
        if (rp_dedupe_insert(&e->dedupe, keys[i].fp, keys[i].at) != 0)
            return RP_ENOMEM;
    return 0;
}

/* Applies the RELATED_ACCOUNT reports of loopback mode, in order, at the
 * clock; applying one may pause another account and queue more. */
static int drain_pending(rp_engine *e, const rp_engine_sink *sink) {
    int rc = 0;
    while (e->pending_head < e->n_pending) {
        struct pending_report q = e->pending[e->pending_head++];
        rp_record r;
        rp_record_init(&r, RP_REC_REPORT);
        r.event_id = rp_str_c(q.event_id);
        r.account_id = rp_str_c(q.account);
        r.event_time = q.time;
        r.u.report.kind = RP_ISSUE_RELATED_ACCOUNT;
        r.u.report.incidents = 1;
        r.u.report.related_account_id = rp_str_c(q.related);
        if (rc == 0)
            rc = apply_at_clock(e, &r, sink);
        free(q.account);
        free(q.event_id);
        free(q.related);
    }
    e->pending_head = e->n_pending = 0;
    return rc;
}

int rp_engine_apply(rp_engine *e, const rp_record *rec, int64_t now,
                    const rp_engine_sink *sink) {
    int rc = rp_engine_advance(e, now, sink);
    if (rc == 0)
        rc = apply_at_clock(e, rec, sink);
    if (rc == 0 && e->n_pending)
        rc = drain_pending(e, sink);
    return rc;
}

void rp_engine_set_loopback(rp_engine *e, bool on) {
    e->loopback = on;
}

static int apply_at_clock(rp_engine *e, const rp_record *rec,
                          const rp_engine_sink *sink) {
    int rc;
    account *a = account_get(e, rec->account_id);
    if (!a)
        return RP_ENOMEM;
    uint64_t fp = rp_hash_bytes(rec->event_id.ptr, rec->event_id.len,
                                a->hash ^ UINT64_C(0x5bd1e9955bd1e995));
    rc = rp_dedupe_check(&e->dedupe, fp, e->clock);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        e->stats.duplicates_dropped++;
        return 0;
    }
    if (e->dedupe_log && dedupe_log_add(e, fp) != 0)
        return RP_ENOMEM;
    e->stats.records_applied++;

    bucket_prune(e, a);
    change ch;
    change_begin(a, &ch);
    switch (rec->type) {
    case RP_REC_REPORT:
        rc = apply_report(e, a, &ch, &rec->u.report, rec->event_time);
        break;
    case RP_REC_ACTION:
        rc = apply_action(e, a, &ch, &rec->u.action, rec->event_time);
        break;
    default: rc = count_outcome(e, a, rec); break;
    }
    if (rc != 0)
        return rc;
    rates r;
    rates_compute(e, a, &r);
    rc = evaluate_rates(e, a, &ch, &r);
    if (rc != 0)
        return rc;
    change_publish(e, a, &ch, sink);
    return mark_dirty(e, a);
}

/* ------------------------------------------------------------ lifetime */

rp_engine *rp_engine_new(const rp_config *cfg, char *errstr,
                         size_t errstr_size) {
    rp_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    e->cfg = *cfg;
    /* The engine keeps only numbers; owned strings stay with the caller. */
    memset(e->cfg.topic, 0, sizeof(e->cfg.topic));
    e->cfg.group_id = e->cfg.log_level = e->cfg.http_listen = NULL;
    e->cfg.kafka = NULL;
    e->cfg.n_kafka = 0;
    e->clock = INT64_MIN;
    rp_dedupe_init(&e->dedupe, (size_t)cfg->dedupe_max_entries,
                   cfg->dedupe_horizon);
    return e;
}

void rp_engine_destroy(rp_engine *e) {
    if (!e)
        return;
    if (e->slots) {
        for (size_t i = 0; i <= e->mask; i++)
            if (e->slots[i].acct)
                account_destroy(e, e->slots[i].acct);
        free(e->slots);
    }
    free(e->heap);
    free(e->dirty);
    free(e->dlog);
    free(e->dlog_out);
    for (size_t i = e->pending_head; i < e->n_pending; i++) {
        free(e->pending[i].account);
        free(e->pending[i].event_id);
        free(e->pending[i].related);
    }
    free(e->pending);
    rp_buf_free(&e->state);
    rp_dedupe_free(&e->dedupe);
    free(e);
}

void rp_engine_prefetch(const rp_engine *e, rp_str id, int stage) {
    if (!e->slots || !id.ptr)
        return;
    uint64_t h = rp_hash_bytes(id.ptr, id.len, 0);
    size_t i = (size_t)h & e->mask;
    if (stage == 0) {
        __builtin_prefetch(&e->slots[i]);
        return;
    }
    /* Follow the probe run a little; the slot should be cached by now. */
    for (int n = 0; n < 4 && e->slots[i].acct; n++, i = (i + 1) & e->mask) {
        if (e->slots[i].hash == h) {
            const account *a = e->slots[i].acct;
            if (stage == 1) {
                __builtin_prefetch(a);
                __builtin_prefetch((const char *)a + 64);
            } else if (a->n_buckets) {
                /* Stage 2: the account is cached; its newest bucket. */
                __builtin_prefetch(&a->buckets[a->n_buckets - 1]);
            }
            return;
        }
    }
}

int64_t rp_engine_clock(const rp_engine *e) {
    return e->clock;
}

/* True when some issue of the account is in review and ends at `at`: the
 * heap entry is still live. */
static bool heap_entry_live(const heap_entry *h) {
    const account *a = h->acct;
    if (!a->ext)
        return false;
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        if (in_review(&a->ext->issues[k]) &&
            a->ext->issues[k].review_end == h->at)
            return true;
    return false;
}

int64_t rp_engine_next_review_end(rp_engine *e) {
    /* Stale entries (a review end that moved or ended) surface here first;
     * dropping them keeps the answer exact for timers and tests. */
    while (e->n_heap > 0 && !heap_entry_live(&e->heap[0]))
        heap_pop(e);
    return e->n_heap ? e->heap[0].at : INT64_MAX;
}

void rp_engine_get_stats(const rp_engine *e, rp_engine_stats *out) {
    *out = e->stats;
    out->accounts = e->n_accounts;
    out->account_bytes = (uint64_t)e->account_bytes;
    out->dedupe_entries = e->dedupe.count;
    out->dedupe_bytes = rp_dedupe_bytes(&e->dedupe);
    out->dedupe_evicted = e->dedupe.evicted;
}

void rp_engine_stats_add(rp_engine_stats *to, const rp_engine_stats *from) {
    to->records_applied += from->records_applied;
    to->duplicates_dropped += from->duplicates_dropped;
    to->actions_not_applied += from->actions_not_applied;
    to->status_changes += from->status_changes;
    to->notifications += from->notifications;
    to->related_reports += from->related_reports;
    to->accounts += from->accounts;
    to->account_bytes += from->account_bytes;
    to->dedupe_entries += from->dedupe_entries;
    to->dedupe_bytes += from->dedupe_bytes;
    to->dedupe_evicted += from->dedupe_evicted;
}

int rp_engine_view(const rp_engine *e, rp_str id, rp_account_view *out) {
    account *a = account_find(e, id, rp_hash_bytes(id.ptr, id.len, 0));
    if (!a)
        return RP_ENOTFOUND;
    memset(out, 0, sizeof(*out));
    out->account_id = account_id(a);
    out->status = account_status_of(e, a);
    out->sequence = a->sequence;
    out->manual_review = a->ext && a->ext->manual_review;
    out->n_links = a->ext ? a->ext->n_links : 0;
    out->links = a->ext ? (const char *const *)a->ext->links : NULL;
    /* Windows and report counts are computed at the clock; an engine that
     * was restored but has not been advanced has none, and shows them
     * empty (rate unknown) rather than computed at the dawn of time. */
    bool clocked = e->clock != INT64_MIN;
    if (clocked) {
        rates r;
        rates_compute(e, a, &r);
        out->bounce = r.m[0];
        out->complaint = r.m[1];
    }
    out->bounce.status = issue_of(a, RP_ISSUE_BOUNCE_RATE)->status;
    out->complaint.status = issue_of(a, RP_ISSUE_COMPLAINT_RATE)->status;
    for (int k = 0; k < RP_ISSUE__COUNT; k++) {
        fill_issue_state(issue_of(a, k), k, &out->issues[k]);
        int64_t n = clocked ? report_count(e, a, k) : 0;
        out->report_count[k] = n > INT32_MAX ? INT32_MAX : (int32_t)n;
    }
    return 0;
}

/* ------------------------------------------------------------ state codec */

/*
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
 */
#define STATE_VERSION 1

/* The encoder writes through a cursor into room reserved up front for the
 * largest encoding the account can have: a commit encodes every dirty
 * account, often one per input record, so no call per byte. */
static unsigned char *put_u(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

static unsigned char *put_s(unsigned char *p, int64_t v) {
    return put_u(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

#define VARINT_MAX 10

static int state_encode(const account *a, rp_buf *b) {
    const account_ext *x = a->ext;
    size_t bound = 3 + 2 * VARINT_MAX + (size_t)a->n_buckets * 5 * VARINT_MAX;
    if (x) {
        bound += 1 + RP_ISSUE__COUNT * (4 + 4 * VARINT_MAX) + 2 * VARINT_MAX +
                 (size_t)x->n_reports * (2 * VARINT_MAX + 1);
        for (uint32_t i = 0; i < x->n_links; i++)
            bound += VARINT_MAX + strlen(x->links[i]);
    }
    rp_buf_reset(b);
    if (rp_buf_reserve(b, bound) != 0)
        return RP_ENOMEM;
    unsigned char *p = (unsigned char *)b->data;
    *p++ = STATE_VERSION;
    p = put_u(p, a->sequence);
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
    *p++ = x != NULL;
    if (x) {
        *p++ = x->manual_review;
        for (int k = 0; k < RP_ISSUE__COUNT; k++) {
            const issue *is = &x->issues[k];
            unsigned pres =
                (is->since != NONE) | (is->review_end != NONE) << 1 |
                (is->floor != NONE) << 2 | (is->new_incidents != 0) << 3;
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
    }
    b->len = (size_t)(p - (unsigned char *)b->data);
    b->data[b->len] = '\0';
    return 0;
}

typedef struct reader {
    const unsigned char *p, *end;
    bool bad;
} reader;

static uint64_t get_u(reader *r) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = true;
            return 0;
        }
        unsigned char c = *r->p++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static int64_t get_s(reader *r) {
    uint64_t u = get_u(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static unsigned get_byte(reader *r) {
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

/* Empties an account back to "never seen" (no buckets, issues, reports or
 * links, sequence 0) but keeps its id and its place in the table
 * (review-end heap entries may still point at it; they find nothing to
 * do). account_destroy() is this plus freeing the account itself. */
static void account_clear(rp_engine *e, account *a) {
    status_set(e, a, RP_ASTATUS_HEALTHY);
    if (a->ext) {
        for (uint32_t i = 0; i < a->ext->n_links; i++)
            acct_free(e, a->ext->links[i]);
        acct_free(e, a->ext->links);
        acct_free(e, a->ext->reports);
        acct_free(e, a->ext);
        a->ext = NULL;
    }
    acct_free(e, a->buckets);
    a->buckets = NULL;
    a->n_buckets = a->cap_buckets = 0;
    a->tot_sends = a->tot_hard = a->tot_deliveries = a->tot_complaints = 0;
    a->pruned_hour = INT32_MIN;
    a->sequence = 0;
}

static void account_destroy(rp_engine *e, account *a) {
    account_clear(e, a);
    acct_free(e, a);
}

static int state_decode(rp_engine *e, account *a, reader *r) {
    if (get_byte(r) != STATE_VERSION)
        return RP_EBADDATA;
    a->sequence = get_u(r);
    uint64_t nb = get_u(r);
    if (r->bad || nb > (uint64_t)(r->end - r->p))
        return RP_EBADDATA;
    if (nb) {
        a->buckets = acct_alloc(e, nb * sizeof(bucket));
        if (!a->buckets)
            return RP_ENOMEM;
        a->cap_buckets = (uint32_t)nb;
    }
    int64_t hour = 0;
    for (uint64_t i = 0; i < nb && !r->bad; i++) {
        bucket *k = &a->buckets[a->n_buckets++];
        hour += get_s(r);
        k->hour = (int32_t)hour;
        k->sends = (uint32_t)get_u(r);
        k->hard = (uint32_t)get_u(r);
        k->deliveries = (uint32_t)get_u(r);
        k->complaints = (uint32_t)get_u(r);
        add_sat(&a->tot_sends, k->sends);
        add_sat(&a->tot_hard, k->hard);
        add_sat(&a->tot_deliveries, k->deliveries);
        add_sat(&a->tot_complaints, k->complaints);
    }
    if (a->n_buckets)
        a->oldest_hour = a->buckets[0].hour;
    if (get_byte(r)) {
        account_ext *x = account_ext_get(e, a);
        if (!x)
            return RP_ENOMEM;
        x->manual_review = get_byte(r) != 0;
        for (int k = 0; k < RP_ISSUE__COUNT; k++) {
            issue *is = &x->issues[k];
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
        uint64_t nr = get_u(r);
        if (r->bad || nr > (uint64_t)(r->end - r->p))
            return RP_EBADDATA;
        if (nr) {
            x->reports = acct_alloc(e, nr * sizeof(report_entry));
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
        uint64_t nl = get_u(r);
        if (r->bad || nl > (uint64_t)(r->end - r->p))
            return RP_EBADDATA;
        for (uint64_t i = 0; i < nl && !r->bad; i++) {
            uint64_t n = get_u(r);
            if (r->bad || n > (uint64_t)(r->end - r->p) || n == 0 ||
                n > RP_ACCOUNT_ID_MAX)
                return RP_EBADDATA;
            rp_str other = {(const char *)r->p, (size_t)n};
            r->p += n;
            if (link_add(e, x, other) < 0)
                return RP_ENOMEM;
        }
    }
    if (r->bad || r->p != r->end)
        return RP_EBADDATA;
    return 0;
}

int rp_engine_restore(rp_engine *e, rp_str id, const void *state, size_t len) {
    if (!id.ptr || id.len == 0 || id.len > RP_ACCOUNT_ID_MAX)
        return RP_EBADDATA;
    account *a = account_get(e, id);
    if (!a)
        return RP_ENOMEM;
    account_clear(e, a);
    if (len == 0)
        return 0;
    reader r = {state, (const unsigned char *)state + len, false};
    int rc = state_decode(e, a, &r);
    if (rc != 0) {
        account_clear(e, a);
        return rc;
    }
    status_set(e, a, account_status_of(e, a));
    if (a->ext)
        for (int k = 0; k < RP_ISSUE__COUNT; k++)
            if (a->ext->issues[k].review_end != NONE &&
                heap_push(e, a->ext->issues[k].review_end, a) != 0)
                return RP_ENOMEM;
    return 0;
}

int rp_engine_flush_dirty(rp_engine *e, rp_engine_state_fn fn, void *opaque) {
    size_t i = 0;
    int rc = 0;
    for (; i < e->n_dirty; i++) {
        account *a = e->dirty[i];
        rc = state_encode(a, &e->state);
        if (rc == 0)
            rc = fn(opaque, account_id(a), e->state.data, e->state.len);
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

void rp_engine_restore_clock(rp_engine *e, int64_t clock) {
    if (clock > e->clock)
        e->clock = clock;
}

size_t rp_engine_dirty_count(const rp_engine *e) {
    return e->n_dirty;
}

int rp_engine_foreach(const rp_engine *e, rp_engine_account_fn fn,
                      void *opaque) {
    if (!e->slots)
        return 0;
    for (size_t i = 0; i <= e->mask; i++) {
        if (!e->slots[i].acct)
            continue;
        rp_account_view v;
        if (rp_engine_view(e, account_id(e->slots[i].acct), &v) != 0)
            continue;
        int rc = fn(opaque, &v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------ queries */

void rp_engine_status_counts(const rp_engine *e,
                             uint64_t out[RP_ASTATUS__COUNT]) {
    uint64_t flagged = 0;
    for (int i = 0; i < RP_ASTATUS__COUNT; i++) {
        out[i] = e->n_status[i];
        flagged += e->n_status[i];
    }
    out[RP_ASTATUS_HEALTHY] = e->n_accounts - flagged;
}

int rp_engine_foreach_flagged(const rp_engine *e, rp_engine_account_fn fn,
                              void *opaque) {
    for (const account *a = e->flagged; a; a = a->ext->fl_next) {
        rp_account_view v;
        if (rp_engine_view(e, account_id(a), &v) != 0)
            continue;
        int rc = fn(opaque, &v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int rp_engine_hours(const rp_engine *e, rp_str account_id, int64_t from,
                    int64_t to, rp_engine_hour_fn fn, void *opaque) {
    account *a = account_find(e, account_id,
                              rp_hash_bytes(account_id.ptr, account_id.len, 0));
    if (!a)
        return RP_ENOTFOUND;
    for (uint32_t i = 0; i < a->n_buckets; i++) {
        const bucket *b = &a->buckets[i];
        int64_t start = (int64_t)b->hour * 3600000;
        if (start + 3600000 <= from || start >= to)
            continue;
        rp_hour_counts h = {start, b->sends, b->hard, b->deliveries,
                            b->complaints};
        int rc = fn(opaque, &h);
        if (rc != 0)
            return rc;
    }
    return 0;
}
