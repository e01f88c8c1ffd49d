/*
 * avro_check.c - a schema-driven validator for Avro binary, allocating
 * nothing per record.
 *
 * avro-c trusts its input: a string length read from the wire is passed to
 * malloc before anyone looks at how many bytes are left, a negative array
 * block count is multiplied by -1 without a bound, and an enum index is
 * stored whatever its value. A Kafka topic is not a trusted input, so
 * rp_avro_decode() runs every datum through rp_avro_check() first, and
 * avro-c only ever sees bytes that are known to be one well-formed datum of
 * the expected schema.
 *
 * Each schema is compiled once into a flat program (avro_program.h,
 * compiled by avro_compile.c) that this file interprets. The interpreter
 * needs no allocation, no locks and no state outside the caller's stack;
 * it recurses only along the nesting of the schema (bounded at compile
 * time), never along anything the input controls.
 *
 * The rules are those of the Avro specification, applied strictly: varints
 * of at most 10 bytes (5 for int) whose value fits the type, booleans that
 * are 0 or 1, lengths that are non-negative and within the input, union and
 * enum indexes in range, array and map blocks whose counts fit in the input
 * and whose declared byte sizes (negative block counts) match their items,
 * and strings that are valid UTF-8 (utf8.h, the rule the JSON lines writer
 * also follows, so that every string the decoder hands out can be written
 * to JSON unchanged). Lengths that point past the end of the input mean
 * the datum is truncated (RP_ETRUNC); everything else that is wrong is
 * RP_EBADDATA. Either way errstr names the record, the field and the byte
 * offset.
 *
 * The same walk is also the decoder of input records (avro_walk.h): given
 * an rp_avro_walk, the interpreter writes down what it reads as it checks
 * it, one entry per field of the top-level record (the union branch taken,
 * the value of a boolean, int, long or enum, where a string lies in the
 * input) and the string items of arrays in a table of the caller's. So a
 * record is validated and decoded in one pass over its bytes, with the
 * same errors either way; avro_decode.c then only moves the entries into an
 * rp_record. Recording follows the nesting of the schema: a FIELD marker
 * outside any union, array or map starts the next entry, leaves write into
 * the current entry, and inside arrays whose items are not strings, maps
 * and records nested in a union nothing is recorded (the input schemas
 * have none of them).
 *
 * Trailing defaults (docs/schemas.md): the fields appended to repute's
 * schemas after their first release are all nullable with a null default,
 * so a record written with the earlier schema is exactly a prefix of one
 * written with the current schema, ending where the appended fields begin.
 * Every check accepts such a datum (rp_avro_check_trailing() says how many
 * fields it lacks, and the walk records them as null); a datum cut
 * anywhere else is truncated as always.
 */
#include "repute/avro.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/avro_program.h"
#include "codec/avro_walk.h"
#include "codec/utf8.h"

#define SLOT_COUNT RP_SCHEMA_ID__COUNT

/* ------------------------------------------------------------ interpreter */

typedef struct checker {
    const uint8_t *start;
    const uint8_t *p;
    const uint8_t *end;
    const uint8_t *at; /* where the item being checked starts */
    const rp_avro_program *pg;
    const char *field; /* the innermost field being read, for messages */
    char *errstr;
    size_t errstr_size;
    /* Recording (rp_avro_check_walk() only; walk is NULL for a plain check). */
    rp_avro_walk *walk;
    rp_avro_walk_field *cur; /* the entry leaves go to, or NULL */
    bool in_items;           /* strings are items of cur's array */
    uint32_t nest;           /* enclosing unions, arrays and maps */
} checker;

static int fail(checker *ck, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(checker *ck, int code, const char *fmt, ...) {
    if (ck->errstr && ck->errstr_size) {
        int n = snprintf(ck->errstr, ck->errstr_size,
                         "%s%s%s at byte %zu: ", ck->pg->record,
                         ck->field ? "." : "", ck->field ? ck->field : "",
                         (size_t)(ck->at - ck->start));
        if (n >= 0 && (size_t)n < ck->errstr_size) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ck->errstr + n, ck->errstr_size - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

static size_t remaining(const checker *ck) {
    return (size_t)(ck->end - ck->p);
}

/* Reads a zig-zag varint of at most max_bytes bytes. The last byte may only
 * carry the bits the type has left (1 for a long's tenth byte, 4 for an
 * int's fifth), so that every accepted varint has exactly one value. */
static int read_varint(checker *ck, int max_bytes, int64_t *out) {
    /* Lengths, indexes and booleans-as-varints mostly fit in one byte. */
    if (ck->p < ck->end && *ck->p < 0x80) {
        uint8_t b = *ck->p++;
        *out = (int64_t)(b >> 1) ^ -(int64_t)(b & 1);
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (ck->p == ck->end)
            return fail(ck, RP_ETRUNC, "the input ends inside a varint");
        uint8_t b = *ck->p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (i == max_bytes - 1) {
                uint8_t room = max_bytes == 10 ? 0x01 : 0x0f;
                if (b > room)
                    return fail(ck, RP_EBADDATA,
                                "varint overflows a %d-bit integer",
                                max_bytes == 10 ? 64 : 32);
            }
            *out = (int64_t)((v >> 1) ^ (~(v & 1) + 1));
            return 0;
        }
    }
    return fail(ck, RP_EBADDATA, "varint is longer than %d bytes", max_bytes);
}

static int read_long(checker *ck, int64_t *out) {
    return read_varint(ck, 10, out);
}

static int check_utf8(checker *ck, const uint8_t *s, size_t n) {
    size_t bad = rp_utf8_check(s, n);
    if (bad == n)
        return 0;
    ck->at = s + bad; /* point the message at the bad byte */
    return fail(ck, RP_EBADDATA, "string is not valid UTF-8");
}

/* Checks a length-prefixed string (utf8) or bytes and steps over it; *out
 * and *out_len are where its bytes lie. */
static int check_length(checker *ck, bool utf8, const uint8_t **out,
                        size_t *out_len) {
    int64_t n;
    int rc = read_long(ck, &n);
    if (rc < 0)
        return rc;
    if (n < 0)
        return fail(ck, RP_EBADDATA, "length %lld is negative", (long long)n);
    if ((uint64_t)n > remaining(ck))
        return fail(ck, RP_ETRUNC, "length %lld but only %zu bytes remain",
                    (long long)n, remaining(ck));
    const uint8_t *s = ck->p;
    if (utf8 && (rc = check_utf8(ck, s, (size_t)n)) < 0)
        return rc;
    ck->p = s + n;
    *out = s;
    *out_len = (size_t)n;
    return 0;
}

/* ------------------------------------------------------------ recording */

/* Starts the entry of the next top-level field, or returns NULL when there
 * is no walk, the field is nested, or the entries are used up. */
static rp_avro_walk_field *next_field(checker *ck) {
    rp_avro_walk *w = ck->walk;
    if (!w || ck->nest > 0 || w->n_fields >= RP_AVRO_WALK_FIELDS)
        return NULL;
    rp_avro_walk_field *f = &w->field[w->n_fields++];
    *f = (rp_avro_walk_field){.branch = -1};
    return f;
}

/* Records a string, bytes or fixed that lies at s: as the current entry's
 * value, or as the next item of its array. */
static void record_bytes(checker *ck, const uint8_t *s, size_t n) {
    if (ck->in_items) {
        rp_avro_walk *w = ck->walk;
        if (w->n_items < w->items_cap)
            w->items[w->n_items] = (rp_str){(const char *)s, n};
        w->n_items++;
    } else {
        ck->cur->str = (const char *)s;
        ck->cur->len = n;
    }
}

static int run(checker *ck, uint32_t pc, uint32_t stop);

/* Arrays and maps: blocks of items until a zero count. A negative count is
 * followed by the block's size in bytes, which must match its items. The
 * number of items is left in *n_items. */
static int check_blocks(checker *ck, bool is_map, uint32_t min_item,
                        uint32_t item_pc, uint32_t item_end,
                        uint64_t *n_items) {
    const char *what = is_map ? "map" : "array";
    uint64_t items = 0;
    for (;;) {
        int64_t count, bytes = -1;
        ck->at = ck->p;
        int rc = read_long(ck, &count);
        if (rc < 0)
            return rc;
        if (count == 0) {
            *n_items = items;
            return 0;
        }
        if (count < 0) {
            if (count == INT64_MIN)
                return fail(ck, RP_EBADDATA, "%s block count is out of range",
                            what);
            count = -count;
            if ((rc = read_long(ck, &bytes)) < 0)
                return rc;
            if (bytes < 0)
                return fail(ck, RP_EBADDATA, "%s block size %lld is negative",
                            what, (long long)bytes);
            if ((uint64_t)bytes > remaining(ck))
                return fail(ck, RP_ETRUNC,
                            "%s block of %lld bytes but only %zu remain", what,
                            (long long)bytes, remaining(ck));
        }
        /* Items of at least one byte cannot outnumber the bytes left, and
         * items of none (arrays of null) are capped so that a forged count
         * cannot make this loop, or avro-c's, run for ever. */
        items += (uint64_t)count;
        if (items > RP_AVRO_MAX_RECORD)
            return fail(ck, RP_EBADDATA, "%s has more than %d items", what,
                        RP_AVRO_MAX_RECORD);
        if (min_item > 0 && (uint64_t)count > remaining(ck) / min_item)
            return fail(ck, RP_ETRUNC,
                        "%s block of %lld items but only %zu bytes remain",
                        what, (long long)count, remaining(ck));
        const uint8_t *block = ck->p;
        const char *field = ck->field;
        for (int64_t i = 0; i < count; i++) {
            const uint8_t *key;
            size_t key_len;
            if (is_map && (rc = check_length(ck, true, &key, &key_len)) < 0)
                return rc;
            if ((rc = run(ck, item_pc, item_end)) < 0)
                return rc;
            ck->field = field;
        }
        ck->at = block;
        if (bytes >= 0 && ck->p - block != bytes)
            return fail(ck, RP_EBADDATA,
                        "%s block says %lld bytes but its items take %zu", what,
                        (long long)bytes, (size_t)(ck->p - block));
    }
}

/* run_union() and run_items() are kept out of line on purpose: unions and
 * arrays are the rare cases of run()'s loop, and inlined they cost the hot
 * cases registers. repute-bench-engine's decode rate measured about 7%
 * lower with them inlined, and 4-14% higher out of line, than with the one
 * long run() they were taken from. */

/* A union at pc: reads the branch and runs it. The branch's leaves go to
 * the same entry; a record in the branch is nested, and its fields are not
 * recorded. */
__attribute__((noinline)) static int run_union(checker *ck, uint32_t pc) {
    const uint32_t *code = ck->pg->code;
    uint32_t n = code[pc + 1], end = code[pc + 2];
    int64_t v;
    int rc = read_long(ck, &v);
    if (rc < 0)
        return rc;
    if (v < 0 || v >= (int64_t)n)
        return fail(ck, RP_EBADDATA,
                    "union branch %lld is out of range (%u branches)",
                    (long long)v, n);
    uint32_t from = code[pc + 3 + v];
    uint32_t to = (uint32_t)v + 1 < n ? code[pc + 4 + v] : end;
    rp_avro_walk_field *owner = ck->cur;
    if (owner)
        owner->branch = (int32_t)v;
    ck->nest++;
    if ((rc = run(ck, from, to)) < 0)
        return rc;
    ck->nest--;
    ck->cur = owner;
    return 0;
}

/* An array or a map at pc. Items that are one string (or bytes) each are
 * recorded in the walk's item table; other items are not recorded. */
__attribute__((noinline)) static int run_items(checker *ck, uint32_t pc) {
    const uint32_t *code = ck->pg->code;
    bool is_map = code[pc] == OP_MAP;
    uint32_t item_pc = pc + 3, item_end = code[pc + 2];
    rp_avro_walk_field *owner = ck->cur;
    size_t first = ck->walk ? ck->walk->n_items : 0;
    bool strings = owner && !is_map && item_end == item_pc + 1 &&
                   (code[item_pc] == OP_STRING || code[item_pc] == OP_BYTES);
    uint64_t items = 0;
    ck->cur = strings ? owner : NULL;
    ck->in_items = strings;
    ck->nest++;
    int rc = check_blocks(ck, is_map, code[pc + 1], item_pc, item_end, &items);
    if (rc < 0)
        return rc;
    ck->nest--;
    ck->cur = owner;
    ck->in_items = false;
    if (owner) {
        owner->first = first;
        owner->count = (size_t)items;
    }
    return 0;
}

/* What run() returns when the datum ends at the OP_TRAIL of the top-level
 * record: not an error, and not 0, since the rest of the program was not
 * run. Nested runs never see it (OP_TRAIL is top-level only). */
#define TRAIL_END 1

/* Runs the program from pc up to stop: 0, TRAIL_END, or an error. */
static int run(checker *ck, uint32_t pc, uint32_t stop) {
    const uint32_t *code = ck->pg->code;
    int rc;
    int64_t v;
    while (pc < stop) {
        ck->at = ck->p;
        switch (code[pc]) {
        case OP_NULL: pc += 1; break;
        case OP_BOOL:
            if (ck->p == ck->end)
                return fail(ck, RP_ETRUNC, "the input ends before a boolean");
            if (*ck->p > 1)
                return fail(ck, RP_EBADDATA,
                            "boolean byte is 0x%02x, not 0 or 1", *ck->p);
            if (ck->cur)
                ck->cur->num = *ck->p;
            ck->p++;
            pc += 1;
            break;
        case OP_INT:
            if ((rc = read_varint(ck, 5, &v)) < 0)
                return rc;
            if (ck->cur)
                ck->cur->num = v;
            pc += 1;
            break;
        case OP_LONG:
            if ((rc = read_long(ck, &v)) < 0)
                return rc;
            if (ck->cur)
                ck->cur->num = v;
            pc += 1;
            break;
        case OP_FLOAT:
        case OP_DOUBLE: {
            size_t n = code[pc] == OP_FLOAT ? 4 : 8;
            if (remaining(ck) < n)
                return fail(ck, RP_ETRUNC, "the input ends inside a %s",
                            n == 4 ? "float" : "double");
            if (ck->cur)
                record_bytes(ck, ck->p, n);
            ck->p += n;
            pc += 1;
            break;
        }
        case OP_STRING:
        case OP_BYTES: {
            const uint8_t *s;
            size_t n;
            if ((rc = check_length(ck, code[pc] == OP_STRING, &s, &n)) < 0)
                return rc;
            if (ck->cur)
                record_bytes(ck, s, n);
            pc += 1;
            break;
        }
        case OP_FIXED:
            if (remaining(ck) < code[pc + 1])
                return fail(ck, RP_ETRUNC, "the input ends inside a fixed");
            if (ck->cur)
                record_bytes(ck, ck->p, code[pc + 1]);
            ck->p += code[pc + 1];
            pc += 2;
            break;
        case OP_ENUM:
            if ((rc = read_varint(ck, 5, &v)) < 0)
                return rc;
            if (v < 0 || v >= (int64_t)code[pc + 1])
                return fail(ck, RP_EBADDATA,
                            "enum index %lld is out of range (%u symbols)",
                            (long long)v, code[pc + 1]);
            if (ck->cur)
                ck->cur->num = v;
            pc += 2;
            break;
        case OP_UNION:
            if ((rc = run_union(ck, pc)) < 0)
                return rc;
            pc = code[pc + 2];
            break;
        case OP_ARRAY:
        case OP_MAP:
            if ((rc = run_items(ck, pc)) < 0)
                return rc;
            pc = code[pc + 2];
            break;
        case OP_FIELD:
            ck->field = ck->pg->names + code[pc + 1];
            if (ck->walk)
                ck->cur = next_field(ck);
            pc += 2;
            break;
        case OP_TRAIL:
            /* Only at the top level: a datum of the schema before its
             * trailing defaults ends here (check_datum takes it from
             * there). */
            if (ck->p == ck->end)
                return TRAIL_END;
            pc += 1;
            break;
        default: return fail(ck, RP_EINVAL, "validator program is corrupt");
        }
    }
    return 0;
}

/* ------------------------------------------------------------ public */

/* Records the entries of the trailing defaults that a datum of the older
 * schema lacks: each is a null union, branch 0, as its encoding (one zero
 * byte) would have recorded. */
static void default_trailing(checker *ck) {
    for (uint32_t i = 0; i < ck->pg->trail_fields; i++) {
        rp_avro_walk_field *f = next_field(ck);
        if (f)
            f->branch = 0;
    }
}

/* rp_avro_check(), rp_avro_check_trailing() and rp_avro_check_walk(): walk
 * is NULL for the first two; *n_defaulted receives how many trailing
 * defaults the datum lacks. The program's OP_TRAIL, where the trailing
 * defaults begin, stops the run when the datum ends there: one dispatch
 * and one comparison per datum. (Splitting the run in two calls at that
 * point instead measured a few percent slower on repute-bench-codec.) */
static int check_datum(int slot, const void *buf, size_t len,
                       rp_avro_walk *walk, size_t *n_defaulted, char *errstr,
                       size_t errstr_size) {
    if (walk) {
        walk->n_fields = 0;
        walk->n_items = 0;
    }
    *n_defaulted = 0;
    if (slot < 0 || slot >= SLOT_COUNT) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "no schema slot %d", slot);
        return RP_EINVAL;
    }
    const rp_avro_program *pg = NULL;
    int rc = rp_avro_program_get(slot, &pg, errstr, errstr_size);
    if (rc < 0)
        return rc;
    /* The result is a byte count in an int; no datum of interest is near
     * that size (decoding stops at RP_AVRO_MAX_RECORD), so longer input is
     * only looked at up to INT_MAX bytes. */
    if (len > INT_MAX)
        len = INT_MAX;
    const uint8_t *p = buf ? buf : (const uint8_t *)"";
    checker ck = {.start = p,
                  .p = p,
                  .end = p + len,
                  .at = p,
                  .pg = pg,
                  .errstr = errstr,
                  .errstr_size = errstr_size,
                  .walk = walk};
    rc = run(&ck, 0, pg->len);
    if (rc < 0)
        return rc;
    if (rc == TRAIL_END) {
        default_trailing(&ck);
        *n_defaulted = pg->trail_fields;
    }
    return (int)(ck.p - ck.start);
}

int rp_avro_check(int slot, const void *buf, size_t len, char *errstr,
                  size_t errstr_size) {
    size_t n_defaulted;
    return check_datum(slot, buf, len, NULL, &n_defaulted, errstr, errstr_size);
}

int rp_avro_check_trailing(int slot, const void *buf, size_t len,
                           size_t *n_defaulted, char *errstr,
                           size_t errstr_size) {
    size_t unused;
    return check_datum(slot, buf, len, NULL,
                       n_defaulted ? n_defaulted : &unused, errstr,
                       errstr_size);
}

int rp_avro_check_walk(int slot, const void *buf, size_t len, rp_avro_walk *w,
                       char *errstr, size_t errstr_size) {
    size_t n_defaulted;
    return check_datum(slot, buf, len, w, &n_defaulted, errstr, errstr_size);
}
