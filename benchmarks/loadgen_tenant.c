/*
 * loadgen_tenant.c - spreading repute-loadgen's accounts over tenants
 * (docs/rules.md section 10), for --tenant-share F.
 *
 * A sending service's large accounts send for many customers or brands at
 * once, and the trouble usually sits in one of them: one customer uploads
 * a bought list while the others mail people who asked. The traffic here
 * is shaped after that. A --tenant-share of the accounts have tenants; how
 * many is skewed: 2 + (N - 1) u^3 for a uniform u and N = --tenants-max
 * (default 50), so most such accounts have a handful and a few have
 * dozens. Within an account the traffic is skewed too: tenant
 * floor(n u^2) sends, so the first tenant carries the most mail (with two
 * tenants about 70% of it, with fifty about 14%), and a --tenant-none
 * share of its sends (default 0.1) name no tenant at all (the account's
 * own mail). A bad account's badness sits in one of its tenants, drawn
 * with the same skew: that tenant's sends use the account's bad profile,
 * and the other tenants' and its untenanted sends a healthy median
 * profile. When the bad tenant is the big one it takes the account into
 * review with it; when it is a small one, it is paused while the account
 * stays healthy: the two cases of section 10 both occur.
 *
 * Reports and operator actions name a tenant of a tenanted account half
 * the time (the bad one 80% of the time for a bad account); an action that
 * is not about issues (the manual-review flag, links) never names one,
 * since those belong to accounts.
 *
 * Tenants draw from a generator of their own (seeded from --seed), so the
 * accounts, their profiles and which are bad are drawn exactly as without
 * tenants; and without --tenant-share nothing here runs and no draw is
 * made, so the stream is byte for byte what it was before tenants existed.
 * Names are "tenant-" and four digits, unique within the account. The
 * tenants that some record names are counted (a bit per tenant), so that
 * a memory benchmark can divide by the entities repute really holds.
 */
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

/* Mixed into --seed for the tenants' generator. */
#define TENANT_SEED_MIX UINT64_C(0x7e4a47c3d1b5f00d)

/* The share of a tenanted account's reports and issue actions that name
 * a tenant, and of those, for a bad account, the share naming its bad
 * tenant. */
#define TENANT_NAMED_SHARE 0.5
#define TENANT_BAD_SHARE   0.8

void lg_tenants_init(generator *g) {
    const options *o = g->o;
    if (o->tenant_share <= 0)
        return;
    bg_rng_seed(&g->tr, o->seed ^ TENANT_SEED_MIX);
    uint64_t n = o->accounts;
    g->n_tenants = xmalloc(n * sizeof(uint16_t));
    g->bad_tenant = xmalloc(n * sizeof(uint16_t));
    g->tenant_base = xmalloc(n * sizeof(uint32_t));
    for (uint64_t a = 0; a < n; a++) {
        g->n_tenants[a] = 0;
        g->bad_tenant[a] = 0;
        g->tenant_base[a] = (uint32_t)g->tenants;
        if (!bg_rng_chance(&g->tr, o->tenant_share))
            continue;
        double u = bg_rng_double(&g->tr);
        uint64_t k = 2 + (uint64_t)((double)(o->tenants_max - 1) * u * u * u);
        if (k > o->tenants_max)
            k = o->tenants_max;
        g->n_tenants[a] = (uint16_t)k;
        double v = bg_rng_double(&g->tr);
        g->bad_tenant[a] = (uint16_t)((double)k * v * v);
        g->n_tenanted++;
        g->tenants += k;
        if (g->tenants > UINT32_MAX)
            die("too many tenants (--accounts x --tenants-max)");
    }
    g->tenant_seen = xmalloc(g->tenants / 8 + 1);
    memset(g->tenant_seen, 0, g->tenants / 8 + 1);
}

/* Counts tenant t of account the first time a record names it. */
static void mark_used(generator *g, uint64_t account, uint64_t t) {
    uint64_t bit = g->tenant_base[account] + t;
    uint8_t mask = (uint8_t)(1u << (bit % 8));
    if (!(g->tenant_seen[bit / 8] & mask)) {
        g->tenant_seen[bit / 8] |= mask;
        g->tenants_used++;
    }
}

/* Formats tenant number t of an account into the scratch, counting it. */
static rp_str tenant_name(generator *g, uint64_t account, uint64_t t) {
    mark_used(g, account, t);
    char *p = g->tenant;
    memcpy(p, "tenant-", 7);
    p[7] = (char)('0' + t / 1000 % 10);
    p[8] = (char)('0' + t / 100 % 10);
    p[9] = (char)('0' + t / 10 % 10);
    p[10] = (char)('0' + t % 10);
    return (rp_str){p, 11};
}

/* A tenant of `account` by the skew of traffic: floor(n u^2). */
static uint64_t skewed_tenant(generator *g, uint64_t account) {
    double u = bg_rng_double(&g->tr);
    uint64_t n = g->n_tenants[account];
    uint64_t t = (uint64_t)((double)n * u * u);
    return t < n ? t : n - 1;
}

static bool is_bad(const generator *g, uint64_t account) {
    /* g->bad is in account order (lg_generator_init draws in that order),
     * so a binary search finds an account in it. */
    uint64_t lo = 0, hi = g->n_bad;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (g->bad[mid] < account)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < g->n_bad && g->bad[lo] == account;
}

rp_str lg_tenant_of_send(generator *g, uint64_t account, bool *healthy) {
    bool bad = is_bad(g, account);
    if (bg_rng_chance(&g->tr, g->o->tenant_none)) {
        *healthy = bad;
        return RP_STR_NULL;
    }
    uint64_t t = skewed_tenant(g, account);
    *healthy = bad && t != g->bad_tenant[account];
    return tenant_name(g, account, t);
}

/* A tenant named by a report or an issue action, or none. */
static rp_str named_tenant(generator *g, uint64_t account) {
    if (!bg_rng_chance(&g->tr, TENANT_NAMED_SHARE))
        return RP_STR_NULL;
    if (is_bad(g, account) && bg_rng_chance(&g->tr, TENANT_BAD_SHARE))
        return tenant_name(g, account, g->bad_tenant[account]);
    return tenant_name(g, account, skewed_tenant(g, account));
}

rp_str lg_tenant_of_report(generator *g, uint64_t account) {
    return named_tenant(g, account);
}

rp_str lg_tenant_of_action(generator *g, uint64_t account,
                           rp_action_type type) {
    /* The first five action types act on issues; the rest (the flag and
     * the links) belong to accounts. */
    if (type > RP_ACTION_END_REVIEW)
        return RP_STR_NULL;
    return named_tenant(g, account);
}
