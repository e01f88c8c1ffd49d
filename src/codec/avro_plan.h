/*
 * avro_plan.h - decode plans: a writer schema resolved against repute's
 * reader schema, once, into a flat program that rewrites the writer's
 * bytes into the reader's encoding. Private to src/codec.
 *
 * Avro's schema resolution says how a datum written with one schema is
 * read with another: fields matched by name (or the reader's aliases),
 * writer-only fields skipped, reader-only fields given their defaults,
 * numbers promoted (int to long, float or double; long to float or
 * double; float to double), string and bytes read as each other, union
 * branches and enum symbols matched by name. avro-c implements it with a
 * resolved writer that sits between avro_value_read() and a generic value,
 * allocating on every record and ignoring defaults. repute instead
 * compiles the resolution once per writer schema id into a plan
 * (avro_plan_compile.c) and runs it over each record (avro_plan_run.c) in
 * one of two modes. Rewriting: the output is a datum of the READER's
 * schema, which the generic and event decoders then check and read as if
 * the producer had written repute's own schema. Walking, the hot path's:
 * the plan records what the validator's walk would have recorded of that
 * datum (avro_walk.h) without writing it, so that rp_avro_decode() fills
 * the record from those entries as usual, in a single pass over the
 * writer's bytes (rewriting and walking again measured 0.3 times the
 * exact schema's rate; one walk about 0.75). Either way the decoders stay
 * the single place that knows rp_record, and the reader's rules (UTF-8,
 * which the plan checks itself, and the contract) apply to evolved records
 * exactly as to the others.
 *
 * The plan is a program of 32-bit words, like the validator's
 * (avro_program.h), with a pool of bytes for field names, messages and
 * the encoded defaults. Layouts, in words:
 *   X_NULL X_BOOL X_INT X_LONG X_FLOAT X_DOUBLE X_BYTES   [op] copy
 *   X_STRING   [op] copy, the bytes checked to be UTF-8 (a reader string)
 *   X_INT_FLOAT X_INT_DOUBLE X_LONG_FLOAT X_LONG_DOUBLE
 *   X_FLOAT_DOUBLE                                  [op] read, promote, write
 *   X_FIXED    [op, size]
 *   X_ENUM     [op, n, map_0 .. map_{n-1}]: map_i is the reader's index of
 *              writer symbol i, or X_MISSING | pool offset of its name
 *   X_UNION    [op, n, end, start_0 .. start_{n-1}]: the writer's union;
 *              branch i's plan runs from start_i to start_{i+1} (or end)
 *   X_USIMPLE  [op, n, k_0, leaf_0 .. k_{n-1}, leaf_{n-1}]: a writer union
 *              whose every branch is one leaf (X_NULL .. X_FLOAT_DOUBLE),
 *              written after the reader's branch k_i (X_NONE: the reader
 *              has no union); the nullable fields, in one dispatch
 *   X_BRANCH   [op, index]: writes the reader's union branch index
 *   X_FAIL     [op, message]: a writer branch the reader cannot read
 *   X_ARRAY    [op, min_item, end], the item plan follows up to end
 *   X_MAP      [op, min_item, end], the value plan follows up to end
 *   X_SKIP     [op, end], the writer's own (identity) plan follows, run
 *              with the output switched off
 *   X_RECORD   [op, n_writer, n_reader, in_order, end], then per writer
 *              field [name, reader index or X_NONE, field end] and its
 *              plan, then per reader field [from, a, b]: from 0 = the
 *              output of writer field a, from 1 = the default bytes at
 *              pool offset a, b bytes long
 * A record whose reader fields all come from the writer in the reader's
 * order (in_order) is written as it is read; any other is written field
 * by field into the output and then put in the reader's order, defaults
 * inserted, through the scratch buffer.
 */
#ifndef REPUTE_CODEC_AVRO_PLAN_H
#define REPUTE_CODEC_AVRO_PLAN_H

#include <avro.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "codec/avro_walk.h"
#include "repute/avro.h"
#include "repute/buf.h"

enum {
    X_NULL,
    X_BOOL,
    X_INT,
    X_LONG,
    X_FLOAT,
    X_DOUBLE,
    X_BYTES,
    X_STRING,
    X_INT_FLOAT,
    X_INT_DOUBLE,
    X_LONG_FLOAT,
    X_LONG_DOUBLE,
    X_FLOAT_DOUBLE, /* the last one-word leaf */
    X_FIXED,
    X_ENUM,
    X_UNION,
    X_BRANCH,
    X_FAIL,
    X_ARRAY,
    X_MAP,
    X_SKIP,
    X_RECORD,
    X_USIMPLE
};

#define X_NONE    UINT32_MAX /* a writer field the reader does not have */
#define X_MISSING 0x80000000u

/* Bounds that keep a hostile writer schema from costing without limit: a
 * plan of at most PLAN_MAX_WORDS words (compile error beyond), nesting at
 * most PLAN_MAX_DEPTH deep, at most PLAN_MAX_FIELDS fields in a READER
 * record (repute's have at most 11). A record's rewritten form is at most
 * PLAN_MAX_OUTPUT bytes (promotions and defaults may make it longer than
 * the input) and holds at most PLAN_MAX_ITEMS array and map items, so
 * that items of zero bytes cannot make a short input loop for long. */
#define PLAN_MAX_WORDS  (1u << 18)
#define PLAN_MAX_DEPTH  32
#define PLAN_MAX_FIELDS 64
#define PLAN_MAX_OUTPUT (8 * RP_AVRO_MAX_RECORD)
#define PLAN_MAX_ITEMS  RP_AVRO_MAX_RECORD

typedef struct rp_avro_plan {
    uint32_t *code;
    uint32_t len, cap;
    char *pool; /* names, messages and encoded defaults */
    uint32_t pool_len, pool_cap;
    char record[64]; /* the top-level record's name, for messages */
    /* Walk mode (rp_avro_plan_walk()): possible when both top levels are
     * records and every default of a reader field the writer lacks is one
     * that a walk entry can hold; top_default[i] is reader field i's. */
    bool walk_ok;
    uint32_t top_fields;
    rp_avro_walk_field top_default[RP_AVRO_WALK_FIELDS];
} rp_avro_plan;

/* Resolves the writer schema against the reader schema of the slot
 * (reader_json is its text, read for the defaults and aliases that avro-c
 * does not keep). Returns 0 with *out (the caller frees it with
 * rp_avro_plan_free()) and *peek_direct (the writer's first three fields
 * are the reader's event_id, account_id and event_time, same types);
 * RP_ECONTRACT with the reason naming the field when the schemas do not
 * resolve; RP_EINVAL when the writer is too large or deep; RP_ENOMEM. */
int rp_avro_plan_compile(avro_schema_t writer, avro_schema_t reader,
                         const char *reader_json, rp_avro_plan **out,
                         bool *peek_direct, char *errstr, size_t errstr_size);

void rp_avro_plan_free(rp_avro_plan *p);

/* ---- avro_plan_default.c: what the compiler reads of the reader's JSON */

/* The part of a full name after its last dot. */
const char *rp_avro_unqualified(const char *name);

/* The JSON object of the named type (record, enum or fixed) whose
 * unqualified name is `name`, found anywhere in j, or NULL. */
json_t *rp_avro_json_named(json_t *j, const char *name);

/* Whether name is one of the unqualified "aliases" of the object. */
bool rp_avro_json_in_aliases(json_t *obj, const char *name);

/* Checks a writer schema's JSON text before avro-c parses it: valid JSON
 * that defines no named type twice (avro-c leaks on that error). Returns
 * 0, RP_ENOMEM, or RP_EINVAL with the reason in errstr. */
int rp_avro_json_check_names(const char *json, char *errstr,
                             size_t errstr_size);

/* Appends the Avro binary encoding of the JSON default value v, of type s,
 * to out (rjson, the reader's JSON, gives the defaults of the fields of a
 * record default). Returns 0, RP_ENOMEM, or RP_EINVAL with the reason in
 * errstr when v does not fit s. */
int rp_avro_plan_default(json_t *rjson, json_t *v, avro_schema_t s, rp_buf *out,
                         char *errstr, size_t errstr_size);

/* Rewrites the writer datum in[0..len) into out (reset first), with
 * scratch as room for reordering. Returns 0, or RP_ETRUNC, RP_EBADDATA,
 * RP_ECONTRACT (a symbol or branch the reader lacks), RP_ETOOBIG or
 * RP_ENOMEM with errstr naming the record, field and byte. Allocates only
 * while out and scratch grow. */
int rp_avro_plan_run(const rp_avro_plan *p, const uint8_t *in, size_t len,
                     rp_buf *out, rp_buf *scratch, char *errstr,
                     size_t errstr_size);

/* Walk mode, the hot path's: the same run over the writer's datum, with
 * the same checks and errors, but instead of writing the reader's bytes it
 * records in *w what rp_avro_check_walk() would have recorded of them
 * (avro_walk.h): one entry per field of the reader's record, by the
 * reader's index, the defaults for the fields the writer lacks, strings
 * pointing into in (or into the plan, for defaults), array items in
 * w->items. So a record of an evolved schema is checked and decoded in one
 * pass over its bytes, like a record of repute's own. Only when
 * p->walk_ok. Returns 0 or an error as rp_avro_plan_run(). */
int rp_avro_plan_walk(const rp_avro_plan *p, const uint8_t *in, size_t len,
                      rp_avro_walk *w, char *errstr, size_t errstr_size);

#endif
