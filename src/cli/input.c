/*
 * input.c - the JSON lines that replay and produce read (cli.h).
 *
 * Both commands read the same input the same way (docs/rules.md section 9): a
 * file, or standard input when the operand is '-' or missing, one line at a
 * time and in order, each line parsed by rp_jsonl_parse(). What they share
 * is written once here, so that a line means the same to both and is
 * reported the same way: a byte order mark before the first line (as some
 * editors write) is not part of its JSON, blank lines are skipped, a
 * malformed line is reported as "repute CMD: line N: <reason>", counted
 * and skipped, and a read error ends the input with the line it came
 * after. What a command does with a record or a tick is its own.
 *
 * A command that installed repute/stop.h's handlers (produce) is stopped
 * by a signal while it waits for a line: the read returns EINTR (the
 * handlers do not restart it), and the input ends there, as if it had
 * reached its end, with the lines before it taken; the caller looks at
 * rp_stop_signal() to tell.
 *
 * The line buffer and the parser's storage are reused from line to line,
 * so reading allocates nothing once the longest line has been seen; a
 * parsed record borrows them until the next call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "repute/stop.h"

int rp_cli_input_open(rp_cli_input *ci, const char *cmd, const char *path) {
    memset(ci, 0, sizeof(*ci));
    ci->cmd = cmd;
    ci->name = path ? path : "standard input";
    if (!path) {
        ci->in = stdin;
        return 0;
    }
    ci->in = fopen(path, "r");
    if (!ci->in) {
        fprintf(stderr, "repute %s: %s: %s\n", cmd, path, strerror(errno));
        return RP_EIO;
    }
    return 0;
}

int rp_cli_input_next(rp_cli_input *ci, rp_record *rec, int64_t *tick) {
    char err[512];
    ssize_t n;

    if (!ci->reader && !(ci->reader = rp_jsonl_reader_new())) {
        fprintf(stderr, "repute %s: %s\n", ci->cmd, rp_strerror(RP_ENOMEM));
        return RP_ENOMEM;
    }
    for (;;) {
        if (rp_stop_signal())
            return 0;
        errno = 0;
        if ((n = getline(&ci->line, &ci->line_cap, ci->in)) == -1) {
            /* A signal that asks for nothing (or came to another thread
             * as this one read) does not end the input. */
            if (ferror(ci->in) && errno == EINTR) {
                clearerr(ci->in);
                continue;
            }
            break;
        }
        const char *p = ci->line;
        size_t len = (size_t)n;
        ci->lineno++;
        if (ci->lineno == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {
            p += 3;
            len -= 3;
        }
        int kind =
            rp_jsonl_parse(ci->reader, p, len, rec, tick, err, sizeof(err));
        if (kind == RP_JSONL_BLANK)
            continue;
        if (kind == RP_ENOMEM) {
            fprintf(stderr, "repute %s: line %zu: %s\n", ci->cmd, ci->lineno,
                    rp_strerror(kind));
            return kind;
        }
        if (kind < 0) {
            fprintf(stderr, "repute %s: line %zu: %s\n", ci->cmd, ci->lineno,
                    err);
            ci->bad_lines++;
            continue;
        }
        return kind;
    }
    if (ferror(ci->in)) {
        fprintf(stderr, "repute %s: %s: read error after line %zu: %s\n",
                ci->cmd, ci->name, ci->lineno, strerror(errno));
        return RP_EIO;
    }
    return 0;
}

void rp_cli_input_close(rp_cli_input *ci) {
    if (ci->in && ci->in != stdin)
        fclose(ci->in);
    free(ci->line);
    rp_jsonl_reader_destroy(ci->reader);
    memset(ci, 0, sizeof(*ci));
}
