/*
 * avro_plan_run.c - the interpreter of decode plans (avro_plan.h): a
 * writer's datum in, the same datum in the reader's encoding out.
 *
 * The writer's bytes are untrusted like any input: every length, count,
 * varint, union index and enum index is checked against the bytes that
 * remain and the schema before it is used, with the validator's rules and
 * messages (avro_check.c) and its distinction between RP_ETRUNC (the input
 * ends too soon) and RP_EBADDATA. The output needs no such care: the
 * decoders check it against the reader's schema next, which also applies
 * the reader's rules to strings (UTF-8) and values. So this file only has
 * to be safe and to rewrite faithfully.
 *
 * Most of a record is copied as it is: a varint is read to find its end
 * and to check it, then its bytes are copied; a string's length prefix
 * and bytes go in one copy. Only promotions (an int read as a double, ...)
 * re-encode a value, and only a reader union writes a byte of its own (the
 * branch index). Fields go to the output in the writer's order; when that
 * is not the reader's order, or the reader has fields the writer lacks,
 * the record's output is put in order through the scratch buffer, with the
 * encoded defaults copied from the plan's pool. The interpreter recurses
 * along the nesting of the plan (bounded at compile time), never along
 * anything the input controls, and allocates only while the output and
 * scratch buffers grow to the largest record seen.
 *
 * Walk mode (rp_avro_plan_walk()) runs the same nodes with the output
 * switched off and a current walk entry instead: the top-level record
 * points it at the entry of each writer field's reader field, and the
 * leaves record into it (a union branch, a number, where a string lies,
 * the string items of an array), as the validator's walk does; skipped
 * fields, nested records and maps record nothing. The defaults' entries
 * were made at compile time.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/avro_plan.h"
#include "codec/utf8.h"

typedef struct run {
    const rp_avro_plan *p;
    const uint8_t *start, *in, *end;
    const uint8_t *at; /* where the value being read starts */
    rp_buf *out, *scratch;
    int skip;     /* > 0: nothing is written (walk mode, skipped fields) */
    int skipping; /* > 0: inside a writer field the reader skips, whose
                   * strings need not be UTF-8 (the reader never sees
                   * them) */
    size_t items; /* array and map items so far */
    const char *field;
    char *errstr;
    size_t errstr_size;
    /* Walk mode (rp_avro_plan_walk()): the entries of the reader's fields,
     * the one being read (NULL when nothing is recorded: skipped fields,
     * nested records and maps), and whether strings are array items. */
    rp_avro_walk *walk;
    rp_avro_walk_field *cur;
    bool in_items;
    bool below_top; /* inside the top-level record's fields */
} run;

static int fail(run *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(run *r, int code, const char *fmt, ...) {
    if (r->errstr && r->errstr_size) {
        int n =
            snprintf(r->errstr, r->errstr_size,
                     "%s%s%s at byte %zu: ", r->p->record, r->field ? "." : "",
                     r->field ? r->field : "", (size_t)(r->at - r->start));
        if (n >= 0 && (size_t)n < r->errstr_size) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->errstr + n, r->errstr_size - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

static size_t remaining(const run *r) {
    return (size_t)(r->end - r->in);
}

/* Appends n bytes to the output, unless inside a skipped field. */
static inline int put(run *r, const void *src, size_t n) {
    if (r->skip)
        return 0;
    rp_buf *o = r->out;
    if (o->len + n > PLAN_MAX_OUTPUT)
        return fail(r, RP_ETOOBIG,
                    "the record rewritten for the reader takes more than %d "
                    "bytes",
                    PLAN_MAX_OUTPUT);
    if (o->cap - o->len < n + 1 && rp_buf_reserve(o, n) < 0)
        return fail(r, RP_ENOMEM, "out of memory");
    memcpy(o->data + o->len, src, n);
    o->len += n;
    return 0;
}

static int put_long(run *r, int64_t v) {
    uint8_t b[10];
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        b[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    b[n++] = (uint8_t)z;
    return put(r, b, n);
}

/* Reads a zig-zag varint of at most max_bytes bytes, by the validator's
 * rules (the last byte carries only the bits the type has left). */
static inline int read_varint(run *r, int max_bytes, int64_t *out) {
    /* Lengths, indexes, booleans and small numbers fit in one byte. */
    if (r->in < r->end && *r->in < 0x80) {
        uint8_t b = *r->in++;
        *out = (int64_t)(b >> 1) ^ -(int64_t)(b & 1);
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (r->in == r->end)
            return fail(r, RP_ETRUNC, "the input ends inside a varint");
        uint8_t b = *r->in++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i == max_bytes - 1 && b > (max_bytes == 10 ? 0x01 : 0x0f))
                return fail(r, RP_EBADDATA, "varint overflows a %d-bit integer",
                            max_bytes == 10 ? 64 : 32);
            *out = (int64_t)((v >> 1) ^ (~(v & 1) + 1));
            return 0;
        }
    }
    return fail(r, RP_EBADDATA, "varint is longer than %d bytes", max_bytes);
}

/* Reads a varint and copies its bytes. */
static int copy_varint(run *r, int max_bytes, int64_t *v) {
    const uint8_t *from = r->in;
    int rc = read_varint(r, max_bytes, v);
    return rc < 0 ? rc : put(r, from, (size_t)(r->in - from));
}

static int check_utf8(run *r, const uint8_t *s, size_t n) {
    size_t bad = rp_utf8_check(s, n);
    if (bad == n)
        return 0;
    r->at = s + bad; /* point the message at the bad byte */
    return fail(r, RP_EBADDATA, "string is not valid UTF-8");
}

/* Records a string where it lies: as the current entry's value, or as
 * the next item of its array. */
static void record_bytes(run *r, const uint8_t *s, size_t n) {
    rp_avro_walk_field *f = r->cur;
    if (!r->in_items) {
        f->str = (const char *)s;
        f->len = n;
        return;
    }
    rp_avro_walk *w = r->walk;
    if (w->n_items < w->items_cap)
        w->items[w->n_items] = (rp_str){(const char *)s, n};
    w->n_items++;
    f->count++;
}

/* A string (utf8: the reader's, checked) or bytes: its length and bytes,
 * in one copy. */
static int copy_bytes(run *r, bool utf8) {
    const uint8_t *from = r->in;
    int64_t n = 0;
    int rc = read_varint(r, 10, &n);
    if (rc < 0)
        return rc;
    if (n < 0)
        return fail(r, RP_EBADDATA, "length %lld is negative", (long long)n);
    if ((uint64_t)n > remaining(r))
        return fail(r, RP_ETRUNC, "length %lld but only %zu bytes remain",
                    (long long)n, remaining(r));
    const uint8_t *s = r->in;
    if (utf8 && !r->skipping && (rc = check_utf8(r, s, (size_t)n)) < 0)
        return rc;
    r->in += n;
    if (r->cur)
        record_bytes(r, s, (size_t)n);
    return put(r, from, (size_t)(r->in - from));
}

static int copy_fixed(run *r, size_t n) {
    if (n > remaining(r))
        return fail(r, RP_ETRUNC, "%zu bytes needed but only %zu remain", n,
                    remaining(r));
    const uint8_t *from = r->in;
    r->in += n;
    return put(r, from, n);
}

/* The promotions: a number read in the writer's type, written in the
 * reader's (IEEE 754, little-endian hosts, as avro-c assumes too). */
static int promote(run *r, uint32_t op) {
    int64_t v = 0;
    float f;
    double d;
    int rc = 0;
    if (op == X_FLOAT_DOUBLE) {
        if (remaining(r) < 4)
            return fail(r, RP_ETRUNC, "the input ends inside a float");
        memcpy(&f, r->in, 4);
        r->in += 4;
        d = f;
        return put(r, &d, 8);
    }
    rc = read_varint(r, op == X_INT_FLOAT || op == X_INT_DOUBLE ? 5 : 10, &v);
    if (rc < 0)
        return rc;
    if (op == X_INT_FLOAT || op == X_LONG_FLOAT) {
        f = (float)v;
        return put(r, &f, 4);
    }
    d = (double)v;
    return put(r, &d, 8);
}

static int seq(run *r, uint32_t pc, uint32_t end);
static int rewrite_record(run *r, const uint32_t *code, uint32_t pc);

static int do_enum(run *r, const uint32_t *code) {
    int64_t i = 0;
    int rc = read_varint(r, 5, &i);
    if (rc < 0)
        return rc;
    if (i < 0 || i >= code[1])
        return fail(r, RP_EBADDATA, "enum index %lld is out of range",
                    (long long)i);
    uint32_t m = code[2 + i];
    if (m & X_MISSING)
        return fail(r, RP_ECONTRACT,
                    "the writer's symbol %s is not one of the reader's and "
                    "the reader's enum has no default",
                    r->p->pool + (m & ~X_MISSING));
    if (r->cur && !r->in_items)
        r->cur->num = m;
    return put_long(r, m);
}

static int do_union(run *r, const uint32_t *code) {
    int64_t b = 0;
    int rc = read_varint(r, 10, &b);
    if (rc < 0)
        return rc;
    uint32_t n = code[1];
    if (b < 0 || b >= n)
        return fail(r, RP_EBADDATA, "union branch %lld is out of range",
                    (long long)b);
    return seq(r, code[3 + b], b + 1 < n ? code[4 + b] : code[2]);
}

/* Arrays and maps: blocks of items until a zero count, written as blocks
 * of positive counts (the reader needs no byte sizes). */
static int blocks(run *r, const uint32_t *code, uint32_t item);

/* In walk mode, the string items of an array of the current entry are
 * recorded as its items; nothing inside maps or nested arrays is. */
static int do_blocks(run *r, const uint32_t *code, uint32_t item) {
    rp_avro_walk_field *cur = r->cur;
    bool in_items = r->in_items;
    if (cur && (code[0] == X_MAP || in_items))
        r->cur = NULL;
    else if (cur) {
        r->in_items = true;
        cur->first = r->walk->n_items;
        cur->count = 0;
    }
    int rc = blocks(r, code, item);
    r->cur = cur;
    r->in_items = in_items;
    return rc;
}

static int blocks(run *r, const uint32_t *code, uint32_t item) {
    bool is_map = code[0] == X_MAP;
    const char *what = is_map ? "map" : "array";
    uint32_t min_item = code[1], end = code[2];
    const char *field = r->field;
    for (;;) {
        int64_t count = 0, bytes = -1;
        r->at = r->in;
        int rc = read_varint(r, 10, &count);
        if (rc < 0)
            return rc;
        if (count == 0)
            return put_long(r, 0);
        if (count < 0) {
            if (count == INT64_MIN)
                return fail(r, RP_EBADDATA, "%s block count is out of range",
                            what);
            count = -count;
            if ((rc = read_varint(r, 10, &bytes)) < 0)
                return rc;
            if (bytes < 0)
                return fail(r, RP_EBADDATA, "%s block size %lld is negative",
                            what, (long long)bytes);
            if ((uint64_t)bytes > remaining(r))
                return fail(r, RP_ETRUNC,
                            "%s block of %lld bytes but only %zu remain", what,
                            (long long)bytes, remaining(r));
        }
        r->items += (uint64_t)count;
        if (r->items > PLAN_MAX_ITEMS)
            return fail(r, RP_EBADDATA, "%s has more than %d items", what,
                        PLAN_MAX_ITEMS);
        if (min_item > 0 && (uint64_t)count > remaining(r) / min_item)
            return fail(r, RP_ETRUNC,
                        "%s block of %lld items but only %zu bytes remain",
                        what, (long long)count, remaining(r));
        if ((rc = put_long(r, count)) < 0)
            return rc;
        const uint8_t *block = r->in;
        for (int64_t i = 0; i < count; i++) {
            if (is_map && (rc = copy_bytes(r, true)) < 0)
                return rc;
            if ((rc = seq(r, item, end)) < 0)
                return rc;
            r->field = field;
        }
        r->at = block;
        if (bytes >= 0 && r->in - block != bytes)
            return fail(r, RP_EBADDATA,
                        "%s block says %lld bytes but its items take %zu", what,
                        (long long)bytes, (size_t)(r->in - block));
    }
}

/* Puts the output of a record (from start) in the reader's order, with
 * the defaults, through the scratch buffer. */
static int reorder(run *r, const uint32_t *table, uint32_t nr, size_t start,
                   const uint32_t *rs, const uint32_t *re) {
    rp_buf *s = r->scratch;
    rp_buf_reset(s);
    for (uint32_t ri = 0; ri < nr; ri++) {
        const uint32_t *e = table + 3 * ri;
        int rc = e[0] == 0
                     ? rp_buf_append(s, r->out->data + rs[ri], re[ri] - rs[ri])
                     : rp_buf_append(s, r->p->pool + e[1], e[2]);
        if (rc < 0)
            return fail(r, RP_ENOMEM, "out of memory");
    }
    r->out->len = start;
    return put(r, s->data, s->len);
}

/* A node of one word: a primitive copied, checked or promoted. */
static inline int leaf(run *r, uint32_t op) {
    int64_t v = 0;
    int rc;
    switch (op) {
    case X_NULL: return 0;
    case X_BOOL:
        if (r->in == r->end)
            return fail(r, RP_ETRUNC, "the input ends inside a boolean");
        if (*r->in > 1)
            return fail(r, RP_EBADDATA, "boolean byte is 0x%02x", *r->in);
        if (r->cur && !r->in_items)
            r->cur->num = *r->in;
        return put(r, r->in++, 1);
    case X_INT:
    case X_LONG:
        rc = copy_varint(r, op == X_INT ? 5 : 10, &v);
        if (rc == 0 && r->cur && !r->in_items)
            r->cur->num = v;
        return rc;
    case X_FLOAT: return copy_fixed(r, 4);
    case X_DOUBLE: return copy_fixed(r, 8);
    case X_BYTES:
    case X_STRING: return copy_bytes(r, op == X_STRING);
    default: return promote(r, op);
    }
}

/* A writer union whose every branch is one leaf, after the reader's
 * branch index if the reader has a union (the nullable fields). */
static int do_usimple(run *r, const uint32_t *code) {
    int64_t b = 0;
    int rc = read_varint(r, 10, &b);
    if (rc < 0)
        return rc;
    if (b < 0 || b >= code[1])
        return fail(r, RP_EBADDATA, "union branch %lld is out of range",
                    (long long)b);
    uint32_t k = code[2 + 2 * b], op = code[3 + 2 * b];
    if (k != X_NONE) {
        if (r->cur && !r->in_items)
            r->cur->branch = (int32_t)k;
        if ((rc = put_long(r, k)) < 0)
            return rc;
    }
    r->at = r->in;
    return leaf(r, op);
}

/* The plan of one field: a single leaf without the loop, else the loop. */
static inline int field_plan(run *r, uint32_t pc, uint32_t end) {
    uint32_t op = r->p->code[pc];
    if (end == pc + 1 && op <= X_FLOAT_DOUBLE) {
        r->at = r->in;
        return leaf(r, op);
    }
    return seq(r, pc, end);
}

/* Walk mode's top-level record: each writer field into the entry of its
 * reader field, then the defaults. */
static int walk_record(run *r, const uint32_t *code, uint32_t pc) {
    uint32_t nw = code[1], nr = code[2];
    const uint32_t *pcode = r->p->code;
    rp_avro_walk *w = r->walk;
    r->below_top = true; /* records met from here on are nested */
    pc += 5;
    for (uint32_t wi = 0; wi < nw; wi++) {
        uint32_t ri = pcode[pc + 1], fend = pcode[pc + 2];
        r->field = r->p->pool + pcode[pc];
        if (ri == X_NONE) {
            r->cur = NULL;
        } else {
            r->cur = &w->field[ri];
            *r->cur = (rp_avro_walk_field){.branch = -1};
        }
        int rc = field_plan(r, pc + 3, fend);
        if (rc < 0)
            return rc;
        pc = fend;
    }
    r->cur = NULL;
    for (uint32_t ri = 0; ri < nr; ri++)
        if (pcode[pc + 3 * ri] == 1)
            w->field[ri] = r->p->top_default[ri];
    w->n_fields = nr;
    return 0;
}

static int do_record(run *r, const uint32_t *code, uint32_t pc) {
    if (r->walk && !r->below_top)
        return walk_record(r, code, pc);
    rp_avro_walk_field *cur = r->cur;
    r->cur = NULL; /* the fields of nested records are not recorded */
    int rc = rewrite_record(r, code, pc);
    r->cur = cur;
    return rc;
}

static int rewrite_record(run *r, const uint32_t *code, uint32_t pc) {
    uint32_t nw = code[1], nr = code[2], in_order = code[3];
    uint32_t rs[PLAN_MAX_FIELDS], re[PLAN_MAX_FIELDS];
    bool writing = r->skip == 0;
    size_t start = writing ? r->out->len : 0;
    const uint32_t *pcode = r->p->code;
    pc += 5;
    for (uint32_t wi = 0; wi < nw; wi++) {
        uint32_t ri = pcode[pc + 1], fend = pcode[pc + 2];
        r->field = r->p->pool + pcode[pc];
        int rc;
        if (ri == X_NONE || !writing) {
            rc = seq(r, pc + 3, fend);
        } else {
            rs[ri] = (uint32_t)r->out->len;
            rc = seq(r, pc + 3, fend);
            re[ri] = (uint32_t)r->out->len;
        }
        if (rc < 0)
            return rc;
        pc = fend;
    }
    if (in_order || !writing)
        return 0;
    return reorder(r, pcode + pc, nr, start, rs, re);
}

/* Runs the plan's nodes from pc up to end. */
static int seq(run *r, uint32_t pc, uint32_t end) {
    const uint32_t *code = r->p->code;
    while (pc < end) {
        const uint32_t *c = code + pc;
        int rc = 0;
        r->at = r->in;
        switch (c[0]) {
        case X_NULL:
        case X_BOOL:
        case X_INT:
        case X_LONG:
        case X_FLOAT:
        case X_DOUBLE:
        case X_BYTES:
        case X_STRING:
        case X_INT_FLOAT:
        case X_INT_DOUBLE:
        case X_LONG_FLOAT:
        case X_LONG_DOUBLE:
        case X_FLOAT_DOUBLE: rc = leaf(r, c[0]), pc += 1; break;
        case X_USIMPLE: rc = do_usimple(r, c), pc += 2 + 2 * c[1]; break;
        case X_FIXED: rc = copy_fixed(r, c[1]), pc += 2; break;
        case X_ENUM: rc = do_enum(r, c), pc += 2 + c[1]; break;
        case X_UNION: rc = do_union(r, c), pc = c[2]; break;
        case X_BRANCH:
            if (r->cur && !r->in_items)
                r->cur->branch = (int32_t)c[1];
            rc = put_long(r, c[1]), pc += 2;
            break;
        case X_FAIL: return fail(r, RP_ECONTRACT, "%s", r->p->pool + c[1]);
        case X_ARRAY:
        case X_MAP: rc = do_blocks(r, c, pc + 3), pc = c[2]; break;
        case X_SKIP: {
            rp_avro_walk_field *cur = r->cur;
            r->cur = NULL;
            r->skip++;
            r->skipping++;
            rc = seq(r, pc + 2, c[1]);
            r->skipping--;
            r->skip--;
            r->cur = cur;
            pc = c[1];
            break;
        }
        case X_RECORD: rc = do_record(r, c, pc), pc = c[4]; break;
        default: return fail(r, RP_EINVAL, "bad plan opcode %u", c[0]);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int rp_avro_plan_run(const rp_avro_plan *p, const uint8_t *in, size_t len,
                     rp_buf *out, rp_buf *scratch, char *errstr,
                     size_t errstr_size) {
    run r = {.p = p,
             .start = in,
             .in = in,
             .end = in + len,
             .at = in,
             .out = out,
             .scratch = scratch,
             .errstr = errstr,
             .errstr_size = errstr_size};
    rp_buf_reset(out);
    int rc = seq(&r, 0, p->len);
    if (rc < 0)
        return rc;
    if (r.in != r.end) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size,
                     "%s: %zu trailing bytes after the record", p->record,
                     (size_t)(r.end - r.in));
        return RP_EBADDATA;
    }
    return 0;
}

int rp_avro_plan_walk(const rp_avro_plan *p, const uint8_t *in, size_t len,
                      rp_avro_walk *w, char *errstr, size_t errstr_size) {
    run r = {.p = p,
             .start = in,
             .in = in,
             .end = in + len,
             .at = in,
             .skip = 1, /* nothing is written */
             .errstr = errstr,
             .errstr_size = errstr_size,
             .walk = w};
    w->n_fields = 0;
    w->n_items = 0;
    int rc = seq(&r, 0, p->len);
    if (rc < 0)
        return rc;
    if (r.in != r.end) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size,
                     "%s: %zu trailing bytes after the record", p->record,
                     (size_t)(r.end - r.in));
        return RP_EBADDATA;
    }
    return 0;
}
