/*
 * acctstate.c - AccountState to and from Avro binary, by hand
 * (repute/acctstate.h).
 *
 * Avro's binary encoding of this schema is short to state: a long is a
 * zig-zag varint, a string a long length then the bytes, an enum its
 * index as a long, a union its branch index as a long then the branch,
 * an array blocks of (count, items) ending with a zero count. The encoder
 * writes one block; the decoder accepts any number, including the
 * negative counts (followed by a byte size) that other writers may use.
 * The field order is the schema's, which the unit tests check against
 * avro-c with the embedded schema text.
 *
 * The decoder reads through a cursor that never passes the end: every
 * read first checks what is left, so a truncated record at any byte is
 * RP_ETRUNC and never a read out of bounds (the fuzzer checks this).
 *
 * Tenants. The last field, `tenants`, is an array of any length (up to
 * tenant.max.per.account), so the decoder cannot copy it into the fixed
 * rp_account_state without allocating. It validates every tenant in
 * place and keeps the array's bytes (tenants_avro) and count;
 * rp_acctstate_tenant_next() reads them again one at a time, which
 * cannot fail then. A record that ends right after `sequence` is the
 * first version of the schema (written before tenants existed, and still
 * in a topic that was not rebuilt): it reads as a record without
 * tenants, since nothing else can end there.
 */
#include "repute/acctstate.h"

#include <stdio.h>
#include <string.h>

#include "codec/utf8.h"

#define HEADER 5

/* ------------------------------------------------------------ encode */

static int put_long(rp_buf *b, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    char tmp[10];
    size_t n = 0;
    while (z >= 0x80) {
        tmp[n++] = (char)((z & 0x7f) | 0x80);
        z >>= 7;
    }
    tmp[n++] = (char)z;
    return rp_buf_append(b, tmp, n);
}

static int put_opt_long(rp_buf *b, bool has, int64_t v) {
    int rc = put_long(b, has ? 1 : 0);
    return rc == 0 && has ? put_long(b, v) : rc;
}

/* The issues array: one block, then the zero count. */
static int put_issues(rp_buf *b, const rp_issue_state *v, size_t n) {
    int rc = 0;
    if (n) {
        rc |= put_long(b, (int64_t)n);
        for (size_t i = 0; i < n; i++) {
            rc |= put_long(b, (int64_t)v[i].kind);
            rc |= put_long(b, (int64_t)v[i].status);
            rc |= put_long(b, v[i].since);
            rc |= put_opt_long(b, v[i].has_review_end, v[i].review_ends_at);
        }
    }
    return rc | put_long(b, 0);
}

static int put_tenants(rp_buf *b, const rp_account_state *st) {
    int rc = 0;
    if (st->n_tenants) {
        rp_acctstate_iter it;
        rp_tenant_state t;
        rc |= put_long(b, (int64_t)st->n_tenants);
        rp_acctstate_tenant_begin(st, &it);
        while (rp_acctstate_tenant_next(&it, &t)) {
            rc |= put_long(b, (int64_t)t.tenant.len);
            rc |= rp_buf_append(b, t.tenant.ptr ? t.tenant.ptr : "",
                                t.tenant.len);
            rc |= put_long(b, (int64_t)t.status);
            rc |= put_long(b, t.since);
            rc |= put_opt_long(b, t.has_review_end, t.review_ends_at);
            rc |= put_issues(b, t.issues, t.n_issues);
        }
    }
    return rc | put_long(b, 0);
}

static bool bad_issues(const rp_issue_state *v, size_t n) {
    if (n > RP_ISSUE__COUNT)
        return true;
    for (size_t i = 0; i < n; i++)
        if ((unsigned)v[i].kind >= RP_ISSUE__COUNT ||
            (unsigned)v[i].status >= RP_ISTATUS__COUNT)
            return true;
    return false;
}

/* What is wrong with the tenants of st, or NULL. */
static const char *check_tenants(const rp_account_state *st) {
    if (st->n_tenants > (size_t)INT64_MAX)
        return "too many tenants";
    if (st->n_tenants && !st->tenants && !st->tenants_avro.ptr)
        return "tenants is NULL";
    rp_acctstate_iter it;
    rp_tenant_state t;
    size_t n = 0;
    rp_acctstate_tenant_begin(st, &it);
    while (rp_acctstate_tenant_next(&it, &t)) {
        n++;
        if ((unsigned)t.status >= RP_ASTATUS__COUNT)
            return "a tenant's status is out of range";
        if (t.tenant.len && !t.tenant.ptr)
            return "a tenant's name is NULL";
        if (bad_issues(t.issues, t.n_issues))
            return "a tenant's issue has a value out of range";
    }
    return n == st->n_tenants ? NULL : "the tenants do not decode";
}

static int check_state(const rp_account_state *st, char *errstr,
                       size_t errstr_size) {
    const char *bad = NULL;
    if ((unsigned)st->status >= RP_ASTATUS__COUNT)
        bad = "status is out of range";
    else if (st->sequence > (uint64_t)INT64_MAX)
        bad = "sequence is larger than an Avro long";
    else if (st->n_issues > RP_ISSUE__COUNT)
        bad = "more issues than there are kinds";
    else if (st->account_id.len && !st->account_id.ptr)
        bad = "account_id is NULL";
    else if (bad_issues(st->issues, st->n_issues))
        bad = "an issue has a value out of range";
    else
        bad = check_tenants(st);
    if (bad)
        snprintf(errstr, errstr_size, "AccountState: %s", bad);
    return bad ? RP_EINVAL : 0;
}

int rp_acctstate_encode(const rp_account_state *st, int32_t schema_id,
                        rp_buf *out, char *errstr, size_t errstr_size) {
    int rc = check_state(st, errstr, errstr_size);
    if (rc < 0)
        return rc;
    rp_buf_reset(out);
    if (schema_id >= 0) {
        uint32_t id = (uint32_t)schema_id;
        char h[HEADER] = {0, (char)(id >> 24), (char)(id >> 16),
                          (char)(id >> 8), (char)id};
        rc |= rp_buf_append(out, h, HEADER);
    }
    rc |= put_long(out, (int64_t)st->account_id.len);
    rc |= rp_buf_append(out, st->account_id.ptr ? st->account_id.ptr : "",
                        st->account_id.len);
    rc |= put_long(out, (int64_t)st->status);
    rc |= put_long(out, st->since);
    rc |= put_opt_long(out, st->has_review_end, st->review_ends_at);
    rc |= put_issues(out, st->issues, st->n_issues);
    rc |= put_long(out, (int64_t)st->sequence);
    rc |= put_tenants(out, st);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "AccountState: out of memory");
        return RP_ENOMEM;
    }
    return 0;
}

/* ------------------------------------------------------------ decode */

typedef struct cursor {
    const uint8_t *start, *p, *end;
    const char *what; /* the field being read, for the message */
    int err;          /* 0, RP_ETRUNC or RP_EBADDATA; sticky */
    const char *at;   /* the field that failed, for the message */
    size_t at_byte;   /* and where it ended */
} cursor;

/* Keeps the first failure: later reads do nothing once it is set. */
static void fail(cursor *c, int err) {
    if (!c->err) {
        c->err = err;
        c->at = c->what;
        c->at_byte = (size_t)(c->p - c->start);
    }
}

static int64_t get_long(cursor *c) {
    uint64_t z = 0;
    for (int shift = 0; !c->err; shift += 7) {
        if (c->p == c->end) {
            fail(c, RP_ETRUNC);
            break;
        }
        uint8_t b = *c->p++;
        if (shift == 63 && b > 1) {
            fail(c, RP_EBADDATA); /* more than 64 bits */
            break;
        }
        z |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    }
    return 0;
}

/* An index in [0, n): an enum symbol or a union branch. */
static int get_index(cursor *c, const char *what, int n) {
    c->what = what;
    int64_t v = get_long(c);
    if (!c->err && (v < 0 || v >= n))
        fail(c, RP_EBADDATA);
    return c->err ? 0 : (int)v;
}

static bool get_opt_long(cursor *c, const char *what, int64_t *v) {
    bool has = get_index(c, what, 2) == 1;
    *v = has ? get_long(c) : 0;
    return has && !c->err;
}

static rp_str get_string(cursor *c, const char *what) {
    rp_str s = {NULL, 0};
    c->what = what;
    int64_t n = get_long(c);
    if (c->err)
        return s;
    if (n < 0)
        fail(c, RP_EBADDATA);
    else if ((uint64_t)n > (uint64_t)(c->end - c->p))
        fail(c, RP_ETRUNC);
    else if (rp_utf8_check(c->p, (size_t)n) != (size_t)n)
        fail(c, RP_EBADDATA);
    else {
        s.ptr = (const char *)c->p;
        s.len = (size_t)n;
        c->p += n;
    }
    return s;
}

static void get_issue(cursor *c, rp_issue_state *is) {
    is->kind = (rp_issue_kind)get_index(c, "issues.kind", RP_ISSUE__COUNT);
    is->status =
        (rp_issue_status)get_index(c, "issues.status", RP_ISTATUS__COUNT);
    c->what = "issues.since";
    is->since = get_long(c);
    is->has_review_end =
        get_opt_long(c, "issues.review_ends_at", &is->review_ends_at);
}

/* The item count of the next array block (0: the end of the array). A
 * negative count is followed by the block's size in bytes, which we do
 * not need. */
static int64_t get_block(cursor *c, const char *what) {
    c->what = what;
    int64_t n = get_long(c);
    if (!c->err && n < 0) {
        if (n == INT64_MIN) {
            fail(c, RP_EBADDATA);
            return 0;
        }
        n = -n;
        (void)get_long(c);
    }
    return c->err ? 0 : n;
}

/* An issues array into v (RP_ISSUE__COUNT entries), its length to *n. */
static void get_issues(cursor *c, const char *what, rp_issue_state *v,
                       size_t *n_out) {
    size_t n_issues = 0;
    for (int64_t n; (n = get_block(c, what)) != 0;) {
        if ((uint64_t)n > RP_ISSUE__COUNT - n_issues) {
            fail(c, RP_EBADDATA);
            break;
        }
        for (int64_t i = 0; i < n && !c->err; i++)
            get_issue(c, &v[n_issues++]);
    }
    *n_out = n_issues;
}

static void get_tenant(cursor *c, rp_tenant_state *t) {
    t->tenant = get_string(c, "tenants.tenant");
    t->status =
        (rp_account_status)get_index(c, "tenants.status", RP_ASTATUS__COUNT);
    c->what = "tenants.since";
    t->since = get_long(c);
    t->has_review_end =
        get_opt_long(c, "tenants.review_ends_at", &t->review_ends_at);
    get_issues(c, "tenants.issues", t->issues, &t->n_issues);
}

/* Validates the tenants array in place: its bytes and count into st. A
 * tenant takes at least five bytes, so the count cannot overflow. */
static void get_tenants(cursor *c, rp_account_state *st) {
    const uint8_t *start = c->p;
    rp_tenant_state t;
    for (int64_t n; (n = get_block(c, "tenants")) != 0;)
        for (int64_t i = 0; i < n && !c->err; i++) {
            get_tenant(c, &t);
            st->n_tenants++;
        }
    if (!c->err && st->n_tenants) {
        st->tenants_avro.ptr = (const char *)start;
        st->tenants_avro.len = (size_t)(c->p - start);
    }
}

void rp_acctstate_tenant_begin(const rp_account_state *st,
                               rp_acctstate_iter *it) {
    memset(it, 0, sizeof(*it));
    it->st = st;
    if (!st->tenants && st->tenants_avro.ptr) {
        it->p = (const uint8_t *)st->tenants_avro.ptr;
        it->end = it->p + st->tenants_avro.len;
    }
}

bool rp_acctstate_tenant_next(rp_acctstate_iter *it, rp_tenant_state *out) {
    const rp_account_state *st = it->st;
    if (it->i >= st->n_tenants)
        return false;
    if (st->tenants) {
        *out = st->tenants[it->i++];
        return true;
    }
    if (!it->p)
        return false;
    cursor c = {it->p, it->p, it->end, "tenants", 0, NULL, 0};
    while (it->left == 0 && !c.err) {
        it->left = get_block(&c, "tenants");
        if (it->left == 0)
            fail(&c, RP_EBADDATA); /* fewer than n_tenants: not decoded */
    }
    memset(out, 0, sizeof(*out));
    if (!c.err)
        get_tenant(&c, out);
    if (c.err) {
        it->p = NULL;
        return false;
    }
    it->p = c.p;
    it->left--;
    it->i++;
    return true;
}

int rp_acctstate_decode(const void *buf, size_t len, bool framed,
                        int32_t *schema_id, rp_account_state *out, char *errstr,
                        size_t errstr_size) {
    const uint8_t *b = buf;
    cursor c = {b, b, b + len, "header", 0, NULL, 0};
    memset(out, 0, sizeof(*out));
    if (framed) {
        if (len < HEADER)
            fail(&c, RP_ETRUNC);
        else if (c.p[0] != 0)
            fail(&c, RP_EBADDATA);
        else {
            if (schema_id)
                *schema_id =
                    (int32_t)((uint32_t)c.p[1] << 24 | (uint32_t)c.p[2] << 16 |
                              (uint32_t)c.p[3] << 8 | c.p[4]);
            c.p += HEADER;
        }
    }
    if (!c.err) {
        out->account_id = get_string(&c, "account_id");
        out->status =
            (rp_account_status)get_index(&c, "status", RP_ASTATUS__COUNT);
        c.what = "since";
        out->since = get_long(&c);
        out->has_review_end =
            get_opt_long(&c, "review_ends_at", &out->review_ends_at);
        get_issues(&c, "issues", out->issues, &out->n_issues);
        c.what = "sequence";
        int64_t seq = get_long(&c);
        if (!c.err && seq < 0)
            fail(&c, RP_EBADDATA);
        out->sequence = (uint64_t)seq;
        /* Nothing after sequence: the first version, without tenants. */
        if (!c.err && c.p != c.end)
            get_tenants(&c, out);
        c.what = "the end of the record";
        if (!c.err && c.p != c.end)
            fail(&c, RP_EBADDATA);
    }
    if (c.err)
        snprintf(errstr, errstr_size,
                 "AccountState: %s at %s (byte %zu of %zu)",
                 c.err == RP_ETRUNC ? "the record ends early"
                                    : "not an AccountState",
                 c.at, c.at_byte, len);
    return c.err;
}
