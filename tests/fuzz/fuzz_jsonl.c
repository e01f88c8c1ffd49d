/*
 * fuzz_jsonl.c - the JSON-lines reader and writer (src/codec/jsonl_*.c).
 *
 * The input is split at '\n' and every line goes, in a heap buffer of
 * exactly its size, to rp_jsonl_parse() on one reader that lives across
 * inputs, as the replay command's does (so that a line is parsed right
 * after another has been, with the reader's storage reused). The whole
 * input is also given to rp_time_parse_iso8601().
 *
 * Oracles, beyond "no crash, no leak, no undefined behaviour":
 *  - a line that fails has a reason in errstr;
 *  - a line that parses into a record round-trips: rp_jsonl_write_record()
 *    writes one line ending in '\n', which parses (on a second reader)
 *    into a record that is written as the very same line;
 *  - the same record survives Avro: it encodes, decodes, and is written
 *    as the same line again, so that whatever the JSON reader accepts the
 *    Avro side (the produce command) can carry unchanged.
 */
#include "fuzz.h"

#include "repute/avro.h"
#include "repute/jsonl.h"

static rp_jsonl_reader *reader, *rereader;
static rp_avro_codec *avro;

/* At exit everything is freed, so that LeakSanitizer's check (which runs
 * after this) sees only what parsing leaked. */
static void teardown(void) {
    rp_jsonl_reader_destroy(reader);
    rp_jsonl_reader_destroy(rereader);
    rp_avro_codec_destroy(avro);
}

static void setup(void) {
    if (reader)
        return;
    char e[256];
    reader = rp_jsonl_reader_new();
    rereader = rp_jsonl_reader_new();
    avro = rp_avro_codec_new(RP_FRAMING_PLAIN, NULL, e, sizeof(e));
    FUZZ_CHECK(reader && rereader && avro, "setup: %s", e);
    atexit(teardown);
}

/* Writes rec as a JSON line into out (reset first). */
static void write_record(rp_buf *out, const rp_record *rec) {
    rp_buf_reset(out);
    FUZZ_CHECK(rp_jsonl_write_record(out, rec) == 0, "write_record failed");
    FUZZ_CHECK(out->len > 0 && out->data[out->len - 1] == '\n' &&
                   memchr(out->data, '\n', out->len) ==
                       out->data + out->len - 1,
               "written record is not one line");
}

/* Writes rec, which came back from a round trip (`how`), into again and
 * requires the line first that the original was written as. */
static void check_same_line(const rp_buf *first, rp_buf *again,
                            const rp_record *rec, const char *how) {
    write_record(again, rec);
    FUZZ_CHECK(again->len == first->len &&
                   memcmp(again->data, first->data, first->len) == 0,
               "%s round trip: %.*s became %.*s", how, (int)first->len,
               first->data, (int)again->len, again->data);
}

static void check_round_trips(const rp_record *rec) {
    rp_buf first = {0}, again = {0};
    char e[512] = "";
    rp_record r2;
    int64_t tick;
    write_record(&first, rec);

    int rc = rp_jsonl_parse(rereader, first.data, first.len, &r2, &tick, e,
                            sizeof(e));
    FUZZ_CHECK(rc == RP_JSONL_RECORD, "written line %.*s does not parse: %s",
               (int)first.len, first.data, e);
    check_same_line(&first, &again, &r2, "JSON");

    const void *bytes;
    size_t n;
    rc = rp_avro_encode(avro, rec, &bytes, &n, e, sizeof(e));
    FUZZ_CHECK(rc == 0, "Avro cannot encode %.*s: %s", (int)first.len,
               first.data, e);
    char *copy = fuzz_copy(bytes, n, 0);
    rc = rp_avro_decode(avro, rec->type, copy, n, &r2, e, sizeof(e));
    FUZZ_CHECK(rc == 0, "Avro cannot decode its encoding of %.*s: %s",
               (int)first.len, first.data, e);
    check_same_line(&first, &again, &r2, "Avro");
    free(copy);
    rp_buf_free(&first);
    rp_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    int64_t ms;
    char *all = fuzz_copy(data, size, 0);
    (void)rp_time_parse_iso8601(all, size, &ms);
    free(all);

    const uint8_t *p = data, *end = data + size;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        char *line = fuzz_copy(p, n, 0);
        rp_record rec;
        int64_t tick;
        char e[512] = "";
        int rc = rp_jsonl_parse(reader, line, n, &rec, &tick, e, sizeof(e));
        if (rc < 0)
            FUZZ_CHECK(e[0] != '\0', "parse %d without a reason", rc);
        else if (rc == RP_JSONL_RECORD)
            check_round_trips(&rec);
        free(line);
        p += n;
    }
    return 0;
}
