/*
 * test_api_tenants.c - tenants in the HTTP API (docs/http.md, docs/rules.md
 * section 10): an engine fed the bundled example (where hooli stays
 * HEALTHY while its tenant promotions ends SENDING_PAUSED) is served by
 * the API's own server on a loop thread, through a process view of one
 * ready partition that this file provides in place of the runtime's
 * (src/runtime/view.c is not linked: nothing here references it). The
 * JSON is parsed with jansson: the account's tenants, the tenant's page
 * in the shape of an account's, the attention list's tenant rows and their
 * cursor, the summary's and /metrics' tenant counts.
 *
 * The notifications are fed to the API as `repute run` does
 * (rp_api_note_event from the sink); a last test checks that the ring
 * keeps a copy of the tenant's name, not the event's borrowed pointer,
 * by overwriting the event's memory before the page is read.
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

TestSuite(api_tenants, .fini = stop, .timeout = 60);

Test(api_tenants, an_account_lists_its_tenants_in_name_order) {
    start();
    run_loop();
    json_t *h = get_json("/v1/accounts/hooli", 200);
    cr_assert_str_eq(str(h, "status"), "HEALTHY");
    cr_assert(json_is_null(json_object_get(h, "tenant")));
    json_t *ts = json_object_get(h, "tenants");
    cr_assert_eq(json_array_size(ts), 2);
    cr_assert_str_eq(str(json_array_get(ts, 0), "tenant"), "promotions");
    cr_assert_str_eq(str(json_array_get(ts, 0), "status"), "SENDING_PAUSED");
    cr_assert(json_is_array(json_object_get(json_array_get(ts, 0), "issues")));
    cr_assert_str_eq(str(json_array_get(ts, 1), "tenant"), "receipts");
    cr_assert_str_eq(str(json_array_get(ts, 1), "status"), "HEALTHY");
    /* The tenant's notifications are on its own page. */
    cr_assert_eq(json_array_size(json_object_get(h, "notifications")), 0);
    json_decref(h);
    json_t *acme = get_json("/v1/accounts/acme", 200);
    cr_assert_eq(json_array_size(json_object_get(acme, "tenants")), 0);
    cr_assert_geq(json_array_size(json_object_get(acme, "notifications")), 2);
    json_decref(acme);
}

Test(api_tenants, a_tenant_has_the_shape_of_an_account) {
    start();
    run_loop();
    json_t *t = get_json("/v1/accounts/hooli/tenants/promotions", 200);
    json_t *acme = get_json("/v1/accounts/acme", 200);
    /* Every field of an account's page is on a tenant's. */
    const char *k;
    json_t *v;
    json_object_foreach(acme, k, v) {
        cr_assert_not_null(json_object_get(t, k), "the tenant lacks %s", k);
    }
    cr_assert_str_eq(str(t, "account_id"), "hooli");
    cr_assert_str_eq(str(t, "tenant"), "promotions");
    cr_assert_str_eq(str(t, "status"), "SENDING_PAUSED");
    cr_assert_str_eq(str(t, "account_status"), "HEALTHY");
    json_t *b = json_object_get(t, "bounce");
    cr_assert_str_eq(str(b, "status"), "SENDING_PAUSE");
    cr_assert_float_eq(json_real_value(json_object_get(b, "pause_threshold")),
                       fx.cfg.tenant_bounce_pause_rate, 1e-12);
    cr_assert_gt(json_array_size(json_object_get(t, "hours")), 0);
    json_t *is = json_object_get(t, "issues");
    cr_assert_eq(json_array_size(is), 1);
    cr_assert_str_eq(str(json_array_get(is, 0), "kind"), "BOUNCE_RATE");
    json_t *notes = json_object_get(t, "notifications");
    cr_assert_geq(json_array_size(notes), 2);
    cr_assert_str_eq(str(json_array_get(notes, 0), "stage"), "SENDING_PAUSED");
    cr_assert(strstr(str(json_array_get(notes, 0), "why"), "promotions"));
    cr_assert_str_eq(str(json_array_get(notes, 0), "account_status"),
                     "SENDING_PAUSED", "a tenant's note: the tenant status");
    json_decref(t);
    json_decref(acme);
    /* The tenant's hours are its own: fewer sends than its account's. */
    json_t *h = get_json("/v1/accounts/hooli", 200);
    t = get_json("/v1/accounts/hooli/tenants/receipts", 200);
    cr_assert_str_eq(str(t, "status"), "HEALTHY");
    cr_assert_lt(json_integer_value(
                     json_object_get(json_object_get(t, "bounce"), "volume")),
                 json_integer_value(
                     json_object_get(json_object_get(h, "bounce"), "volume")));
    json_decref(t);
    json_decref(h);
}

Test(api_tenants, unknown_tenants_and_bad_paths) {
    start();
    run_loop();
    json_t *nf = get_json("/v1/accounts/hooli/tenants/nope", 404);
    cr_assert_str_eq(str(nf, "tenant"), "nope");
    cr_assert_str_eq(str(nf, "account_id"), "hooli");
    json_decref(nf);
    nf = get_json("/v1/accounts/nobody/tenants/promotions", 404);
    cr_assert_str_eq(str(nf, "account_id"), "nobody");
    cr_assert_null(json_object_get(nf, "tenant"), "the account is unknown");
    json_decref(nf);
    json_decref(get_json("/v1/accounts/hooli/tenants/", 400));
    json_decref(get_json("/v1/accounts//tenants/x", 400));
    char path[700];
    int n = snprintf(path, sizeof(path), "/v1/accounts/hooli/tenants/");
    memset(path + n, 't', 300);
    path[n + 300] = '\0';
    json_decref(get_json(path, 400));
}

Test(api_tenants, the_attention_list_shows_tenants_with_their_account) {
    start();
    run_loop();
    json_t *l = get_json("/v1/accounts?status=SENDING_PAUSED", 200);
    json_t *a = json_object_get(l, "accounts");
    cr_assert_eq(json_array_size(a), 2, "acme and hooli's promotions");
    cr_assert_str_eq(str(json_array_get(a, 0), "account_id"), "acme");
    cr_assert(json_is_null(json_object_get(json_array_get(a, 0), "tenant")));
    cr_assert_str_eq(str(json_array_get(a, 1), "account_id"), "hooli");
    cr_assert_str_eq(str(json_array_get(a, 1), "tenant"), "promotions");
    json_decref(l);
    /* q finds a tenant by its name too. */
    l = get_json("/v1/accounts?status=SENDING_PAUSED&q=promo", 200);
    cr_assert_eq(json_array_size(json_object_get(l, "accounts")), 1);
    json_decref(l);
    /* Every status: accounts and the tenants not HEALTHY, paged. */
    l = get_json("/v1/accounts?limit=4", 200);
    a = json_object_get(l, "accounts");
    cr_assert_eq(json_array_size(a), 4);
    cr_assert_str_eq(str(json_array_get(a, 3), "account_id"), "hooli");
    cr_assert(json_is_null(json_object_get(json_array_get(a, 3), "tenant")));
    cr_assert_str_eq(str(l, "next"), "hooli");
    cr_assert(json_is_null(json_object_get(l, "next_tenant")));
    json_decref(l);
    l = get_json("/v1/accounts?limit=1&after=hooli", 200);
    a = json_object_get(l, "accounts");
    cr_assert_str_eq(str(json_array_get(a, 0), "tenant"), "promotions",
                     "after an account come its tenants");
    cr_assert_str_eq(str(l, "next_tenant"), "promotions");
    json_decref(l);
    l = get_json("/v1/accounts?after=hooli&after_tenant=promotions", 200);
    a = json_object_get(l, "accounts");
    cr_assert_eq(json_array_size(a), 1);
    cr_assert_str_eq(str(json_array_get(a, 0), "account_id"), "initech");
    json_decref(l);
    json_decref(get_json("/v1/accounts?after_tenant=x", 400));
}

Test(api_tenants, summary_and_metrics_count_tenants) {
    start();
    run_loop();
    json_t *s = get_json("/v1/summary", 200);
    cr_assert_eq(json_integer_value(json_object_get(s, "tenants")), 2);
    json_t *by = json_object_get(s, "tenants_by_status");
    cr_assert_eq(json_integer_value(json_object_get(by, "SENDING_PAUSED")), 1);
    cr_assert_eq(json_integer_value(json_object_get(by, "HEALTHY")), 1);
    json_decref(s);
    reply r = get("/metrics");
    cr_assert_eq(r.status, 200);
    const char *want[] = {
        "repute_tenants{status=\"SENDING_PAUSED\"} 1\n",
        "repute_tenants{status=\"HEALTHY\"} 1\n",
        "repute_tenants{status=\"UNDER_REVIEW\"} 0\n",
        "repute_tenants_held 2\n",
        "# TYPE repute_tenant_overflows_total counter\n",
        "repute_tenant_overflows_total 0\n",
        "repute_tenants_forgotten_total 0\n",
        "repute_accounts{status=\"HEALTHY\"} 3\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
        cr_assert(strstr(r.body, want[i]), "/metrics lacks %s", want[i]);
    free(r.text);
}

/* The ring copies the tenant's name: the event's strings borrow engine
 * memory, which a forgotten tenant gives back. */
Test(api_tenants, a_note_keeps_its_own_copy_of_the_tenant) {
    start();
    char acc[] = "hooli", ten[] = "promotions";
    rp_notification n = {.issue = RP_ISSUE_SPAMTRAP,
                         .stage = RP_STAGE_REVIEW_STARTED,
                         .account_status = RP_ASTATUS_UNDER_REVIEW,
                         .tenant = {ten, strlen(ten)}};
    rp_event ev = {.account_id = {acc, strlen(acc)},
                   .sequence = 1000,
                   .event_time = rp_engine_clock(fx.engine),
                   .kind = RP_EVENT_NOTIFICATION,
                   .notification = &n,
                   .tenant = {ten, strlen(ten)}};
    rp_api_note_event(fx.api, &ev);
    memset(ten, 'X', strlen(ten)); /* the engine's memory, reused */
    run_loop();
    json_t *t = get_json("/v1/accounts/hooli/tenants/promotions", 200);
    json_t *n0 = json_array_get(json_object_get(t, "notifications"), 0);
    cr_assert_eq(json_integer_value(json_object_get(n0, "sequence")), 1000);
    cr_assert_str_eq(str(n0, "issue"), "SPAMTRAP");
    cr_assert(strstr(str(n0, "why"), "promotions"), "%s", str(n0, "why"));
    cr_assert_null(strstr(str(n0, "why"), "XXXX"));
    json_decref(t);
}
