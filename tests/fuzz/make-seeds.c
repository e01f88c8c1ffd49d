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
 * Confluent framing, with its schema ids). Two ReputationEvents, a status
 * change with issues and a notification with every optional field, are
 * built here and written the same way. Running it again rewrites the same
 * files with the same bytes.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repute/avro.h"
#include "repute/jsonl.h"

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
    rp_event evs[2] = {
        {rp_str_c("acme"), 1, 1767312000000, RP_EVENT_STATUS_CHANGE, &sc, NULL},
        {rp_str_c("acme"), 2, 1767312000000, RP_EVENT_NOTIFICATION, NULL, &nt},
    };
    for (int i = 0; i < 2; i++)
        for (int fr = 0; fr < 2; fr++) {
            const void *out;
            size_t len;
            char e[512];
            if (rp_avro_encode_event(codecs[fr], &evs[i], &out, &len, e,
                                     sizeof(e)) != 0)
                die("event", e);
            write_seed(i ? "event-notification" : "event-status-change", fr,
                       RP_REC__COUNT, out, len);
        }
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
    rp_jsonl_reader_destroy(r);
    for (int fr = 0; fr < 2; fr++)
        rp_avro_codec_destroy(codecs[fr]);
    return 0;
}
