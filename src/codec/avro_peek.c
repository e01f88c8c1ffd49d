/*
 * avro_peek.c - the event time of an encoded input record, cheaply.
 *
 * The event-time merge of `repute run` orders buffered records of five
 * topics before decoding them. Every input schema starts with event_id
 * (string), account_id (string) and event_time (long), so the time is the
 * third zig-zag varint after two length-prefixed strings: reading it costs
 * a few bytes, not a decode.
 */
#include "repute/avro.h"

static int read_long(const unsigned char **p, const unsigned char *end,
                     int64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*p >= end)
            return RP_EBADDATA;
        unsigned char c = *(*p)++;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return RP_EBADDATA;
}

/* Steps over the framing and the first two fields (event_id and
 * account_id, both length-prefixed strings), leaving *p at the third;
 * *account_id is the second. */
static int skip_ids(rp_framing framing, const unsigned char **p,
                    const unsigned char *end, rp_str *account_id) {
    if (framing == RP_FRAMING_CONFLUENT) {
        if (end - *p < 5 || (*p)[0] != 0)
            return RP_EBADDATA;
        *p += 5;
    }
    for (int i = 0; i < 2; i++) {
        int64_t n;
        if (read_long(p, end, &n) != 0 || n < 0 || n > end - *p)
            return RP_EBADDATA;
        if (i == 1) {
            account_id->ptr = (const char *)*p;
            account_id->len = (size_t)n;
        }
        *p += n;
    }
    return 0;
}

int rp_avro_peek_event_time(rp_framing framing, const void *buf, size_t len,
                            int64_t *event_time) {
    const unsigned char *p = buf, *end = p + len;
    rp_str account_id;
    if (skip_ids(framing, &p, end, &account_id) != 0)
        return RP_EBADDATA;
    return read_long(&p, end, event_time);
}

int rp_avro_peek_account_id(rp_framing framing, const void *buf, size_t len,
                            rp_str *account_id) {
    const unsigned char *p = buf, *end = p + len;
    rp_str id;
    if (skip_ids(framing, &p, end, &id) != 0)
        return RP_EBADDATA;
    *account_id = id;
    return 0;
}
