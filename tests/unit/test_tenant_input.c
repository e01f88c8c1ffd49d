/*
 * test_tenant_input.c - tenants and the Action's actor as input gives
 * them (docs/rules.md section 10, docs/input.md, docs/schemas.md).
 *
 * Bad input: every form of bad tenant and actor, through Avro, JSON lines
 * and rp_record_check() alone, each with its reason. Round trips: every
 * record type with and without tenant and actor, Avro to JSON lines and
 * back to the same bytes, and events with a tenant. Old producers and
 * schema evolution are test_tenant_contract.c's; the shared helpers are
 * tenant_support.h's.
 */
#include "tenant_support.h"

/* ------------------------------------------------------------ bad input */

static char long_text[RP_TEXT_MAX + 2];

static void tenant_of(rp_record *r, const char *s, size_t n) {
    r->tenant = (rp_str){s, n};
}

/* Through Avro: every bad tenant breaks the contract (or, not UTF-8, is
 * refused by the validator), named, for every record type. */
Test(bad_input, tenants_through_avro) {
    memset(long_text, 'x', sizeof(long_text) - 1);
    rp_avro_codec *c = codec(RP_FRAMING_PLAIN), *g = codec(RP_FRAMING_PLAIN);
    for (int t = 0; t < RP_REC__COUNT; t++) {
        const struct {
            const char *s;
            size_t n;
            int rc;
            const char *reason;
        } cases[] = {
            {"", 0, RP_ECONTRACT, "tenant is empty"},
            {long_text, RP_TENANT_MAX + 1, RP_ECONTRACT,
             "tenant is 257 bytes long, more than 256"},
            {long_text, RP_TENANT_MAX, 0, NULL},
            {"\xc3\xa9", 2, 0, NULL},
            {"a\xff", 2, RP_EBADDATA, "tenant at byte"},
            {"\xed\xa0\x80", 3, RP_EBADDATA, "not valid UTF-8"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            rp_record r, got;
            sample(&r, (rp_rec_type)t, false);
            tenant_of(&r, cases[i].s, cases[i].n);
            size_t len;
            uint8_t *b = encode(c, &r, &len);
            int rc = decode_both(c, g, (rp_rec_type)t, b, len, &got);
            cr_assert_eq(rc, cases[i].rc, "%s case %zu: %d (%s)",
                         rp_rec_type_name(r.type), i, rc, err);
            if (cases[i].reason)
                cr_assert(strstr(err, cases[i].reason), "%s", err);
            else
                cr_assert_eq(got.tenant.len, cases[i].n);
            free(b);
        }
    }
    rp_avro_codec_destroy(c);
    rp_avro_codec_destroy(g);
}

/* rp_record_check() alone, as a record built by other code meets it: every
 * way a tenant or an actor can be malformed, each with its reason. */
Test(bad_input, record_check_of_tenants_and_actors) {
    memset(long_text, 'x', sizeof(long_text) - 1);
    const struct {
        const char *s;
        size_t n;
        const char *reason; /* NULL: accepted */
    } tenants[] = {
        {"", 0, "tenant is empty"},
        {long_text, 257, "tenant is 257 bytes long"},
        {long_text, 256, NULL},
        {"\xc0\x80", 2, "tenant is not valid UTF-8 (byte 0)"}, /* overlong */
        {"ab\x80", 3, "tenant is not valid UTF-8 (byte 2)"},
        {"\xed\xa0\x80", 3, "not valid UTF-8"},     /* a surrogate */
        {"\xe2\x82", 2, "not valid UTF-8"},         /* cut short */
        {"\xf4\x90\x80\x80", 4, "not valid UTF-8"}, /* above U+10FFFF */
        {"\xf0\x9f\x98\x80", 4, NULL},
    };
    for (size_t i = 0; i < sizeof(tenants) / sizeof(tenants[0]); i++) {
        for (int t = 0; t < RP_REC__COUNT; t++) {
            rp_record r;
            sample(&r, (rp_rec_type)t, false);
            tenant_of(&r, tenants[i].s, tenants[i].n);
            err[0] = '\0';
            int rc = rp_record_check(&r, err, sizeof(err));
            if (!tenants[i].reason) {
                cr_assert_eq(rc, 0, "case %zu: %s", i, err);
                continue;
            }
            cr_assert_eq(rc, RP_ECONTRACT, "case %zu", i);
            cr_assert(strstr(err, tenants[i].reason), "case %zu: %s", i, err);
        }
    }
    rp_record r;
    sample(&r, RP_REC_ACTION, true);
    r.u.action.actor = (rp_str){long_text, RP_TEXT_MAX + 1};
    cr_assert_eq(rp_record_check(&r, err, sizeof(err)), RP_ECONTRACT);
    cr_assert(strstr(err, "actor is 8193 bytes long, more than 8192"), "%s",
              err);
    r.u.action.actor = (rp_str){long_text, RP_TEXT_MAX};
    cr_assert_eq(rp_record_check(&r, err, sizeof(err)), 0, "%s", err);
    r.u.action.actor = rp_str_c("ann\xff");
    cr_assert_eq(rp_record_check(&r, err, sizeof(err)), RP_ECONTRACT);
    cr_assert(strstr(err, "actor is not valid UTF-8 (byte 3)"), "%s", err);
    r.u.action.actor = rp_str_c("");
    cr_assert_eq(rp_record_check(&r, err, sizeof(err)), 0, "%s", err);
}

/* Parses one JSON line; returns the code, with the reason in err. */
static int parse_line(rp_jsonl_reader *rd, const char *line, rp_record *rec) {
    int64_t tick;
    err[0] = '\0';
    return rp_jsonl_parse(rd, line, strlen(line), rec, &tick, err, sizeof(err));
}

Test(bad_input, tenants_and_actors_through_json_lines) {
    rp_jsonl_reader *rd = rp_jsonl_reader_new();
    rp_record rec;
    static char line[1024];
    const char *head = "{\"type\":\"action\",\"event_id\":\"e\","
                       "\"account_id\":\"a\",\"event_time\":1,"
                       "\"action\":\"END_REVIEW\"";
    const struct {
        const char *extra;
        int rc;
        const char *reason;
    } cases[] = {
        {"", RP_JSONL_RECORD, NULL},
        {",\"tenant\":null,\"actor\":null", RP_JSONL_RECORD, NULL},
        {",\"tenant\":\"\"", RP_ECONTRACT, "tenant is empty"},
        {",\"tenant\":7", RP_EBADDATA,
         "tenant: expected a string, got an "
         "integer"},
        {",\"tenant\":[\"a\"]", RP_EBADDATA, "tenant: expected a string"},
        {",\"tenant\":\"a\\u0000b\"", RP_EBADDATA,
         "tenant: contains a NUL character"},
        {",\"tenant\":\"\\ud800\"", RP_EBADDATA, "not valid JSON"},
        {",\"tenant\":\"\xff\"", RP_EBADDATA, "not valid JSON"},
        {",\"tenant\":\"t\",\"tenant\":\"u\"", RP_EBADDATA,
         "duplicate field \"tenant\""},
        {",\"actor\":true", RP_EBADDATA, "actor: expected a string"},
        {",\"actor\":\"\\u00e9mile\"", RP_JSONL_RECORD, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(line, sizeof(line), "%s%s}", head, cases[i].extra);
        int rc = parse_line(rd, line, &rec);
        cr_assert_eq(rc, cases[i].rc, "case %zu: %d (%s)", i, rc, err);
        if (cases[i].reason)
            cr_assert(strstr(err, cases[i].reason), "case %zu: %s", i, err);
    }
    /* 257 bytes, and 256 of a multi-byte character. */
    char t[600];
    memset(t, 'x', 257);
    t[257] = '\0';
    snprintf(line, sizeof(line), "%s,\"tenant\":\"%s\"}", head, t);
    cr_assert_eq(parse_line(rd, line, &rec), RP_ECONTRACT);
    cr_assert(strstr(err, "tenant is 257 bytes long"), "%s", err);
    for (int i = 0; i < 128; i++)
        memcpy(t + 2 * i, "\xc3\xa9", 2);
    t[256] = '\0';
    snprintf(line, sizeof(line), "%s,\"tenant\":\"%s\"}", head, t);
    cr_assert_eq(parse_line(rd, line, &rec), RP_JSONL_RECORD, "%s", err);
    cr_assert_eq(rec.tenant.len, 256);
    rp_jsonl_reader_destroy(rd);
}

/* ---------------------------------------------------------- round trips */

/* Every record type, with and without tenant and actor: Avro, decoded,
 * written as a JSON line, parsed, encoded again: the same bytes, and the
 * line says what it holds. Both framings. */
Test(round_trip, avro_json_avro_is_the_same_bytes) {
    rp_jsonl_reader *rd = rp_jsonl_reader_new();
    rp_buf line = RP_BUF_INIT;
    for (int f = 0; f < 2; f++) {
        rp_avro_codec *c = codec((rp_framing)f), *c2 = codec((rp_framing)f);
        for (int t = 0; t < RP_REC__COUNT; t++) {
            for (int with = 0; with < 2; with++) {
                rp_record r, got, parsed;
                sample(&r, (rp_rec_type)t, with);
                size_t len, len2;
                uint8_t *b = encode(c, &r, &len);
                cr_assert_eq(
                    rp_avro_decode(c, r.type, b, len, &got, err, sizeof(err)),
                    0, "%s", err);
                assert_same(&got, &r);
                rp_buf_reset(&line);
                cr_assert_eq(rp_jsonl_write_record(&line, &got), 0);
                cr_assert(strstr(line.data, with ? "\"tenant\":\"" TENANT "\""
                                                 : "\"tenant\":null"),
                          "%s", line.data);
                if (t == RP_REC_ACTION)
                    cr_assert(strstr(line.data,
                                     with ? ",\"tenant\":\"" TENANT
                                            "\",\"actor\":\"" ACTOR "\"}\n"
                                          : ",\"tenant\":null,\"actor\":null}"
                                            "\n"),
                              "%s", line.data);
                else
                    cr_assert_null(strstr(line.data, "actor"));
                cr_assert_eq(parse_line(rd, line.data, &parsed),
                             RP_JSONL_RECORD, "%s: %s", line.data, err);
                assert_same(&parsed, &r);
                uint8_t *b2 = encode(c2, &parsed, &len2);
                cr_assert_eq(len2, len);
                cr_assert(memcmp(b, b2, len) == 0, "%s", line.data);
                free(b);
                free(b2);
            }
        }
        rp_avro_codec_destroy(c);
        rp_avro_codec_destroy(c2);
    }
    rp_buf_free(&line);
    rp_jsonl_reader_destroy(rd);
}

/* An event's tenant: the last member of its JSON line, null or a string,
 * and kept by Avro. */
Test(round_trip, events_carry_their_tenant) {
    rp_status_change sc = {.previous_status = RP_ASTATUS_HEALTHY,
                           .status = RP_ASTATUS_UNDER_REVIEW,
                           .cause = RP_ISSUE_BOUNCE_RATE};
    rp_event ev = {.account_id = rp_str_c("acme"),
                   .sequence = 4,
                   .event_time = 9,
                   .kind = RP_EVENT_STATUS_CHANGE,
                   .status_change = &sc};
    rp_buf out = RP_BUF_INIT;
    cr_assert_eq(rp_jsonl_write_event(&out, &ev), 0);
    cr_assert(strstr(out.data, ",\"notification\":null,\"tenant\":null}\n"),
              "%s", out.data);
    rp_buf_reset(&out);
    ev.tenant = rp_str_c("a \"quoted\" " TENANT);
    cr_assert_eq(rp_jsonl_write_event(&out, &ev), 0);
    cr_assert(strstr(out.data, ",\"notification\":null,\"tenant\":\"a "
                               "\\\"quoted\\\" " TENANT "\"}\n"),
              "%s", out.data);
    json_t *j = json_loads(out.data, 0, NULL);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "tenant")),
                     "a \"quoted\" " TENANT);
    json_decref(j);
    rp_buf_free(&out);

    rp_avro_codec *c = codec(RP_FRAMING_PLAIN);
    const void *bytes;
    size_t len;
    cr_assert_eq(rp_avro_encode_event(c, &ev, &bytes, &len, err, sizeof(err)),
                 0, "%s", err);
    uint8_t *b = copy_of(bytes, len);
    rp_event back;
    rp_status_change bsc;
    rp_notification bn;
    cr_assert_eq(
        rp_avro_decode_event(c, b, len, &back, &bsc, &bn, err, sizeof(err)), 0,
        "%s", err);
    cr_assert(rp_str_eq(back.tenant, ev.tenant));
    free(b);
    rp_avro_codec_destroy(c);
}
