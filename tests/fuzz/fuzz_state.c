/*
 * fuzz_state.c - the changelog state decoder of the engine
 * (rp_engine_restore, src/engine/state.c), for accounts and for tenants
 * (docs/rules.md section 10): what a restarted `repute run` reads back from
 * its changelog topic, which anyone with write access could have filled.
 *
 * The first byte chooses the key: bit 0 an account's ("a") or a tenant's
 * ("a" 0xff "t"); bit 1 whether the engine is then driven (the clock set
 * and advanced a month, so that restored review ends are processed, and
 * every view and list walked). The rest is the value.
 *
 * Oracles, beyond "no crash, no leak, no undefined behaviour":
 *  - a refusal is RP_EBADDATA, and leaves the entity holding nothing;
 *  - every strict prefix of an accepted value is refused (the decoder
 *    reads to the end and never guesses it);
 *  - an accepted value, once the engine has run on it, encodes again and
 *    that encoding restores into a fresh engine, which then shows the same
 *    view and the same history (docs/history.md: versions 3 and 4 carry
 *    one; every entry read back is one the engine could have written).
 */
#include "fuzz.h"

#include "repute/config.h"
#include "repute/engine.h"

#define T0 INT64_C(1767225600000)

static rp_engine *engine(rp_config *cfg) {
    char err[256];
    if (rp_config_init(cfg) != 0)
        abort();
    cfg->tenant_max_per_account = 1000;
    rp_engine *e = rp_engine_new(cfg, err, sizeof(err));
    if (!e)
        abort();
    return e;
}

static int view(const rp_engine *e, bool tenant, rp_account_view *v) {
    return tenant ? rp_engine_view_tenant(e, rp_str_c("a"), rp_str_c("t"), v)
                  : rp_engine_view(e, rp_str_c("a"), v);
}

static int walk(void *opaque, const rp_account_view *v) {
    (void)opaque;
    FUZZ_CHECK(v->status < RP_ASTATUS__COUNT, "status %d", v->status);
    return 0;
}

/* A digest of an entity's history (FNV-1a over every field, newest
 * first), checking each entry on the way. */
typedef struct digest {
    uint64_t h;
    size_t n;
} digest;

static void mix(digest *d, const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        d->h = (d->h ^ c[i]) * UINT64_C(1099511628211);
}

static int hist_entry(void *opaque, const rp_history_entry *e) {
    digest *d = opaque;
    FUZZ_CHECK(e->kind < RP_HISTORY__COUNT && e->from < RP_ASTATUS__COUNT &&
                   e->to < RP_ASTATUS__COUNT && e->stage < RP_STAGE__COUNT &&
                   e->action < RP_ACTION__COUNT,
               "a history entry out of range");
    FUZZ_CHECK(e->actor.len <= 256 && e->note.len <= 2048,
               "a string over its bound");
    int f[8] = {(int)e->kind,  (int)e->from,   (int)e->to,
                (int)e->cause, (int)e->action, (int)e->has_issue,
                (int)e->issue, (int)e->applied};
    mix(d, f, sizeof(f));
    mix(d, &e->time, sizeof(e->time));
    mix(d, e->actor.ptr ? e->actor.ptr : "", e->actor.len);
    mix(d, "|", 1);
    mix(d, e->note.ptr ? e->note.ptr : "", e->note.len);
    d->n++;
    return 0;
}

static digest history_of(const rp_engine *e, bool tenant) {
    digest d = {UINT64_C(14695981039346656037), 0};
    rp_engine_history(e, rp_str_c("a"), tenant ? rp_str_c("t") : RP_STR_NULL,
                      hist_entry, &d);
    return d;
}

typedef struct copy {
    rp_engine *to;
    int rc;
} copy;

static int restore_into(void *opaque, rp_str key, const void *st, size_t len) {
    copy *c = opaque;
    int rc = rp_engine_restore(c->to, key, st, len);
    if (rc != 0)
        c->rc = rc;
    return 0;
}

static void drive(rp_engine *e, bool tenant, const rp_config *cfg) {
    rp_engine_restore_clock(e, T0);
    if (rp_engine_advance(e, T0 + 30 * RP_MS_PER_DAY, NULL) != 0)
        abort();
    rp_engine_foreach_flagged(e, walk, NULL);
    rp_engine_foreach_tenant(e, rp_str_c("a"), walk, NULL);
    (void)rp_engine_next_review_end(e);
    rp_account_view v;
    if (view(e, tenant, &v) != 0)
        return; /* forgotten: idle and HEALTHY */
    /* Touch it so that it is written again, then restore that. */
    rp_record r;
    rp_record_init(&r, RP_REC_DELIVERY);
    r.event_id = rp_str_c("fuzz");
    r.account_id = rp_str_c("a");
    r.event_time = T0 + 30 * RP_MS_PER_DAY;
    if (tenant)
        r.tenant = rp_str_c("t");
    if (rp_engine_apply(e, &r, r.event_time, NULL) != 0)
        abort();
    rp_config cfg2;
    copy c = {engine(&cfg2), 0};
    rp_engine_flush_dirty(e, restore_into, &c);
    FUZZ_CHECK(c.rc == 0, "a state the engine wrote is refused: %d", c.rc);
    rp_engine_restore_clock(c.to, rp_engine_clock(e));
    rp_account_view x, y;
    FUZZ_CHECK(view(e, tenant, &x) == 0 && view(c.to, tenant, &y) == 0,
               "not found after a round trip");
    FUZZ_CHECK(x.status == y.status && x.sequence == y.sequence &&
                   x.bounce.volume == y.bounce.volume &&
                   x.complaint.volume == y.complaint.volume,
               "the view differs after a round trip");
    for (int k = 0; k < RP_ISSUE__COUNT; k++)
        FUZZ_CHECK(x.issues[k].status == y.issues[k].status &&
                       x.issues[k].review_ends_at ==
                           y.issues[k].review_ends_at &&
                       x.report_count[k] == y.report_count[k],
                   "issue %d differs after a round trip", k);
    digest hx = history_of(e, tenant), hy = history_of(c.to, tenant);
    FUZZ_CHECK(hx.n == hy.n && hx.h == hy.h,
               "the history differs after a round trip");
    rp_engine_destroy(c.to);
    rp_config_destroy(&cfg2);
    (void)cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    bool tenant = data[0] & 1, run = data[0] & 2;
    size_t n = size - 1;
    char *buf = fuzz_copy(data + 1, n, 0);
    rp_str key = tenant ? (rp_str){"a\xff"
                                   "t",
                                   3}
                        : rp_str_c("a");
    rp_config cfg;
    rp_engine *e = engine(&cfg);
    int rc = rp_engine_restore(e, key, buf, n);
    if (rc != 0) {
        FUZZ_CHECK(rc == RP_EBADDATA, "rc %d", rc);
        rp_account_view v;
        if (view(e, tenant, &v) == 0)
            FUZZ_CHECK(v.sequence == 0 && v.status == RP_ASTATUS_HEALTHY &&
                           v.n_links == 0 && !v.manual_review,
                       "a refused state left something");
    } else if (n > 0) {
        size_t step = n > 64 ? n / 64 : 1;
        for (size_t cut = 1; cut < n; cut += step)
            FUZZ_CHECK(rp_engine_restore(e, key, buf, cut) == RP_EBADDATA,
                       "a prefix of %zu of %zu bytes is accepted", cut, n);
        if (rp_engine_restore(e, key, buf, n) != 0)
            abort();
        (void)history_of(e, tenant);
        if (run)
            drive(e, tenant, &cfg);
    }
    rp_engine_destroy(e);
    rp_config_destroy(&cfg);
    free(buf);
    return 0;
}
