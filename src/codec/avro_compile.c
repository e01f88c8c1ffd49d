/*
 * avro_compile.c - the compiler of the validator's programs
 * (avro_program.h): avro-c's parsed schemas in, flat programs out.
 *
 * compile_node() follows the schema tree once, depth first, emitting the
 * layout of each node (avro_program.h) and computing the fewest bytes a
 * datum of it can take, which the interpreter uses to refuse block counts
 * that the remaining input cannot hold. It recurses along the nesting of
 * the schema, bounded by MAX_DEPTH so that a recursive schema is an error
 * rather than an endless compilation; and it checks for room before every
 * emit, so that a schema too large for the static storage is an error
 * too, never a silent truncation. All six programs are compiled together
 * under pthread_once at the first check (rp_avro_codec_new() makes that
 * happen at start-up), and after that they are only read, so that any
 * number of threads can check at once without a lock.
 *
 * The compiler also marks where each schema's trailing defaults begin
 * (avro_program.h, docs/schemas.md): the fields that were appended to
 * repute's schemas after their first release, named by trailing_from[]
 * below. It checks that every field from there to the end of the record
 * is a union whose first branch is null (so its default, null, is one zero
 * byte and a datum of it takes at least one byte): a schema edit that
 * broke that would make a record of the older schema ambiguous, and is a
 * compile error rather than misread data.
 */
#include <avro.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec/avro_program.h"
#include "repute/schemas.h"

#define SLOT_COUNT RP_SCHEMA_ID__COUNT

static rp_avro_program programs[SLOT_COUNT];
static pthread_once_t programs_once = PTHREAD_ONCE_INIT;
static int programs_rc;
static char programs_err[256];

typedef struct compiler {
    rp_avro_program *pg;
    char *err;
    size_t err_size;
    const char *trail_name; /* the slot's first trailing field, or NULL */
} compiler;

/* The first field of each slot's schema that repute added after its first
 * release; it and every later top-level field must be nullable with a null
 * default. A record of the earlier schema ends exactly where it begins.
 * Only that one boundary is accepted: a record that ends anywhere else,
 * between two of the added fields included, is truncated. */
static const char *const trailing_from[SLOT_COUNT] = {
    "tenant", "tenant", "tenant", "tenant", "tenant", "tenant"};

/* Whether s is a union whose first branch is null. */
static bool null_first_union(avro_schema_t s) {
    while (s && avro_typeof(s) == AVRO_LINK)
        s = avro_schema_link_target(s);
    if (!s || avro_typeof(s) != AVRO_UNION || avro_schema_union_size(s) < 2)
        return false;
    avro_schema_t b = avro_schema_union_branch(s, 0);
    return b && avro_typeof(b) == AVRO_NULL;
}

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
    rp_avro_program *pg = cc->pg;
    pg->code[pg->len] = word;
    return pg->len++;
}

static int emit_name(compiler *cc, const char *name, uint32_t *out) {
    rp_avro_program *pg = cc->pg;
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

static int compile_node(compiler *cc, avro_schema_t s, int depth,
                        uint64_t *min_size);

/* Before top-level field i of n: marks the start of the trailing defaults
 * at the slot's first trailing field, and checks that it and every later
 * field are nullable with a null default. */
static int mark_trailing(compiler *cc, avro_schema_t rec, size_t i, size_t n) {
    rp_avro_program *pg = cc->pg;
    const char *name = avro_schema_record_field_name(rec, (int)i);
    if (!pg->trail_pc && cc->trail_name && name &&
        strcmp(name, cc->trail_name) == 0) {
        if (i == 0)
            return compile_error(cc, "the first field cannot be a trailing "
                                     "default");
        int rc = room(cc, 1);
        if (rc < 0)
            return rc;
        pg->trail_pc = emit(cc, OP_TRAIL);
        pg->trail_index = (uint32_t)i;
        pg->trail_fields = (uint32_t)(n - i);
    }
    if (pg->trail_pc &&
        !null_first_union(avro_schema_record_field_get_by_index(rec, (int)i)))
        return compile_error(cc,
                             "field %s follows the trailing defaults but is "
                             "not a union of null first",
                             name ? name : "?");
    return 0;
}

/* A union: the branch count, the end, the start of every branch, then the
 * branches. A datum takes its index and then the smallest branch. */
static int compile_union(compiler *cc, avro_schema_t s, int depth,
                         uint64_t *min_size) {
    size_t n = avro_schema_union_size(s);
    if (n == 0)
        return compile_error(cc, "union has no branches");
    int rc = room(cc, 3 + n);
    if (rc < 0)
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
        rc = compile_node(cc, avro_schema_union_branch(s, (int)i), depth + 1,
                          &branch_min);
        if (rc < 0)
            return rc;
        if (branch_min < least)
            least = branch_min;
    }
    cc->pg->code[end] = cc->pg->len;
    *min_size = 1 + least;
    return 0;
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
            if (depth == 0 && (rc = mark_trailing(cc, s, i, n)) < 0)
                return rc;
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
    case AVRO_UNION: return compile_union(cc, s, depth, min_size);
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
    rp_avro_program *pg = &programs[slot];
    memset(pg, 0, sizeof(*pg));
    snprintf(pg->record, sizeof(pg->record), "%s", avro_schema_name(schema));
    char reason[160] = "";
    compiler cc = {pg, reason, sizeof(reason), trailing_from[slot]};
    uint64_t min_size;
    int rc = compile_node(&cc, schema, 0, &min_size);
    avro_schema_decref(schema);
    if (rc == 0 && cc.trail_name && !pg->trail_pc)
        rc = compile_error(&cc,
                           "no field %s, where the trailing defaults "
                           "begin",
                           cc.trail_name);
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

int rp_avro_program_get(int slot, const rp_avro_program **out, char *errstr,
                        size_t errstr_size) {
    pthread_once(&programs_once, compile_all);
    if (programs_rc < 0) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "%s", programs_err);
        return programs_rc;
    }
    *out = &programs[slot];
    return 0;
}
