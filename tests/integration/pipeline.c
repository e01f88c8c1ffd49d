/*
 * pipeline.c - the test's records through repute and back: producing them
 * (with `repute produce`), the expected output (`repute replay` of the
 * same records), the actual one (`repute tail` of the status topic), and
 * their comparison.
 *
 * The expected output is never written by hand: replay is the engine
 * without the transport, so a pipeline on Kafka is right when it publishes
 * what replay writes for the same input. The comparison is per account
 * (the events of different accounts interleave differently on the status
 * topic's partitions), of parsed JSON objects rather than lines, and
 * checks that each account's sequence runs 1..n, so that a lost or
 * repeated event is named as such. The differences are printed, a few per
 * account, so that a failed test says what went wrong.
 */
#include "support_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

/* ---------------------------------------------------------------- produce */

void it_produce_file(it_ctx *c, const char *path, const char *topic) {
    const char *args[12];
    size_t n = 0;
    args[n++] = "produce";
    args[n++] = "--config";
    args[n++] = c->kafka;
    if (topic) {
        args[n++] = "--topic";
        args[n++] = topic;
    }
    args[n++] = path;
    args[n] = NULL;
    int st = it_repute(c, "produce", args, 120);
    cr_assert_eq(st, 0,
                 "repute produce %s: exit status %d (see the .err in %s)", path,
                 st, c->dir);
}

void it_produce(it_ctx *c, const it_data *d, size_t from, size_t to) {
    char path[IT_PATH_MAX];
    snprintf(path, sizeof(path), "%s/in-%zu-%zu.jsonl", c->dir, from, to);
    it_write(d, from, to, path);
    it_produce_file(c, path, NULL);
}

void it_produce_live(it_ctx *c, const it_data *d, size_t from, size_t to,
                     it_segment_hook every, void *arg) {
    size_t k = 0;
    for (size_t s = from; s < to; k++) {
        size_t e = it_segment_end(d, s);
        if (e > to)
            e = to;
        char path[IT_PATH_MAX];
        snprintf(path, sizeof(path), "%s/seg-%03zu.jsonl", c->dir, k);
        it_write(d, s, e, path);
        it_produce_file(c, path, NULL);
        if (every)
            every(c, k, s, arg);
        int topic = d->v[s].type;
        if (c->embedded) {
            /* The mock cluster keeps no transactional offset commits, so
             * there is nothing to wait for: give the processor time to
             * fetch the segment (it reads from memory, in milliseconds). */
            it_sleep(0.5);
            s = e;
            continue;
        }
        double t0 = it_now();
        cr_assert(it_wait_committed(c, topic, 120),
                  "segment %zu (records %zu-%zu, %s): the processor did not "
                  "commit its records within 120 s; see the run-*.err logs "
                  "in %s",
                  k, s, e, c->topic[topic], c->dir);
        double waited = it_now() - t0;
        if (waited > 5)
            fprintf(stderr, "[%s] segment %zu: committed after %.1f s\n",
                    c->name, k, waited);
        s = e;
    }
}

size_t it_segments(const it_data *d, size_t from, size_t to) {
    size_t n = 0;
    for (size_t i = from; i < to; i = it_segment_end(d, i))
        n++;
    return n;
}

/* ---------------------------------------------------------------- crash */

void it_crash_hook(it_ctx *c, size_t segment, size_t from, void *arg) {
    it_crash *k = arg;
    (void)from;
    if (segment != k->at)
        return;
    /* The segment was just produced: the processor is at work on it. The
     * random pause moves the kill around inside that work from run to
     * run (the tests seed rand with their pid). */
    it_sleep((double)(rand() % 100) / 1000.0);
    cr_assert(it_alive(k->run), "%s died by itself (status %d; log %s)",
              k->run->label, k->run->status, k->run->err);
    it_kill9(k->run);
    k->killed = true;
    if (k->note_status_end) {
        k->status_end = it_topic_end(c, IT_STATUS);
        fprintf(stderr,
                "[%s] kill -9 %s after segment %zu (status topic end %lld)\n",
                c->name, k->run->label, segment, (long long)k->status_end);
    } else {
        fprintf(stderr, "[%s] kill -9 %s after segment %zu\n", c->name,
                k->run->label, segment);
    }
    k->run = it_start_run(c, NULL);
}

/* ---------------------------------------------------------------- compare */

size_t it_expected(it_ctx *c, const it_data *d) {
    char all[IT_PATH_MAX], exp[IT_PATH_MAX];
    snprintf(all, sizeof(all), "%s/all.jsonl", c->dir);
    snprintf(exp, sizeof(exp), "%s/expected.jsonl", c->dir);
    it_write(d, 0, d->n, all);
    const char *argv[] = {REPUTE_BINARY, "replay", "--config",
                          c->rules,      all,      NULL};
    it_proc *p = it_spawn(c->dir, "replay", argv, true);
    int st = it_wait(p, 120);
    cr_assert_eq(st, 0, "repute replay of %s: exit status %d (see %s)", all, st,
                 p->err);
    /* Keep the expected output under a stable name. */
    cr_assert_eq(rename(p->out, exp), 0, "rename %s: %s", p->out,
                 strerror(errno));
    size_t n = it_count_lines(exp);
    fprintf(stderr, "[%s] %zu records, %zu accounts; replay: %zu events\n",
            c->name, d->n, d->n_accounts, n);
    cr_assert_gt(n, 0, "replay published nothing: the test data is wrong");
    return n;
}

size_t it_tail(it_ctx *c, const char *path, const char *idle) {
    const char *argv[] = {
        REPUTE_BINARY,      "tail",        "--config", c->kafka,
        "--from-beginning", "--idle-exit", idle,       NULL};
    it_proc *p = it_spawn(c->dir, "tail", argv, true);
    int st = it_wait(p, 180);
    if (st < 0)
        it_kill9(p);
    if (st != 0)
        it_dump_log(p, 20);
    cr_assert_eq(st, 0, "repute tail: exit status %d (see %s)", st, p->err);
    unlink(path);
    cr_assert_eq(rename(p->out, path), 0);
    return it_count_lines(path);
}

void it_check_output(it_ctx *c, double timeout_s) {
    char exp[IT_PATH_MAX], act[IT_PATH_MAX];
    snprintf(exp, sizeof(exp), "%s/expected.jsonl", c->dir);
    snprintf(act, sizeof(act), "%s/actual.jsonl", c->dir);
    size_t want = it_count_lines(exp);
    double end = it_now() + timeout_s;
    size_t prev = (size_t)-1, got;
    for (;;) {
        got = it_tail(c, act, "3s");
        if (got >= want && got == prev)
            break;
        if (it_now() > end)
            break;
        if (got < want)
            it_sleep(1);
        prev = got;
    }
    fprintf(stderr, "[%s] status topic: %zu events (expected %zu)\n", c->name,
            got, want);
    size_t bad = it_compare_files(exp, act);
    cr_assert_eq(bad, 0,
                 "the status topic differs from `repute replay` of the same "
                 "records: %zu problems (printed above); expected %s, got %s",
                 bad, exp, act);
}

/* Reads a JSON-lines file into an object: account_id -> array of events. */
static json_t *load_by_account(const char *path, size_t *n_events,
                               size_t *problems) {
    size_t len;
    char *s = it_slurp(path, &len);
    json_t *by = json_object();
    size_t lineno = 0;
    *n_events = 0;
    for (char *line = s; line < s + len;) {
        char *nl = memchr(line, '\n', (size_t)(s + len - line));
        size_t l = nl ? (size_t)(nl - line) : (size_t)(s + len - line);
        lineno++;
        if (l > 0) {
            json_error_t je;
            json_t *ev = json_loadb(line, l, 0, &je);
            const char *acct =
                ev ? json_string_value(json_object_get(ev, "account_id"))
                   : NULL;
            if (!acct) {
                fprintf(stderr, "%s:%zu: not an event: %.200s\n", path, lineno,
                        line);
                (*problems)++;
                json_decref(ev);
            } else {
                json_t *arr = json_object_get(by, acct);
                if (!arr) {
                    arr = json_array();
                    json_object_set_new(by, acct, arr);
                }
                json_array_append_new(arr, ev);
                (*n_events)++;
            }
        }
        line += l + 1;
    }
    free(s);
    return by;
}

static void print_event(const char *what, json_t *ev) {
    char *s = ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    fprintf(stderr, "    %s: %.600s%s\n", what, s ? s : "(none)",
            s && strlen(s) > 600 ? "..." : "");
    free(s);
}

size_t it_compare_files(const char *expected, const char *actual) {
    size_t problems = 0, n_exp, n_act;
    json_t *e = load_by_account(expected, &n_exp, &problems);
    json_t *a = load_by_account(actual, &n_act, &problems);
    const char *acct;
    json_t *arr;
    /* Sequences of the actual output: 1..n, no gap, no repeat. */
    json_object_foreach(a, acct, arr) {
        size_t i;
        json_t *ev;
        json_array_foreach(arr, i, ev) {
            json_int_t seq =
                json_integer_value(json_object_get(ev, "sequence"));
            if (seq != (json_int_t)i + 1) {
                fprintf(stderr,
                        "%s: event %zu has sequence %lld (expected %zu): %s\n",
                        acct, i + 1, (long long)seq, i + 1,
                        seq <= (json_int_t)i ? "a repeat" : "a gap");
                print_event("got", ev);
                problems++;
                break;
            }
        }
    }
    /* Per account: the same events. */
    json_object_foreach(e, acct, arr) {
        json_t *got = json_object_get(a, acct);
        size_t ne = json_array_size(arr), ng = json_array_size(got);
        size_t shown = 0;
        for (size_t i = 0; i < ne || i < ng; i++) {
            json_t *x = json_array_get(arr, i), *y = json_array_get(got, i);
            if (x && y && json_equal(x, y))
                continue;
            problems++;
            if (shown++ < 2) {
                fprintf(stderr, "%s: event %zu of %zu (got %zu) differs:\n",
                        acct, i + 1, ne, ng);
                print_event("expected", x);
                print_event("got     ", y);
            }
            if (!x || !y) {
                problems += (ne > ng ? ne - ng : ng - ne) - 1;
                break;
            }
        }
    }
    json_object_foreach(a, acct, arr) {
        if (!json_object_get(e, acct)) {
            fprintf(stderr, "%s: %zu events, none expected\n", acct,
                    json_array_size(arr));
            print_event("first", json_array_get(arr, 0));
            problems += json_array_size(arr);
        }
    }
    fprintf(stderr,
            "compare: expected %zu events for %zu accounts, got %zu "
            "for %zu accounts: %zu problems\n",
            n_exp, json_object_size(e), n_act, json_object_size(a), problems);
    json_decref(e);
    json_decref(a);
    return problems;
}
