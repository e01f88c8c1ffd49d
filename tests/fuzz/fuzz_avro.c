/*
 * fuzz_avro.c - the Avro decoders (src/codec/avro.c, avro_check.c,
 * avro_peek.c), in both framings.
 *
 * The first input byte chooses what the rest is: its low three bits (mod
 * 6) the slot, one of the five input record types or 5 for a
 * ReputationEvent, and bit 3 the framing (plain or Confluent, with the
 * schema ids of `schema_ids` below). The rest is handed to the decoders in
 * a heap buffer of exactly its size, so that any read past its end is an
 * AddressSanitizer report.
 *
 * Oracles, beyond "no crash, no leak, no undefined behaviour":
 *  - rp_avro_decode() (the hot path, its own walk) and
 *    rp_avro_decode_generic() (avro-c) agree: the same return code, the
 *    same reason when they fail, and records that encode to the same bytes
 *    when they succeed (Avro's encoding of a record is a function of its
 *    values, so equal encodings mean equal records, null flags included);
 *  - a failure always has a reason in errstr;
 *  - when decoding succeeds, rp_avro_check() of the datum consumes it all,
 *    rp_avro_peek_event_time() and rp_avro_peek_account_id() succeed and
 *    give the decoded values, and the record survives a round trip:
 *    decoding its encoding succeeds, and encoding that again gives the same
 *    bytes (the input itself need not come back byte for byte, since Avro
 *    allows over-long varints and blocks of several shapes);
 *  - a ReputationEvent that decodes round-trips in the same way;
 *  - trailing defaults (docs/schemas.md): a record that decodes with its
 *    tenant (and an action's actor) null also decodes, both ways, to the
 *    same record from its canonical encoding without their one-byte null
 *    unions (the record as a producer of the schema before they were
 *    appended writes it), and rp_avro_check_trailing() agrees with
 *    rp_avro_check().
 */
#include "fuzz.h"

#include "repute/avro.h"

static const int32_t schema_ids[RP_SCHEMA_ID__COUNT] = {11, 22, 33,
                                                        44, 55, 0x01020304};

/* Per framing: a codec for each decoder (a decoded record borrows its
 * decoder's codec until that codec's next decode, so the two must not
 * share one) and one for encoding. Created once; they are reused across
 * inputs as in the processor, which is part of what is being tested. */
static rp_avro_codec *direct[2], *generic[2], *encoder[2];

static rp_avro_codec *codec(rp_framing f) {
    char e[256];
    rp_avro_codec *c = rp_avro_codec_new(
        f, f == RP_FRAMING_CONFLUENT ? schema_ids : NULL, e, sizeof(e));
    FUZZ_CHECK(c != NULL, "rp_avro_codec_new: %s", e);
    return c;
}

/* At exit the codecs are freed, so that LeakSanitizer's check (which
 * runs after this) sees only what decoding leaked. */
static void teardown(void) {
    for (int f = 0; f < 2; f++) {
        rp_avro_codec_destroy(direct[f]);
        rp_avro_codec_destroy(generic[f]);
        rp_avro_codec_destroy(encoder[f]);
    }
}

static void setup(void) {
    if (direct[0])
        return;
    for (int f = 0; f < 2; f++) {
        direct[f] = codec((rp_framing)f);
        generic[f] = codec((rp_framing)f);
        encoder[f] = codec((rp_framing)f);
    }
    atexit(teardown);
}

/* Encodes a record with enc and returns a heap copy of the bytes. */
static char *encode_copy(rp_avro_codec *enc, const rp_record *r, size_t *len) {
    const void *out;
    char e[512];
    int rc = rp_avro_encode(enc, r, &out, len, e, sizeof(e));
    FUZZ_CHECK(rc == 0, "encoding a decoded %s: %s", rp_rec_type_name(r->type),
               e);
    return fuzz_copy(out, *len, 0);
}

static bool same_bytes(const char *a, size_t an, const char *b, size_t bn) {
    return an == bn && memcmp(a, b, an) == 0;
}

static void fuzz_record(rp_framing f, rp_rec_type t, const char *p, size_t n) {
    rp_record d, g;
    char ed[512] = "", eg[512] = "";
    int rd = rp_avro_decode(direct[f], t, p, n, &d, ed, sizeof(ed));
    int rg = rp_avro_decode_generic(generic[f], t, p, n, &g, eg, sizeof(eg));
    FUZZ_CHECK(rd == rg, "%s: direct %d (%s), generic %d (%s)",
               rp_rec_type_name(t), rd, ed, rg, eg);
    if (rd != 0) {
        FUZZ_CHECK(ed[0] != '\0', "direct decode %d without a reason", rd);
        FUZZ_CHECK(strcmp(ed, eg) == 0,
                   "reasons differ: direct \"%s\", "
                   "generic \"%s\"",
                   ed, eg);
        return;
    }
    FUZZ_CHECK(d.type == t && g.type == t, "decoded type %d/%d, asked %d",
               (int)d.type, (int)g.type, (int)t);

    /* The validator alone consumes the whole datum. */
    size_t hdr = f == RP_FRAMING_CONFLUENT ? 5 : 0;
    int used = rp_avro_check((int)t, p + hdr, n - hdr, ed, sizeof(ed));
    FUZZ_CHECK(used >= 0 && (size_t)used == n - hdr,
               "rp_avro_check gives %d for a %zu-byte datum that decodes", used,
               n - hdr);

    /* The peeks read what the decoder read. */
    int64_t at = 0;
    rp_str account = RP_STR_NULL;
    FUZZ_CHECK(rp_avro_peek_event_time(f, p, n, &at) == 0 && at == d.event_time,
               "peeked event_time %lld, decoded %lld", (long long)at,
               (long long)d.event_time);
    FUZZ_CHECK(rp_avro_peek_account_id(f, p, n, &account) == 0 &&
                   rp_str_eq(account, d.account_id),
               "peeked account_id differs from the decoded one");

    /* Both decoders read the same record. */
    size_t ld, lg;
    char *bd = encode_copy(encoder[f], &d, &ld);
    char *bg = encode_copy(encoder[f], &g, &lg);
    FUZZ_CHECK(same_bytes(bd, ld, bg, lg),
               "%s: direct and generic records differ", rp_rec_type_name(t));

    /* Round trip: the encoding decodes, and encodes to itself. */
    rp_record again;
    int rc = rp_avro_decode(direct[f], t, bd, ld, &again, ed, sizeof(ed));
    FUZZ_CHECK(rc == 0, "decoding an encoded %s: %s", rp_rec_type_name(t), ed);
    size_t la;
    char *ba = encode_copy(encoder[f], &again, &la);
    FUZZ_CHECK(same_bytes(ba, la, bd, ld), "%s: round trip is not stable",
               rp_rec_type_name(t));
    free(ba);

    /* Trailing defaults: with its tenant (and actor) null, the record's
     * canonical encoding ends with their one-byte null unions; without
     * them it is the record as a producer of the older schema writes it,
     * and must decode, both ways, to the same record. (The input itself
     * may spell a null union in more than one byte, so it is not cut.) */
    size_t trail = t == RP_REC_ACTION ? 2 : 1, lacks = 0;
    FUZZ_CHECK(rp_avro_check_trailing((int)t, p + hdr, n - hdr, &lacks, ed,
                                      sizeof(ed)) == used,
               "rp_avro_check_trailing differs from rp_avro_check");
    if (!d.tenant.ptr && (t != RP_REC_ACTION || !d.u.action.actor.ptr)) {
        for (size_t i = 0; i < trail; i++)
            FUZZ_CHECK(bd[ld - 1 - i] == 0, "a null tail is not zero bytes");
        char *q = fuzz_copy((const uint8_t *)bd, ld - trail, 0);
        size_t lo, lgo;
        rd = rp_avro_decode(direct[f], t, q, ld - trail, &d, ed, sizeof(ed));
        rg = rp_avro_decode_generic(generic[f], t, q, ld - trail, &g, eg,
                                    sizeof(eg));
        FUZZ_CHECK(rd == 0 && rg == 0,
                   "%s without its null tail: direct %d (%s), generic %d (%s)",
                   rp_rec_type_name(t), rd, ed, rg, eg);
        char *od = encode_copy(encoder[f], &d, &lo);
        FUZZ_CHECK(same_bytes(od, lo, bd, ld),
                   "%s without its null tail decodes differently",
                   rp_rec_type_name(t));
        char *og = encode_copy(encoder[f], &g, &lgo);
        FUZZ_CHECK(same_bytes(od, lo, og, lgo),
                   "%s without its null tail: the decoders differ",
                   rp_rec_type_name(t));
        free(od);
        free(og);
        free(q);
    }
    free(bd);
    free(bg);
}

static void fuzz_event(rp_framing f, const char *p, size_t n) {
    rp_event ev;
    rp_status_change sc;
    rp_notification nt;
    char e[512] = "";
    int rc = rp_avro_decode_event(direct[f], p, n, &ev, &sc, &nt, e, sizeof(e));
    if (rc != 0) {
        FUZZ_CHECK(e[0] != '\0', "event decode %d without a reason", rc);
        return;
    }
    const void *out;
    size_t len;
    rc = rp_avro_encode_event(encoder[f], &ev, &out, &len, e, sizeof(e));
    FUZZ_CHECK(rc == 0, "encoding a decoded event: %s", e);
    size_t first_len = len;
    char *first = fuzz_copy(out, len, 0);
    rc = rp_avro_decode_event(direct[f], first, first_len, &ev, &sc, &nt, e,
                              sizeof(e));
    FUZZ_CHECK(rc == 0, "decoding an encoded event: %s", e);
    rc = rp_avro_encode_event(encoder[f], &ev, &out, &len, e, sizeof(e));
    FUZZ_CHECK(rc == 0, "encoding a decoded event again: %s", e);
    FUZZ_CHECK(same_bytes(out, len, first, first_len),
               "event round trip is not stable");
    free(first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    setup();
    int slot = (data[0] & 7) % 6;
    rp_framing f = (data[0] & 8) ? RP_FRAMING_CONFLUENT : RP_FRAMING_PLAIN;
    char *p = fuzz_copy(data + 1, size - 1, 0);
    if (slot < RP_REC__COUNT)
        fuzz_record(f, (rp_rec_type)slot, p, size - 1);
    else
        fuzz_event(f, p, size - 1);
    free(p);
    return 0;
}
