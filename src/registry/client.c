/*
 * client.c - the schema registry client (repute/registry.h): requests over
 * libcurl, the list of URLs, and the cache of schemas by id.
 *
 * Each request makes its own curl easy handle. A handle per request costs
 * a connection set-up each time, but requests are rare (one per new
 * writer schema id, a handful at start-up), and it makes the client safe
 * to call from libuv's worker threads at once without a pool of handles
 * to share. CURLOPT_NOSIGNAL keeps libcurl's timeouts off signals, which
 * threads cannot use.
 *
 * schema.registry.url is a comma list of base URLs (Confluent's clients
 * read it the same way). A request goes to the first; when that one
 * cannot be reached (connection refused, time-out, TLS failure) or
 * answers with a 5xx status, it goes to the next, and so on. A 2xx or
 * 4xx answer is the registry's word and ends the request. When no URL
 * answered, the request fails with RP_EIO and the last failure in errstr:
 * the caller treats that as "unreachable, try again later", never as a
 * verdict on a record.
 *
 * An answer is read up to MAX_BODY bytes; a registry that sends more is
 * broken (the largest legitimate answer is a schema of a few kilobytes)
 * and the request fails as unreachable would, since nothing was decided.
 *
 * The base URL appears in error messages with any user:password@ part
 * taken out (docs/security.md: secrets reach no log line); the basic-auth
 * user info of schema.registry.basic.auth.user.info never does.
 */
#include "repute/registry.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#define MAX_BODY   (4u << 20)
#define MAX_URLS   16
#define CTYPE_JSON "Content-Type: application/vnd.schemaregistry.v1+json"

typedef struct cached {
    int32_t id;
    char *json;
} cached;

struct rp_registry {
    char *urls[MAX_URLS]; /* base URLs without a trailing '/' */
    int n_urls;
    char *user_info; /* NULL when none */
    char *ca;        /* NULL when none */
    long timeout_ms;
    pthread_mutex_t mu; /* guards the cache */
    cached *cache;
    size_t n_cache, cap_cache;
};

bool rp_registry_configured(const rp_config *cfg) {
    return cfg->registry_url && *cfg->registry_url;
}

static void err(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err(char *errstr, size_t errstr_size, const char *fmt, ...) {
    if (!errstr || !errstr_size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

static char *dup_or_null(const char *s) {
    return s && *s ? strdup(s) : NULL;
}

/* Splits the comma list into r->urls. Returns 0 or a negative code. */
static int split_urls(rp_registry *r, const char *list, char *errstr,
                      size_t errstr_size) {
    const char *u = list;
    while (*u) {
        while (*u == ' ' || *u == ',')
            u++;
        size_t n = strcspn(u, ",");
        const char *next = u + n;
        while (n && u[n - 1] == ' ')
            n--;
        while (n && u[n - 1] == '/')
            n--;
        if (n) {
            if (r->n_urls == MAX_URLS) {
                err(errstr, errstr_size,
                    "schema.registry.url: more than %d URLs", MAX_URLS);
                return RP_EINVAL;
            }
            if (!(r->urls[r->n_urls++] = strndup(u, n)))
                return RP_ENOMEM;
        }
        u = next;
    }
    if (!r->n_urls) {
        err(errstr, errstr_size, "schema.registry.url: no URL given");
        return RP_EINVAL;
    }
    return 0;
}

rp_registry *rp_registry_new(const rp_config *cfg, char *errstr,
                             size_t errstr_size) {
    if (!rp_registry_configured(cfg)) {
        err(errstr, errstr_size, "schema.registry.url: not set");
        return NULL;
    }
    /* Not thread-safe, and a no-op after the first call: made here, on the
     * main thread, before any worker uses libcurl. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        err(errstr, errstr_size, "schema registry: libcurl failed to start");
        return NULL;
    }
    rp_registry *r = calloc(1, sizeof(*r));
    if (!r)
        goto nomem;
    pthread_mutex_init(&r->mu, NULL);
    r->timeout_ms = (long)cfg->registry_timeout;
    int rc = split_urls(r, cfg->registry_url, errstr, errstr_size);
    if (rc == RP_ENOMEM)
        goto nomem;
    if (rc)
        goto fail;
    r->user_info = dup_or_null(cfg->registry_user_info);
    r->ca = dup_or_null(cfg->registry_ca);
    if ((cfg->registry_user_info && *cfg->registry_user_info &&
         !r->user_info) ||
        (cfg->registry_ca && *cfg->registry_ca && !r->ca))
        goto nomem;
    return r;
nomem:
    err(errstr, errstr_size, "schema registry: out of memory");
fail:
    rp_registry_destroy(r);
    return NULL;
}

void rp_registry_destroy(rp_registry *r) {
    if (!r)
        return;
    for (int i = 0; i < r->n_urls; i++)
        free(r->urls[i]);
    if (r->user_info) {
        memset(r->user_info, 0, strlen(r->user_info));
        free(r->user_info);
    }
    free(r->ca);
    for (size_t i = 0; i < r->n_cache; i++)
        free(r->cache[i].json);
    free(r->cache);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ------------------------------------------------------------- requests */

typedef struct body {
    char *p;
    size_t n, cap;
    bool too_big;
} body;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
    body *b = ud;
    size_t n = size * nmemb;
    if (b->n + n > MAX_BODY) {
        b->too_big = true;
        return 0; /* makes libcurl fail the transfer */
    }
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, ptr, n);
    b->n += n;
    b->p[b->n] = '\0';
    return n;
}

/* The base URL for a message: scheme and host, without user:password@. */
static void url_for_log(const char *url, char *buf, size_t size) {
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *at = strchr(host, '@');
    const char *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        snprintf(buf, size, "%.*s%s", (int)(host - url), url, at + 1);
    else
        snprintf(buf, size, "%s", url);
}

/* One request to one base URL. Returns 0 with *status and the body, or
 * RP_EIO (no answer) with errstr. */
static int request_one(rp_registry *r, const char *base, const char *method,
                       const char *path, const char *payload, long *status,
                       body *b, char *errstr, size_t errstr_size) {
    char url[2048], where[512];
    snprintf(url, sizeof(url), "%s%s", base, path);
    url_for_log(base, where, sizeof(where));
    CURL *h = curl_easy_init();
    if (!h) {
        err(errstr, errstr_size, "%s: libcurl failed to start", where);
        return RP_EIO;
    }
    char cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, CTYPE_JSON);
    hdrs = curl_slist_append(hdrs,
                             "Accept: application/vnd.schemaregistry.v1+json, "
                             "application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "repute");
    if (r->user_info) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERPWD, r->user_info);
    }
    if (r->ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, r->ca);
    if (payload) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode cc = curl_easy_perform(h);
    int rc = 0;
    if (cc != CURLE_OK) {
        err(errstr, errstr_size, "%s: %s", where,
            b->too_big ? "answer larger than 4 MiB"
            : *cerr    ? cerr
                       : curl_easy_strerror(cc));
        rc = RP_EIO;
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
        if (*status >= 500) {
            char msg[256];
            int code;
            rp_registry_parse_error(b->p, b->n, &code, msg, sizeof(msg));
            err(errstr, errstr_size, "%s: HTTP %ld: %s", where, *status, msg);
            rc = RP_EIO;
        }
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}

/* A request to the first URL that answers (see the essay). On 0, *status
 * is the HTTP status and *b the body (the caller frees b->p). */
static int request(rp_registry *r, const char *method, const char *path,
                   const char *payload, long *status, body *b, char *errstr,
                   size_t errstr_size) {
    int rc = RP_EIO;
    for (int i = 0; i < r->n_urls; i++) {
        free(b->p);
        memset(b, 0, sizeof(*b));
        *status = 0;
        rc = request_one(r, r->urls[i], method, path, payload, status, b,
                         errstr, errstr_size);
        if (rc == 0)
            return 0;
    }
    return rc;
}

/* Turns a 4xx answer into errstr ("HTTP 409: the registry's message").
 * Returns the registry's error_code, or 0. */
static int answer_error(long status, const body *b, char *errstr,
                        size_t errstr_size) {
    char msg[512];
    int code;
    rp_registry_parse_error(b->p, b->n, &code, msg, sizeof(msg));
    err(errstr, errstr_size, "HTTP %ld%s%s", status, *msg ? ": " : "", msg);
    return code;
}

/* ---------------------------------------------------------------- calls */

static const char *cache_get(rp_registry *r, int32_t id) {
    const char *s = NULL;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_cache && !s; i++)
        if (r->cache[i].id == id)
            s = r->cache[i].json;
    pthread_mutex_unlock(&r->mu);
    return s;
}

/* Keeps json (taking it) under id; returns the text now cached (another
 * thread may have cached the same id first), or NULL (out of memory). */
static const char *cache_put(rp_registry *r, int32_t id, char *json) {
    const char *s = NULL;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->n_cache && !s; i++)
        if (r->cache[i].id == id)
            s = r->cache[i].json;
    if (!s && r->n_cache == r->cap_cache) {
        size_t cap = r->cap_cache ? r->cap_cache * 2 : 16;
        cached *c = realloc(r->cache, cap * sizeof(*c));
        if (c) {
            r->cache = c;
            r->cap_cache = cap;
        }
    }
    if (!s && r->n_cache < r->cap_cache) {
        r->cache[r->n_cache++] = (cached){id, json};
        s = json;
        json = NULL;
    }
    pthread_mutex_unlock(&r->mu);
    free(json);
    return s;
}

int rp_registry_schema(rp_registry *r, int32_t id, const char **schema_json,
                       char *errstr, size_t errstr_size) {
    if ((*schema_json = cache_get(r, id)) != NULL)
        return 0;
    char path[64];
    snprintf(path, sizeof(path), "/schemas/ids/%" PRId32, id);
    body b = {0};
    long status;
    int rc = request(r, "GET", path, NULL, &status, &b, errstr, errstr_size);
    if (rc == 0 && status != 200) {
        char why[600];
        answer_error(status, &b, why, sizeof(why));
        err(errstr, errstr_size, "schema id %" PRId32 ": %s", id, why);
        rc = status == 404 ? RP_ENOTFOUND : RP_EBADDATA;
    } else if (rc == 0) {
        char *json, why[256];
        rc = rp_registry_parse_schema(b.p, b.n, &json, why, sizeof(why));
        if (rc)
            err(errstr, errstr_size, "schema id %" PRId32 ": %s", id, why);
        else if (!(*schema_json = cache_put(r, id, json)))
            rc = RP_ENOMEM;
    }
    free(b.p);
    return rc;
}

/* POST {"schema": schema_json} to path. */
static int post_schema(rp_registry *r, const char *path,
                       const char *schema_json, long *status, body *b,
                       char *errstr, size_t errstr_size) {
    json_t *j = json_pack("{s:s}", "schema", schema_json);
    char *payload = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!payload) {
        err(errstr, errstr_size, "schema registry: out of memory");
        return RP_ENOMEM;
    }
    int rc = request(r, "POST", path, payload, status, b, errstr, errstr_size);
    free(payload);
    return rc;
}

/* The path /subjects/<subject escaped><suffix>. */
static int subject_path(const char *subject, const char *suffix, char *buf,
                        size_t size) {
    char *esc = curl_easy_escape(NULL, subject, 0);
    if (!esc)
        return RP_ENOMEM;
    int w = snprintf(buf, size, "/subjects/%s%s", esc, suffix);
    curl_free(esc);
    return w < 0 || (size_t)w >= size ? RP_ENOSPACE : 0;
}

static int subject_call(rp_registry *r, const char *subject, const char *suffix,
                        const char *schema_json, int32_t *id, char *errstr,
                        size_t errstr_size) {
    char path[1024];
    if (subject_path(subject, suffix, path, sizeof(path)) != 0) {
        err(errstr, errstr_size, "subject %s: name too long", subject);
        return RP_EINVAL;
    }
    body b = {0};
    long status;
    int rc =
        post_schema(r, path, schema_json, &status, &b, errstr, errstr_size);
    if (rc == 0 && status != 200) {
        char why[600];
        int code = answer_error(status, &b, why, sizeof(why));
        err(errstr, errstr_size, "subject %s: %s", subject, why);
        /* 40401 no such subject, 40403 no such schema under it. */
        rc = status == 409 || status == 422                    ? RP_ECONTRACT
             : status == 404 || code == 40401 || code == 40403 ? RP_ENOTFOUND
                                                               : RP_EBADDATA;
    } else if (rc == 0) {
        char why[256];
        rc = rp_registry_parse_id(b.p, b.n, id, why, sizeof(why));
        if (rc)
            err(errstr, errstr_size, "subject %s: %s", subject, why);
    }
    free(b.p);
    return rc;
}

int rp_registry_register(rp_registry *r, const char *subject,
                         const char *schema_json, int32_t *id, char *errstr,
                         size_t errstr_size) {
    return subject_call(r, subject, "/versions", schema_json, id, errstr,
                        errstr_size);
}

int rp_registry_lookup(rp_registry *r, const char *subject,
                       const char *schema_json, int32_t *id, char *errstr,
                       size_t errstr_size) {
    return subject_call(r, subject, "", schema_json, id, errstr, errstr_size);
}

int rp_registry_compatibility(rp_registry *r, char *buf, size_t size,
                              char *errstr, size_t errstr_size) {
    body b = {0};
    long status;
    int rc =
        request(r, "GET", "/config", NULL, &status, &b, errstr, errstr_size);
    if (rc == 0 && status != 200) {
        answer_error(status, &b, errstr, errstr_size);
        rc = RP_EBADDATA;
    } else if (rc == 0) {
        rc = rp_registry_parse_config(b.p, b.n, buf, size, errstr, errstr_size);
    }
    free(b.p);
    return rc;
}
