/*
 * jsonl_time.c - ISO 8601 timestamps of the JSON lines input:
 * rp_time_parse_iso8601() (repute/jsonl.h).
 *
 * The parser is written out here with the days-from-civil arithmetic of
 * the proleptic Gregorian calendar, so it depends on neither timegm() nor
 * the locale or time zone of the process. It is strict about the form
 * (fixed-width fields, a zone always given) and holds the result to the
 * years 0000-9999 (RP_JSONL_TIME_MIN/MAX), the same bound the reader puts
 * on integer milliseconds.
 */
#include "repute/jsonl.h"

/* Days since 1970-01-01 of a date of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). m is 1-12, d is 1-31. */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                  /* 0-399 */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0-365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0-146096 */
    return era * 146097 + doe - 719468;
}

static bool is_leap_year(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap_year(y)) ? 29 : days[m - 1];
}

/* Reads exactly n decimal digits at s[*i] into *out. */
static bool read_digits(const char *s, size_t len, size_t *i, int n, int *out) {
    int v = 0;
    if (*i + (size_t)n > len)
        return false;
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    *out = v;
    return true;
}

static bool read_char(const char *s, size_t len, size_t *i, char c) {
    if (*i >= len || s[*i] != c)
        return false;
    (*i)++;
    return true;
}

/*
 * The accepted forms: YYYY-MM-DD, then 'T' (or 't' or one space, as RFC
 * 3339 allows), hh:mm:ss, optionally '.' and one or more digits of
 * fractional seconds (cut to milliseconds), then 'Z' (or 'z') or an offset
 * +hh:mm, -hh:mm, +hhmm or +hh. A time without a zone is refused: it would
 * depend on where it was written.
 */
int rp_time_parse_iso8601(const char *s, size_t len, int64_t *out_ms) {
    size_t i = 0;
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, ms = 0;

    if (!s)
        return RP_EINVAL;
    if (!read_digits(s, len, &i, 4, &year) || !read_char(s, len, &i, '-') ||
        !read_digits(s, len, &i, 2, &month) || !read_char(s, len, &i, '-') ||
        !read_digits(s, len, &i, 2, &day))
        return RP_EINVAL;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return RP_EINVAL;
    i++;
    if (!read_digits(s, len, &i, 2, &hour) || !read_char(s, len, &i, ':') ||
        !read_digits(s, len, &i, 2, &minute) || !read_char(s, len, &i, ':') ||
        !read_digits(s, len, &i, 2, &second))
        return RP_EINVAL;
    if (month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month) || hour > 23 || minute > 59 ||
        second > 59)
        return RP_EINVAL;

    /* Fractional seconds: the first three digits count, the rest are cut. */
    if (i < len && s[i] == '.') {
        int digits = 0;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (digits < 3)
                ms = ms * 10 + (s[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0)
            return RP_EINVAL;
        for (int k = digits; k < 3; k++)
            ms *= 10;
    }

    /* The zone. */
    int64_t offset_min = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
        i++;
        if (!read_digits(s, len, &i, 2, &oh))
            return RP_EINVAL;
        if (i < len) {
            read_char(s, len, &i, ':');
            if (!read_digits(s, len, &i, 2, &om))
                return RP_EINVAL;
        }
        if (oh > 23 || om > 59)
            return RP_EINVAL;
        offset_min = sign * (oh * 60 + om);
    } else {
        return RP_EINVAL;
    }
    if (i != len)
        return RP_EINVAL;

    int64_t days = days_from_civil(year, month, day);
    int64_t t =
        days * RP_MS_PER_DAY +
        ((int64_t)hour * 3600 + minute * 60 + second) * RP_MS_PER_SECOND + ms -
        offset_min * 60 * RP_MS_PER_SECOND;
    if (t < RP_JSONL_TIME_MIN || t > RP_JSONL_TIME_MAX)
        return RP_EINVAL;
    *out_ms = t;
    return 0;
}
