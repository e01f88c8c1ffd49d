/*
 * make-seeds.c - writes the Avro seed corpus of fuzz_avro.c.
 *
 * Usage: fuzz-make-seeds TESTS_FUZZ_DIR   (e.g. tests/fuzz)
 *
 * The records come from the JSON-lines seeds (TESTS_FUZZ_DIR/corpus/jsonl/,
 * hand-written and taken from examples/), so that both corpora describe the
 * same records and a new JSON seed gives Avro seeds too: every record line
 * of every file there is parsed and encoded with rp_avro_encode() in both
 * framings, and written to corpus/avro/<file>-<line>-<framing>, prefixed
 * with the selector byte fuzz_avro.c reads (record type, and bit 3 for the
 * Confluent framing, with its schema ids). A record without tenant (and,
 * for an action, without actor) is also written as a producer of the
 * schema before those fields were appended writes it, the trailing zero
 * bytes left off (<file>-<line>-old-<framing>: the trailing defaults of
 * docs/schemas.md). Three ReputationEvents, a status change with issues,
 * a notification with every optional field and a tenant's status change,
 * are built here and written the same way (the first two also in the old
 * schema). Running it again rewrites the same files with the same
 * bytes.
 *
 * It also writes the seeds of fuzz_avro_resolve.c (corpus/avro_resolve/):
 * for each evolved writer schema of resolve_writers.h, a datum of zeros
 * and empty strings and one with a value in every field (avro-c writes
 * both), each once as a record of that writer and once after the writer's
 * JSON text (the schema-fuzzing mode), plus repute's own Delivery schema
 * with a datum of it.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "repute/avro.h"
#include "repute/jsonl.h"
#include "resolve_writers.h"

/* The same ids as fuzz_avro.c's. */
static const int32_t schema_ids[RP_SCHEMA_ID__COUNT] = {11, 22, 33,
                                                        44, 55, 0x01020304};
static const char *const framing_names[2] = {"plain", "confluent"};
static rp_avro_codec *codecs[2];
static const char *dir;

static void die(const char *what, const char *why) {
    fprintf(stderr, "fuzz-make-seeds: %s: %s\n", what, why);
    exit(1);
}

static void write_seed(const char *name, int framing, int selector,
                       const void *bytes, size_t len) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/corpus/avro/%s-%s", dir, name,
             framing_names[framing]);
    FILE *f = fopen(path, "wb");
    unsigned char sel = (unsigned char)(selector | (framing ? 8 : 0));
    if (!f || fwrite(&sel, 1, 1, f) != 1 || fwrite(bytes, 1, len, f) != len ||
        fclose(f) != 0)
        die(path, "cannot write");
}

static void seeds_of_file(rp_jsonl_reader *r, const char *file) {
    char path[4096], *line = NULL, name[512], e[512];
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    snprintf(path, sizeof(path), "%s/corpus/jsonl/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f)
        die(path, "cannot open");
    while ((n = getline(&line, &cap, f)) != -1) {
        rp_record rec;
        int64_t tick;
        lineno++;
        if (rp_jsonl_parse(r, line, (size_t)n, &rec, &tick, e, sizeof(e)) !=
            RP_JSONL_RECORD)
            continue;
        for (int fr = 0; fr < 2; fr++) {
            const void *out;
            size_t len;
            if (rp_avro_encode(codecs[fr], &rec, &out, &len, e, sizeof(e)) != 0)
                die(path, e);
            snprintf(name, sizeof(name), "%s-%d", file, lineno);
            write_seed(name, fr, (int)rec.type, out, len);
            size_t trail = rec.type == RP_REC_ACTION ? 2 : 1;
            if (rec.tenant.ptr ||
                (rec.type == RP_REC_ACTION && rec.u.action.actor.ptr))
                continue;
            snprintf(name, sizeof(name), "%s-%d-old", file, lineno);
            write_seed(name, fr, (int)rec.type, out, len - trail);
        }
    }
    free(line);
    fclose(f);
}

static void event_seeds(void) {
    rp_status_change sc = {
        .previous_status = RP_ASTATUS_HEALTHY,
        .status = RP_ASTATUS_UNDER_REVIEW,
        .cause = RP_ISSUE_BOUNCE_RATE,
        .has_review_end = true,
        .review_ends_at = 1767830400000,
        .bounce = {RP_ISTATUS_UNDER_REVIEW, true, 0.0625, 125, 2000,
                   1767225600000, 1767312000000},
        .complaint = {RP_ISTATUS_HEALTHY, false, 0, 0, 2000, 1767225600000,
                      1767312000000},
        .n_issues = 2,
        .issues = {{RP_ISSUE_BOUNCE_RATE, RP_ISTATUS_UNDER_REVIEW,
                    1767312000000, true, 1767830400000},
                   {RP_ISSUE_SPAMTRAP, RP_ISTATUS_ALMOST_HEALED, 1767000000000,
                    false, 0}},
    };
    rp_notification nt = {
        .issue = RP_ISSUE_BOUNCE_RATE,
        .stage = RP_STAGE_REVIEW_STARTED,
        .account_status = RP_ASTATUS_UNDER_REVIEW,
        .title = "Your account is under review",
        .why = "Your bounce rate is 6.25%, above 5%.",
        .actions = {"Remove addresses that bounce.", "Use confirmed opt-in."},
        .n_actions = 2,
        .has_rate = true,
        .rate = 0.0625,
        .has_threshold = true,
        .threshold = 0.05,
        .has_review_end = true,
        .review_ends_at = 1767830400000,
    };
    rp_event evs[3] = {
        {rp_str_c("acme"), 1, 1767312000000, RP_EVENT_STATUS_CHANGE, &sc, NULL,
         RP_STR_NULL},
        {rp_str_c("acme"), 2, 1767312000000, RP_EVENT_NOTIFICATION, NULL, &nt,
         RP_STR_NULL},
        {rp_str_c("acme"), 3, 1767312000000, RP_EVENT_STATUS_CHANGE, &sc, NULL,
         rp_str_c("brand-\xc3\xa9")},
    };
    static const char *const names[3] = {"event-status-change",
                                         "event-notification", "event-tenant"};
    for (int i = 0; i < 3; i++)
        for (int fr = 0; fr < 2; fr++) {
            const void *out;
            size_t len;
            char e[512], name[64];
            if (rp_avro_encode_event(codecs[fr], &evs[i], &out, &len, e,
                                     sizeof(e)) != 0)
                die("event", e);
            write_seed(names[i], fr, RP_REC__COUNT, out, len);
            if (evs[i].tenant.ptr)
                continue;
            snprintf(name, sizeof(name), "%s-old", names[i]);
            write_seed(name, fr, RP_REC__COUNT, out, len - 1);
        }
}

/* ---------------------------------------------------------------- resolve */

/* With full, sets a value in every field of v: strings "acct-1", numbers,
 * the last branch of every union, one item in every array and map; else
 * only the first branch of every union (the rest stays zero and empty). */
static void fill(avro_value_t *v, bool full, int depth) {
    avro_value_t c;
    size_t n = 0;
    avro_schema_t s = avro_value_get_schema(v);
    avro_type_t t = avro_value_get_type(v);
    if (!full && t == AVRO_BYTES) /* avro-c cannot write unset bytes */
        avro_value_set_bytes(v, "", 0);
    if (!full && t != AVRO_UNION && t != AVRO_RECORD && t != AVRO_FIXED)
        return;
    switch (t) {
    case AVRO_BOOLEAN: avro_value_set_boolean(v, 1); break;
    case AVRO_INT32: avro_value_set_int(v, 300); break;
    case AVRO_INT64: avro_value_set_long(v, 1700000000000); break;
    case AVRO_FLOAT: avro_value_set_float(v, 0.5f); break;
    case AVRO_DOUBLE: avro_value_set_double(v, 0.25); break;
    case AVRO_STRING: avro_value_set_string(v, "acct-1"); break;
    case AVRO_BYTES: avro_value_set_bytes(v, "msg-1", 5); break;
    case AVRO_ENUM: avro_value_set_enum(v, 1); break;
    case AVRO_UNION:
        avro_value_set_branch(v, full ? (int)avro_schema_union_size(s) - 1 : 0,
                              &c);
        fill(&c, full, depth + 1);
        break;
    case AVRO_RECORD:
        avro_value_get_size(v, &n);
        for (size_t i = 0; i < n; i++) {
            avro_value_get_by_index(v, i, &c, NULL);
            fill(&c, full, depth + 1);
        }
        break;
    case AVRO_ARRAY:
        if (depth < 4 && avro_value_append(v, &c, NULL) == 0)
            fill(&c, full, depth + 1);
        break;
    case AVRO_MAP:
        if (depth < 4 && avro_value_add(v, "k", &c, NULL, NULL) == 0)
            fill(&c, full, depth + 1);
        break;
    case AVRO_FIXED: {
        static const char zeros[64];
        int64_t size = avro_schema_fixed_size(s);
        avro_value_set_fixed(v, (void *)zeros,
                             size < 64 ? (size_t)size : sizeof(zeros));
        break;
    }
    default: break; /* null */
    }
}

static void write_file(const char *name, const void *a, size_t an,
                       const void *b, size_t bn) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/corpus/avro_resolve/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, an, f) != an || fwrite(b, 1, bn, f) != bn ||
        fclose(f) != 0)
        die(path, "cannot write");
}

/* A datum of the schema (full or zeros), in buf; returns its length. */
static size_t datum_of_schema(const char *json, bool full, char *buf,
                              size_t cap) {
    avro_schema_t s;
    avro_value_iface_t *cls;
    avro_value_t v;
    if (avro_schema_from_json_length(json, strlen(json), &s) != 0 ||
        !(cls = avro_generic_class_from_schema(s)) ||
        avro_generic_value_new(cls, &v) != 0)
        die("resolve seeds: parsing", avro_strerror());
    fill(&v, full, 0);
    avro_writer_t w = avro_writer_memory(buf, (int64_t)cap);
    if (avro_value_write(w, &v) != 0)
        die("resolve seeds: writing", avro_strerror());
    size_t len = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    avro_value_decref(&v);
    avro_value_iface_decref(cls);
    avro_schema_decref(s);
    return len;
}

static void resolve_seeds(void) {
    char buf[8192], name[64], *text = NULL;
    for (int i = 0; i <= RESOLVE_WRITERS; i++) {
        /* The last one is repute's own Delivery schema. */
        const char *json = i < RESOLVE_WRITERS
                               ? resolve_writer_json[i]
                               : rp_avro_schema_json(RP_REC_DELIVERY);
        int slot =
            i < RESOLVE_WRITERS ? resolve_writer_slot[i] : RP_REC_DELIVERY;
        for (int full = 0; full < 2; full++) {
            size_t n = datum_of_schema(json, full, buf, sizeof(buf));
            unsigned char sel = (unsigned char)i;
            if (i < RESOLVE_WRITERS) {
                snprintf(name, sizeof(name), "writer%d-%s", i,
                         full ? "full" : "zeros");
                write_file(name, &sel, 1, buf, n);
            }
            size_t tn = strlen(json);
            free(text);
            if (!(text = malloc(tn + 2)))
                die("resolve seeds", "out of memory");
            text[0] = (char)(0x80 | slot);
            memcpy(text + 1, json, tn + 1); /* with its NUL */
            snprintf(name, sizeof(name), "schema%d-%s", i,
                     full ? "full" : "zeros");
            write_file(name, text, tn + 2, buf, n);
        }
    }
    free(text);
}

int main(int argc, char **argv) {
    char e[512];
    if (argc != 2)
        die("usage", "fuzz-make-seeds TESTS_FUZZ_DIR");
    dir = argv[1];
    for (int fr = 0; fr < 2; fr++)
        if (!(codecs[fr] =
                  rp_avro_codec_new((rp_framing)fr, schema_ids, e, sizeof(e))))
            die("codec", e);
    rp_jsonl_reader *r = rp_jsonl_reader_new();
    char path[4096];
    snprintf(path, sizeof(path), "%s/corpus/jsonl", dir);
    DIR *d = opendir(path);
    if (!r || !d)
        die(path, "cannot open");
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            seeds_of_file(r, de->d_name);
    closedir(d);
    event_seeds();
    resolve_seeds();
    rp_jsonl_reader_destroy(r);
    for (int fr = 0; fr < 2; fr++)
        rp_avro_codec_destroy(codecs[fr]);
    return 0;
}
