/*
 * avro_program.h - the validator's programs: each embedded schema compiled
 * into a flat array of 32-bit words (avro_compile.c) that the validator of
 * avro_check.c interprets over the bytes of a datum. Private to src/codec.
 *
 * The validator does not walk avro_schema_t at run time: following links,
 * looking fields up and calling through avro-c's schema accessors for every
 * byte would cost more than the decoding itself. Instead each embedded
 * schema is compiled, once per process, into a compact program held in
 * static storage. Records disappear in the compilation (a record is just
 * its fields in order), named-type references are inlined, and each field
 * is preceded by a FIELD marker so that errors can name the field they were
 * found in. This header is the contract between the compiler and the
 * interpreter: the opcodes and their layouts, and the program itself.
 */
#ifndef REPUTE_CODEC_AVRO_PROGRAM_H
#define REPUTE_CODEC_AVRO_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

/* The opcodes. Layouts, in 32-bit words:
 *   NULL BOOL INT LONG FLOAT DOUBLE STRING BYTES   [op]
 *   FIXED                                          [op, size]
 *   ENUM                                           [op, symbols]
 *   UNION    [op, branches, end, start_0 .. start_{n-1}], branch i runs
 *            from start_i to start_{i+1} (the last one to end)
 *   ARRAY    [op, min_item, end], the item program follows up to end
 *   MAP      [op, min_item, end], the value program follows up to end
 *   FIELD    [op, name], name is an offset into the program's name pool
 *   TRAIL    [op], before the FIELD of the first trailing default (below):
 *            the datum may end here
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
    OP_FIELD,
    OP_TRAIL
};

/* Generous for the six schemas (ReputationEvent, the largest, compiles to
 * a few hundred words and well under 1 KiB of names); exceeding them is a
 * compile error, not a silent truncation. */
#define PROGRAM_WORDS 2048
#define NAME_POOL     8192
#define MAX_DEPTH     32

typedef struct rp_avro_program {
    uint32_t code[PROGRAM_WORDS];
    uint32_t len;
    char names[NAME_POOL];
    uint32_t names_len;
    char record[64]; /* the top-level record's name, for messages */
    /* Trailing defaults (docs/schemas.md): the top-level fields added to
     * the schema after its first release, all of them nullable with a null
     * default, start at the TRAIL op at trail_pc (0: the schema has none).
     * A datum that ends exactly there is a record of the schema before
     * they were added, and reads with their defaults. trail_index is the
     * first such field's index among the top-level fields, and
     * trail_fields how many there are (the rest of the record). */
    uint32_t trail_pc;
    uint32_t trail_index;
    uint32_t trail_fields;
} rp_avro_program;

/* The program of a schema slot (0 .. RP_SCHEMA_ID__COUNT - 1, which the
 * caller has checked). The six programs are compiled together at the first
 * call, once per process whatever the threads (pthread_once), and then
 * only read: *out points into static storage, which the caller must not
 * change or free. Returns 0 with *out, or RP_EINVAL with the reason in errstr
 * when a schema cannot be compiled (which then holds for every slot and
 * every call). */
int rp_avro_program_get(int slot, const rp_avro_program **out, char *errstr,
                        size_t errstr_size);

#endif
