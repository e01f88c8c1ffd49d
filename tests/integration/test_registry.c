/*
 * test_registry.c - repute with a real schema registry (issue 14,
 * docs/schemas.md): Apicurio Registry's Confluent API, as
 * deploy/registry-local.sh runs it, at REPUTE_REGISTRY_URL
 * (tests/run-all.sh sets it; without it the tests skip, saying so).
 *
 * The input is written by an independent client, Python's confluent-kafka
 * with its AvroSerializer (tests/integration/registry_client.py, in a venv
 * made by registry-venv.sh), and the output read back with its
 * AvroDeserializer, as a Confluent-style pipeline around repute would.
 *
 * - evolution: the stream in four parts, written with repute's schema, a
 *   newer one (an optional field added, second, so that every field after
 *   it moves), an older one (the last field with a default left out), and
 *   repute's again, plus a few Deliveries written with an incompatible
 *   schema (no message_id, which has no default). Everything decodable
 *   equals `repute replay` of the same records (as JSON lines, tailed by
 *   `repute tail` through the registry, and read by AvroDeserializer); the
 *   incompatible records, and nothing else, are in the DLQ, their reason
 *   naming message_id.
 * - outage: repute reaches the registry through a relay that the test
 *   kills for 20 s while records of a writer schema id it has never seen
 *   arrive. They wait (nothing in the DLQ, the run goes on), the run says
 *   once that the registry is unreachable, and once it is back everything
 *   equals replay.
 * - rejection: the status topic's subject holds an incompatible schema
 *   under BACKWARD compatibility: `repute run` exits 2 with the registry's
 *   message. And with schema.registry.subject.strategy=record, the output
 *   schemas are registered under their record names.
 * - produce: `repute produce` refuses a type whose schema is not
 *   registered (naming the subject), registers with --register, then
 *   looks the ids up; run reads it all as replay does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

TestSuite(registry, .fini = it_fini, .timeout = 400);

static const char *registry_url(void) {
    const char *u = getenv("REPUTE_REGISTRY_URL");
    if (!u || !*u)
        cr_skip_test("REPUTE_REGISTRY_URL is not set: start a registry with "
                     "deploy/registry-local.sh start and export the URL it "
                     "prints (tests/run-all.sh does both)");
    return u;
}

/* The venv's python (made on first use). */
static const char *python(it_ctx *c) {
    static char py[IT_PATH_MAX];
    if (py[0])
        return py;
    const char *argv[] = {
        "/bin/bash", REPUTE_SOURCE_DIR "/tests/integration/registry-venv.sh",
        IT_REGISTRY_VENV, NULL};
    it_proc *p = it_spawn(c->dir, "venv", argv, true);
    int st = it_wait(p, 300);
    if (st != 0)
        it_dump_log(p, 30);
    cr_assert_eq(st, 0, "registry-venv.sh failed (see %s)", p->err);
    snprintf(py, sizeof(py), "%s/bin/python", IT_REGISTRY_VENV);
    return py;
}

#define CLIENT REPUTE_SOURCE_DIR "/tests/integration/registry_client.py"

/* Runs registry_client.py with args (NULL-ended), asserting success. */
static void client(it_ctx *c, const char *label, const char *const *args) {
    const char *argv[32];
    size_t n = 0;
    argv[n++] = python(c);
    argv[n++] = CLIENT;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    it_proc *p = it_spawn(c->dir, label, argv, true);
    int st = it_wait(p, 180);
    if (st != 0)
        it_dump_log(p, 30);
    cr_assert_eq(st, 0, "registry_client.py %s failed (see %s)", args[0],
                 p->err);
}

/* Writes records [from, to) and produces them with one schema variant. */
static void produce_variant(it_ctx *c, const it_data *d, size_t from, size_t to,
                            const char *variant, const char *registry) {
    char in[IT_PATH_MAX], eff[IT_PATH_MAX], label[64];
    snprintf(in, sizeof(in), "%s/in-%zu.jsonl", c->dir, from);
    snprintf(eff, sizeof(eff), "%s/effective.jsonl", c->dir);
    snprintf(label, sizeof(label), "produce-%s-%zu", variant, from);
    it_write(d, from, to, in);
    const char *args[] = {"produce", "--bootstrap", c->bootstrap, "--registry",
                          registry,  "--prefix",    c->prefix,    "--input",
                          in,        "--effective", eff,          "--variant",
                          variant,   NULL};
    client(c, label, args);
}

/* Replays effective.jsonl (what repute should have read) into
 * expected.jsonl, where it_check_output looks. */
static void expect_effective(it_ctx *c) {
    char eff[IT_PATH_MAX], exp[IT_PATH_MAX];
    snprintf(eff, sizeof(eff), "%s/effective.jsonl", c->dir);
    snprintf(exp, sizeof(exp), "%s/expected.jsonl", c->dir);
    const char *argv[] = {REPUTE_BINARY, "replay", "--config",
                          c->rules,      eff,      NULL};
    it_proc *p = it_spawn(c->dir, "replay", argv, true);
    cr_assert_eq(it_wait(p, 120), 0, "replay of %s failed (see %s)", eff,
                 p->err);
    cr_assert_eq(rename(p->out, exp), 0);
}

/* The registry settings, for run and tail (appended to c->kafka). */
static void use_registry(it_ctx *c, const char *url, const char *extra) {
    FILE *f = fopen(c->kafka, "a");
    cr_assert_not_null(f);
    fprintf(f, "avro.framing = confluent\nschema.registry.url = %s\n%s", url,
            extra ? extra : "");
    fclose(f);
}

/* The DLQ holds exactly `want` records; each names `field`. */
static void check_dlq(it_ctx *c, size_t want, const char *field) {
    it_msg *dead;
    size_t n = it_read_topic(c, IT_DLQ, want ? want : 1, 5, &dead);
    cr_assert_eq(n, want, "the DLQ holds %zu records, expected %zu", n, want);
    for (size_t i = 0; i < n; i++) {
        const char *e = it_header_get(&dead[i], "repute.error");
        const char *t = it_header_get(&dead[i], "repute.topic");
        cr_assert(e && t, "a DLQ record without its headers");
        fprintf(stderr, "[%s] DLQ: %s: %s\n", c->name, t, e);
        cr_assert_str_eq(t, c->topic[IT_DELIVERIES]);
        cr_assert(strstr(e, field), "repute.error does not name %s: %s", field,
                  e);
    }
    it_msgs_free(dead, n);
}

/* Reads the status topic with AvroDeserializer; compares with replay. */
static void read_back(it_ctx *c, const char *registry) {
    char exp[IT_PATH_MAX];
    snprintf(exp, sizeof(exp), "%s/expected.jsonl", c->dir);
    const char *args[] = {
        "read",    "--bootstrap",       c->bootstrap, "--registry", registry,
        "--topic", c->topic[IT_STATUS], "--expected", exp,          NULL};
    client(c, "read", args);
}

/* Three Deliveries of existing accounts, at time t. */
static void write_incompatible(const it_data *d, const char *path) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 3; i++)
        fprintf(f,
                "{\"type\":\"delivery\",\"event_id\":\"incompatible-%d\","
                "\"account_id\":\"clean-0\",\"event_time\":%" PRId64
                ",\"message_id\":\"m\",\"recipient\":\"r@example.com\"}\n",
                i, d->t_start + i);
    fclose(f);
}

Test(registry, evolved_writers_and_an_incompatible_one) {
    const char *url = registry_url();
    it_ctx c;
    it_data d;
    it_init(&c, "registry-evo");
    use_registry(&c, url, NULL);
    it_gen(&d, 14, 1);
    size_t q1 = it_split(&d, 0.25), q2 = it_split(&d, 0.5),
           q3 = it_split(&d, 0.75);
    produce_variant(&c, &d, 0, q1, "exact", url);
    /* The incompatible ones first in time: they reach the DLQ whatever
     * else happens. */
    char bad[IT_PATH_MAX], eff[IT_PATH_MAX];
    snprintf(bad, sizeof(bad), "%s/incompatible.jsonl", c.dir);
    snprintf(eff, sizeof(eff), "%s/effective.jsonl", c.dir);
    write_incompatible(&d, bad);
    const char *args[] = {
        "produce",  "--bootstrap", c.bootstrap,    "--registry", url,
        "--prefix", c.prefix,      "--input",      bad,          "--effective",
        eff,        "--variant",   "incompatible", NULL};
    client(&c, "produce-incompatible", args);
    produce_variant(&c, &d, q1, q2, "newer", url);
    produce_variant(&c, &d, q2, q3, "older", url);
    produce_variant(&c, &d, q3, d.n, "exact", url);
    expect_effective(&c);

    it_proc *run = it_start_run(&c, NULL);
    it_check_output(&c, 180);
    check_dlq(&c, 3, "message_id");
    read_back(&c, url);
    cr_assert(it_log_has(run, "schema registry: ReputationEvent is id"));
    it_stop_run(run);
    it_assert_clean_log(run);
    it_data_free(&d);
    it_done(&c);
}

/* Starts the relay and waits until it listens. */
static it_proc *start_relay(it_ctx *c, const char *label,
                            const char *const *argv) {
    it_proc *p = it_spawn(c->dir, label, argv, true);
    for (int i = 0; i < 300 && !it_file_has(p->out, "listening"); i++)
        it_sleep(0.1);
    cr_assert(it_file_has(p->out, "listening"), "the relay did not start");
    return p;
}

Test(registry, an_outage_loses_nothing) {
    const char *url = registry_url();
    it_ctx c;
    it_data d;
    it_init(&c, "registry-outage");
    /* repute reaches the registry through a relay on a port of its own;
     * the producer goes to the registry directly. */
    const char *host = strstr(url, "://");
    cr_assert_not_null(host);
    host += 3;
    char to[128], proxied[256], port[16];
    snprintf(to, sizeof(to), "%.*s", (int)strcspn(host, "/"), host);
    int pport = 20000 + (int)(getpid() % 20000);
    snprintf(port, sizeof(port), "%d", pport);
    snprintf(proxied, sizeof(proxied), "http://127.0.0.1:%d%s", pport,
             host + strcspn(host, "/"));
    const char *pargs[] = {python(&c), CLIENT, "proxy", "--port",
                           port,       "--to", to,      NULL};
    it_proc *relay = start_relay(&c, "proxy-1", pargs);
    use_registry(&c, proxied, "schema.registry.request.timeout = 2s\n");

    it_gen(&d, 15, 1);
    size_t half = it_split(&d, 0.5);
    produce_variant(&c, &d, 0, half, "exact", url);
    it_proc *run = it_start_run(&c, NULL);
    for (int t = IT_DELIVERIES; t <= IT_ACTIONS; t++)
        cr_assert(it_wait_committed(&c, t, 120),
                  "the first half was not committed");

    /* The registry goes away; a writer id repute never saw arrives. */
    it_kill9(relay);
    produce_variant(&c, &d, half, d.n, "newer", url);
    expect_effective(&c);
    it_sleep(20);
    cr_assert(it_alive(run), "run stopped while the registry was away");
    cr_assert(it_log_has(run, "schema registry unreachable"),
              "no log line says that the registry is unreachable");
    it_reply m = it_http(it_http_port(run), "GET", "/metrics");
    cr_assert(strstr(m.body, "repute_schema_registry_unreachable 1"),
              "/metrics does not show the outage");
    it_reply_free(&m);
    it_msg *dead;
    size_t n = it_read_topic(&c, IT_DLQ, 1, 2, &dead);
    cr_assert_eq(n, 0, "%zu records went to the DLQ during the outage", n);
    it_msgs_free(dead, n);

    relay = start_relay(&c, "proxy-2", pargs);
    it_check_output(&c, 180);
    cr_assert(it_log_has(run, "answers again"));
    check_dlq(&c, 0, "");
    it_stop_run(run);
    it_kill9(relay);
    it_assert_clean_log(run);
    it_data_free(&d);
    it_done(&c);
}

Test(registry, a_rejected_output_schema_stops_run_with_status_2) {
    const char *url = registry_url();
    it_ctx c;
    it_init(&c, "registry-reject");
    use_registry(&c, url, NULL);
    char subject[256];
    snprintf(subject, sizeof(subject), "%s-value", c.topic[IT_STATUS]);
    const char *args[] = {"reject",    "--registry", url,
                          "--subject", subject,      NULL};
    client(&c, "reject", args);
    it_proc *run = it_start_run(&c, NULL);
    int st = it_wait(run, 60);
    cr_assert_eq(st, 2, "run: exit status %d, expected 2", st);
    cr_assert(it_log_has(run, "rejected"), "no word of the rejection");
    cr_assert(it_log_has(run, subject), "the subject is not named");
    it_assert_clean_log(run);

    /* The record name strategy: repute.v1.ReputationEvent, and a run that
     * starts. */
    const char *extra[] = {"--set", "schema.registry.subject.strategy=record",
                           NULL};
    run = it_start_run(&c, extra);
    for (int i = 0; i < 600 && !it_log_has(run, "run: ready"); i++)
        it_sleep(0.1);
    cr_assert(it_log_has(run, "under repute.v1.ReputationEvent"),
              "ReputationEvent not registered under its record name");
    cr_assert(it_log_has(run, "under repute.v1.Report"));
    it_stop_run(run);
    it_assert_clean_log(run);
    it_done(&c);
}

/* `repute produce` with a registry: without --register it refuses the
 * types not registered, naming the subject; --register registers them;
 * then it looks the ids up, and run reads what it wrote (through the
 * registry, as tail does) exactly as replay. */
Test(registry, produce_registers_or_looks_up) {
    const char *url = registry_url();
    it_ctx c;
    it_data d;
    it_init(&c, "registry-produce");
    use_registry(&c, url, NULL);
    it_gen(&d, 16, 1);
    it_expected(&c, &d);
    char first[IT_PATH_MAX];
    snprintf(first, sizeof(first), "%s/first.jsonl", c.dir);
    it_write(&d, 0, 1, first);
    const char *look[] = {"produce", "--config", c.kafka, first, NULL};
    cr_assert_eq(it_repute(&c, "produce-unregistered", look, 60), 1);
    char subject[300];
    snprintf(subject, sizeof(subject),
             "is not registered under subject %s-value", c.topic[d.v[0].type]);
    cr_assert_eq(it_logs_with(c.dir, subject, NULL, 0), 1,
                 "produce does not name the subject (%s)", subject);
    const char *reg[] = {"produce",    "--config", c.kafka,
                         "--register", first,      NULL};
    cr_assert_eq(it_repute(&c, "produce-register", reg, 60), 0);
    it_produce(&c, &d, 1, d.n);
    it_proc *run = it_start_run(&c, NULL);
    it_check_output(&c, 180);
    check_dlq(&c, 0, "");
    it_stop_run(run);
    it_assert_clean_log(run);
    it_data_free(&d);
    it_done(&c);
}
