/*
 * avro_walk.h - what the validator of avro_check.c records of a datum while
 * it checks it, for the direct decoder of avro_decode.c. Private to
 * src/codec.
 *
 * rp_avro_check() proves that the bytes are one well-formed datum of the
 * schema; on the way it has already read every varint and found every
 * string, so the decoder of input records asks it to write those down
 * instead of reading the bytes a second time. rp_avro_check_walk() is that
 * same walk, with the same errors, but it fills an rp_avro_walk with one
 * entry per field of the top-level record, in schema order: the union
 * branch taken, the value of a boolean, int, long or enum, and the place
 * of a string in the input. Strings that are items of an array go to a
 * table that the caller provides. Nothing is allocated and nothing is
 * copied: the strings recorded point into the caller's input buffer.
 *
 * Only what a flat record of primitives, nullable primitives and arrays of
 * strings needs is recorded, which is all the five input schemas use. The
 * fields of records nested in a union or an array (ReputationEvent) are
 * checked as usual but not recorded.
 */
#ifndef REPUTE_CODEC_AVRO_WALK_H
#define REPUTE_CODEC_AVRO_WALK_H

#include "repute/avro.h"

/* Top-level fields recorded; later ones are checked but not recorded. The
 * largest input record, Bounce, has 11. */
#define RP_AVRO_WALK_FIELDS 16

/* One top-level field. Entries start zeroed, with branch -1. */
typedef struct rp_avro_walk_field {
    int32_t branch;  /* the union branch taken, -1 when not a union */
    int64_t num;     /* a boolean (0 or 1), int, long or enum index */
    const char *str; /* a string, bytes or fixed: where it starts */
    size_t len;      /* and its length */
    size_t first;    /* an array: where its string items start in items */
    size_t count;    /* an array: how many items it has */
} rp_avro_walk_field;

typedef struct rp_avro_walk {
    rp_avro_walk_field field[RP_AVRO_WALK_FIELDS];
    size_t n_fields;
    /* Set by the caller: where the string items of arrays go. */
    rp_str *items;
    size_t items_cap;
    /* Every string item seen. Items past items_cap are counted but not
     * stored: when n_items > items_cap after a walk, the caller grows the
     * table and walks again. */
    size_t n_items;
} rp_avro_walk;

/* Checks one datum of the slot's schema exactly as rp_avro_check() does
 * (same result, same reasons; a datum of the schema before its trailing
 * defaults is accepted, and its missing fields are recorded as null
 * unions, branch 0) and records its fields in *w. Returns bytes
 * consumed (> 0), RP_ETRUNC or RP_EBADDATA; after an error *w holds
 * whatever was recorded up to it. */
int rp_avro_check_walk(int slot, const void *buf, size_t len, rp_avro_walk *w,
                       char *errstr, size_t errstr_size);

#endif
