/*
 * log.c - the one logger of repute (see repute/log.h).
 *
 * Each line is formatted into a stack buffer and written with a single
 * write(2), so lines from the libuv loop and from librdkafka's threads
 * (which log through a callback) never interleave mid-line.
 */
#include "repute/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int threshold = RP_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

int rp_log_set_level(const char *name) {
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) == 0) {
            threshold = i;
            return 0;
        }
    }
    return -1;
}

rp_log_level rp_log_get_level(void) {
    return (rp_log_level)threshold;
}

void rp_log(rp_log_level level, const char *fmt, ...) {
    if ((int)level > threshold)
        return;
    char line[2048];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(
        line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s ",
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
        tm.tm_sec, (int)(tv.tv_usec / 1000), names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    /* One event, one line: fold any newline the message carries. */
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
