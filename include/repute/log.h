/*
 * repute/log.h - one line per event, with a level, to standard error.
 *
 * Lines look like "2026-01-02T03:04:05.678Z info  run: assigned 4 partitions"
 * so that they sort, grep and parse. The level threshold is process-wide
 * (set once at start from log.level); logging never allocates.
 */
#ifndef REPUTE_LOG_H
#define REPUTE_LOG_H

typedef enum rp_log_level {
    RP_LOG_ERROR = 0,
    RP_LOG_WARN,
    RP_LOG_INFO,
    RP_LOG_DEBUG
} rp_log_level;

/* Sets the threshold from "error", "warn", "info" or "debug"; returns 0 or
 * -1 for an unknown name (the threshold is then unchanged). */
int rp_log_set_level(const char *name);
rp_log_level rp_log_get_level(void);

void rp_log(rp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define rp_log_error(...) rp_log(RP_LOG_ERROR, __VA_ARGS__)
#define rp_log_warn(...)  rp_log(RP_LOG_WARN, __VA_ARGS__)
#define rp_log_info(...)  rp_log(RP_LOG_INFO, __VA_ARGS__)
#define rp_log_debug(...) rp_log(RP_LOG_DEBUG, __VA_ARGS__)

#endif
