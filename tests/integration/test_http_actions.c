/*
 * test_http_actions.c - an action posted over HTTP to one instance of
 * `repute run` takes effect on the instance that owns the account
 * (docs/api-actions.md), against the real broker.
 *
 * Two instances share one group. An INTERNAL_REVIEW report (a manual kind,
 * threshold 1) puts the account "acme" in PENDING_END_OF_REVIEW_DECISION
 * on whichever instance owns its partition; the test asks both which one
 * that is (GET /v1/accounts/acme: 200 on the owner, 404 with "owned":
 * false on the other), then posts PAUSE_SENDING, as an operator, to the
 * other one. It must answer 202 with the partition the account maps to and
 * an offset; the record at that offset of topic.actions must be keyed by
 * the account and decode to the action, issue, note and event_id posted;
 * the owner must then show the account SENDING_PAUSED, and topic.status
 * must carry the STATUS_CHANGE. A retry with the same event_id (what a
 * client does after a 503) is accepted again and dropped by the owner's
 * engine as a duplicate. A tenant's action is accepted with its tenant.
 * The note must appear in no log line of either instance. A viewer's POST
 * is a 403 on both.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repute/avro.h"
#include "support.h"

TestSuite(http_actions, .fini = it_fini, .timeout = 240);

#define NOTE "Owner confirmed a compromised key; pausing (it-note-7731)"

static void token_add(it_ctx *c, const char *file, const char *name,
                      const char *role, char *out, size_t size) {
    char path[IT_PATH_MAX], cmd[3 * IT_PATH_MAX];
    snprintf(path, sizeof(path), "%s/token-%s.txt", c->dir, name);
    snprintf(cmd, sizeof(cmd), "%s token add %s %s --file %s >%s 2>/dev/null",
             REPUTE_BINARY, name, role, file, path);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char *t = test_slurp(path, NULL);
    cr_assert_not_null(t);
    t[strcspn(t, "\r\n")] = '\0';
    snprintf(out, size, "%s", t);
    free(t);
}

static it_reply post(int port, const char *path, const char *token,
                     const char *body) {
    char req[8192];
    int n = snprintf(req, sizeof(req),
                     "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     "%s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     path, token, strlen(body), body);
    return it_http_raw(port, req, (size_t)n);
}

static it_reply get(int port, const char *path, const char *token) {
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                     "%s\r\nConnection: close\r\n\r\n",
                     path, token);
    return it_http_raw(port, req, (size_t)n);
}

/* The integer after "\"name\":" in a JSON text, or -1. */
static long long json_int(const char *text, const char *name) {
    char key[64];
    snprintf(key, sizeof(key), "\"%s\":", name);
    const char *p = strstr(text, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* The port of the instance that owns acme, once one does (waits). */
static int owner_of_acme(int ports[2], const char *token, int *other) {
    double until = it_now() + 90;
    while (it_now() < until) {
        for (int i = 0; i < 2; i++) {
            it_reply r = get(ports[i], "/v1/accounts/acme", token);
            bool held = r.status == 200 &&
                        strstr(r.body, "PENDING_END_OF_REVIEW_DECISION");
            it_reply_free(&r);
            if (held) {
                *other = ports[1 - i];
                return ports[i];
            }
        }
        it_sleep(0.5);
    }
    cr_assert_fail("no instance shows acme in review within 90 s");
    return -1;
}

static void check_record(it_ctx *c, int32_t part, int64_t off,
                         const char *event_id) {
    it_msg *m = NULL;
    size_t n = it_read_topic(c, IT_ACTIONS, 1, 5, &m);
    const it_msg *hit = NULL;
    for (size_t i = 0; i < n; i++)
        if (m[i].partition == part && m[i].offset == off)
            hit = &m[i];
    cr_assert_not_null(hit, "no record at %d/%lld of topic.actions (%zu read)",
                       (int)part, (long long)off, n);
    cr_assert_eq(hit->key_len, 4);
    cr_assert(memcmp(hit->key, "acme", 4) == 0, "key %.*s", (int)hit->key_len,
              hit->key);
    char err[512];
    int32_t ids[RP_SCHEMA_ID__COUNT] = {0};
    rp_avro_codec *codec =
        rp_avro_codec_new(RP_FRAMING_PLAIN, ids, err, sizeof(err));
    cr_assert_not_null(codec, "%s", err);
    rp_record rec;
    int rc = rp_avro_decode(codec, RP_REC_ACTION, hit->val, hit->val_len, &rec,
                            err, sizeof(err));
    cr_assert_eq(rc, 0, "decode: %s", err);
    const rp_action *a = &rec.u.action;
    cr_assert(rp_str_eq(rec.account_id, rp_str_c("acme")));
    cr_assert(rp_str_eq(rec.event_id, rp_str_c(event_id)));
    cr_assert_eq(a->action, RP_ACTION_PAUSE_SENDING);
    cr_assert(a->has_issue && a->issue == RP_ISSUE_INTERNAL_REVIEW);
    cr_assert(rp_str_eq(a->note, rp_str_c(NOTE)));
    cr_assert_not(a->has_effective_time);
    cr_assert_null(a->related_account_id.ptr);
    cr_assert(rp_str_eq(a->actor, rp_str_c("alice")), "actor %.*s",
              (int)a->actor.len, a->actor.ptr);
    rp_avro_codec_destroy(codec);
    it_msgs_free(m, n);
}

Test(http_actions, posted_to_one_instance_applied_by_the_owner) {
    it_ctx c;
    it_init(&c, "http_actions");
    char tokens[IT_PATH_MAX], op[128], viewer[128], set[IT_PATH_MAX + 64];
    snprintf(tokens, sizeof(tokens), "%s/tokens", c.dir);
    token_add(&c, tokens, "alice", "operator", op, sizeof(op));
    token_add(&c, tokens, "vera", "viewer", viewer, sizeof(viewer));
    snprintf(set, sizeof(set), "http.auth.tokens.file=%s", tokens);
    const char *extra[] = {"--set", set, NULL};
    it_proc *r1 = it_start_run(&c, extra);
    it_proc *r2 = it_start_run(&c, extra);
    int ports[2] = {it_http_port(r1), it_http_port(r2)};

    /* A manual-kind report: acme waits for a person's decision. */
    char path[IT_PATH_MAX];
    snprintf(path, sizeof(path), "%s/report.jsonl", c.dir);
    long long now = (long long)(it_now() * 1000);
    it_write_file(
        path,
        "{\"type\":\"report\",\"event_id\":\"r-1\",\"account_id\":"
        "\"acme\",\"event_time\":%lld,\"kind\":\"INTERNAL_REVIEW\"}\n",
        now - 60000);
    it_produce_file(&c, path, NULL);
    int other;
    int owner = owner_of_acme(ports, viewer, &other);
    it_reply r = get(other, "/v1/accounts/acme", viewer);
    cr_assert_eq(r.status, 404, "%d: %s", r.status, r.body);
    cr_assert(strstr(r.body, "\"owned\":false"), "%s", r.body);
    long long part = json_int(r.body, "partition");
    it_reply_free(&r);

    /* A viewer may not act, on either instance. */
    const char *body = "{\"action\":\"PAUSE_SENDING\",\"issue\":"
                       "\"INTERNAL_REVIEW\",\"note\":\"" NOTE "\"}";
    for (int i = 0; i < 2; i++) {
        r = post(ports[i], "/v1/accounts/acme/actions", viewer, body);
        cr_assert_eq(r.status, 403, "%d: %s", r.status, r.body);
        it_reply_free(&r);
    }

    /* The operator acts through the instance that does not own acme. */
    r = post(other, "/v1/accounts/acme/actions", op, body);
    cr_assert_eq(r.status, 202, "%d: %s", r.status, r.body);
    cr_assert(strstr(r.body, "\"actor\":\"alice\""), "%s", r.body);
    cr_assert_eq(json_int(r.body, "partition"), part, "%s", r.body);
    long long off = json_int(r.body, "offset");
    cr_assert_geq(off, 0, "%s", r.body);
    const char *e = strstr(r.body, "\"event_id\":\"");
    cr_assert_not_null(e);
    char event_id[128];
    snprintf(event_id, sizeof(event_id), "%.*s", (int)strcspn(e + 12, "\""),
             e + 12);
    it_reply_free(&r);

    /* The owner applies it. */
    double until = it_now() + 60;
    bool paused = false;
    while (!paused && it_now() < until) {
        r = get(owner, "/v1/accounts/acme", viewer);
        paused = r.status == 200 && strstr(r.body, "\"status\":"
                                                   "\"SENDING_PAUSED\"");
        it_reply_free(&r);
        if (!paused)
            it_sleep(0.3);
    }
    cr_assert(paused, "the owner never showed acme SENDING_PAUSED");
    it_msg *m = NULL;
    size_t n = it_read_topic(&c, IT_STATUS, 3, 5, &m);
    bool change = false;
    for (size_t i = 0; i < n; i++)
        change = change || (strstr(m[i].key, "acme") && m[i].val_len > 0);
    it_msgs_free(m, n);
    cr_assert(change, "no output event for acme on topic.status");

    /* A retry with the same event_id: accepted, and counted once. */
    char retry[1024];
    snprintf(retry, sizeof(retry),
             "{\"action\":\"PAUSE_SENDING\",\"issue\":\"INTERNAL_REVIEW\","
             "\"note\":\"" NOTE "\",\"event_id\":\"%s\"}",
             event_id);
    r = post(other, "/v1/accounts/acme/actions", op, retry);
    cr_assert_eq(r.status, 202, "%d: %s", r.status, r.body);
    cr_assert_gt(json_int(r.body, "offset"), off, "%s", r.body);
    it_reply_free(&r);
    until = it_now() + 60;
    long long dups = 0;
    while (dups < 1 && it_now() < until) {
        r = get(owner, "/metrics", viewer);
        static const char series[] = "\nrepute_duplicates_dropped_total ";
        const char *d = strstr(r.body, series);
        dups = d ? strtoll(d + sizeof(series) - 1, NULL, 10) : 0;
        it_reply_free(&r);
        if (dups < 1)
            it_sleep(0.3);
    }
    cr_assert_geq(dups, 1, "the retry was not dropped as a duplicate");

    /* A tenant's action: accepted with its tenant. */
    r = post(other, "/v1/accounts/acme/tenants/brand-a/actions", op,
             "{\"action\":\"EXTEND_REVIEW\"}");
    cr_assert_eq(r.status, 202, "%d: %s", r.status, r.body);
    cr_assert(strstr(r.body, "\"tenant\":\"brand-a\""), "%s", r.body);
    cr_assert_eq(json_int(r.body, "partition"), part, "%s", r.body);
    it_reply_free(&r);

    /* The note is in the record, never in a log line. */
    char first[IT_PATH_MAX] = "";
    cr_assert_eq(it_logs_with(c.dir, "it-note-7731", first, sizeof(first)), 0,
                 "the note is in %s", first);
    cr_assert(it_log_has(r1, "PAUSE_SENDING INTERNAL_REVIEW on \"acme\"") ||
                  it_log_has(r2, "PAUSE_SENDING INTERNAL_REVIEW on \"acme\""),
              "no log line of the accepted action");

    it_stop_run(r1);
    it_stop_run(r2);
    check_record(&c, (int32_t)part, off, event_id);
    it_done(&c);
}
