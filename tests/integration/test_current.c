/*
 * test_current.c - topic.current against the broker (docs/current.md): the
 * table that `repute tail --current` reads from it equals, per account,
 * the state after the account's last STATUS_CHANGE in `repute replay`'s
 * output of the same records, with its tenants as their last
 * STATUS_CHANGEs left them (the non-HEALTHY ones listed, in name order)
 * and the sequence of the last of those changes; the accounts that are
 * HEALTHY with all their tenants are absent:
 *  - after the example of examples/ (whose hooli is HEALTHY with its
 *    tenant promotions paused), and again after the topic was deleted
 *    and `repute run --rebuild-current` wrote it anew;
 *  - after a random stream with tenants (it_gen_opts IT_GEN_TENANTS) with
 *    a kill -9 of run in the middle of it and a restart, on a topic that
 *    the broker compacts while the test watches (segment.ms small,
 *    min.cleanable.dirty.ratio low): the test waits until compaction has
 *    removed records and compares again;
 *  - and run refuses a topic.current whose cleanup.policy is delete.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

TestSuite(current, .fini = it_fini, .timeout = 400);

/* Set once topic.current was rebuilt (--rebuild-current). */
static bool c_rebuilt;

/* ---------------------------------------------------------------- expected */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The earliest since of the issues of a StatusChange (or fallback). */
static json_int_t oldest_since(json_t *issues, json_int_t fallback) {
    json_int_t since = fallback;
    size_t i;
    json_t *is;
    json_array_foreach(issues, i, is) {
        json_int_t s = json_integer_value(json_object_get(is, "since"));
        if (i == 0 || s < since)
            since = s;
    }
    return since;
}

/* What a STATUS_CHANGE event of replay's output says of its account or
 * tenant (status, since, review_ends_at, issues; a tenant's name too). */
static json_t *part_of(json_t *ev, bool tenant) {
    json_t *sc = json_object_get(ev, "status_change");
    json_t *issues = json_object_get(sc, "issues");
    json_int_t since = oldest_since(
        issues, json_integer_value(json_object_get(ev, "event_time")));
    json_t *p =
        json_pack("{s:O,s:I,s:O,s:O}", "status", json_object_get(sc, "status"),
                  "since", since, "review_ends_at",
                  json_object_get(sc, "review_ends_at"), "issues", issues);
    if (tenant)
        json_object_set(p, "tenant", json_object_get(ev, "tenant"));
    return p;
}

static bool healthy(json_t *part) {
    return strcmp(json_string_value(json_object_get(part, "status")),
                  "HEALTHY") == 0;
}

/* The AccountState of one account from its own last part (NULL: it had
 * no change of its own), its tenants' last parts and the last sequence;
 * NULL when the account and all its tenants are HEALTHY. */
static json_t *state_of(const char *acct, json_t *own, json_t *tenants,
                        json_t *sequence) {
    const char **names = calloc(json_object_size(tenants) + 1, sizeof(*names));
    size_t n = 0;
    const char *name;
    json_t *t;
    json_object_foreach(tenants, name, t) if (!healthy(t)) names[n++] = name;
    qsort(names, n, sizeof(*names), cmp_str);
    if ((!own || healthy(own)) && n == 0) {
        free(names);
        return NULL;
    }
    json_t *list = json_array();
    json_int_t tsince = 0;
    for (size_t i = 0; i < n; i++) {
        t = json_object_get(tenants, names[i]);
        json_int_t s = json_integer_value(json_object_get(t, "since"));
        if (i == 0 || s < tsince)
            tsince = s;
        json_array_append(list, t);
    }
    free(names);
    json_t *issues = own ? json_object_get(own, "issues") : NULL;
    json_int_t since = issues && json_array_size(issues)
                           ? json_integer_value(json_object_get(own, "since"))
                           : tsince;
    return json_pack(
        "{s:s,s:s,s:I,s:o,s:o,s:O,s:o}", "account_id", acct, "status",
        own ? json_string_value(json_object_get(own, "status")) : "HEALTHY",
        "since", since, "review_ends_at",
        own ? json_incref(json_object_get(own, "review_ends_at")) : json_null(),
        "issues", issues ? json_incref(issues) : json_array(), "sequence",
        sequence, "tenants", list);
}

/* The expected table from replay's output exp: one JSON object per
 * account that is not HEALTHY or has a tenant that is not, sorted by
 * account id, into a new array. */
static json_t *expected_table(const char *exp) {
    FILE *f = fopen(exp, "r");
    cr_assert_not_null(f, "%s", exp);
    /* account -> {"own": part, "tenants": {name: part}, "sequence": n} */
    json_t *accts = json_object();
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_error_t e;
        json_t *ev = json_loads(line, 0, &e);
        cr_assert_not_null(ev, "%s: %s", exp, e.text);
        if (strcmp(json_string_value(json_object_get(ev, "kind")),
                   "STATUS_CHANGE") == 0) {
            const char *id =
                json_string_value(json_object_get(ev, "account_id"));
            json_t *a = json_object_get(accts, id);
            if (!a) {
                a = json_pack("{s:o}", "tenants", json_object());
                json_object_set_new(accts, id, a);
            }
            json_t *tenant = json_object_get(ev, "tenant");
            if (json_is_string(tenant))
                json_object_set_new(json_object_get(a, "tenants"),
                                    json_string_value(tenant),
                                    part_of(ev, true));
            else
                json_object_set_new(a, "own", part_of(ev, false));
            json_object_set(a, "sequence", json_object_get(ev, "sequence"));
        }
        json_decref(ev);
    }
    free(line);
    fclose(f);
    size_t n = json_object_size(accts), k = 0;
    const char **keys = calloc(n ? n : 1, sizeof(*keys));
    const char *key;
    json_t *v;
    json_object_foreach(accts, key, v) keys[k++] = key;
    qsort(keys, n, sizeof(*keys), cmp_str);
    json_t *table = json_array();
    for (k = 0; k < n; k++) {
        json_t *a = json_object_get(accts, keys[k]);
        json_t *st = state_of(keys[k], json_object_get(a, "own"),
                              json_object_get(a, "tenants"),
                              json_object_get(a, "sequence"));
        if (st)
            json_array_append_new(table, st);
    }
    free(keys);
    json_decref(accts);
    return table;
}

/* The number of tenants listed in a table, and of its rows that are
 * HEALTHY accounts listed for their tenants. */
static size_t tenants_in(json_t *table, size_t *healthy_rows) {
    size_t n = 0, i;
    json_t *row;
    *healthy_rows = 0;
    json_array_foreach(table, i, row) {
        size_t k = json_array_size(json_object_get(row, "tenants"));
        n += k;
        if (k && healthy(row))
            (*healthy_rows)++;
    }
    return n;
}

/* ---------------------------------------------------------------- actual */

/* `repute tail --current` into a new array of its lines (exit status 0). */
static json_t *tail_current(it_ctx *c) {
    const char *argv[] = {REPUTE_BINARY, "tail",      "--config",
                          c->kafka,      "--current", NULL};
    it_proc *p = it_spawn(c->dir, "tail-current", argv, true);
    int st = it_wait(p, 120);
    cr_assert_eq(st, 0, "tail --current: exit status %d (see %s)", st, p->err);
    FILE *f = fopen(p->out, "r");
    cr_assert_not_null(f);
    json_t *rows = json_array();
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_error_t e;
        json_t *row = json_loads(line, 0, &e);
        cr_assert_not_null(row, "tail --current printed %s", line);
        json_array_append_new(rows, row);
    }
    free(line);
    fclose(f);
    return rows;
}

/* Whether the table read from the topic is the expected one; the first
 * difference is printed. */
static bool same_table(it_ctx *c, json_t *want, bool verbose) {
    json_t *got = tail_current(c);
    if (c_rebuilt) {
        /* A rebuilt state carries the account's last sequence, which may
         * be a notification's after the status change (docs/current.md):
         * never lower than the status change's, but not equal to it. */
        want = json_deep_copy(want);
        size_t i;
        json_t *row;
        json_array_foreach(got, i, row) {
            json_t *w = json_array_get(want, i);
            if (w && json_integer_value(json_object_get(row, "sequence")) >=
                         json_integer_value(json_object_get(w, "sequence")))
                json_object_set(w, "sequence",
                                json_object_get(row, "sequence"));
        }
    } else
        json_incref(want);
    bool same = json_equal(want, got);
    if (!same && verbose) {
        size_t n = json_array_size(want) > json_array_size(got)
                       ? json_array_size(want)
                       : json_array_size(got);
        for (size_t i = 0; i < n; i++) {
            json_t *a = json_array_get(want, i), *b = json_array_get(got, i);
            if (a && b && json_equal(a, b))
                continue;
            char *sa = a ? json_dumps(a, JSON_COMPACT) : NULL;
            char *sb = b ? json_dumps(b, JSON_COMPACT) : NULL;
            fprintf(stderr, "[%s] row %zu:\n  expected %s\n  got      %s\n",
                    c->name, i, sa ? sa : "(none)", sb ? sb : "(none)");
            free(sa);
            free(sb);
            break;
        }
    }
    fprintf(stderr, "[%s] topic.current: %zu accounts (expected %zu)%s\n",
            c->name, json_array_size(got), json_array_size(want),
            same ? "" : ": they differ");
    json_decref(got);
    json_decref(want);
    return same;
}

/* Waits (timeout_s) until the table is the expected one, then asserts. */
static void check_table(it_ctx *c, json_t *want, double timeout_s) {
    double end = it_now() + timeout_s;
    while (!same_table(c, want, false) && it_now() < end)
        it_sleep(1);
    cr_assert(same_table(c, want, true),
              "the table of topic.current differs from the final statuses of "
              "`repute replay` (printed above)");
}

/* The table without the times: account, status, sequence and the
 * tenants' names and statuses per row. */
static json_t *statuses(json_t *table) {
    json_t *out = json_array();
    size_t i, j;
    json_t *row, *t;
    json_array_foreach(table, i, row) {
        json_t *ts = json_array();
        json_array_foreach(json_object_get(row, "tenants"), j, t)
            json_array_append_new(ts, json_pack("[O,O]",
                                                json_object_get(t, "tenant"),
                                                json_object_get(t, "status")));
        json_array_append_new(
            out, json_pack("[O,O,O,o]", json_object_get(row, "account_id"),
                           json_object_get(row, "status"),
                           json_object_get(row, "sequence"), ts));
    }
    return out;
}

/* Waits (timeout_s) until the accounts, statuses and sequences of the
 * table are those of want, then asserts. */
static void check_statuses(it_ctx *c, json_t *want, double timeout_s) {
    json_t *w = statuses(want);
    double end = it_now() + timeout_s;
    for (;;) {
        json_t *got = tail_current(c);
        json_t *g = statuses(got);
        bool same = json_equal(w, g);
        if (same || it_now() >= end) {
            char *sw = json_dumps(w, JSON_COMPACT),
                 *sg = json_dumps(g, JSON_COMPACT);
            cr_assert(same, "statuses: expected %s, got %s", sw, sg);
            free(sw);
            free(sg);
            json_decref(got);
            json_decref(g);
            break;
        }
        json_decref(got);
        json_decref(g);
        it_sleep(1);
    }
    json_decref(w);
}

/* ---------------------------------------------------------------- tests */

Test(current, example_then_rebuild) {
    it_ctx c;
    it_init(&c, "current-example");
    char input[IT_PATH_MAX], exp[IT_PATH_MAX];
    snprintf(c.rules, sizeof(c.rules),
             "%s/examples/review-and-pause.properties", REPUTE_SOURCE_DIR);
    snprintf(input, sizeof(input), "%s/examples/review-and-pause.jsonl",
             REPUTE_SOURCE_DIR);
    const char *argv[] = {REPUTE_BINARY, "replay", "--config",
                          c.rules,       input,    NULL};
    it_proc *rp = it_spawn(c.dir, "replay", argv, true);
    cr_assert_eq(it_wait(rp, 120), 0, "replay failed: %s", rp->err);
    snprintf(exp, sizeof(exp), "%s", rp->out);
    json_t *want = expected_table(exp);
    /* Two accounts of their own, and hooli, HEALTHY with its tenant
     * promotions paused. */
    size_t healthy_rows = 0;
    cr_assert_eq(json_array_size(want), 3, "the example: %zu accounts",
                 json_array_size(want));
    cr_assert_eq(tenants_in(want, &healthy_rows), 1);
    cr_assert_eq(healthy_rows, 1);

    it_produce_file(&c, input, NULL);
    it_proc *run = it_start_run(&c, NULL);
    /* With the whole example in the topics at once, run reads its own
     * RELATED_ACCOUNT report back later in event time than replay applies
     * it, so that issue's since differs from replay's (the status topic
     * has the same difference; it_gen's streams avoid it). So: the table
     * equals the one of the status topic, field for field, and replay's
     * table in accounts, statuses and sequences. */
    check_statuses(&c, want, 120);
    char status[IT_PATH_MAX];
    snprintf(status, sizeof(status), "%s/status.jsonl", c.dir);
    it_tail(&c, status, "3s");
    json_t *from_status = expected_table(status);
    check_table(&c, from_status, 30);

    /* The table format: a header and one row per account. */
    const char *targv[] = {REPUTE_BINARY, "tail",     "--config", c.kafka,
                           "--current",   "--format", "table",    NULL};
    it_proc *tp = it_spawn(c.dir, "tail-table", targv, true);
    cr_assert_eq(it_wait(tp, 60), 0, "tail --format table: %s", tp->err);
    cr_assert(it_file_has(tp->out, "ACCOUNT"));
    cr_assert(it_file_has(tp->out, "SENDING_PAUSED"));
    cr_assert(it_file_has(tp->out, "hooli/promotions"), "see %s", tp->out);
    it_stop_run(run);

    /* The topic lost: deleted, then rebuilt from the restored state. */
    it_delete_topic(&c, IT_CURRENT);
    const char *extra[] = {"--rebuild-current", NULL};
    run = it_start_run(&c, extra);
    c_rebuilt = true;
    check_table(&c, from_status, 90);
    cr_assert(it_log_has(run, "rebuilt"), "no rebuild in %s", run->err);
    it_stop_run(run);
    json_decref(want);
    json_decref(from_status);
    it_done(&c);
}

/* The number of records a reader finds in topic.current now (*n), and
 * how many keys it finds more than once. */
static size_t keys_repeated_now(it_ctx *c, size_t *n) {
    it_msg *m = NULL;
    *n = it_read_topic(c, IT_CURRENT, 0, 3, &m);
    json_t *seen = json_object();
    size_t repeated = 0;
    for (size_t i = 0; i < *n; i++) {
        char key[300]; /* an account id is at most 256 bytes */
        snprintf(key, sizeof(key), "%.*s", (int)m[i].key_len,
                 m[i].key ? m[i].key : "");
        json_int_t k = json_integer_value(json_object_get(seen, key));
        if (k == 1)
            repeated++;
        json_object_set_new(seen, key, json_integer(k + 1));
    }
    json_decref(seen);
    it_msgs_free(m, *n);
    return repeated;
}

/* The STATUS_CHANGE events of replay's output: each one is a write of
 * its account's record to topic.current. *accounts: how many accounts
 * they concern. */
static size_t status_changes_in(const char *path, size_t *accounts) {
    size_t n = 0;
    char *s = test_slurp(path, NULL);
    json_t *seen = json_object();
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        json_t *ev =
            json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), 0, NULL);
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        if (kind && strcmp(kind, "STATUS_CHANGE") == 0) {
            n++;
            json_object_set(
                seen, json_string_value(json_object_get(ev, "account_id")),
                json_true());
        }
        json_decref(ev);
        line = nl ? nl + 1 : NULL;
    }
    *accounts = json_object_size(seen);
    json_decref(seen);
    free(s);
    return n;
}

/* Appends a tombstone to every partition of topic.current, at least
 * segment.ms after the last record, so that each active segment rolls. */
static void roll_segments(it_ctx *c) {
    bool done[IT_PARTITIONS] = {false};
    int left = IT_PARTITIONS;
    it_sleep(0.5);
    for (int i = 0; left > 0 && i < 1000; i++) {
        char key[32];
        int n = snprintf(key, sizeof(key), "it-roll-%d", i);
        int32_t p = -1;
        it_produce_raw(c, c->topic[IT_CURRENT], key, (size_t)n, NULL, 0, &p,
                       NULL);
        if (p >= 0 && p < IT_PARTITIONS && !done[p]) {
            done[p] = true;
            left--;
        }
    }
    cr_assert_eq(left, 0, "no tombstone reached %d partitions", left);
}

Test(current, random_stream_kill9_and_compaction) {
    it_ctx c;
    it_data d;
    it_init(&c, "current-random");
    srand((unsigned)getpid());
    /* Compacted as soon as possible: a segment per append (almost), and
     * the cleaner takes any log with a little dirt. */
    const char *kv[] = {"cleanup.policy",
                        "compact",
                        "segment.ms",
                        "100",
                        "min.cleanable.dirty.ratio",
                        "0.001",
                        "delete.retention.ms",
                        "100",
                        NULL};
    it_topic_configure(&c, IT_CURRENT, kv);
    it_gen_opts(&d, 11, 2, IT_GEN_TENANTS);
    char exp[IT_PATH_MAX];
    it_expected(&c, &d);
    snprintf(exp, sizeof(exp), "%s/expected.jsonl", c.dir);
    json_t *want = expected_table(exp);
    size_t healthy_rows = 0, n_tenants = tenants_in(want, &healthy_rows);
    fprintf(stderr,
            "[%s] expected: %zu accounts, %zu tenants listed, %zu "
            "HEALTHY accounts listed for their tenants\n",
            c.name, json_array_size(want), n_tenants, healthy_rows);
    cr_assert_gt(n_tenants, 0, "the stream leaves no tenant unhealthy");
    cr_assert_gt(healthy_rows, 0, "no HEALTHY account with a tenant listed");

    size_t a = it_split(&d, 0.3);
    it_produce(&c, &d, 0, a);
    it_crash s = {.run = it_start_run(&c, NULL),
                  .at = it_segments(&d, a, d.n) / 2};
    it_produce_live(&c, &d, a, d.n, it_crash_hook, &s);
    cr_assert(s.killed, "the kill did not happen");
    check_table(&c, want, 120);

    /* Compaction: wait until the cleaner has removed records (a write
     * per status change, far more than one per account), then again. The
     * cleaner never touches a partition's active segment, and segment.ms
     * rolls a segment only when a record is appended after it: once run
     * has written its last change, everything may still sit in active
     * segments. A tombstone of a key that is no account, appended to
     * every partition, closes them (a reader of the table forgets an
     * unknown key, so the table stays the same). */
    roll_segments(&c);
    /* The cleaner may have run before this point (it wakes every 15 s),
     * so "fewer records than a moment ago" proves nothing either way.
     * What compaction guarantees is the end state: once every segment
     * that holds run's writes is closed and cleaned, no key is there
     * twice. run wrote a record per status change, more than one per
     * key, so before compaction some key is there twice. */
    size_t keys = 0, writes = status_changes_in(exp, &keys);
    cr_assert_gt(writes, keys,
                 "%zu status changes for %zu accounts: nothing to compact",
                 writes, keys);
    size_t n = 0, repeated = keys_repeated_now(&c, &n);
    double end = it_now() + 150;
    while (repeated > 0 && it_now() < end) {
        it_sleep(5);
        repeated = keys_repeated_now(&c, &n);
    }
    fprintf(stderr,
            "[%s] topic.current: %zu status changes written; %zu records "
            "now, %zu keys more than once\n",
            c.name, writes, n, repeated);
    cr_assert_eq(repeated, 0,
                 "%zu keys still more than once after 150 s: the broker did "
                 "not compact",
                 repeated);
    check_table(&c, want, 30);
    it_stop_run(s.run);
    json_decref(want);
    it_data_free(&d);
    it_done(&c);
}

Test(current, refuses_a_topic_that_is_not_compacted) {
    it_ctx c;
    it_init(&c, "current-policy");
    const char *kv[] = {"cleanup.policy", "delete", NULL};
    it_topic_configure(&c, IT_CURRENT, kv);
    it_proc *run = it_start_run(&c, NULL);
    int st = it_wait(run, 60);
    cr_assert_eq(st, 2, "run: exit status %d, expected 2 (log %s)", st,
                 run->err);
    cr_assert(it_log_has(run, "cleanup.policy=delete"), "log %s", run->err);
    it_done(&c);
}
