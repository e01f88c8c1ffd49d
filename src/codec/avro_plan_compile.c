/*
 * avro_plan_compile.c - Avro's schema resolution, compiled: a writer
 * schema and repute's reader schema in, a decode plan (avro_plan.h) out.
 *
 * compile() follows the two schemas together, depth first, by the rules
 * of the Avro specification ("Schema Resolution"): a writer union selects
 * its branch at run time, so each of its branches is resolved on its own
 * (a branch the reader cannot read becomes an X_FAIL that names it, and
 * only a union none of whose branches can be read is an error now); a
 * reader union takes the first of its branches of the writer's type and
 * name, else the first that the writer's type resolves to; records match
 * by unqualified name or the reader's aliases, fields by name or the
 * reader field's aliases; numbers promote, string and bytes read as each
 * other; enums match symbols by name, a symbol the reader lacks mapping
 * to the reader's default symbol or, without one, to an error when it
 * occurs. Whatever cannot resolve is RP_ECONTRACT with a reason that names
 * the path of the field ("Delivery.recipient: ...").
 *
 * avro-c's parsed schemas keep neither field defaults nor aliases, so the
 * compiler also reads the reader's JSON text (jansson) for those, and
 * encodes each default the writer does not supply into the plan's pool
 * once, in Avro binary, so that the run time only copies bytes.
 *
 * A writer union branch that the reader cannot read, or a reader union
 * branch tried against the writer, is compiled as a trial: the plan is
 * rolled back when it fails. A hostile writer schema (deep, recursive or
 * huge) is bounded by PLAN_MAX_DEPTH, PLAN_MAX_WORDS and a step budget.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/avro_plan.h"

#define MAX_STEPS (4 * PLAN_MAX_WORDS)

typedef struct compiler {
    rp_avro_plan *p;
    json_t *rjson; /* the reader schema's JSON */
    char *err;
    size_t err_size;
    char path[192]; /* "Delivery.sent_time", for messages */
    size_t steps;
} compiler;

static int cerr(compiler *cc, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cerr(compiler *cc, int code, const char *fmt, ...) {
    if (cc->err && cc->err_size) {
        int n = snprintf(cc->err, cc->err_size, "%s: ", cc->path);
        if (n >= 0 && (size_t)n < cc->err_size) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(cc->err + n, cc->err_size - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

/* ------------------------------------------------------------ emitting */

static int emit(compiler *cc, uint32_t word) {
    rp_avro_plan *p = cc->p;
    if (p->len >= PLAN_MAX_WORDS)
        return cerr(cc, RP_EINVAL, "the writer schema is too large");
    if (p->len == p->cap) {
        uint32_t cap = p->cap ? 2 * p->cap : 256;
        uint32_t *code = realloc(p->code, cap * sizeof(*code));
        if (!code)
            return RP_ENOMEM;
        p->code = code;
        p->cap = cap;
    }
    p->code[p->len++] = word;
    return 0;
}

/* Adds n bytes to the pool (NUL-terminated, for names and messages) and
 * returns their offset in *off. */
static int pool_add(compiler *cc, const void *s, size_t n, uint32_t *off) {
    rp_avro_plan *p = cc->p;
    if (n > PLAN_MAX_OUTPUT || p->pool_len + n + 1 > 64u * PLAN_MAX_WORDS)
        return cerr(cc, RP_EINVAL, "the writer schema is too large");
    if (p->pool_len + n + 1 > p->pool_cap) {
        uint32_t cap = p->pool_cap ? p->pool_cap : 256;
        while (cap < p->pool_len + n + 1)
            cap *= 2;
        char *pool = realloc(p->pool, cap);
        if (!pool)
            return RP_ENOMEM;
        p->pool = pool;
        p->pool_cap = cap;
    }
    if (n)
        memcpy(p->pool + p->pool_len, s, n);
    p->pool[p->pool_len + n] = '\0';
    *off = p->pool_len;
    p->pool_len += (uint32_t)n + 1;
    return 0;
}

static int pool_str(compiler *cc, const char *s, uint32_t *off) {
    return pool_add(cc, s, strlen(s), off);
}

/* ------------------------------------------------------------ schemas */

static avro_schema_t deref(avro_schema_t s) {
    while (s && avro_typeof(s) == AVRO_LINK)
        s = avro_schema_link_target(s);
    return s;
}

static bool is_named(avro_schema_t s) {
    avro_type_t t = avro_typeof(s);
    return t == AVRO_RECORD || t == AVRO_ENUM || t == AVRO_FIXED;
}

/* The type's name for messages: "long", "record Foo", ... */
static const char *type_name(avro_schema_t s, char *buf, size_t size) {
    static const char *const names[] = {
        [AVRO_STRING] = "string",   [AVRO_BYTES] = "bytes",
        [AVRO_INT32] = "int",       [AVRO_INT64] = "long",
        [AVRO_FLOAT] = "float",     [AVRO_DOUBLE] = "double",
        [AVRO_BOOLEAN] = "boolean", [AVRO_NULL] = "null",
        [AVRO_RECORD] = "record",   [AVRO_ENUM] = "enum",
        [AVRO_FIXED] = "fixed",     [AVRO_MAP] = "map",
        [AVRO_ARRAY] = "array",     [AVRO_UNION] = "union"};
    avro_type_t t = avro_typeof(s);
    const char *n = (unsigned)t < sizeof(names) / sizeof(names[0]) && names[t]
                        ? names[t]
                        : "unknown type";
    if (is_named(s))
        snprintf(buf, size, "%s %s", n,
                 rp_avro_unqualified(avro_schema_name(s)));
    else
        snprintf(buf, size, "%s", n);
    return buf;
}

/* The reader's JSON object of field `name` of record `rec`, or NULL. */
static json_t *reader_field(compiler *cc, avro_schema_t rec, const char *name) {
    json_t *r = rp_avro_json_named(cc->rjson,
                                   rp_avro_unqualified(avro_schema_name(rec)));
    json_t *fields = json_object_get(r, "fields");
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f) {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && !strcmp(n, name))
            return f;
    }
    return NULL;
}

/* Avro's name rule: the unqualified names agree, or the writer's is one
 * of the reader's aliases. */
static bool names_match(compiler *cc, avro_schema_t w, avro_schema_t r) {
    const char *wn = rp_avro_unqualified(avro_schema_name(w));
    const char *rn = rp_avro_unqualified(avro_schema_name(r));
    if (!strcmp(wn, rn))
        return true;
    return rp_avro_json_in_aliases(rp_avro_json_named(cc->rjson, rn), wn);
}

/* ------------------------------------------------------------ nodes */

static int compile(compiler *cc, avro_schema_t w, avro_schema_t r, int depth,
                   uint64_t *min);

/* A trial: compiles w against r, and on failure rolls the plan back and
 * returns the error (RP_ENOMEM and a too-large plan are never trials:
 * they fail the whole compilation, which the callers check). */
static int attempt(compiler *cc, avro_schema_t w, avro_schema_t r, int depth,
                   uint64_t *min, int64_t branch) {
    uint32_t len = cc->p->len, pool_len = cc->p->pool_len;
    size_t path_len = strlen(cc->path);
    int rc = 0;
    if (branch >= 0 && (rc = emit(cc, X_BRANCH)) == 0)
        rc = emit(cc, (uint32_t)branch);
    if (rc == 0)
        rc = compile(cc, w, r, depth, min);
    if (rc < 0) {
        cc->p->len = len;
        cc->p->pool_len = pool_len;
        cc->path[path_len] = '\0';
    }
    return rc;
}

static bool fatal(int rc) {
    return rc == RP_ENOMEM || rc == RP_EINVAL;
}

/* A writer type (not a union) into a reader union: the first branch of the
 * same type and name, else the first the writer resolves to. */
static int into_union(compiler *cc, avro_schema_t w, avro_schema_t r, int depth,
                      uint64_t *min) {
    size_t n = avro_schema_union_size(r);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            avro_schema_t b = deref(avro_schema_union_branch(r, (int)i));
            bool same = avro_typeof(b) == avro_typeof(w) &&
                        (!is_named(w) || names_match(cc, w, b));
            if (same != (pass == 0) || avro_typeof(b) == AVRO_UNION)
                continue;
            int rc = attempt(cc, w, b, depth, min, (int64_t)i);
            if (rc == 0 || fatal(rc))
                return rc;
        }
    }
    char wt[96];
    return cerr(cc, RP_ECONTRACT,
                "the writer's %s matches no branch of the reader's union",
                type_name(w, wt, sizeof(wt)));
}

/* Rewrites the union just compiled at `at` (the last thing in the plan)
 * as an X_USIMPLE when every branch is a leaf, alone or after the
 * reader's branch index: shorter, and one dispatch instead of three. */
static void simplify_union(rp_avro_plan *p, uint32_t at) {
    uint32_t *code = p->code, n = code[at + 1], end = code[at + 2];
    uint32_t pairs[2 * 64];
    if (n > 64)
        return;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t b = code[at + 3 + i], e = i + 1 < n ? code[at + 4 + i] : end;
        if (e == b + 1 && code[b] <= X_FLOAT_DOUBLE) {
            pairs[2 * i] = X_NONE;
            pairs[2 * i + 1] = code[b];
        } else if (e == b + 3 && code[b] == X_BRANCH &&
                   code[b + 2] <= X_FLOAT_DOUBLE) {
            pairs[2 * i] = code[b + 1];
            pairs[2 * i + 1] = code[b + 2];
        } else {
            return;
        }
    }
    code[at] = X_USIMPLE;
    memcpy(code + at + 2, pairs, 2 * n * sizeof(*code));
    p->len = at + 2 + 2 * n;
}

/* A writer union: each branch resolved on its own, at run time. */
static int from_union(compiler *cc, avro_schema_t w, avro_schema_t r, int depth,
                      uint64_t *min) {
    size_t n = avro_schema_union_size(w);
    if (n == 0)
        return cerr(cc, RP_ECONTRACT, "the writer's union has no branches");
    uint32_t at = cc->p->len;
    int rc = emit(cc, X_UNION);
    if (rc == 0)
        rc = emit(cc, (uint32_t)n);
    for (size_t i = 0; rc == 0 && i < n + 1; i++)
        rc = emit(cc, 0); /* end, then the starts */
    bool any = false;
    uint64_t least = UINT64_MAX;
    char reason[256] = "";
    for (size_t i = 0; rc == 0 && i < n; i++) {
        avro_schema_t b = deref(avro_schema_union_branch(w, (int)i));
        uint64_t bmin = 0;
        cc->p->code[at + 3 + i] = cc->p->len;
        char *err = cc->err;
        rc = attempt(cc, b, r, depth + 1, &bmin, -1);
        if (rc == 0) {
            any = true;
        } else if (!fatal(rc)) {
            /* Keep the first reason, in case no branch resolves. */
            if (!reason[0])
                snprintf(reason, sizeof(reason), "%s", err ? err : "");
            char wt[96], msg[192];
            uint32_t off;
            snprintf(msg, sizeof(msg),
                     "the writer's %s (branch %zu of its union) cannot be "
                     "read by the reader",
                     type_name(b, wt, sizeof(wt)), i);
            if ((rc = pool_str(cc, msg, &off)) == 0 &&
                (rc = emit(cc, X_FAIL)) == 0)
                rc = emit(cc, off);
            bmin = 0;
        }
        if (bmin < least)
            least = bmin;
    }
    if (rc < 0)
        return rc;
    cc->p->code[at + 2] = cc->p->len;
    *min = 1 + least;
    if (any)
        simplify_union(cc->p, at);
    if (!any) {
        if (cc->err && cc->err_size)
            snprintf(cc->err, cc->err_size, "%s", reason);
        return RP_ECONTRACT;
    }
    return 0;
}

static int compile_enum(compiler *cc, avro_schema_t w, avro_schema_t r) {
    int n = avro_schema_enum_number_of_symbols(w);
    if (n <= 0)
        return cerr(cc, RP_ECONTRACT, "the writer's enum has no symbols");
    json_t *rj =
        rp_avro_json_named(cc->rjson, rp_avro_unqualified(avro_schema_name(r)));
    const char *dflt = json_string_value(json_object_get(rj, "default"));
    int dflt_index = dflt ? avro_schema_enum_get_by_name(r, dflt) : -1;
    int rc = emit(cc, X_ENUM);
    if (rc == 0)
        rc = emit(cc, (uint32_t)n);
    for (int i = 0; rc == 0 && i < n; i++) {
        const char *sym = avro_schema_enum_get(w, i);
        int ri = sym ? avro_schema_enum_get_by_name(r, sym) : -1;
        uint32_t off = 0;
        if (ri < 0)
            ri = dflt_index;
        if (ri >= 0)
            rc = emit(cc, (uint32_t)ri);
        else if ((rc = pool_str(cc, sym ? sym : "?", &off)) == 0)
            rc = emit(cc, X_MISSING | off);
    }
    return rc;
}

static int compile_items(compiler *cc, avro_schema_t w, avro_schema_t r,
                         int depth) {
    bool is_map = avro_typeof(w) == AVRO_MAP;
    uint32_t at = cc->p->len;
    uint64_t item_min = 0;
    int rc = emit(cc, is_map ? X_MAP : X_ARRAY);
    if (rc == 0 && (rc = emit(cc, 0)) == 0)
        rc = emit(cc, 0);
    if (rc == 0)
        rc = is_map ? compile(cc, avro_schema_map_values(w),
                              avro_schema_map_values(r), depth + 1, &item_min)
                    : compile(cc, avro_schema_array_items(w),
                              avro_schema_array_items(r), depth + 1, &item_min);
    if (rc < 0)
        return rc;
    item_min += is_map; /* the key's length */
    cc->p->code[at + 1] =
        item_min > UINT32_MAX ? UINT32_MAX : (uint32_t)item_min;
    cc->p->code[at + 2] = cc->p->len;
    return 0;
}

/* One node, neither schema a union at the top. */
static int compile_plain(compiler *cc, avro_schema_t w, avro_schema_t r,
                         int depth, uint64_t *min);

static int compile(compiler *cc, avro_schema_t w, avro_schema_t r, int depth,
                   uint64_t *min) {
    w = deref(w);
    r = deref(r);
    *min = 0;
    if (depth > PLAN_MAX_DEPTH)
        return cerr(cc, RP_EINVAL,
                    "the writer schema is recursive or nested deeper than %d "
                    "levels",
                    PLAN_MAX_DEPTH);
    if (++cc->steps > MAX_STEPS)
        return cerr(cc, RP_EINVAL, "the writer schema is too large");
    if (!w || !r)
        return cerr(cc, RP_EINVAL, "a schema is missing");
    if (avro_typeof(w) == AVRO_UNION)
        return from_union(cc, w, r, depth, min);
    if (avro_typeof(r) == AVRO_UNION)
        return into_union(cc, w, r, depth, min);
    return compile_plain(cc, w, r, depth, min);
}

/* ------------------------------------------------------------ records */

/* Pushes ".name" on the path for messages; returns the old length. */
static size_t path_push(compiler *cc, const char *name) {
    size_t len = strlen(cc->path);
    snprintf(cc->path + len, sizeof(cc->path) - len, ".%s", name);
    return len;
}

/* The writer field that reader field ri reads: same name, else one of
 * the reader field's aliases. -1 when none. */
static int writer_field(compiler *cc, avro_schema_t w, avro_schema_t r,
                        size_t ri) {
    const char *name = avro_schema_record_field_name(r, (int)ri);
    int wi = avro_schema_record_field_get_index(w, name);
    if (wi >= 0)
        return wi;
    json_t *rf = reader_field(cc, r, name);
    size_t n = avro_schema_record_size(w);
    for (size_t i = 0; rf && i < n; i++)
        if (rp_avro_json_in_aliases(rf,
                                    avro_schema_record_field_name(w, (int)i)))
            return (int)i;
    return -1;
}

/* The reader's table: per reader field, the writer field it reads or
 * its encoded default. */
static int record_table(compiler *cc, avro_schema_t r, const int *from,
                        size_t nr) {
    int rc = 0;
    rp_buf enc = RP_BUF_INIT;
    for (size_t ri = 0; rc == 0 && ri < nr; ri++) {
        if (from[ri] >= 0) {
            if ((rc = emit(cc, 0)) == 0 && (rc = emit(cc, (uint32_t)ri)) == 0)
                rc = emit(cc, 0);
            continue;
        }
        const char *name = avro_schema_record_field_name(r, (int)ri);
        size_t old = path_push(cc, name);
        json_t *dflt = json_object_get(reader_field(cc, r, name), "default");
        char why[160] = "";
        uint32_t off = 0;
        rp_buf_reset(&enc);
        if (!dflt)
            rc = cerr(cc, RP_ECONTRACT,
                      "the writer has no such field and the reader gives it "
                      "no default");
        else if ((rc = rp_avro_plan_default(
                      cc->rjson, dflt,
                      avro_schema_record_field_get_by_index(r, (int)ri), &enc,
                      why, sizeof(why))) < 0)
            rc = rc == RP_ENOMEM ? rc : cerr(cc, RP_EINVAL, "%s", why);
        if (rc == 0 && (rc = pool_add(cc, enc.data, enc.len, &off)) == 0 &&
            (rc = emit(cc, 1)) == 0 && (rc = emit(cc, off)) == 0)
            rc = emit(cc, (uint32_t)enc.len);
        cc->path[old] = '\0';
    }
    rp_buf_free(&enc);
    return rc;
}

static int compile_record(compiler *cc, avro_schema_t w, avro_schema_t r,
                          int depth, uint64_t *min) {
    size_t nw = avro_schema_record_size(w), nr = avro_schema_record_size(r);
    if (nr > PLAN_MAX_FIELDS)
        return cerr(cc, RP_EINVAL, "the reader record has too many fields");
    int from[PLAN_MAX_FIELDS];
    bool in_order = true;
    int last = -1;
    for (size_t ri = 0; ri < nr; ri++) {
        from[ri] = writer_field(cc, w, r, ri);
        in_order = in_order && from[ri] > last;
        last = from[ri];
    }
    uint32_t at = cc->p->len;
    int rc = 0;
    uint32_t header[] = {X_RECORD, (uint32_t)nw, (uint32_t)nr, in_order, 0};
    for (size_t i = 0; rc == 0 && i < 5; i++)
        rc = emit(cc, header[i]);
    *min = 0;
    for (size_t wi = 0; rc == 0 && wi < nw; wi++) {
        uint32_t ri = X_NONE, name_off, fend;
        for (size_t k = 0; k < nr; k++)
            if (from[k] == (int)wi)
                ri = (uint32_t)k;
        const char *wname = avro_schema_record_field_name(w, (int)wi);
        avro_schema_t wf = avro_schema_record_field_get_by_index(w, (int)wi);
        if ((rc = pool_str(cc, wname, &name_off)) < 0 ||
            (rc = emit(cc, name_off)) < 0 || (rc = emit(cc, ri)) < 0)
            break;
        fend = cc->p->len;
        if ((rc = emit(cc, 0)) < 0)
            break;
        size_t old = path_push(
            cc,
            ri == X_NONE ? wname : avro_schema_record_field_name(r, (int)ri));
        uint64_t fmin = 0;
        if (ri == X_NONE) { /* skipped: the writer's own plan, no output */
            uint32_t skip = cc->p->len;
            if ((rc = emit(cc, X_SKIP)) == 0 && (rc = emit(cc, 0)) == 0 &&
                (rc = compile(cc, wf, wf, depth + 1, &fmin)) == 0)
                cc->p->code[skip + 1] = cc->p->len;
        } else {
            rc = compile(cc, wf,
                         avro_schema_record_field_get_by_index(r, (int)ri),
                         depth + 1, &fmin);
        }
        if (rc == 0)
            cc->path[old] = '\0';
        cc->p->code[fend] = cc->p->len;
        *min += fmin;
    }
    if (rc == 0)
        rc = record_table(cc, r, from, nr);
    if (rc == 0)
        cc->p->code[at + 4] = cc->p->len;
    return rc;
}

static int compile_plain(compiler *cc, avro_schema_t w, avro_schema_t r,
                         int depth, uint64_t *min) {
    avro_type_t wt = avro_typeof(w), rt = avro_typeof(r);
    int op = -1;
    *min = wt == AVRO_NULL     ? 0
           : wt == AVRO_FLOAT  ? 4
           : wt == AVRO_DOUBLE ? 8
           : wt == AVRO_FIXED  ? (uint64_t)avro_schema_fixed_size(w)
                               : 1;
    switch (rt) {
    case AVRO_NULL: op = wt == AVRO_NULL ? X_NULL : -1; break;
    case AVRO_BOOLEAN: op = wt == AVRO_BOOLEAN ? X_BOOL : -1; break;
    case AVRO_INT32: op = wt == AVRO_INT32 ? X_INT : -1; break;
    case AVRO_INT64:
        op = wt == AVRO_INT32 ? X_INT : wt == AVRO_INT64 ? X_LONG : -1;
        break;
    case AVRO_FLOAT:
        op = wt == AVRO_INT32   ? X_INT_FLOAT
             : wt == AVRO_INT64 ? X_LONG_FLOAT
             : wt == AVRO_FLOAT ? X_FLOAT
                                : -1;
        break;
    case AVRO_DOUBLE:
        op = wt == AVRO_INT32    ? X_INT_DOUBLE
             : wt == AVRO_INT64  ? X_LONG_DOUBLE
             : wt == AVRO_FLOAT  ? X_FLOAT_DOUBLE
             : wt == AVRO_DOUBLE ? X_DOUBLE
                                 : -1;
        break;
    case AVRO_STRING:
    case AVRO_BYTES:
        /* A reader string must be valid UTF-8, whatever the writer said. */
        op = wt != AVRO_STRING && wt != AVRO_BYTES ? -1
             : rt == AVRO_STRING                   ? X_STRING
                                                   : X_BYTES;
        break;
    case AVRO_FIXED:
        if (wt == AVRO_FIXED && names_match(cc, w, r) &&
            avro_schema_fixed_size(w) == avro_schema_fixed_size(r)) {
            int rc = emit(cc, X_FIXED);
            return rc < 0 ? rc : emit(cc, (uint32_t)avro_schema_fixed_size(w));
        }
        break;
    case AVRO_ENUM:
        if (wt == AVRO_ENUM && names_match(cc, w, r))
            return compile_enum(cc, w, r);
        break;
    case AVRO_ARRAY:
    case AVRO_MAP:
        if (wt == rt)
            return compile_items(cc, w, r, depth);
        break;
    case AVRO_RECORD:
        if (wt == AVRO_RECORD && names_match(cc, w, r))
            return compile_record(cc, w, r, depth, min);
        break;
    default: break;
    }
    if (op >= 0)
        return emit(cc, (uint32_t)op);
    char wn[96], rn[96];
    return cerr(cc, RP_ECONTRACT,
                "the writer's %s cannot be read as the reader's %s",
                type_name(w, wn, sizeof(wn)), type_name(r, rn, sizeof(rn)));
}

/* ------------------------------------------------------------ entry */

/* Whether the writer's first three fields are event_id and account_id
 * (strings) and event_time (a long), so that the plain peeks of
 * avro_peek.c read the writer's bytes as they are. */
static bool starts_like_input(avro_schema_t w) {
    static const char *const names[] = {"event_id", "account_id", "event_time"};
    static const avro_type_t types[] = {AVRO_STRING, AVRO_STRING, AVRO_INT64};
    w = deref(w);
    if (avro_typeof(w) != AVRO_RECORD || avro_schema_record_size(w) < 3)
        return false;
    for (int i = 0; i < 3; i++) {
        const char *n = avro_schema_record_field_name(w, i);
        avro_schema_t f = deref(avro_schema_record_field_get_by_index(w, i));
        if (!n || strcmp(n, names[i]) != 0 || !f || avro_typeof(f) != types[i])
            return false;
    }
    return true;
}

/* Reads a varint of a default's encoding (which the compiler wrote). */
static bool default_varint(const uint8_t *b, size_t n, size_t *i, int64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; *i < n && shift < 64; shift += 7) {
        uint8_t c = b[(*i)++];
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
            return true;
        }
    }
    return false;
}

/* The walk entry of a default (its encoding b, n), for a reader field of
 * schema rf: what rp_avro_check_walk() records of such a field. False for
 * a default no entry can hold (a non-empty array, a record). */
static bool default_entry(avro_schema_t rf, const uint8_t *b, size_t n,
                          rp_avro_walk_field *e) {
    size_t i = 0;
    int64_t v = 0;
    *e = (rp_avro_walk_field){.branch = -1};
    rf = deref(rf);
    if (avro_typeof(rf) == AVRO_UNION) {
        if (!default_varint(b, n, &i, &v))
            return false;
        e->branch = (int32_t)v;
        rf = deref(avro_schema_union_branch(rf, (int)v));
    }
    switch (rf ? avro_typeof(rf) : AVRO_LINK) {
    case AVRO_NULL: return true;
    case AVRO_BOOLEAN: return i < n && (e->num = b[i], true);
    case AVRO_INT32:
    case AVRO_INT64:
    case AVRO_ENUM: return default_varint(b, n, &i, &e->num);
    case AVRO_STRING:
    case AVRO_BYTES:
        if (!default_varint(b, n, &i, &v) || v < 0 || (size_t)v > n - i)
            return false;
        e->str = (const char *)b + i;
        e->len = (size_t)v;
        return true;
    case AVRO_ARRAY: return default_varint(b, n, &i, &v) && v == 0;
    default: return false;
    }
}

/* Decides walk mode and fills the top-level defaults' entries, once the
 * pool no longer moves. */
static void prepare_walk(rp_avro_plan *p, avro_schema_t r) {
    p->walk_ok = false;
    if (p->len < 5 || p->code[0] != X_RECORD || avro_typeof(r) != AVRO_RECORD ||
        p->code[2] > RP_AVRO_WALK_FIELDS)
        return;
    uint32_t nr = p->code[2];
    const uint32_t *table = p->code + p->code[4] - 3 * nr;
    for (uint32_t ri = 0; ri < nr; ri++) {
        rp_avro_walk_field *e = &p->top_default[ri];
        *e = (rp_avro_walk_field){.branch = -1};
        if (table[3 * ri] == 1 &&
            !default_entry(avro_schema_record_field_get_by_index(r, (int)ri),
                           (const uint8_t *)p->pool + table[3 * ri + 1],
                           table[3 * ri + 2], e))
            return;
    }
    p->top_fields = nr;
    p->walk_ok = true;
}

void rp_avro_plan_free(rp_avro_plan *p) {
    if (!p)
        return;
    free(p->code);
    free(p->pool);
    free(p);
}

int rp_avro_plan_compile(avro_schema_t writer, avro_schema_t reader,
                         const char *reader_json, rp_avro_plan **out,
                         bool *peek_direct, char *errstr, size_t errstr_size) {
    *out = NULL;
    rp_avro_plan *p = calloc(1, sizeof(*p));
    json_t *rjson = json_loads(reader_json, 0, NULL);
    if (!p || !rjson) {
        rp_avro_plan_free(p);
        json_decref(rjson);
        return RP_ENOMEM;
    }
    avro_schema_t r = deref(reader);
    snprintf(p->record, sizeof(p->record), "%s", avro_schema_name(r));
    compiler cc = {
        .p = p, .rjson = rjson, .err = errstr, .err_size = errstr_size};
    snprintf(cc.path, sizeof(cc.path), "%s", p->record);
    uint64_t min;
    avro_schema_t w = deref(writer);
    int rc;
    if (avro_typeof(w) == AVRO_RECORD && avro_typeof(r) == AVRO_RECORD &&
        !names_match(&cc, w, r))
        rc = cerr(&cc, RP_ECONTRACT,
                  "the writer's record is %s, not %s (nor one of its "
                  "aliases)",
                  avro_schema_name(w), p->record);
    else
        rc = compile(&cc, w, r, 0, &min);
    json_decref(rjson);
    if (rc < 0) {
        rp_avro_plan_free(p);
        return rc;
    }
    prepare_walk(p, r);
    *peek_direct = starts_like_input(w);
    *out = p;
    return 0;
}
