/*
 * fuzz_avro_resolve.c - decode plans (src/codec/avro_plan*.c,
 * avro_writers.c): records of evolved writer schemas, and the writer
 * schemas themselves.
 *
 * The first input byte chooses what the rest is. With its top bit clear,
 * its low bits (mod RESOLVE_WRITERS) pick one of the fixed evolved writer
 * schemas of resolve_writers.h, and the rest is a datum of it: framed with
 * that writer's id and decoded by a codec that knows every writer. With
 * its top bit set, the rest is a writer schema's JSON text, a NUL byte and
 * a datum: the schema is added to fresh codecs for the slot the low bits
 * pick (mod 6), and the datum decoded with it. Every input is handed over
 * in a heap buffer of exactly its size.
 *
 * Oracles, beyond "no crash, no leak, no undefined behaviour":
 *  - adding a schema returns 0, RP_ECONTRACT or RP_EINVAL, with a reason
 *    for the two errors, and the id is known afterwards whatever the result;
 *  - a failure to decode always has a reason in errstr;
 *  - rp_avro_decode() and rp_avro_decode_generic() give the same code for
 *    an input record, and the same reason when they fail (both read the
 *    plan's output, and are held to each other by fuzz_avro.c);
 *  - when a record decodes, the codec's peeks succeed and give its
 *    event_time and account_id;
 *  - a record that resolves gives the same bytes when resolved again (the
 *    plan is a function of its input and keeps no state between records).
 */
#include "fuzz.h"

#include "repute/avro.h"
#include "resolve_writers.h"

static const int32_t pinned[RP_SCHEMA_ID__COUNT] = {11, 22, 33, 44, 55, 66};

/* A codec for each decoder (a decoded record borrows its codec) knowing
 * every fixed writer, created once and reused across inputs. */
static rp_avro_codec *direct, *generic;

static rp_avro_codec *codec(void) {
    char e[512];
    rp_avro_codec *c =
        rp_avro_codec_new(RP_FRAMING_CONFLUENT, pinned, e, sizeof(e));
    FUZZ_CHECK(c != NULL, "rp_avro_codec_new: %s", e);
    rp_avro_codec_enable_writers(c);
    return c;
}

static void teardown(void) {
    rp_avro_codec_destroy(direct);
    rp_avro_codec_destroy(generic);
}

static void setup(void) {
    if (direct)
        return;
    direct = codec();
    generic = codec();
    for (int i = 0; i < RESOLVE_WRITERS; i++) {
        char e[512];
        for (int k = 0; k < 2; k++) {
            int rc = rp_avro_codec_add_writer(
                k ? generic : direct, resolve_writer_slot[i],
                RESOLVE_WRITER_ID + i, resolve_writer_json[i], e, sizeof(e));
            FUZZ_CHECK(rc == 0, "writer %d: %s", i, e);
        }
    }
    atexit(teardown);
}

/* The datum framed with id, in a heap buffer of exactly its size. */
static char *frame(int32_t id, const uint8_t *data, size_t n, size_t *len) {
    char *b = malloc(n + 5);
    if (!b)
        abort();
    b[0] = 0;
    b[1] = (char)((uint32_t)id >> 24);
    b[2] = (char)((uint32_t)id >> 16);
    b[3] = (char)((uint32_t)id >> 8);
    b[4] = (char)id;
    if (n)
        memcpy(b + 5, data, n);
    *len = n + 5;
    return b;
}

static void check_resolve_again(rp_avro_codec *c, int slot, const char *b,
                                size_t len) {
    char e1[512] = "", e2[512] = "";
    const void *out;
    size_t out_len;
    int rc = rp_avro_resolve(c, slot, b, len, &out, &out_len, e1, sizeof(e1));
    FUZZ_CHECK(rc == 0 || e1[0], "resolve failed (%d) with no reason", rc);
    if (rc < 0)
        return;
    char *first = fuzz_copy(out, out_len, 0);
    size_t first_len = out_len;
    rc = rp_avro_resolve(c, slot, b, len, &out, &out_len, e2, sizeof(e2));
    FUZZ_CHECK(rc == 0 && out_len == first_len &&
                   memcmp(out, first, out_len) == 0,
               "resolving twice differs (%d: %s)", rc, e2);
    free(first);
}

/* Decodes one framed record of the slot both ways and checks the oracles. */
static void decode_both(rp_avro_codec *d, rp_avro_codec *g, int slot,
                        const char *b, size_t len) {
    char e1[512] = "", e2[512] = "";
    if (slot == RP_SCHEMA_ID_STATUS) {
        rp_event ev;
        rp_status_change sc;
        rp_notification n;
        int rc = rp_avro_decode_event(d, b, len, &ev, &sc, &n, e1, sizeof(e1));
        FUZZ_CHECK(rc == 0 || e1[0], "event decode failed with no reason");
        return;
    }
    rp_record r1, r2;
    int rc1 = rp_avro_decode(d, (rp_rec_type)slot, b, len, &r1, e1, sizeof(e1));
    int rc2 = rp_avro_decode_generic(g, (rp_rec_type)slot, b, len, &r2, e2,
                                     sizeof(e2));
    FUZZ_CHECK(rc1 == rc2, "direct %d (%s), generic %d (%s)", rc1, e1, rc2, e2);
    FUZZ_CHECK(rc1 == 0 || (e1[0] && strcmp(e1, e2) == 0),
               "reasons differ: %s / %s", e1, e2);
    if (rc1 < 0)
        return;
    /* The peeks run on the generic codec, so that r1 (which may borrow
     * the direct codec's resolution buffer) stays valid. */
    int64_t t;
    rp_str a;
    FUZZ_CHECK(rp_avro_codec_peek_event_time(g, b, len, &t) == 0 &&
                   t == r1.event_time,
               "peek_event_time");
    FUZZ_CHECK(rp_avro_codec_peek_account_id(g, b, len, &a) == 0 &&
                   rp_str_eq(a, r1.account_id),
               "peek_account_id");
}

/* A writer schema of the input's own, added to two fresh codecs. (Codecs
 * kept across inputs, with a new id for each, would be faster, but the
 * avro-c values they keep from one input to the next read as leaks to
 * libFuzzer's leak check.) */
static void fuzz_schema(int slot, const uint8_t *data, size_t size) {
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul)
        return;
    char *json = fuzz_copy(data, (size_t)(nul - data), 1);
    rp_avro_codec *d = codec(), *g = codec();
    char e[512] = "";
    int rc = rp_avro_codec_add_writer(d, slot, 7, json, e, sizeof(e));
    FUZZ_CHECK(rc == 0 || rc == RP_ECONTRACT || rc == RP_EINVAL,
               "add_writer: %d: %s", rc, e);
    FUZZ_CHECK(rc == 0 || e[0], "add_writer failed with no reason");
    FUZZ_CHECK(rp_avro_codec_knows_writer(d, 7), "id 7 is not known");
    int rc2 = rp_avro_codec_add_writer(g, slot, 7, json, e, sizeof(e));
    FUZZ_CHECK(rc2 == rc, "the same schema gave %d, then %d", rc, rc2);
    size_t len;
    char *b = frame(7, nul + 1, size - (size_t)(nul + 1 - data), &len);
    check_resolve_again(d, slot, b, len);
    decode_both(d, g, slot, b, len);
    free(b);
    free(json);
    rp_avro_codec_destroy(d);
    rp_avro_codec_destroy(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    setup();
    if (data[0] & 0x80) {
        fuzz_schema((data[0] & 0x7f) % RP_SCHEMA_ID__COUNT, data + 1, size - 1);
        return 0;
    }
    int w = data[0] % RESOLVE_WRITERS;
    int slot = resolve_writer_slot[w];
    size_t len;
    char *b = frame(RESOLVE_WRITER_ID + w, data + 1, size - 1, &len);
    check_resolve_again(direct, slot, b, len);
    decode_both(direct, generic, slot, b, len);
    free(b);
    return 0;
}
