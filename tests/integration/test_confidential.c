/*
 * test_confidential.c - the `reporter` of a Report record is confidential
 * (who reported an account is not the account owner's business): it must
 * never appear in anything repute writes, whether the status topic's
 * events and notifications, a log line of produce, run, tail or replay,
 * a DLQ record's headers, or an HTTP response (docs/security.md).
 *
 * Every reporter of the generated stream is one marker, unique to the run,
 * so that a plain substring search finds any copy of it. The DLQ record
 * itself is the exception: by the spec it is the input record unchanged,
 * with the input's access rules, so only its headers are searched.
 *
 * - reporter_never_leaves_the_input: the pipeline on the shared broker,
 *   then records that go to the DLQ (bytes that are no Avro at all, and a
 *   report dated too far in the future), then every place repute writes.
 * - errors_do_not_quote_the_reporter: lines that `repute replay` and
 *   `repute produce` refuse, each bad near or in its reporter; the error
 *   messages must say what is wrong without quoting it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

TestSuite(confidential, .fini = it_fini, .timeout = 230);

static char g_mark[64];

static void new_mark(void) {
    snprintf(g_mark, sizeof(g_mark), "rptr-%ld-%lx", (long)getpid(),
             (unsigned long)time(NULL));
}

/* it_gen's reports all name the same reporter; make it this run's marker. */
static void mark_reporters(it_data *d) {
    static const char old[] = "secret-reporter-7";
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++) {
        char *at = strstr(d->v[i].line, old);
        if (!at)
            continue;
        size_t len = strlen(d->v[i].line) - strlen(old) + strlen(g_mark);
        char *line = malloc(len + 1);
        cr_assert_not_null(line);
        snprintf(line, len + 1, "%.*s%s%s", (int)(at - d->v[i].line),
                 d->v[i].line, g_mark, at + strlen(old));
        free(d->v[i].line);
        d->v[i].line = line;
        n++;
    }
    cr_assert_gt(n, 0, "the generated stream has no report");
}

/* Fails the test when a log of the work dir holds the marker. */
static void no_log_has_mark(it_ctx *c) {
    char first[IT_PATH_MAX] = "";
    size_t n = it_logs_with(c->dir, g_mark, first, sizeof(first));
    cr_assert_eq(n, 0, "%zu logs hold the reporter, %s first", n, first);
}

Test(confidential, reporter_never_leaves_the_input) {
    it_ctx c;
    it_data d;
    it_init(&c, "confidential");
    new_mark();
    it_gen(&d, 31, 1);
    mark_reporters(&d);
    it_expected(&c, &d);
    it_produce(&c, &d, 0, d.n);
    it_proc *run = it_start_run(&c, NULL);
    int port = it_http_port(run);
    it_check_output(&c, 120);

    /* Two records for the DLQ, both holding the marker: bytes that are not
     * Avro, and a report produced by repute whose event_time is more than
     * input.max.future past the wall clock. */
    char raw[256];
    int len = snprintf(raw, sizeof(raw),
                       "{\"type\":\"report\",\"account_id\":\"conf-raw\","
                       "\"reporter\":\"%s\"}",
                       g_mark);
    it_produce_raw(&c, c.topic[IT_REPORTS], "conf-raw", 8, raw, (size_t)len,
                   NULL, NULL);
    struct timeval now;
    gettimeofday(&now, NULL);
    long long future = (long long)now.tv_sec * 1000 + 30LL * 86400 * 1000;
    char path[IT_PATH_MAX];
    snprintf(path, sizeof(path), "%s/future.jsonl", c.dir);
    it_write_file(path,
                  "{\"type\":\"report\",\"event_id\":\"conf-future-1\","
                  "\"account_id\":\"conf-future\",\"event_time\":%lld,"
                  "\"kind\":\"SPAMTRAP\",\"incidents\":1,\"domain\":"
                  "\"x.example\",\"reporter\":\"%s\",\"detail\":\"from the "
                  "future\"}\n",
                  future, g_mark);
    it_produce_file(&c, path, NULL);

    /* The DLQ: the records as they came (the marker is in their values),
     * with headers that say why and hold no marker. */
    it_msg *m;
    size_t n = it_read_topic(&c, IT_DLQ, 2, 5, &m);
    cr_assert_eq(n, 2, "the DLQ holds %zu records, want 2", n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_not_null(it_header_get(&m[i], "repute.error"),
                           "DLQ record %zu has no repute.error header", i);
        for (int h = 0; h < m[i].n_h; h++) {
            fprintf(stderr, "[confidential] DLQ %zu: %s: %s\n", i,
                    m[i].h[h].name, m[i].h[h].value);
            cr_assert_null(strstr(m[i].h[h].value, g_mark),
                           "DLQ header %s holds the reporter: %s",
                           m[i].h[h].name, m[i].h[h].value);
        }
    }
    it_msgs_free(m, n);

    /* HTTP: every page, with the reported accounts' own. */
    const char *const accounts[] = {"spamtrap-0",  "internal-0", "blocklist-0",
                                    "link-src",    "link-dst",   "conf-raw",
                                    "conf-future", NULL};
    it_http_assert_absent(port, accounts, g_mark);
    it_stop_run(run);

    /* The status topic (tail's output), replay's output and every log. */
    char actual[IT_PATH_MAX], expected[IT_PATH_MAX];
    snprintf(actual, sizeof(actual), "%s/actual.jsonl", c.dir);
    snprintf(expected, sizeof(expected), "%s/expected.jsonl", c.dir);
    it_tail(&c, actual, "3s");
    cr_assert_not(it_file_has(actual, g_mark),
                  "the status topic holds the reporter (%s)", actual);
    cr_assert_not(it_file_has(expected, g_mark),
                  "replay's output holds the reporter (%s)", expected);
    no_log_has_mark(&c);
    it_data_free(&d);
    it_done(&c);
}

Test(confidential, errors_do_not_quote_the_reporter) {
    it_ctx c;
    it_init(&c, "confidential-errors");
    new_mark();
    char path[IT_PATH_MAX];
    snprintf(path, sizeof(path), "%s/bad.jsonl", c.dir);
    /* Each line is refused for a reason at or next to its reporter. */
#define HEAD(n)                                                                \
    "{\"type\":\"report\",\"event_id\":\"bad-" #n "\",\"account_id\":"         \
    "\"conf-bad\",\"event_time\":1767571200000,\"kind\":\"SPAMTRAP\","
    it_write_file(
        path,
        HEAD(1) "\"incidents\":0,\"reporter\":\"%s\"}\n" /* out of range */
        HEAD(2) "\"incidents\":1,\"reporter\":\"%s%09000d\"}\n" /* too long */
        HEAD(3) "\"incidents\":1,\"reporter\":\"%s\" \"detail\":\"x\"}\n" HEAD(
            4) "\"incidents\":1,\"reporter\":\"%s\\x\"}\n" /* bad escape */
        HEAD(5) "\"incidents\":1,\"reporter\":\"%s\",\"reporter\":\"%s\"}"
                "\n" HEAD(
                    6) "\"incidents\":1,\"reporter\":\"%s\n", /* unterminated */
        g_mark, g_mark, 0, g_mark, g_mark, g_mark, g_mark, g_mark);
#undef HEAD

    const char *replay[] = {"replay", "--config", c.rules, path, NULL};
    int st = it_repute(&c, "replay-bad", replay, 60);
    cr_assert_neq(st, 0, "repute replay took the bad lines");
    const char *produce[] = {"produce", "--config",          c.kafka,
                             "--topic", c.topic[IT_REPORTS], path,
                             NULL};
    st = it_repute(&c, "produce-bad", produce, 60);
    cr_assert_neq(st, 0, "repute produce took the bad lines");
    no_log_has_mark(&c);
    it_done(&c);
}
