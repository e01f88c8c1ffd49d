/*
 * tail_current.c - `repute tail --current`: topic.current -> the table of
 * the accounts that need attention, as a gateway would build it.
 *
 * topic.current is compacted and keyed by account (docs/current.md): its
 * table is the last value of each key, and a null value (a tombstone)
 * removes the key. So tail reads every partition from the beginning to
 * its end, keeping the last value of each key in a hash table (a copy of
 * the bytes, or nothing after a tombstone), and then prints the table
 * sorted by account id, so that two reads of the same topic print the
 * same lines (the integration tests compare them with `repute replay`).
 * Values are decoded only when printed: a key written a thousand times
 * is decoded once.
 *
 * With --follow tail then goes on, printing each new record as it
 * comes: the state, or for a tombstone {"account_id":...,"status":
 * "HEALTHY","tenants":[]} (a table row with status HEALTHY): the account
 * and all its tenants left the table.
 *
 * Tenants (docs/current.md): the JSON line of an account carries its
 * non-HEALTHY tenants in "tenants"; --format table prints a row for each
 * under its account's, named "account/tenant". A decoded record keeps
 * them as Avro (repute/acctstate.h), read one at a time while printing,
 * so that a table of many tenants costs no allocation per row.
 *
 * A value that does not decode is reported on standard error with its
 * partition and offset, and the exit status is 1; the account is left
 * out of the table.
 */
#include "cli/tail_current.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "repute/acctstate.h"
#include "repute/hash.h"
#include "repute/jsonl.h"
#include "repute/stop.h"

#define POLL_MS 100

/* ---------------------------------------------------------------- table */

typedef struct entry {
    char *key; /* NULL: a free slot */
    size_t key_len;
    void *val; /* NULL: deleted by a tombstone */
    size_t val_len;
    int32_t partition; /* where the value was read, for a message */
    int64_t offset;
} entry;

typedef struct table {
    entry *slots;
    size_t mask, used;
} table;

static entry *table_find(table *t, const char *k, size_t n) {
    size_t i = (size_t)rp_hash_bytes(k, n, 0) & t->mask;
    for (;; i = (i + 1) & t->mask) {
        entry *e = &t->slots[i];
        if (!e->key || (e->key_len == n && memcmp(e->key, k, n) == 0))
            return e;
    }
}

static int table_grow(table *t) {
    size_t cap = t->slots ? 2 * (t->mask + 1) : 1024;
    entry *s = calloc(cap, sizeof(*s));
    if (!s)
        return RP_ENOMEM;
    table old = *t;
    t->slots = s;
    t->mask = cap - 1;
    for (size_t i = 0; old.slots && i <= old.mask; i++)
        if (old.slots[i].key)
            *table_find(t, old.slots[i].key, old.slots[i].key_len) =
                old.slots[i];
    free(old.slots);
    return 0;
}

/* Keeps m's value (a copy) as its key's, or forgets it for a tombstone. */
static int table_put(table *t, const rd_kafka_message_t *m) {
    if (!t->slots || 2 * (t->used + 1) > t->mask + 1)
        if (table_grow(t) != 0)
            return RP_ENOMEM;
    entry *e = table_find(t, m->key, m->key_len);
    if (!e->key) {
        e->key = malloc(m->key_len + 1);
        if (!e->key)
            return RP_ENOMEM;
        memcpy(e->key, m->key, m->key_len);
        e->key_len = m->key_len;
        t->used++;
    }
    free(e->val);
    e->val = NULL;
    e->val_len = 0;
    if (m->payload) {
        e->val = malloc(m->len ? m->len : 1);
        if (!e->val)
            return RP_ENOMEM;
        memcpy(e->val, m->payload, m->len);
        e->val_len = m->len;
    }
    e->partition = m->partition;
    e->offset = m->offset;
    return 0;
}

static void table_free(table *t) {
    for (size_t i = 0; t->slots && i <= t->mask; i++) {
        free(t->slots[i].key);
        free(t->slots[i].val);
    }
    free(t->slots);
}

static int by_key(const void *a, const void *b) {
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* ---------------------------------------------------------------- print */

typedef struct printer {
    const rp_tail_current_opts *o;
    rp_buf line;
    size_t bad;
} printer;

static void put_time(rp_buf *b, bool has, int64_t ms) {
    if (!has) {
        rp_buf_puts(b, "-");
        return;
    }
    time_t s = (time_t)(ms / 1000 - (ms % 1000 < 0));
    struct tm tm;
    char tmp[32];
    if (!gmtime_r(&s, &tm) ||
        strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        rp_buf_printf(b, "%" PRId64, ms);
    else
        rp_buf_puts(b, tmp);
}

/* One row of --format table: name, status, since, review end, issues.
 * The name is the account's, or "account/tenant" for a tenant. */
static void put_cells(rp_buf *b, rp_str account, const rp_str *tenant,
                      rp_account_status status, bool has_since, int64_t since,
                      bool has_end, int64_t end, const rp_issue_state *issues,
                      size_t n_issues) {
    size_t at = b->len;
    rp_buf_printf(b, "%.*s", (int)account.len, account.ptr ? account.ptr : "");
    if (tenant)
        rp_buf_printf(b, "/%.*s", (int)tenant->len,
                      tenant->ptr ? tenant->ptr : "");
    size_t w = b->len - at;
    rp_buf_printf(b, "%*s %-31s ", (int)(w < 24 ? 24 - w : 0), "",
                  rp_account_status_name(status));
    at = b->len;
    put_time(b, has_since, since);
    rp_buf_printf(b, "%*s", (int)(21 - (b->len - at)), "");
    at = b->len;
    put_time(b, has_end, end);
    rp_buf_printf(b, "%*s", (int)(21 - (b->len - at)), "");
    for (size_t i = 0; i < n_issues; i++)
        rp_buf_printf(b, "%s%s:%s", i ? "," : "",
                      rp_issue_kind_name(issues[i].kind),
                      rp_issue_status_name(issues[i].status));
    if (!n_issues)
        rp_buf_puts(b, "-");
    rp_buf_putc(b, '\n');
}

/* The rows of one account: its own, then one per tenant listed (those
 * that are not HEALTHY), in the order of their names. */
static void put_row(rp_buf *b, const rp_account_state *st) {
    put_cells(b, st->account_id, NULL, st->status,
              st->n_issues > 0 || st->status != RP_ASTATUS_HEALTHY ||
                  st->n_tenants > 0,
              st->since, st->has_review_end, st->review_ends_at, st->issues,
              st->n_issues);
    rp_acctstate_iter it;
    rp_tenant_state t;
    rp_acctstate_tenant_begin(st, &it);
    while (rp_acctstate_tenant_next(&it, &t))
        put_cells(b, st->account_id, &t.tenant, t.status, true, t.since,
                  t.has_review_end, t.review_ends_at, t.issues, t.n_issues);
}

/* Prints one value (NULL: a tombstone of key). Returns 0, or RP_EIO or
 * RP_ENOMEM (printed: tail must stop). */
static int print_value(printer *pr, const char *key, size_t key_len,
                       const void *val, size_t len, int32_t part, int64_t off) {
    rp_account_state st;
    char err[256];
    rp_buf_reset(&pr->line);
    if (!val) {
        memset(&st, 0, sizeof(st));
        st.account_id = (rp_str){key, key_len};
        st.status = RP_ASTATUS_HEALTHY;
        if (pr->o->table)
            put_row(&pr->line, &st);
        else {
            rp_buf_puts(&pr->line, "{\"account_id\":");
            rp_jsonl_write_string(&pr->line, key, key_len);
            rp_buf_puts(&pr->line, ",\"status\":\"HEALTHY\",\"tenants\":[]}\n");
        }
    } else if (rp_acctstate_decode(val, len, pr->o->framed, NULL, &st, err,
                                   sizeof(err)) != 0) {
        fprintf(stderr,
                "repute tail: partition %" PRId32 " offset %" PRId64 ": %s\n",
                part, off, err);
        pr->bad++;
        return 0;
    } else if (pr->o->table)
        put_row(&pr->line, &st);
    else if (rp_jsonl_write_account_state(&pr->line, &st) != 0)
        return RP_ENOMEM;
    if (fwrite(pr->line.data, 1, pr->line.len, stdout) != pr->line.len ||
        fflush(stdout) != 0) {
        fprintf(stderr, "repute tail: standard output: %s\n", strerror(errno));
        return RP_EIO;
    }
    return 0;
}

/* The table, sorted by account id. */
static int print_table(printer *pr, const table *t) {
    entry **rows = malloc((t->used ? t->used : 1) * sizeof(*rows));
    if (!rows)
        return RP_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; t->slots && i <= t->mask; i++)
        if (t->slots[i].key && t->slots[i].val)
            rows[n++] = &t->slots[i];
    qsort(rows, n, sizeof(*rows), by_key);
    if (pr->o->table)
        printf("%-24s %-31s %-20s %-20s %s\n", "ACCOUNT", "STATUS", "SINCE",
               "REVIEW END", "ISSUES");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = print_value(pr, rows[i]->key, rows[i]->key_len, rows[i]->val,
                         rows[i]->val_len, rows[i]->partition, rows[i]->offset);
    free(rows);
    return rc;
}

/* ---------------------------------------------------------------- loop */

int rp_tail_current_run(rd_kafka_t *rk, const char *topic, int32_t n_partitions,
                        int32_t n_ids, const rp_tail_current_opts *o) {
    table t = {NULL, 0, 0};
    printer pr = {o, {0}, 0};
    bool *eof = calloc((size_t)(n_ids > 0 ? n_ids : 1), sizeof(*eof));
    int32_t at_end = 0;
    bool printed = false;
    int64_t idle_since = 0;
    int rc = eof ? 0 : RP_ENOMEM;
    while (rc == 0 && !rp_stop_signal()) {
        if (!printed && at_end >= n_partitions) {
            rc = print_table(&pr, &t);
            printed = true;
            if (!o->follow || rc != 0)
                break;
            idle_since = (int64_t)time(NULL) * 1000;
        }
        if (printed && o->idle_ms > 0 &&
            (int64_t)time(NULL) * 1000 - idle_since >= o->idle_ms)
            break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, POLL_MS);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < n_ids &&
                !eof[m->partition]) {
                eof[m->partition] = true;
                at_end++;
            }
        } else if (m->err) {
            fprintf(stderr, "repute tail: kafka: %s: %s\n", topic,
                    rd_kafka_message_errstr(m));
        } else if (!m->key) {
            fprintf(stderr,
                    "repute tail: partition %" PRId32 " offset %" PRId64
                    ": a record without a key\n",
                    m->partition, m->offset);
            pr.bad++;
        } else if (!printed) {
            rc = table_put(&t, m);
        } else {
            idle_since = (int64_t)time(NULL) * 1000;
            rc = print_value(&pr, m->key, m->key_len, m->payload,
                             m->payload ? m->len : 0, m->partition, m->offset);
        }
        rd_kafka_message_destroy(m);
    }
    if (rc == RP_ENOMEM)
        fprintf(stderr, "repute tail: %s\n", rp_strerror(RP_ENOMEM));
    free(eof);
    table_free(&t);
    rp_buf_free(&pr.line);
    if (rc != 0)
        return RP_CLI_EXIT_USAGE;
    return pr.bad ? RP_CLI_EXIT_BAD_INPUT : RP_CLI_EXIT_OK;
}
