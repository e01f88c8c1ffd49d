/*
 * repute/stop.h - SIGINT and SIGTERM as "stop cleanly", at every moment of
 * a command's life.
 *
 * A command that blocks (run, produce, tail) calls rp_stop_install() first
 * thing, before anything can wait. From then on the first SIGINT or
 * SIGTERM only takes note: rp_stop_signal() says which signal came, and a
 * descriptor (rp_stop_fd) becomes readable and stays so, for poll(2) or a
 * libuv uv_poll. Every wait of the command is bounded and looks at one of
 * the two, then stops at its own pace: nothing is left half-done. A second
 * signal ends the process at once, from the handler, with exit status 128
 * + the signal's number (130 for SIGINT, 143 for SIGTERM).
 *
 * The handlers are taken over even when the signal was ignored when the
 * process started (a shell starts a background job with SIGINT ignored):
 * `repute run ... & kill -INT $!` must stop repute, whatever it is doing.
 *
 * The state is process-wide (signals are); nothing is allocated but one
 * pipe, kept open for the life of the process.
 */
#ifndef REPUTE_STOP_H
#define REPUTE_STOP_H

#include <stdbool.h>
#include <stddef.h>

/* Installs the handlers of SIGINT and SIGTERM (once; later calls do
 * nothing). Returns 0, or RP_EIO with the reason in errstr. */
int rp_stop_install(char *errstr, size_t errstr_size);
/* True once rp_stop_install has succeeded. */
bool rp_stop_installed(void);
/* The signal that asked to stop (SIGINT or SIGTERM), or 0 while none has
 * come. Async-signal-safe and thread-safe. */
int rp_stop_signal(void);
/* "SIGINT", "SIGTERM", or "signal" for anything else. */
const char *rp_stop_signal_name(int sig);
/* A descriptor that becomes readable when the first signal comes and
 * stays readable (the caller must not read it), or -1 before
 * rp_stop_install. */
int rp_stop_fd(void);
/* Sleeps for up to ms milliseconds, less when a stop is asked for (or has
 * been). Returns true when a stop was asked for. */
bool rp_stop_wait(int ms);

#endif
