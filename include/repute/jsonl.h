/*
 * repute/jsonl.h - JSON lines in and out (docs/rules.md section 9).
 *
 * Input: one object per line, "type" one of delivery, bounce, complaint,
 * report, action, tick; fields by their names in docs/rules.md; enums as
 * symbols; timestamps as integer milliseconds or ISO 8601 strings; fields with
 * a default may be left out. Parsing uses jansson.
 *
 * Output: an rp_event as one compact JSON object on one line, fields in
 * schema order, enums as strings, timestamps as integer milliseconds, null
 * as null, records as nested objects, doubles in the shortest form that
 * reads back to the same value. The writer formats by hand into a reused
 * rp_buf, so writing allocates nothing once the buffer has grown.
 *
 * Ownership: a parsed rp_record borrows the reader's storage and is valid
 * until the next rp_jsonl_parse() on that reader or its destruction.
 */
#ifndef REPUTE_JSONL_H
#define REPUTE_JSONL_H

#include "repute/acctstate.h"
#include "repute/buf.h"
#include "repute/record.h"

typedef struct rp_jsonl_reader rp_jsonl_reader;

/* Free with rp_jsonl_reader_destroy(). NULL on allocation failure. */
rp_jsonl_reader *rp_jsonl_reader_new(void);
void rp_jsonl_reader_destroy(rp_jsonl_reader *r);

#define RP_JSONL_RECORD 1
#define RP_JSONL_TICK   2
#define RP_JSONL_BLANK  3 /* an empty or all-whitespace line */

/* Parses one line (without or with its '\n'). Returns RP_JSONL_RECORD with
 * *rec filled (and checked with rp_record_check), RP_JSONL_TICK with
 * *tick_time set, RP_JSONL_BLANK, or a negative code with the reason in
 * errstr (naming the field at fault). */
int rp_jsonl_parse(rp_jsonl_reader *r, const char *line, size_t len,
                   rp_record *rec, int64_t *tick_time, char *errstr,
                   size_t errstr_size);

/* Appends the event as one JSON line, '\n' included. 0 or RP_ENOMEM. */
int rp_jsonl_write_event(rp_buf *out, const rp_event *ev);

/* Appends the AccountState st (topic.current) as one JSON line, its
 * fields named as in schemas/AccountState.avsc, times in milliseconds as
 * in the events. Returns 0 or RP_ENOMEM. */
int rp_jsonl_write_account_state(rp_buf *out, const rp_account_state *st);

/* Appends an input record as one JSON line (the input format, all fields
 * written), '\n' included. 0 or RP_ENOMEM. */
int rp_jsonl_write_record(rp_buf *out, const rp_record *rec);

/* Appends a JSON string literal (quoted, escaped) of s. */
int rp_jsonl_write_string(rp_buf *out, const char *s, size_t len);

/* Appends the shortest decimal form of d that reads back as d (null for a
 * NaN or an infinity, which JSON cannot express). */
int rp_jsonl_write_double(rp_buf *out, double d);

/* The optional fields of the outputs and of the HTTP API: d (as
 * rp_jsonl_write_double) or null when !has. 0 or RP_ENOMEM. */
int rp_jsonl_write_double_or_null(rp_buf *out, bool has, double d);

/* A time in milliseconds since the Unix epoch as a JSON integer, or null
 * when !has. 0 or RP_ENOMEM. */
int rp_jsonl_write_time(rp_buf *out, bool has, int64_t t);

/* The timestamps accepted in input, in either form: 0000-01-01T00:00:00.000Z
 * to 9999-12-31T23:59:59.999Z. */
#define RP_JSONL_TIME_MIN INT64_C(-62167219200000)
#define RP_JSONL_TIME_MAX INT64_C(253402300799999)

/* Parses an ISO 8601 UTC timestamp: "2026-01-02T03:04:05Z", with optional
 * fractional seconds and "Z" or a "+hh:mm"/"-hh:mm" offset. Returns 0 with
 * *out_ms, or RP_EINVAL (also for a time outside RP_JSONL_TIME_MIN/MAX). */
int rp_time_parse_iso8601(const char *s, size_t len, int64_t *out_ms);

#endif
