/*
 * test_avro_schema.c - the embedded Avro schemas of the codec
 * (src/codec/avro*.c).
 *
 * The enum symbols of the embedded schemas are held to the symbol tables
 * of src/core/types.c, so that the two can never drift apart; every input
 * record starts with the common fields; and rp_avro_codec_new refuses
 * bad arguments. The helpers are avro_support.h's.
 */
#include "avro_support.h"

/* ---------------------------------------------------------------- schemas */

Test(avro_schema, embedded_tables) {
    const char *files[] = {"Delivery.avsc",  "Bounce.avsc",
                           "Complaint.avsc", "Report.avsc",
                           "Action.avsc",    "ReputationEvent.avsc"};
    for (int i = 0; i < RP_SCHEMA_ID__COUNT; i++) {
        cr_assert_str_eq(rp_avro_schema_name(i), files[i]);
        const char *json = rp_avro_schema_json(i);
        cr_assert_not_null(json);
        cr_assert_not_null(strstr(json, "\"repute.v1\""), "%s namespace",
                           files[i]);
    }
    cr_assert_null(rp_avro_schema_json(-1));
    cr_assert_null(rp_avro_schema_json(RP_SCHEMA_ID__COUNT));
    cr_assert_null(rp_avro_schema_name(RP_SCHEMA_ID__COUNT));
}

/* The symbols of one of the enums of types.h, by Avro enum name. */
static const char *expected_symbol(const char *enum_name, int i, int *count) {
    static const struct {
        const char *name;
        int count;
    } enums[] = {{"BounceType", RP_BOUNCE__COUNT},
                 {"BounceSubtype", RP_BSUB__COUNT},
                 {"FeedbackType", RP_FEEDBACK__COUNT},
                 {"ReportKind", RP_REPORT__COUNT},
                 {"ActionType", RP_ACTION__COUNT},
                 {"IssueKind", RP_ISSUE__COUNT},
                 {"EventKind", RP_EVENT__COUNT},
                 {"AccountStatus", RP_ASTATUS__COUNT},
                 {"IssueStatus", RP_ISTATUS__COUNT},
                 {"NotificationStage", RP_STAGE__COUNT}};
    int k = -1;
    for (int j = 0; j < (int)(sizeof(enums) / sizeof(enums[0])); j++)
        if (strcmp(enums[j].name, enum_name) == 0)
            k = j;
    if (k < 0)
        return NULL;
    *count = enums[k].count;
    switch (k) {
    case 0: return rp_bounce_type_name((rp_bounce_type)i);
    case 1: return rp_bounce_subtype_name((rp_bounce_subtype)i);
    case 2: return rp_feedback_type_name((rp_feedback_type)i);
    case 3:
        return rp_issue_kind_name((rp_issue_kind)(i + RP_ISSUE__FIRST_REPORT));
    case 4: return rp_action_type_name((rp_action_type)i);
    case 5: return rp_issue_kind_name((rp_issue_kind)i);
    case 6: return rp_event_kind_name((rp_event_kind)i);
    case 7: return rp_account_status_name((rp_account_status)i);
    case 8: return rp_issue_status_name((rp_issue_status)i);
    default: return rp_stage_name((rp_stage)i);
    }
}

static int enums_seen;

static void check_enums_in(json_t *node, const char *file) {
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) check_enums_in(v, file);
        return;
    }
    if (!json_is_object(node))
        return;
    const char *type = json_string_value(json_object_get(node, "type"));
    if (type && strcmp(type, "enum") == 0) {
        const char *name = json_string_value(json_object_get(node, "name"));
        json_t *symbols = json_object_get(node, "symbols");
        int count = 0;
        cr_assert_not_null(name, "%s: an enum without a name", file);
        cr_assert_not_null(expected_symbol(name, 0, &count),
                           "%s: enum %s has no table in types.c", file, name);
        cr_assert_eq(json_array_size(symbols), (size_t)count,
                     "%s: enum %s has %zu symbols, types.h has %d", file, name,
                     json_array_size(symbols), count);
        for (int i = 0; i < count; i++) {
            const char *want = expected_symbol(name, i, &count);
            const char *got =
                json_string_value(json_array_get(symbols, (size_t)i));
            cr_assert_str_eq(got, want,
                             "%s: %s symbol %d is %s, types.c says %s", file,
                             name, i, got, want);
        }
        /* The table is no longer than the enum either. */
        cr_assert_str_eq(expected_symbol(name, count, &count), "?",
                         "%s: the types.c table of %s is too long", file, name);
        cr_assert(json_object_get(node, "doc"), "%s: enum %s has no doc", file,
                  name);
        enums_seen++;
    }
    if (type && strcmp(type, "record") == 0) {
        cr_assert(json_object_get(node, "doc"), "%s: record %s has no doc",
                  file, json_string_value(json_object_get(node, "name")));
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(node, "fields"), i, f) {
            cr_assert(json_object_get(f, "doc"), "%s: field %s has no doc",
                      file, json_string_value(json_object_get(f, "name")));
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(node, key, v) check_enums_in(v, file);
}

Test(avro_schema, enum_symbols_match_types_tables) {
    enums_seen = 0;
    for (int i = 0; i < RP_SCHEMA_ID__COUNT; i++) {
        json_error_t je;
        json_t *root = json_loads(rp_avro_schema_json(i), 0, &je);
        cr_assert_not_null(root, "%s: %s", rp_avro_schema_name(i), je.text);
        check_enums_in(root, rp_avro_schema_name(i));
        json_decref(root);
    }
    /* BounceType, BounceSubtype, FeedbackType, ReportKind, ActionType,
     * IssueKind (Action), and in ReputationEvent EventKind, AccountStatus,
     * IssueKind, IssueStatus, NotificationStage. */
    cr_assert_eq(enums_seen, 11, "saw %d enum definitions", enums_seen);
}

Test(avro_schema, input_records_start_with_the_common_fields) {
    for (int i = 0; i < RP_REC__COUNT; i++) {
        json_t *root = json_loads(rp_avro_schema_json(i), 0, NULL);
        cr_assert_not_null(root);
        json_t *fields = json_object_get(root, "fields");
        const char *want[] = {"event_id", "account_id", "event_time"};
        for (size_t k = 0; k < 3; k++)
            cr_assert_str_eq(json_string_value(json_object_get(
                                 json_array_get(fields, k), "name")),
                             want[k]);
        json_t *t = json_object_get(json_array_get(fields, 2), "type");
        cr_assert_str_eq(json_string_value(json_object_get(t, "logicalType")),
                         "timestamp-millis");
        json_decref(root);
    }
}

Test(avro_schema, codec_new_refuses_bad_arguments) {
    char e[256] = "";
    cr_assert_null(rp_avro_codec_new(RP_FRAMING_CONFLUENT, NULL, e, sizeof(e)));
    cr_assert_not_null(strstr(e, "schema ids"), "%s", e);
    cr_assert_null(rp_avro_codec_new((rp_framing)7, NULL, e, sizeof(e)));
    rp_avro_codec_destroy(NULL);
}
