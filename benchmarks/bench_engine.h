/*
 * bench_engine.h - what the two halves of repute-bench-engine share: the
 * options, and the corpus of pre-encoded records that
 * bench_engine_corpus.c builds and bench_engine.c times.
 *
 * The program's promise is that its timed loops measure decoding and the
 * engine and nothing else, so every record is generated and encoded before
 * the first clock starts, into one arena of bytes with a packed index
 * entry per record. That split is also the split of the source: one file
 * knows how to make the input (the record mix, the Zipf-skewed accounts,
 * the redeliveries), the other how to time what repute does with it, and
 * this header is the whole of what passes between them. The index entry
 * packs offset (40 bits) | length (16 bits) | type (8 bits), so that the
 * timed loops read eight bytes per record besides the record itself; a
 * redelivery is an entry that points at an earlier record's bytes.
 *
 * The corpus is the caller's struct; be_corpus_build() fills it and the
 * caller frees it with be_corpus_free().
 */
#ifndef REPUTE_BENCH_ENGINE_H
#define REPUTE_BENCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_util.h"
#include "repute/record.h"

#define BE_PROG "repute-bench-engine"

/* This program's way of giving up (see bench_util.h). */
#define die(...)   bu_die(BE_PROG, __VA_ARGS__)
#define xmalloc(n) bu_xmalloc(BE_PROG, (n))

typedef struct be_options {
    uint64_t accounts;
    uint64_t events;
    uint64_t seed;
    bool tenants; /* --tenants: with and without tenants, side by side */
    /* --current: the engine also builds each status change's account
     * state, which the sink encodes as `repute run` does for
     * topic.current (docs/current.md). */
    bool current;
} be_options;

/* ---------------------------------------------------------------- corpus */

#define IDX_OFF_SHIFT 24
#define IDX_LEN_SHIFT 8
#define IDX_MAX_LEN   UINT64_C(0xffff)
#define IDX_MAX_OFF   ((UINT64_C(1) << 40) - 1)

typedef struct be_corpus {
    char *data;
    size_t len, cap;
    uint64_t *index;
    uint64_t n;
    uint64_t type_count[RP_REC__COUNT];
    uint64_t duplicates;
} be_corpus;

static inline uint64_t idx_pack(uint64_t off, uint64_t len, rp_rec_type t) {
    return off << IDX_OFF_SHIFT | len << IDX_LEN_SHIFT | (uint64_t)t;
}

static inline const char *idx_bytes(const be_corpus *c, uint64_t e) {
    return c->data + (e >> IDX_OFF_SHIFT);
}

static inline size_t idx_len(uint64_t e) {
    return (size_t)((e >> IDX_LEN_SHIFT) & IDX_MAX_LEN);
}

static inline rp_rec_type idx_type(uint64_t e) {
    return (rp_rec_type)(e & 0xff);
}

/* Generates opt->events records over opt->accounts accounts from
 * opt->seed and encodes them (plain Avro) into c, printing progress on
 * standard error. Dies on any failure. The caller frees with
 * be_corpus_free(). */
void be_corpus_build(be_corpus *c, const be_options *opt);

void be_corpus_free(be_corpus *c);

/* ---------------------------------------------------------------- tenants
 * (bench_engine_tenants.c) */

/* The tenant names that the codes index: code k > 0 is name k - 1. */
const rp_str *be_tenant_names(void);

/* One code per record of c (0: no tenant), and how many records name a
 * tenant and how many accounts have tenants. The caller frees the array
 * with free(). */
uint8_t *be_tenant_codes(const be_corpus *c, const be_options *opt,
                         uint64_t *named, uint64_t *accounts_with);

#endif
