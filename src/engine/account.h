/*
 * account.h - the engine's accounts and the table that finds them
 * (private to src/engine/).
 *
 * The engine holds millions of accounts, so an account is kept small: its
 * hourly buckets are a sorted, sparse array of the hours that saw anything;
 * everything most accounts never need (the fourteen issue states, the
 * report log, the links, the manual-review flag) lives in an "extension"
 * allocated the first time an account needs it; the id is stored inline at
 * the end of the struct.
 *
 * A tenant (docs/rules.md section 10) is the same struct, of another kind,
 * held in its account's tenant set rather than in the table (tenant.c),
 * so that every rule applies to it unchanged.
 *
 * The table is open addressing over (hash, pointer) slots, linear probing,
 * grown at three quarters full; accounts are never removed from it while
 * the engine lives, so there are no tombstones. Every byte an account owns
 * (the account, its buckets, its extension and what that holds) goes
 * through rp_acct_alloc() and friends, so that `bytes` is what the
 * allocator really handed out, overhead included.
 *
 * The look-up runs once per record, so rp_acct_find() and the found case
 * of rp_acct_get() are inline here; only the insertion is out of line.
 *
 * Ownership: the caller owns the rp_acct_table (zeroed to start) and frees
 * it, with every account in it, with rp_acct_table_free().
 */
#ifndef REPUTE_ENGINE_ACCOUNT_H
#define REPUTE_ENGINE_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "repute/hash.h"
#include "repute/types.h"

#define NONE INT64_MIN /* an absent time (no review end, no floor) */
#define HOUR RP_MS_PER_HOUR

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
    /* What changed the entity (history.c), from the first time it left
     * HEALTHY; NULL before that or with history.max.entries 0. */
    struct history *hist;
    /* The list of accounts whose status is not HEALTHY (every such
     * account has an ext), so that the HTTP API can list the accounts
     * that need attention without walking millions of healthy ones. */
    struct account *fl_prev, *fl_next;
} account_ext;

struct account;

/* The tenants of one account (docs/rules.md section 10), allocated with
 * its first tenant: a small open-addressing table (linear probing, grown
 * at three quarters full, backward-shift deletion) of (hash of the name,
 * tenant), so that a record finds its tenant in a probe or two of one
 * array instead of comparing names along a search. The byte order of
 * names that the views need is made when asked for (tenant.c). */
typedef struct tenant_slot {
    uint64_t hash;
    struct account *t; /* NULL: an empty slot */
} tenant_slot;

typedef struct tenant_set {
    tenant_slot *slots;
    uint32_t n, mask; /* mask: number of slots - 1, a power of two */
    /* A record named a tenant beyond the limit at least once: the
     * engine tells its sink the first time only (on_tenant_overflow). */
    bool overflowed;
} tenant_set;

/* What an `account` struct holds: an account, one of its tenants, or a
 * tenant that was forgotten (or removed by a restore) and waits for its
 * tombstone to be flushed to the changelog and for the review-end heap to
 * let go of it (tenant.c). */
enum { ENTITY_ACCOUNT = 0, ENTITY_TENANT = 1, ENTITY_GONE = 2 };

/* An account, or a tenant: a tenant is an account-like entity with the
 * same buckets, extension and status, so that every rule (review.c,
 * actions.c, window.c) applies to both unchanged. The fields that differ
 * share storage: an account's sequence means nothing for a tenant (its
 * events take its account's sequence), and a tenant's parent and an
 * account's tenant set are never both needed. The hash of an account's id
 * is in its table slot, not here. */
typedef struct account {
    union {
        uint64_t sequence;    /* an account: its last event's sequence */
        int64_t last_applied; /* a tenant: the clock of its last record */
    };
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
    union {
        tenant_set *tenants;    /* an account: NULL until its first tenant */
        struct account *parent; /* a tenant: its account */
    };
    uint8_t status; /* rp_account_status (a tenant: its tenant status) */
    uint8_t dirty;  /* changed since the last rp_engine_flush_dirty */
    uint8_t kind;   /* ENTITY_* */
    /* A tenant: how many review-end heap entries point at it, so that a
     * forgotten one is freed only once none does (tenant.c); it sticks at
     * UINT16_MAX (such a tenant is then never freed before the engine),
     * which keeps the struct as small as an account needs. */
    uint16_t heap_refs;
    uint16_t id_len;
    char id[]; /* NUL-terminated; a tenant: its name */
} account;

typedef struct rp_acct_slot {
    uint64_t hash;
    account *acct;
} rp_acct_slot;

typedef struct rp_acct_table {
    rp_acct_slot *slots; /* NULL until the first account */
    size_t mask;         /* number of slots - 1; a power of two */
    size_t n_accounts;
    int64_t bytes; /* held by the slots and the accounts */
} rp_acct_table;

/* The state of an issue that never left HEALTHY. */
static const issue rp_acct_healthy_issue = {
    NONE, NONE, NONE, 0, RP_ISTATUS_HEALTHY, 0, 0};

/* ------------------------------------------------------------ memory */

/* malloc, realloc and free, counted in t->bytes. */
void *rp_acct_alloc(rp_acct_table *t, size_t n);
void *rp_acct_realloc(rp_acct_table *t, void *old, size_t n);
void rp_acct_free(rp_acct_table *t, void *p);

/* ------------------------------------------------------------ table */

static inline account *rp_acct_find(const rp_acct_table *t, rp_str id,
                                    uint64_t h) {
    if (!t->slots)
        return NULL;
    for (size_t i = (size_t)h & t->mask; t->slots[i].acct;
         i = (i + 1) & t->mask) {
        account *a = t->slots[i].acct;
        if (t->slots[i].hash == h && a->id_len == id.len &&
            memcmp(a->id, id.ptr, id.len) == 0)
            return a;
    }
    return NULL;
}

/* Inserts a new, empty account `id` of hash h (not in the table yet).
 * Returns NULL when out of memory. */
account *rp_acct_insert(rp_acct_table *t, rp_str id, uint64_t h);

/* The hash of an account id in the table (also the seed of its dedupe
 * keys). */
static inline uint64_t rp_acct_hash(rp_str id) {
    return rp_hash_bytes(id.ptr, id.len, 0);
}

/* The account `id` of hash h, created empty when it is new; NULL on
 * ENOMEM. */
static inline account *rp_acct_get_h(rp_acct_table *t, rp_str id, uint64_t h) {
    account *a = rp_acct_find(t, id, h);
    return a ? a : rp_acct_insert(t, id, h);
}

static inline account *rp_acct_get(rp_acct_table *t, rp_str id) {
    return rp_acct_get_h(t, id, rp_acct_hash(id));
}

/* Frees every account and the slots; the table is empty afterwards. */
void rp_acct_table_free(rp_acct_table *t);

/* ------------------------------------------------------------ accounts */

/* The extension of a, allocated (every issue HEALTHY) when it has none;
 * NULL on ENOMEM. */
account_ext *rp_acct_ext(rp_acct_table *t, account *a);

/* Empties an account back to "never seen" (no buckets, issues, reports or
 * links, sequence 0) but keeps its id, its tenants and its place in the
 * table
 * (review-end heap entries may still point at it; they find nothing to
 * do). The caller first takes it off the engine's list of accounts that
 * are not HEALTHY. */
void rp_acct_clear(rp_acct_table *t, account *a);

/* Adds a copy of `other` to the links unless it is there. Returns 1 when
 * added, 0 when it was there, RP_ENOMEM. */
int rp_acct_link_add(rp_acct_table *t, account_ext *x, rp_str other);

/* Removes `other` from the links; false when it was not there. */
bool rp_acct_link_remove(rp_acct_table *t, account_ext *x, rp_str other);

static inline const issue *rp_acct_issue(const account *a, int k) {
    return a->ext ? &a->ext->issues[k] : &rp_acct_healthy_issue;
}

static inline rp_str rp_acct_id(const account *a) {
    rp_str s = {a->id, a->id_len};
    return s;
}

/* The account an entity belongs to: itself, or a tenant's parent. */
static inline account *rp_acct_root(account *a) {
    return a->kind == ENTITY_ACCOUNT ? a : a->parent;
}

/* True while an issue's review runs (docs/rules.md section 5): it has a review
 * end to wait for or a decision to take. */
static inline bool rp_acct_in_review(const issue *is) {
    return is->status == RP_ISTATUS_UNDER_REVIEW ||
           is->status == RP_ISTATUS_ALMOST_HEALED;
}

#endif
