/*
 * bench_engine_tenants.c - the tenants of repute-bench-engine's corpus
 * (--tenants; docs/rules.md section 10): which records name a tenant, and
 * which one.
 *
 * A tenth of the accounts, chosen by a hash of the account number and the
 * seed (account numbers are shuffled against Zipf ranks, so these are big
 * and small senders alike), send for 2 to 50 tenants each, skewed towards
 * few (2 + 48 u^3: half of them have at most 8); a record of such an
 * account names no tenant one time in ten (the account's own sending) and
 * otherwise one of its tenants, skewed towards the first (index n u^2), so
 * that each account has a few busy streams and a tail of quiet ones. The
 * other nine tenths never name a tenant.
 *
 * The Avro schemas of the corpus have no tenant field (the contract's
 * change is separate work), so the tenant is not in the encoded bytes:
 * each record gets a one-byte code here, before any timing, and the timed
 * loop sets rec.tenant from it after decoding, a load and a store per
 * record. The run without tenants decodes the same bytes and ignores the
 * codes, so the two figures differ by the engine's work alone.
 *
 * Ownership: be_tenant_codes() returns an array the caller frees with
 * free(); the names are static.
 */
#include <stdlib.h>
#include <string.h>

#include "bench_engine.h"
#include "repute/avro.h"

#define MAX_TENANTS 50

static uint64_t mix(uint64_t z) {
    z += UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A uniform double in [0, 1) from a hash. */
static double unit(uint64_t h) {
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

/* The number of tenants of an account: 0 for nine in ten. */
static int tenants_of(uint64_t account, uint64_t seed) {
    uint64_t h = mix(account ^ mix(seed));
    if (h % 10 != 0)
        return 0;
    double u = unit(mix(h));
    return 2 + (int)(48.0 * u * u * u);
}

const rp_str *be_tenant_names(void) {
    static char buf[MAX_TENANTS][16];
    static rp_str names[MAX_TENANTS];
    if (!names[0].ptr)
        for (int i = 0; i < MAX_TENANTS; i++) {
            int n = snprintf(buf[i], sizeof buf[i], "tenant-%02d", i);
            names[i] = (rp_str){buf[i], (size_t)n};
        }
    return names;
}

uint8_t *be_tenant_codes(const be_corpus *c, const be_options *opt,
                         uint64_t *named, uint64_t *accounts_with) {
    uint64_t seed = opt->seed;
    uint8_t *codes = xmalloc(c->n ? c->n : 1);
    *named = 0;
    *accounts_with = 0;
    for (uint64_t i = 0; i < c->n; i++) {
        uint64_t e = c->index[i];
        rp_str id;
        codes[i] = 0;
        if (rp_avro_peek_account_id(RP_FRAMING_PLAIN, idx_bytes(c, e),
                                    idx_len(e), &id) != 0 ||
            id.len < 6)
            continue;
        uint64_t account = strtoull(id.ptr + 5, NULL, 10); /* "acct-N" */
        int n = tenants_of(account, seed);
        if (n == 0)
            continue;
        double u = unit(mix(i ^ mix(seed + 1)));
        if (u < 0.1)
            continue; /* the account's own sending */
        double v = unit(mix(i ^ mix(seed + 2)));
        codes[i] = (uint8_t)(1 + (int)((double)n * v * v));
        (*named)++;
    }
    /* How many accounts have tenants at all (for the report). */
    for (uint64_t a = 0; a < opt->accounts; a++)
        *accounts_with += tenants_of(a, seed) != 0;
    return codes;
}
