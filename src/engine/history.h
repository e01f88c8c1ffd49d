/*
 * history.h - what changed an account or a tenant, most recent last
 * (private to src/engine/; docs/history.md).
 *
 * The history of an entity is a ring of fixed-size entries held by its
 * extension (account.h), allocated the first time the entity leaves
 * HEALTHY: an account that was always HEALTHY has no history and costs
 * nothing more (it has no extension either, most of the time). The ring
 * starts small and doubles up to history.max.entries, then overwrites
 * its oldest entry. An action's actor and note are the only strings: one
 * allocation per action that has either, freed with its entry.
 *
 * Recording never fails a record: when memory runs out, the entry is
 * dropped (the history is a view for people, not a rule's state).
 *
 * Ownership: the extension owns its history (rp_history_free, from
 * rp_acct_clear); entries handed to a reader borrow it.
 */
#ifndef REPUTE_ENGINE_HISTORY_H
#define REPUTE_ENGINE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/varint.h"
#include "repute/engine.h"
#include "repute/record.h"

struct account;
struct rp_acct_table;

/* The largest history.max.entries (the ring's index is 16 bits wide). */
#define RP_HISTORY_MAX_ENTRIES 1024
/* An actor or a note longer than these is cut (at a UTF-8 boundary). */
#define RP_HISTORY_ACTOR_MAX 256
#define RP_HISTORY_NOTE_MAX  2048

/* One entry: 24 bytes. `a`, `b`, `c` by kind:
 *   status change: from, to, cause (rp_account_status, _, rp_issue_kind);
 *   action: action, issue (0xff: none named), applied (0 or 1);
 *   notification: issue, stage. */
typedef struct hist_entry {
    int64_t time;
    char *text; /* an action's actor then its note, each NUL-terminated;
                   NULL when it has neither */
    uint16_t actor_len, note_len;
    uint8_t kind; /* rp_history_kind */
    uint8_t a, b, c;
} hist_entry;

typedef struct history {
    uint16_t head; /* the oldest entry */
    uint16_t n, cap;
    hist_entry e[];
} history;

/* A STATUS_CHANGE of a at `time`: creates a's history when it has none
 * and `from` or `to` is not HEALTHY (a restored entity may be neither
 * HEALTHY nor have a history). */
void rp_history_status(struct rp_acct_table *t, struct account *a, uint32_t max,
                       int64_t time, int from, int to, int cause);

/* An action record applied to a (when a has a history). */
void rp_history_action(struct rp_acct_table *t, struct account *a, uint32_t max,
                       int64_t time, const rp_action *act, bool applied);

/* A NOTIFICATION of a (when a has a history). */
void rp_history_notification(struct rp_acct_table *t, struct account *a,
                             uint32_t max, int64_t time, int issue, int stage);

/* Frees a history and its strings. */
void rp_history_free(struct rp_acct_table *t, history *h);

/* Hands fn each entry of h, newest first, until fn answers non-zero
 * (returned). */
int rp_history_walk(const history *h, rp_engine_history_fn fn, void *opaque);

/* ------------------------------------------------------------ changelog */

/* The most bytes rp_history_encode() writes for h. */
size_t rp_history_encode_bound(const history *h);

/* Writes h (not empty), oldest first: n { u8 kind | time | a b c [u8 flags
 * (1: actor, 2: note) [len bytes] [len bytes]] }. */
unsigned char *rp_history_encode(unsigned char *p, const history *h);

/* Reads what rp_history_encode() wrote into a new history for a's
 * extension, keeping the newest `max` entries (none when max is 0).
 * Returns 0, RP_EBADDATA or RP_ENOMEM. */
int rp_history_decode(struct rp_acct_table *t, struct account *a, uint32_t max,
                      rp_varint_reader *r);

#endif
