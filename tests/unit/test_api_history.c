/*
 * test_api_history.c - GET /v1/accounts/{id}/history and its tenant form
 * (docs/history.md, docs/http.md): the bundled example is fed to an
 * engine served by the API's own server (the fixture and the process view
 * of test_api_tenants.c), then an operator's action with an actor and a
 * note; the history of an account that left HEALTHY, of a tenant, of an
 * account that never did (empty), and the 404s.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <uv.h>

#include "repute/api.h"
#include "repute/config.h"
#include "repute/engine.h"
#include "repute/jsonl.h"
#include "repute/procview.h"

/* ---------------------------------------------------------------- the view */

/* One partition (0), assigned and restored, whose task's engine is fx's. */
static rp_engine *view_engine;

bool rp_proc_view_exactly_once(const rp_proc_view *v) {
    (void)v;
    return false;
}
bool rp_proc_view_stopping(const rp_proc_view *v) {
    (void)v;
    return false;
}
bool rp_proc_view_assigned(const rp_proc_view *v) {
    (void)v;
    return true;
}
bool rp_proc_view_ready(const rp_proc_view *v) {
    (void)v;
    return true;
}
int rp_proc_view_tasks(const rp_proc_view *v) {
    (void)v;
    return 1;
}
int rp_proc_view_restoring(const rp_proc_view *v) {
    (void)v;
    return 0;
}
int32_t rp_proc_view_partitions(const rp_proc_view *v) {
    (void)v;
    return 1;
}
const rp_engine *rp_proc_view_engine(const rp_proc_view *v, int32_t partition,
                                     bool *ready) {
    (void)v;
    if (ready)
        *ready = true;
    return partition == 0 ? view_engine : NULL;
}
uint64_t rp_proc_view_restored(const rp_proc_view *v, int32_t partition) {
    (void)v, (void)partition;
    return 0;
}
bool rp_proc_view_lag(const rp_proc_view *v, int32_t partition, int topic,
                      int64_t *lag) {
    (void)v, (void)partition, (void)topic, (void)lag;
    return false;
}
int32_t rp_proc_view_partition_of(const rp_proc_view *v, rp_str id) {
    (void)v, (void)id;
    return 0;
}
int64_t rp_proc_view_clock(const rp_proc_view *v) {
    (void)v;
    return rp_engine_clock(view_engine);
}
void rp_proc_view_status_counts(const rp_proc_view *v,
                                uint64_t out[RP_ASTATUS__COUNT]) {
    (void)v;
    rp_engine_status_counts(view_engine, out);
}
void rp_proc_view_counters(const rp_proc_view *v, rp_proc_counters *out) {
    (void)v;
    memset(out, 0, sizeof(*out));
}
int rp_proc_view_threads(const rp_proc_view *v) {
    (void)v;
    return 1;
}
bool rp_proc_view_thread(const rp_proc_view *v, int i, rp_proc_thread *out) {
    (void)v;
    memset(out, 0, sizeof(*out));
    return i == 0;
}

/* ---------------------------------------------------------------- fixture */

typedef struct fixture {
    uv_loop_t loop;
    uv_async_t stop;
    rp_api *api;
    rp_config cfg;
    rp_engine *engine;
    pthread_t thread;
    bool running;
    int port;
} fixture;

static fixture fx;
static const char view_handle = 0; /* the view is opaque: any address */

static void on_stop(uv_async_t *a) {
    rp_api_stop(fx.api);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_thread(void *arg) {
    (void)arg;
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    return NULL;
}

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof(sa);
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &n), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void on_event(void *opaque, const rp_event *ev) {
    (void)opaque;
    rp_api_note_event(fx.api, ev);
}

/* Applies the bundled example to fx.engine, each event to the API. */
static void feed_example(void) {
    FILE *f = fopen(REPUTE_SOURCE_DIR "/examples/review-and-pause.jsonl", "r");
    cr_assert_not_null(f);
    rp_jsonl_reader *rd = rp_jsonl_reader_new();
    rp_engine_sink sink = {.on_event = on_event};
    rp_engine_set_loopback(fx.engine, true);
    char *line = NULL, err[256];
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        rp_record rec;
        int64_t tick;
        int kind =
            rp_jsonl_parse(rd, line, (size_t)n, &rec, &tick, err, sizeof(err));
        cr_assert_geq(kind, 0, "%s", err);
        if (kind == RP_JSONL_RECORD)
            cr_assert_eq(
                rp_engine_apply(fx.engine, &rec, rec.event_time, &sink), 0);
        else if (kind == RP_JSONL_TICK)
            cr_assert_eq(rp_engine_advance(fx.engine, tick, &sink), 0);
    }
    free(line);
    rp_jsonl_reader_destroy(rd);
    fclose(f);
}

static void start(void) {
    char err[512], listen[64];
    memset(&fx, 0, sizeof(fx));
    signal(SIGPIPE, SIG_IGN);
    cr_assert_eq(rp_config_init(&fx.cfg), 0);
    cr_assert_eq(rp_config_load_file(&fx.cfg,
                                     REPUTE_SOURCE_DIR
                                     "/examples/review-and-pause.properties",
                                     err, sizeof(err)),
                 0, "%s", err);
    fx.port = free_port();
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", fx.port);
    cr_assert_eq(
        rp_config_set(&fx.cfg, "http.listen", listen, err, sizeof(err)), 0,
        "%s", err);
    cr_assert_eq(rp_config_validate(&fx.cfg, err, sizeof(err)), 0, "%s", err);
    fx.engine = rp_engine_new(&fx.cfg, err, sizeof(err));
    cr_assert_not_null(fx.engine, "%s", err);
    view_engine = fx.engine;
    cr_assert_eq(uv_loop_init(&fx.loop), 0);
    cr_assert_eq(rp_api_start(&fx.api, &fx.loop, &fx.cfg,
                              (const rp_proc_view *)&view_handle, err,
                              sizeof(err)),
                 0, "%s", err);
    feed_example();
}

static void run_loop(void) {
    cr_assert_eq(uv_async_init(&fx.loop, &fx.stop, on_stop), 0);
    cr_assert_eq(pthread_create(&fx.thread, NULL, loop_thread, NULL), 0);
    fx.running = true;
}

static void stop(void) {
    if (!fx.api)
        return;
    if (fx.running) {
        uv_async_send(&fx.stop);
        cr_assert_eq(pthread_join(fx.thread, NULL), 0);
    } else {
        rp_api_stop(fx.api);
        uv_run(&fx.loop, UV_RUN_DEFAULT);
    }
    cr_assert_eq(uv_loop_close(&fx.loop), 0, "handles left open on the loop");
    rp_api_free(fx.api);
    fx.api = NULL;
    rp_engine_destroy(fx.engine);
    rp_config_destroy(&fx.cfg);
}

/* ---------------------------------------------------------------- client */

typedef struct reply {
    int status;
    char *text; /* head and body, malloc'd */
    const char *body;
} reply;

static reply get(const char *path) {
    reply r = {0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {15, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)fx.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0,
                 "connect: %s", strerror(errno));
    char req[2048];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     path);
    cr_assert_eq(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    size_t got = 0, cap = 1 << 16;
    r.text = malloc(cap);
    ssize_t k;
    while ((k = recv(fd, r.text + got, cap - 1 - got, 0)) > 0) {
        got += (size_t)k;
        if (got + 1 == cap)
            r.text = realloc(r.text, cap *= 2);
    }
    r.text[got] = '\0';
    close(fd);
    cr_assert_eq(sscanf(r.text, "HTTP/1.1 %d", &r.status), 1, "no answer: %s",
                 r.text);
    const char *b = strstr(r.text, "\r\n\r\n");
    r.body = b ? b + 4 : "";
    return r;
}

static json_t *get_json(const char *path, int want) {
    reply r = get(path);
    cr_assert_eq(r.status, want, "GET %s: %d, want %d: %s", path, r.status,
                 want, r.body);
    json_error_t e;
    json_t *j = json_loads(r.body, 0, &e);
    cr_assert_not_null(j, "GET %s: %s: %s", path, e.text, r.body);
    free(r.text);
    return j;
}

static const char *str(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_string(v), "%s is not a string", k);
    return json_string_value(v);
}

/* ---------------------------------------------------------------- tests */

TestSuite(api_history, .fini = stop, .timeout = 60);

/* An action by alice on acme, at the engine's clock. */
static void act(const char *account, const char *tenant, rp_action_type what) {
    rp_record rec;
    rp_record_init(&rec, RP_REC_ACTION);
    rec.event_id = rp_str_c("history-act-1");
    rec.account_id = rp_str_c(account);
    if (tenant)
        rec.tenant = rp_str_c(tenant);
    rec.event_time = rp_engine_clock(fx.engine);
    rec.u.action.action = what;
    rec.u.action.actor = rp_str_c("alice");
    rec.u.action.note = rp_str_c("owner fixed the list \"spring\"");
    cr_assert_eq(rp_engine_apply(fx.engine, &rec, rec.event_time, NULL), 0);
}

Test(api_history, an_account_shows_what_changed_it_newest_first) {
    start();
    act("acme", NULL, RP_ACTION_EXTEND_REVIEW);
    run_loop();
    json_t *h = get_json("/v1/accounts/acme/history", 200);
    cr_assert_str_eq(str(h, "account_id"), "acme");
    cr_assert(json_is_null(json_object_get(h, "tenant")));
    json_t *es = json_object_get(h, "entries");
    cr_assert_gt(json_array_size(es), 2);
    cr_assert_leq(json_array_size(es), 32);
    /* Newest first: the action applied last is first. */
    json_t *first = json_array_get(es, 0);
    cr_assert_str_eq(str(first, "kind"), "action");
    cr_assert_str_eq(str(first, "action"), "EXTEND_REVIEW");
    cr_assert_str_eq(str(first, "actor"), "alice");
    cr_assert_str_eq(str(first, "note"), "owner fixed the list \"spring\"");
    cr_assert(json_is_boolean(json_object_get(first, "applied")));
    cr_assert(json_is_null(json_object_get(first, "issue")));
    /* Times never go up down the list; the oldest entry is the first
     * status change away from HEALTHY. */
    json_int_t prev = 0;
    bool changes = false, notes = false;
    for (size_t i = 0; i < json_array_size(es); i++) {
        json_t *e = json_array_get(es, i);
        /* Milliseconds since the epoch, like every time of the API. */
        json_t *tj = json_object_get(e, "time");
        cr_assert(json_is_integer(tj));
        json_int_t t = json_integer_value(tj);
        cr_assert_gt(t, 1767225600000); /* 2026 */
        if (i)
            cr_assert_leq(t, prev, "%lld after %lld", (long long)t,
                          (long long)prev);
        prev = t;
        const char *k = str(e, "kind");
        if (strcmp(k, "status_change") == 0) {
            changes = true;
            str(e, "from"), str(e, "to"), str(e, "cause");
        } else if (strcmp(k, "notification") == 0) {
            notes = true;
            str(e, "issue"), str(e, "stage");
        }
    }
    cr_assert(changes && notes);
    json_t *last = json_array_get(es, json_array_size(es) - 1);
    if (json_array_size(es) < 32) {
        cr_assert_str_eq(str(last, "kind"), "status_change");
        cr_assert_str_eq(str(last, "from"), "HEALTHY");
    }
    json_decref(h);
}

Test(api_history, a_tenant_has_its_own) {
    start();
    act("hooli", "promotions", RP_ACTION_RESUME_SENDING);
    run_loop();
    json_t *h = get_json("/v1/accounts/hooli/tenants/promotions/history", 200);
    cr_assert_str_eq(str(h, "tenant"), "promotions");
    json_t *es = json_object_get(h, "entries");
    cr_assert_gt(json_array_size(es), 1);
    json_t *first = json_array_get(es, 0);
    /* The resume changed the status: its change is newest, the action
     * right behind it. */
    cr_assert_str_eq(str(first, "kind"), "notification");
    bool saw_action = false;
    for (size_t i = 0; i < json_array_size(es); i++) {
        json_t *e = json_array_get(es, i);
        if (strcmp(str(e, "kind"), "action") == 0) {
            saw_action = true;
            cr_assert_str_eq(str(e, "actor"), "alice");
            cr_assert(json_is_true(json_object_get(e, "applied")));
        }
    }
    cr_assert(saw_action);
    json_decref(h);
    /* The account itself stayed HEALTHY: an empty list, not a 404. */
    h = get_json("/v1/accounts/hooli/history", 200);
    cr_assert_eq(json_array_size(json_object_get(h, "entries")), 0);
    json_decref(h);
}

Test(api_history, unknown_accounts_and_tenants_are_404) {
    start();
    run_loop();
    json_t *h = get_json("/v1/accounts/nobody/history", 404);
    json_decref(h);
    h = get_json("/v1/accounts/hooli/tenants/nobody/history", 404);
    json_decref(h);
    /* The account's own page is still the account's. */
    h = get_json("/v1/accounts/hooli", 200);
    json_decref(h);
}
