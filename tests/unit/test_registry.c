/*
 * test_registry.c - the schema registry client (repute/registry.h) and its
 * configuration keys.
 *
 * The parsers of the registry's answers are held to real answers (taken
 * from Apicurio Registry's Confluent API, tests/fuzz/corpus/registry/)
 * and to every truncation of them, which must fail with a reason and
 * never read past the end. The client itself is held, without a real
 * registry, to a small HTTP server in a thread of this test that answers
 * each connection with a canned response: the list of URLs tried in turn
 * (an unreachable URL and a 5xx pass the request on, a 4xx ends it), the
 * cache (a second look-up makes no request), the mapping of answers to
 * codes, and basic authentication on the wire. The integration test
 * test_registry holds it to a real registry.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "repute/config.h"
#include "repute/registry.h"

#define CORPUS REPUTE_SOURCE_DIR "/tests/fuzz/corpus/registry/"

static char *slurp(const char *name, size_t *len) {
    char path[512];
    snprintf(path, sizeof(path), CORPUS "%s", name);
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

/* ---------------------------------------------------------------- parsers */

Test(registry_parse, schema_of_a_real_answer) {
    size_t n;
    char *body = slurp("schema-delivery.json", &n), *json, e[256];
    cr_assert_eq(rp_registry_parse_schema(body, n, &json, e, sizeof(e)), 0,
                 "%s", e);
    cr_assert(strstr(json, "\"name\": \"Delivery\""));
    char name[128];
    cr_assert_eq(rp_registry_record_name(json, name, sizeof(name)), 0);
    cr_assert_str_eq(name, "repute.v1.Delivery");
    free(json);
    /* Every truncation is refused with a reason (a copy of exactly k bytes,
     * so that a read past them is caught under the sanitizers). */
    for (size_t k = 0; k < n - 1; k++) {
        char *cut = malloc(k ? k : 1);
        memcpy(cut, body, k);
        e[0] = '\0';
        json = (char *)1;
        cr_assert_eq(rp_registry_parse_schema(cut, k, &json, e, sizeof(e)),
                     RP_EBADDATA, "at %zu", k);
        cr_assert_null(json);
        cr_assert(e[0], "no reason at %zu", k);
        free(cut);
    }
    free(body);
}

Test(registry_parse, schema_refusals) {
    char *json, e[256];
    const char *bad[] = {
        "{\"schema\":\"{}\",\"schemaType\":\"PROTOBUF\"}",
        "{\"schema\":42}",
        "{\"schema\":\"\"}",
        "{\"schema\":\"a\\u0000b\"}",
        "[\"schema\"]",
        "<html>502</html>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        e[0] = '\0';
        cr_assert_eq(rp_registry_parse_schema(bad[i], strlen(bad[i]), &json, e,
                                              sizeof(e)),
                     RP_EBADDATA, "%s", bad[i]);
        cr_assert(e[0]);
    }
    const char *ok = "{\"schema\":\"\\\"long\\\"\",\"schemaType\":\"AVRO\"}";
    cr_assert_eq(rp_registry_parse_schema(ok, strlen(ok), &json, e, sizeof(e)),
                 0);
    cr_assert_str_eq(json, "\"long\"");
    free(json);
}

Test(registry_parse, id_at_every_truncation) {
    size_t n;
    char *body = slurp("lookup.json", &n), e[256];
    int32_t id = 0;
    cr_assert_eq(rp_registry_parse_id(body, n, &id, e, sizeof(e)), 0);
    cr_assert_eq(id, 1);
    for (size_t k = 0; k < n - 1; k++) {
        e[0] = '\0';
        cr_assert_eq(rp_registry_parse_id(body, k, &id, e, sizeof(e)),
                     RP_EBADDATA, "at %zu", k);
        cr_assert(e[0]);
    }
    free(body);
    const char *bad[] = {"{\"id\":-1}", "{\"id\":2147483648}", "{\"id\":\"1\"}",
                         "{\"id\":1.5}", "{}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(
            rp_registry_parse_id(bad[i], strlen(bad[i]), &id, e, sizeof(e)),
            RP_EBADDATA, "%s", bad[i]);
}

Test(registry_parse, error_messages_are_printable_and_cut) {
    size_t n;
    char *body = slurp("error-409.json", &n), msg[512];
    int code;
    cr_assert_eq(rp_registry_parse_error(body, n, &code, msg, sizeof(msg)), 0);
    cr_assert_eq(code, 409);
    cr_assert(strstr(msg, "Incompatible artifact"));
    for (size_t k = 0; k < n - 1; k++) {
        cr_assert_eq(rp_registry_parse_error(body, k, &code, msg, sizeof(msg)),
                     RP_EBADDATA, "at %zu", k);
        cr_assert_eq(code, 0);
    }
    free(body);
    const char *esc = "{\"message\":\"a\\u001b[31mb\\nc\"}";
    cr_assert_eq(
        rp_registry_parse_error(esc, strlen(esc), &code, msg, sizeof(msg)), 0);
    cr_assert_str_eq(msg, "a?[31mb?c");
    /* Not JSON: the start of the body itself, cut and made printable. */
    char small[12];
    const char *html = "<html>\r\n<b>502 Bad Gateway</b></html>";
    cr_assert_eq(rp_registry_parse_error(html, strlen(html), &code, small,
                                         sizeof(small)),
                 RP_EBADDATA);
    cr_assert_str_eq(small, "<html>??...");
}

Test(registry_parse, config_level) {
    size_t n;
    char *body = slurp("config.json", &n), lvl[32], e[256];
    cr_assert_eq(
        rp_registry_parse_config(body, n, lvl, sizeof(lvl), e, sizeof(e)), 0);
    cr_assert_str_eq(lvl, "NONE");
    for (size_t k = 0; k < n - 1; k++)
        cr_assert_eq(
            rp_registry_parse_config(body, k, lvl, sizeof(lvl), e, sizeof(e)),
            RP_EBADDATA, "at %zu", k);
    free(body);
}

Test(registry_parse, subjects) {
    char s[64];
    cr_assert_eq(rp_registry_subject(RP_SUBJECT_TOPIC, "repute.status",
                                     "repute.v1.ReputationEvent", s, sizeof(s)),
                 0);
    cr_assert_str_eq(s, "repute.status-value");
    rp_registry_subject(RP_SUBJECT_RECORD, "repute.status",
                        "repute.v1.ReputationEvent", s, sizeof(s));
    cr_assert_str_eq(s, "repute.v1.ReputationEvent");
    rp_registry_subject(RP_SUBJECT_TOPIC_RECORD, "repute.status",
                        "repute.v1.ReputationEvent", s, sizeof(s));
    cr_assert_str_eq(s, "repute.status-repute.v1.ReputationEvent");
    cr_assert_eq(rp_registry_subject(RP_SUBJECT_TOPIC, "t", "r", s, 3),
                 RP_ENOSPACE);
    char name[64];
    cr_assert_eq(
        rp_registry_record_name("{\"type\":\"record\",\"name\":\"a.B\","
                                "\"namespace\":\"x\",\"fields\":[]}",
                                name, sizeof(name)),
        0);
    cr_assert_str_eq(name, "a.B");
    cr_assert_eq(rp_registry_record_name("\"long\"", name, sizeof(name)),
                 RP_EINVAL);
}

/* ---------------------------------------------------------------- keys */

Test(registry_config, keys_defaults_and_secret) {
    rp_config cfg;
    char e[512];
    cr_assert_eq(rp_config_init(&cfg), 0);
    cr_assert_str_eq(cfg.registry_url, "");
    cr_assert_eq(cfg.registry_timeout, 10000);
    cr_assert_eq(cfg.subject_strategy, RP_SUBJECT_TOPIC);
    cr_assert(!rp_registry_configured(&cfg));
    cr_assert_eq(rp_config_set(&cfg, "schema.registry.basic.auth.user.info",
                               "alice:s3cret", e, sizeof(e)),
                 0);
    cr_assert_eq(rp_config_set(&cfg, "schema.registry.subject.strategy",
                               "topic_record", e, sizeof(e)),
                 0);
    cr_assert_eq(cfg.subject_strategy, RP_SUBJECT_TOPIC_RECORD);
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    rp_config_dump(&cfg, f);
    fclose(f);
    cr_assert(strstr(text, "schema.registry.basic.auth.user.info = ********"));
    cr_assert_null(strstr(text, "s3cret"));
    cr_assert(strstr(text, "schema.registry.url = \n"));
    free(text);
    /* The registry needs the Confluent framing, and URLs that are URLs. */
    cr_assert_eq(rp_config_set(&cfg, "schema.registry.url",
                               "http://127.0.0.1:1", e, sizeof(e)),
                 0);
    cr_assert_eq(rp_config_validate(&cfg, e, sizeof(e)), RP_EINVAL);
    cr_assert(strstr(e, "avro.framing=confluent"), "%s", e);
    rp_config_set(&cfg, "avro.framing", "confluent", e, sizeof(e));
    cr_assert_eq(rp_config_validate(&cfg, e, sizeof(e)), 0, "%s", e);
    rp_config_set(&cfg, "schema.registry.url", "http://a:1, registry:8081", e,
                  sizeof(e));
    cr_assert_eq(rp_config_validate(&cfg, e, sizeof(e)), RP_EINVAL);
    cr_assert(strstr(e, "registry:8081"), "%s", e);
    rp_config_set(&cfg, "schema.registry.url", "", e, sizeof(e));
    cr_assert(!rp_registry_configured(&cfg));
    rp_config_destroy(&cfg);
}

/* ---------------------------------------------------------------- client */

/* A server that answers each of its connections with the next canned
 * response, and keeps the requests it read. */
typedef struct canned {
    int fd;
    int port;
    const char *answers[4];
    int n_answers;
    char requests[4][4096];
    int served;
} canned;

static void *serve(void *arg) {
    canned *c = arg;
    for (int i = 0; i < c->n_answers; i++) {
        int s = accept(c->fd, NULL, NULL);
        if (s < 0)
            break;
        ssize_t n = 0, k;
        /* Read the head and a body of Content-Length bytes, if any. */
        while (n < 4095 &&
               (k = read(s, c->requests[i] + n, (size_t)(4095 - n))) > 0) {
            n += k;
            c->requests[i][n] = '\0';
            char *end = strstr(c->requests[i], "\r\n\r\n");
            const char *cl = strcasestr(c->requests[i], "Content-Length:");
            if (end && (!cl || (size_t)(c->requests[i] + n - (end + 4)) >=
                                   strtoul(cl + 15, NULL, 10)))
                break;
        }
        const char *a = c->answers[i];
        char resp[8192];
        const char *blank = strstr(a, "\r\n\r\n");
        int len = snprintf(resp, sizeof(resp),
                           "%.*s\r\nContent-Length: %zu"
                           "\r\nConnection: close\r\n\r\n%s",
                           (int)(blank - a), a, strlen(blank + 4), blank + 4);
        if (write(s, resp, (size_t)len) < 0)
            break;
        close(s);
        c->served++;
    }
    return NULL;
}

static pthread_t start(canned *c) {
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t al = sizeof(a);
    getsockname(c->fd, (struct sockaddr *)&a, &al);
    c->port = ntohs(a.sin_port);
    listen(c->fd, 8);
    pthread_t th;
    pthread_create(&th, NULL, serve, c);
    return th;
}

static rp_registry *client(const char *urls, const char *user_info) {
    rp_config cfg;
    char e[512];
    cr_assert_eq(rp_config_init(&cfg), 0);
    rp_config_set(&cfg, "avro.framing", "confluent", e, sizeof(e));
    cr_assert_eq(rp_config_set(&cfg, "schema.registry.url", urls, e, sizeof(e)),
                 0, "%s", e);
    rp_config_set(&cfg, "schema.registry.request.timeout", "5s", e, sizeof(e));
    if (user_info)
        rp_config_set(&cfg, "schema.registry.basic.auth.user.info", user_info,
                      e, sizeof(e));
    rp_registry *r = rp_registry_new(&cfg, e, sizeof(e));
    cr_assert(r, "%s", e);
    rp_config_destroy(&cfg);
    return r;
}

#define OK_SCHEMA                                                              \
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"                \
    "{\"schema\":\"\\\"long\\\"\"}"

Test(registry_client, urls_in_turn_and_cache) {
    canned c = {.answers = {"HTTP/1.1 503 Busy\r\n\r\n{\"message\":\"down\"}",
                            OK_SCHEMA},
                .n_answers = 2};
    pthread_t th = start(&c);
    char urls[256], e[512];
    /* Port 1 refuses; then the server: a 503, then itself again. */
    snprintf(urls, sizeof(urls),
             "http://127.0.0.1:1,http://u:pw@127.0.0.1:%d/,http://127.0.0.1:%d",
             c.port, c.port);
    rp_registry *r = client(urls, "alice:s3cret");
    const char *json;
    cr_assert_eq(rp_registry_schema(r, 7, &json, e, sizeof(e)), 0, "%s", e);
    cr_assert_str_eq(json, "\"long\"");
    pthread_join(th, NULL);
    cr_assert_eq(c.served, 2);
    cr_assert(strstr(c.requests[1], "GET /schemas/ids/7 HTTP/1.1"));
    /* alice:s3cret in base64. */
    cr_assert(strstr(c.requests[1], "Authorization: Basic YWxpY2U6czNjcmV0"),
              "%s", c.requests[1]);
    /* Cached: no server any more, the same answer. */
    close(c.fd);
    cr_assert_eq(rp_registry_schema(r, 7, &json, e, sizeof(e)), 0, "%s", e);
    cr_assert_str_eq(json, "\"long\"");
    /* Unreachable: RP_EIO with the last failure, no credentials. */
    cr_assert_eq(rp_registry_schema(r, 8, &json, e, sizeof(e)), RP_EIO);
    cr_assert(strstr(e, "127.0.0.1"), "%s", e);
    cr_assert_null(strstr(e, "pw"), "%s", e);
    rp_registry_destroy(r);
}

Test(registry_client, answers_and_codes) {
    canned c = {
        .answers = {"HTTP/1.1 404 Not Found\r\n\r\n{\"error_code\":40403,"
                    "\"message\":\"No content with id 9\"}",
                    "HTTP/1.1 409 Conflict\r\n\r\n{\"error_code\":409,"
                    "\"message\":\"Incompatible artifact\"}",
                    "HTTP/1.1 200 OK\r\n\r\n{\"id\":12,\"version\":1}",
                    "HTTP/1.1 404 Not Found\r\n\r\n{\"error_code\":40401,"
                    "\"message\":\"No artifact\"}"},
        .n_answers = 4};
    pthread_t th = start(&c);
    char urls[64], e[512];
    snprintf(urls, sizeof(urls), "http://127.0.0.1:%d", c.port);
    rp_registry *r = client(urls, NULL);
    const char *json;
    int32_t id = 0;
    cr_assert_eq(rp_registry_schema(r, 9, &json, e, sizeof(e)), RP_ENOTFOUND);
    cr_assert(strstr(e, "No content with id 9"), "%s", e);
    cr_assert_eq(
        rp_registry_register(r, "s-value", "\"long\"", &id, e, sizeof(e)),
        RP_ECONTRACT);
    cr_assert(strstr(e, "Incompatible artifact"), "%s", e);
    cr_assert_eq(
        rp_registry_register(r, "a b/c", "\"long\"", &id, e, sizeof(e)), 0,
        "%s", e);
    cr_assert_eq(id, 12);
    cr_assert_eq(
        rp_registry_lookup(r, "s-value", "\"long\"", &id, e, sizeof(e)),
        RP_ENOTFOUND);
    pthread_join(th, NULL);
    cr_assert(strstr(c.requests[1], "POST /subjects/s-value/versions "));
    cr_assert(strstr(c.requests[1], "{\"schema\": \"\\\"long\\\"\"}") ||
                  strstr(c.requests[1], "{\"schema\":\"\\\"long\\\"\"}"),
              "%s", c.requests[1]);
    cr_assert(strstr(c.requests[2], "POST /subjects/a%20b%2Fc/versions "));
    cr_assert(strstr(c.requests[3], "POST /subjects/s-value HTTP/1.1"));
    close(c.fd);
    rp_registry_destroy(r);
}
