/*
 * api_served_fixture.h - the served-API fixture of the API tests that need
 * an engine behind the API's own server (test_api_tenants.c,
 * test_api_history.c): a process view of one partition whose engine is
 * the fixture's (the rp_proc_view_* functions, defined here in place of
 * src/runtime/view.c, which these programs do not link), the bundled
 * example fed to that engine, the server on a free loopback port on a loop
 * thread of its own, and GET helpers that parse JSON.
 *
 * Included by one test file per program, once: the view's functions are
 * real definitions, and the helpers are static inline so that a program
 * that uses only some of them builds without warnings.
 */
#ifndef REPUTE_TESTS_API_SERVED_FIXTURE_H
#define REPUTE_TESTS_API_SERVED_FIXTURE_H

#include "loopback.h"

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

static inline void on_stop(uv_async_t *a) {
    rp_api_stop(fx.api);
    uv_close((uv_handle_t *)a, NULL);
}

static inline void *loop_thread(void *arg) {
    (void)arg;
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    return NULL;
}

static inline void on_event(void *opaque, const rp_event *ev) {
    (void)opaque;
    rp_api_note_event(fx.api, ev);
}

/* Applies the bundled example to fx.engine, each event to the API. */
static inline void feed_example(void) {
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

static inline void start(void) {
    char err[512], listen[64];
    memset(&fx, 0, sizeof(fx));
    signal(SIGPIPE, SIG_IGN);
    cr_assert_eq(rp_config_init(&fx.cfg), 0);
    cr_assert_eq(rp_config_load_file(&fx.cfg,
                                     REPUTE_SOURCE_DIR
                                     "/examples/review-and-pause.properties",
                                     err, sizeof(err)),
                 0, "%s", err);
    fx.port = loopback_free_port();
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

static inline void run_loop(void) {
    cr_assert_eq(uv_async_init(&fx.loop, &fx.stop, on_stop), 0);
    cr_assert_eq(pthread_create(&fx.thread, NULL, loop_thread, NULL), 0);
    fx.running = true;
}

static inline void stop(void) {
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

static inline reply get(const char *path) {
    reply r = {0};
    int fd = loopback_connect(fx.port, 15);
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

static inline json_t *get_json(const char *path, int want) {
    reply r = get(path);
    cr_assert_eq(r.status, want, "GET %s: %d, want %d: %s", path, r.status,
                 want, r.body);
    json_error_t e;
    json_t *j = json_loads(r.body, 0, &e);
    cr_assert_not_null(j, "GET %s: %s: %s", path, e.text, r.body);
    free(r.text);
    return j;
}

static inline const char *str(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    cr_assert(json_is_string(v), "%s is not a string", k);
    return json_string_value(v);
}

/* ---------------------------------------------------------------- tests */

#endif
