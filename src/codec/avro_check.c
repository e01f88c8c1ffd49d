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
 * The validator does not walk avro_schema_t at run time: following links,
 * looking fields up and calling through avro-c's schema accessors for every
 * byte would cost more than the decoding itself. Instead each embedded
 * schema is compiled, once per process (pthread_once), into a compact
 * program of 32-bit words held in static storage. Records disappear in the
 * compilation (a record is just its fields in order), named-type references
 * are inlined, and each field is preceded by a FIELD marker so that errors
 * can name the field they were found in. The interpreter then needs no
 * allocation, no locks and no state outside the caller's stack; it recurses
 * only along the nesting of the schema (bounded at compile time), never
 * along anything the input controls.
 *
 * The rules are those of the Avro specification, applied strictly: varints
 * of at most 10 bytes (5 for int) whose value fits the type, booleans that
 * are 0 or 1, lengths that are non-negative and within the input, union and
 * enum indexes in range, array and map blocks whose counts fit in the input
 * and whose declared byte sizes (negative block counts) match their items,
 * and strings that are valid UTF-8 (utf8.h, the rule the JSON lines writer
 * also follows, so that every string the decoder hands out can be written
 * to JSON unchanged). Lengths that point past the end of
 * the input mean the datum is truncated (RP_ETRUNC); everything else that
 * is wrong is RP_EBADDATA. Either way errstr names the record, the field and
 * the byte offset.
 *
 * The same walk is also the decoder of input records (avro_walk.h): given
 * an rp_avro_walk, the interpreter writes down what it reads as it checks
 * it, one entry per field of the top-level record (the union branch taken,
 * the value of a boolean, int, long or enum, where a string lies in the
 * input) and the string items of arrays in a table of the caller's. So a
 * record is validated and decoded in one pass over its bytes, with the
 * same errors either way; avro.c then only moves the entries into an
 * rp_record. Recording follows the nesting of the schema: a FIELD marker
 * outside any union, array or map starts the next entry, leaves write into
 * the current entry, and inside arrays whose items are not strings, maps
 * and records nested in a union nothing is recorded (the input schemas
 * have none of them).
 */
#include "repute/avro.h"

#include <avro.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/avro_walk.h"
#include "codec/utf8.h"

#define SLOT_COUNT RP_SCHEMA_ID__COUNT

/* ------------------------------------------------------------ programs */

/* The opcodes. Layouts, in 32-bit words:
 *   NULL BOOL INT LONG FLOAT DOUBLE STRING BYTES   [op]
 *   FIXED                                          [op, size]
 *   ENUM                                           [op, symbols]
 *   UNION    [op, branches, end, start_0 .. start_{n-1}], branch i runs
 *            from start_i to start_{i+1} (the last one to end)
 *   ARRAY    [op, min_item, end], the item program follows up to end
 *   MAP      [op, min_item, end], the value program follows up to end
 *   FIELD    [op, name], name is an offset into the program's name pool
 * min_item is the fewest bytes one item can take; it bounds how many items
 * a block may claim from the bytes that remain. */
enum {
    OP_NULL,
    OP_BOOL,
    OP_INT,
    OP_LONG,
    OP_FLOAT,
    OP_DOUBLE,
    OP_STRING,
    OP_BYTES,
    OP_FIXED,
    OP_ENUM,
    OP_UNION,
    OP_ARRAY,
    OP_MAP,
    OP_FIELD
};

/* Generous for the six schemas (ReputationEvent, the largest, compiles to
 * a few hundred words and well under 1 KiB of names); exceeding them is a
 * compile error, not a silent truncation. */
#define PROGRAM_WORDS 2048
#define NAME_POOL     8192
#define MAX_DEPTH     32

typedef struct program {
    uint32_t code[PROGRAM_WORDS];
    uint32_t len;
    char names[NAME_POOL];
    uint32_t names_len;
    char record[64]; /* the top-level record's name, for messages */
} program;

static program programs[SLOT_COUNT];
static pthread_once_t programs_once = PTHREAD_ONCE_INIT;
static int programs_rc;
static char programs_err[256];

/* ------------------------------------------------------------ compiler */

typedef struct compiler {
    program *pg;
    char *err;
    size_t err_size;
} compiler;

static int compile_error(compiler *cc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int compile_error(compiler *cc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cc->err, cc->err_size, fmt, ap);
    va_end(ap);
    return RP_EINVAL;
}

/* Checks that n more words fit, so that the emits that follow cannot
 * overflow the program. */
static int room(compiler *cc, size_t n) {
    if (cc->pg->len + n > PROGRAM_WORDS)
        return compile_error(cc, "schema is too large for the validator");
    return 0;
}

/* Appends one word (room() has been checked) and returns its index. */
static uint32_t emit(compiler *cc, uint32_t word) {
    program *pg = cc->pg;
    pg->code[pg->len] = word;
    return pg->len++;
}

static int emit_name(compiler *cc, const char *name, uint32_t *out) {
    program *pg = cc->pg;
    size_t n = strlen(name) + 1;
    if (pg->names_len + n > NAME_POOL)
        return compile_error(cc, "field names do not fit the validator");
    memcpy(pg->names + pg->names_len, name, n);
    *out = pg->names_len;
    pg->names_len += (uint32_t)n;
    return 0;
}

/* A node of one word: the primitive types. */
static int simple(compiler *cc, uint32_t op) {
    int rc = room(cc, 1);
    if (rc == 0)
        emit(cc, op);
    return rc;
}

/* Compiles one schema node and reports the fewest bytes a datum of it can
 * take in *min_size. */
static int compile_node(compiler *cc, avro_schema_t s, int depth,
                        uint64_t *min_size) {
    if (depth > MAX_DEPTH)
        return compile_error(cc,
                             "schema is recursive or nested deeper than %d "
                             "levels",
                             MAX_DEPTH);
    int rc;
    switch (avro_typeof(s)) {
    case AVRO_NULL: *min_size = 0; return simple(cc, OP_NULL);
    case AVRO_BOOLEAN: *min_size = 1; return simple(cc, OP_BOOL);
    case AVRO_INT32: *min_size = 1; return simple(cc, OP_INT);
    case AVRO_INT64: *min_size = 1; return simple(cc, OP_LONG);
    case AVRO_FLOAT: *min_size = 4; return simple(cc, OP_FLOAT);
    case AVRO_DOUBLE: *min_size = 8; return simple(cc, OP_DOUBLE);
    case AVRO_STRING: *min_size = 1; return simple(cc, OP_STRING);
    case AVRO_BYTES: *min_size = 1; return simple(cc, OP_BYTES);
    case AVRO_FIXED: {
        int64_t size = avro_schema_fixed_size(s);
        if (size < 0 || size > INT32_MAX)
            return compile_error(cc, "fixed size %lld is out of range",
                                 (long long)size);
        if ((rc = room(cc, 2)) < 0)
            return rc;
        emit(cc, OP_FIXED);
        emit(cc, (uint32_t)size);
        *min_size = (uint64_t)size;
        return 0;
    }
    case AVRO_ENUM: {
        int n = avro_schema_enum_number_of_symbols(s);
        if (n <= 0)
            return compile_error(cc, "enum %s has no symbols",
                                 avro_schema_name(s));
        if ((rc = room(cc, 2)) < 0)
            return rc;
        emit(cc, OP_ENUM);
        emit(cc, (uint32_t)n);
        *min_size = 1;
        return 0;
    }
    case AVRO_RECORD: {
        /* A record is its fields in order; it leaves no word of its own. */
        size_t n = avro_schema_record_size(s);
        *min_size = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t name = 0;
            uint64_t field_min;
            if ((rc = room(cc, 2)) < 0 ||
                (rc = emit_name(cc, avro_schema_record_field_name(s, (int)i),
                                &name)) < 0)
                return rc;
            emit(cc, OP_FIELD);
            emit(cc, name);
            rc = compile_node(cc,
                              avro_schema_record_field_get_by_index(s, (int)i),
                              depth + 1, &field_min);
            if (rc < 0)
                return rc;
            *min_size += field_min;
        }
        return 0;
    }
    case AVRO_UNION: {
        size_t n = avro_schema_union_size(s);
        if (n == 0)
            return compile_error(cc, "union has no branches");
        if ((rc = room(cc, 3 + n)) < 0)
            return rc;
        emit(cc, OP_UNION);
        emit(cc, (uint32_t)n);
        uint32_t end = emit(cc, 0);
        uint32_t starts = cc->pg->len;
        for (size_t i = 0; i < n; i++)
            emit(cc, 0);
        uint64_t least = UINT64_MAX;
        for (size_t i = 0; i < n; i++) {
            uint64_t branch_min;
            cc->pg->code[starts + i] = cc->pg->len;
            rc = compile_node(cc, avro_schema_union_branch(s, (int)i),
                              depth + 1, &branch_min);
            if (rc < 0)
                return rc;
            if (branch_min < least)
                least = branch_min;
        }
        cc->pg->code[end] = cc->pg->len;
        *min_size = 1 + least;
        return 0;
    }
    case AVRO_ARRAY:
    case AVRO_MAP: {
        bool is_map = avro_typeof(s) == AVRO_MAP;
        uint64_t item_min;
        if ((rc = room(cc, 3)) < 0)
            return rc;
        emit(cc, is_map ? OP_MAP : OP_ARRAY);
        uint32_t min_at = emit(cc, 0);
        uint32_t end = emit(cc, 0);
        rc = compile_node(
            cc, is_map ? avro_schema_map_values(s) : avro_schema_array_items(s),
            depth + 1, &item_min);
        if (rc < 0)
            return rc;
        if (is_map)
            item_min += 1; /* the key's length */
        cc->pg->code[min_at] =
            item_min > UINT32_MAX ? UINT32_MAX : (uint32_t)item_min;
        cc->pg->code[end] = cc->pg->len;
        *min_size = 1; /* the terminating zero count */
        return 0;
    }
    case AVRO_LINK:
        return compile_node(cc, avro_schema_link_target(s), depth + 1,
                            min_size);
    default:
        return compile_error(cc, "unsupported schema type %d",
                             (int)avro_typeof(s));
    }
}

static int compile_slot(int slot, char *err, size_t err_size) {
    const char *text = rp_avro_schema_json(slot);
    avro_schema_t schema;
    if (avro_schema_from_json_length(text, strlen(text), &schema) != 0) {
        snprintf(err, err_size, "cannot parse schema %s: %s",
                 rp_avro_schema_name(slot), avro_strerror());
        return RP_EINVAL;
    }
    program *pg = &programs[slot];
    memset(pg, 0, sizeof(*pg));
    snprintf(pg->record, sizeof(pg->record), "%s", avro_schema_name(schema));
    char reason[160] = "";
    compiler cc = {pg, reason, sizeof(reason)};
    uint64_t min_size;
    int rc = compile_node(&cc, schema, 0, &min_size);
    avro_schema_decref(schema);
    if (rc < 0)
        snprintf(err, err_size, "cannot compile schema %s: %s",
                 rp_avro_schema_name(slot), reason);
    return rc;
}

static void compile_all(void) {
    for (int slot = 0; slot < SLOT_COUNT; slot++) {
        programs_rc = compile_slot(slot, programs_err, sizeof(programs_err));
        if (programs_rc < 0)
            return;
    }
}

/* ------------------------------------------------------------ interpreter */

typedef struct checker {
    const uint8_t *start;
    const uint8_t *p;
    const uint8_t *end;
    const uint8_t *at; /* where the item being checked starts */
    const program *pg;
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
    size_t i = 0;
    while (i < n) {
        /* Most strings are ASCII: skip eight bytes at a time while none
         * has its high bit set, then byte by byte up to the next non-ASCII
         * byte. */
        for (uint64_t word; n - i >= 8; i += 8) {
            memcpy(&word, s + i, 8);
            if (word & UINT64_C(0x8080808080808080))
                break;
        }
        while (i < n && s[i] < 0x80)
            i++;
        if (i == n)
            break;
        size_t k = rp_utf8_seq(s + i, n - i);
        if (k == 0) {
            ck->at = s + i; /* point the message at the bad byte */
            return fail(ck, RP_EBADDATA, "string is not valid UTF-8");
        }
        i += k;
    }
    return 0;
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

/* Runs the program from pc up to stop. */
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
        case OP_UNION: {
            uint32_t n = code[pc + 1], end = code[pc + 2];
            if ((rc = read_long(ck, &v)) < 0)
                return rc;
            if (v < 0 || v >= (int64_t)n)
                return fail(ck, RP_EBADDATA,
                            "union branch %lld is out of range (%u branches)",
                            (long long)v, n);
            uint32_t from = code[pc + 3 + v];
            uint32_t to = (uint32_t)v + 1 < n ? code[pc + 4 + v] : end;
            /* The branch's leaves go to the same entry; a record in the
             * branch is nested, and its fields are not recorded. */
            rp_avro_walk_field *owner = ck->cur;
            if (owner)
                owner->branch = (int32_t)v;
            ck->nest++;
            if ((rc = run(ck, from, to)) < 0)
                return rc;
            ck->nest--;
            ck->cur = owner;
            pc = end;
            break;
        }
        case OP_ARRAY:
        case OP_MAP: {
            /* Items that are one string (or bytes) each are recorded in the
             * walk's item table; other items are not recorded. */
            bool is_map = code[pc] == OP_MAP;
            uint32_t item_pc = pc + 3, item_end = code[pc + 2];
            rp_avro_walk_field *owner = ck->cur;
            size_t first = ck->walk ? ck->walk->n_items : 0;
            bool strings =
                owner && !is_map && item_end == item_pc + 1 &&
                (code[item_pc] == OP_STRING || code[item_pc] == OP_BYTES);
            uint64_t items = 0;
            ck->cur = strings ? owner : NULL;
            ck->in_items = strings;
            ck->nest++;
            rc = check_blocks(ck, is_map, code[pc + 1], item_pc, item_end,
                              &items);
            if (rc < 0)
                return rc;
            ck->nest--;
            ck->cur = owner;
            ck->in_items = false;
            if (owner) {
                owner->first = first;
                owner->count = (size_t)items;
            }
            pc = item_end;
            break;
        }
        case OP_FIELD:
            ck->field = ck->pg->names + code[pc + 1];
            if (ck->walk)
                ck->cur = next_field(ck);
            pc += 2;
            break;
        default: return fail(ck, RP_EINVAL, "validator program is corrupt");
        }
    }
    return 0;
}

/* ------------------------------------------------------------ public */

/* rp_avro_check() and rp_avro_check_walk(): walk is NULL for the former. */
static int check_datum(int slot, const void *buf, size_t len,
                       rp_avro_walk *walk, char *errstr, size_t errstr_size) {
    if (walk) {
        walk->n_fields = 0;
        walk->n_items = 0;
    }
    if (slot < 0 || slot >= SLOT_COUNT) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "no schema slot %d", slot);
        return RP_EINVAL;
    }
    pthread_once(&programs_once, compile_all);
    if (programs_rc < 0) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "%s", programs_err);
        return programs_rc;
    }
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
                  .pg = &programs[slot],
                  .errstr = errstr,
                  .errstr_size = errstr_size,
                  .walk = walk};
    int rc = run(&ck, 0, ck.pg->len);
    if (rc < 0)
        return rc;
    return (int)(ck.p - ck.start);
}

int rp_avro_check(int slot, const void *buf, size_t len, char *errstr,
                  size_t errstr_size) {
    return check_datum(slot, buf, len, NULL, errstr, errstr_size);
}

int rp_avro_check_walk(int slot, const void *buf, size_t len, rp_avro_walk *w,
                       char *errstr, size_t errstr_size) {
    return check_datum(slot, buf, len, w, errstr, errstr_size);
}
