/*
 * test_security.c - repute against a broker it can reach only through TLS
 * and SASL, and what it must never show (docs/security.md).
 *
 * The test starts a Kafka broker of its own (deploy/kafka-local.sh, a
 * fresh data dir, ports SEC_PORT..SEC_PORT+2) with a SASL_SSL listener
 * whose certificate comes from a CA made for this run
 * (tests/tls/make-ca.sh). The test itself creates the topics and watches
 * the group's offsets over the PLAINTEXT listener; every repute command
 * (produce, run, tail) talks SASL_SSL only, configured with kafka.* keys,
 * and the status topic must equal `repute replay` of the same records.
 *
 * With the same settings but one, two clients must fail: a wrong password
 * is refused by the broker, and a client that trusts another CA refuses
 * the broker's certificate. Both run with librdkafka's debug logs on, the
 * noisiest they can be, and neither those nor any other log, output or
 * HTTP response of the test may hold the password (librdkafka redacts its
 * own configuration dump; repute must not print one either).
 *
 * The HTTP server has no mutating endpoint: every other method on every
 * path gets 405 and changes nothing.
 *
 * SASL mechanism: Kafka 4.x checks the SCRAM nonce strictly (the fix of
 * CVE-2024-56128), and librdkafka before 2.6.1 sends it wrong, so with
 * Debian 12's librdkafka 2.0.2 SCRAM cannot log in to this broker. The
 * test uses SCRAM-SHA-256 when the librdkafka it runs with is 2.6.1 or
 * later, PLAIN (over TLS, as SASL_SSL always is) before that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "support.h"

/* PLAINTEXT; the controller is SEC_PORT + 1, SASL_SSL SEC_PORT + 2. */
#define SEC_PORT 19292
#define SEC_USER "repute-it"

static char g_root[IT_DIR_MAX]; /* broker data and CAs of this run */
static char g_password[64];     /* unique per run: greppable */
static bool g_broker_up;

/* Runs deploy/kafka-local.sh CMD on this test's broker. */
static int broker(const char *cmd) {
    char data[IT_PATH_MAX], tls[IT_PATH_MAX], users[128], port[16],
        sasl_port[16], script[IT_PATH_MAX];
    snprintf(data, sizeof(data), "%s/kafka", g_root);
    snprintf(tls, sizeof(tls), "%s/ca", g_root);
    snprintf(users, sizeof(users), SEC_USER ":%s", g_password);
    snprintf(port, sizeof(port), "%d", SEC_PORT);
    snprintf(sasl_port, sizeof(sasl_port), "%d", SEC_PORT + 2);
    snprintf(script, sizeof(script), "%s/deploy/kafka-local.sh",
             REPUTE_SOURCE_DIR);
    setenv("REPUTE_KAFKA_DATA", data, 1);
    setenv("REPUTE_KAFKA_PORT", port, 1);
    setenv("REPUTE_KAFKA_SASL_SSL_PORT", sasl_port, 1);
    setenv("REPUTE_KAFKA_TLS_DIR", tls, 1);
    setenv("REPUTE_KAFKA_SASL_USERS", users, 1);
    setenv("REPUTE_KAFKA_FRESH", "1", 1);
    setenv("REPUTE_KAFKA_HEAP_OPTS", "-Xmx512m -Xms128m", 1);
    const char *argv[] = {script, cmd, NULL};
    it_proc *p = it_spawn(g_root, cmd, argv, false);
    int st = it_wait(p, 150);
    if (st != 0)
        it_dump_log(p, 40);
    return st;
}

static void sec_fini(void) {
    it_fini();
    if (g_broker_up && broker("stop") == 0)
        g_broker_up = false;
}

TestSuite(security, .fini = sec_fini, .timeout = 280);

static void make_ca(const char *name) {
    char dir[IT_PATH_MAX], script[IT_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s/%s", g_root, name);
    snprintf(script, sizeof(script), "%s/tests/tls/make-ca.sh",
             REPUTE_SOURCE_DIR);
    const char *argv[] = {script, dir, NULL};
    it_proc *p = it_spawn(g_root, "make-ca", argv, true);
    int st = it_wait(p, 60);
    if (st != 0)
        it_dump_log(p, 20);
    cr_assert_eq(st, 0, "tests/tls/make-ca.sh %s: exit status %d", dir, st);
}

/* The SASL_SSL settings of every repute command, appended to the
 * context's kafka.properties (a later line replaces an earlier one). */
static void use_sasl_ssl(it_ctx *c, const char *mechanism) {
    FILE *f = fopen(c->kafka, "a");
    cr_assert_not_null(f);
    fprintf(f,
            "# SASL_SSL only, from test_security.c\n"
            "kafka.bootstrap.servers = 127.0.0.1:%d\n"
            "kafka.security.protocol = SASL_SSL\n"
            "kafka.sasl.mechanisms = %s\n"
            "kafka.sasl.username = " SEC_USER "\n"
            "kafka.sasl.password = %s\n"
            "kafka.ssl.ca.location = %s/ca/ca.pem\n",
            SEC_PORT + 2, mechanism, g_password, g_root);
    cr_assert_eq(fclose(f), 0);
}

/*
 * A one-record `repute produce` with the test's settings and `over` on top,
 * librdkafka's debug logs on: it must fail, and its log must say why
 * (want) and hold no password.
 */
static void produce_must_fail(it_ctx *c, const char *label, const char *over,
                              const char *want) {
    char one[IT_PATH_MAX];
    snprintf(one, sizeof(one), "%s/one.jsonl", c->dir);
    it_write_file(one,
                  "{\"type\":\"delivery\",\"event_id\":\"neg-1\","
                  "\"account_id\":\"neg\",\"event_time\":1767571200000}\n");
    const char *args[] = {"produce",
                          "--config",
                          c->kafka,
                          "--set",
                          over,
                          "--set",
                          "kafka.message.timeout.ms=8000",
                          "--set",
                          "kafka.debug=security,broker,conf",
                          "--set",
                          "log.level=debug",
                          one,
                          NULL};
    double t0 = it_now();
    int st = it_repute(c, label, args, 90);
    fprintf(stderr, "[%s] %s: exit status %d after %.1f s\n", c->name, label,
            st, it_now() - t0);
    cr_assert_neq(st, 0, "%s: repute produce succeeded; it must fail", label);
    char first[IT_PATH_MAX] = "";
    cr_assert_geq(it_logs_with(c->dir, want, first, sizeof(first)), 1,
                  "%s: no log says \"%s\"", label, want);
    cr_assert(strstr(first, label), "\"%s\" is in %s, not in %s's log", want,
              first, label);
}

static void refused(int port, const char *method, const char *path) {
    it_reply r = it_http(port, method, path);
    cr_assert_eq(r.status, 405, "%s %s: status %d, want 405", method, path,
                 r.status);
    it_reply_free(&r);
}

/* Every API path with every method that is not GET or HEAD: 405, and the
 * accounts are the same afterwards. */
static void no_mutating_endpoint(int port, const char *account) {
    static const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH"};
    char one[256];
    snprintf(one, sizeof(one), "/v1/accounts/%s", account);
    it_reply before = it_http(port, "GET", "/v1/accounts");
    it_reply before1 = it_http(port, "GET", one);
    cr_assert_eq(before.status, 200);
    cr_assert_eq(before1.status, 200, "GET %s: %d", one, before1.status);
    for (size_t m = 0; m < 4; m++) {
        for (size_t i = 0; it_http_pages[i]; i++)
            refused(port, methods[m], it_http_pages[i]);
        refused(port, methods[m], one);
    }
    it_reply after = it_http(port, "GET", "/v1/accounts");
    it_reply after1 = it_http(port, "GET", one);
    cr_assert_str_eq(after.body, before.body,
                     "the accounts changed after the refused requests");
    cr_assert_str_eq(after1.body, before1.body,
                     "%s changed after the refused requests", one);
    it_reply_free(&before);
    it_reply_free(&before1);
    it_reply_free(&after);
    it_reply_free(&after1);
}

Test(security, sasl_ssl_pipeline_and_no_secret_in_sight) {
    double t0 = it_now();
    snprintf(g_root, sizeof(g_root), "/tmp/repute-it-security-%ld",
             (long)getpid());
    snprintf(g_password, sizeof(g_password), "pw-%ld-%lx", (long)getpid(),
             (unsigned long)time(NULL));
    char cmd[IT_PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "mkdir -p %s", g_root);
    cr_assert_eq(system(cmd), 0);
    make_ca("ca");
    make_ca("other-ca");

    /* The broker, fresh, with the SCRAM and PLAIN user of this run. */
    g_broker_up = true;
    cr_assert_eq(broker("start"), 0, "the test's broker did not start");
    double t_broker = it_now();
    fprintf(stderr, "[security] broker up in %.1f s\n", t_broker - t0);

    /* Topics over PLAINTEXT, by the test; everything else over SASL_SSL. */
    char plain[64];
    snprintf(plain, sizeof(plain), "127.0.0.1:%d", SEC_PORT);
    setenv("REPUTE_BOOTSTRAP", plain, 1);
    it_ctx c;
    it_init(&c, "security");
    const char *mechanism =
        rd_kafka_version() >= 0x020601ff ? "SCRAM-SHA-256" : "PLAIN";
    fprintf(stderr, "[security] librdkafka %s: SASL mechanism %s\n",
            rd_kafka_version_str(), mechanism);
    use_sasl_ssl(&c, mechanism);

    /* The pipeline, through SASL_SSL only. */
    it_data d;
    it_gen(&d, 21, 1);
    it_expected(&c, &d);
    it_produce(&c, &d, 0, d.n);
    it_proc *run = it_start_run(&c, NULL);
    int port = it_http_port(run);
    it_check_output(&c, 120);
    double t_pipe = it_now();
    fprintf(stderr, "[security] pipeline checked in %.1f s\n",
            t_pipe - t_broker);

    /* HTTP: nothing mutates, and no response shows the password. */
    no_mutating_endpoint(port, "spamtrap-0");
    const char *const accounts[] = {"spamtrap-0", "link-src", NULL};
    it_http_assert_absent(port, accounts, g_password);
    it_stop_run(run);

    /* The negative checks: each changes one setting of the pipeline's. */
    char wrong_pw[128], other_ca[IT_PATH_MAX + 64];
    snprintf(wrong_pw, sizeof(wrong_pw), "kafka.sasl.password=not-%s",
             g_password);
    produce_must_fail(&c, "produce-wrong-password", wrong_pw,
                      "Authentication failed");
    snprintf(other_ca, sizeof(other_ca),
             "kafka.ssl.ca.location=%s/other-ca/ca.pem", g_root);
    produce_must_fail(&c, "produce-other-ca", other_ca,
                      "certificate verify failed");

    /* No log or output of produce, run, tail or replay holds the password
     * (the wrong one included); the status topic's copy neither. */
    char first[IT_PATH_MAX] = "";
    size_t n = it_logs_with(c.dir, g_password, first, sizeof(first));
    cr_assert_eq(n, 0, "%zu logs hold the password, %s first", n, first);
    char actual[IT_PATH_MAX];
    snprintf(actual, sizeof(actual), "%s/actual.jsonl", c.dir);
    cr_assert_not(it_file_has(actual, g_password));

    it_data_free(&d);
    it_done(&c);
    cr_assert_eq(broker("stop"), 0);
    g_broker_up = false;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", g_root);
    if (!getenv("REPUTE_IT_KEEP"))
        cr_assert_eq(system(cmd), 0);
    fprintf(stderr,
            "[security] negative checks and greps in %.1f s; %.1f s "
            "in all\n",
            it_now() - t_pipe, it_now() - t0);
}
