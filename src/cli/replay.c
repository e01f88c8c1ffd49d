/*
 * replay.c - `repute replay`: the engine on JSON lines, without Kafka.
 *
 * Replay is the engine with the transport taken away: it reads JSON lines
 * (docs/rules.md section 9) from a file or standard input, one at a time and in
 * order, and feeds them to one rp_engine on event time: a record is
 * applied with its own event_time as the clock reading, a tick line moves
 * the clock. Every output event goes through the sink as it is produced,
 * is formatted by rp_jsonl_write_event() into one reused buffer and
 * written to standard output, which is fully buffered (it is flushed at
 * the end) so that a replay of millions of records costs few system calls.
 * The same input always gives the same output, byte for byte.
 *
 * Related-account reports. When an account becomes SENDING_PAUSED the
 * engine produces a RELATED_ACCOUNT report for each account it is linked
 * to (docs/rules.md section 4, docs/semantics.md item 16). `repute run` sends
 * these to the reports topic; replay, which has no topic, puts the engine in
 * loopback mode, where the engine applies them itself at the instant of the
 * pause, before anything later (the next review end or line).
 *
 * Errors. A line that does not parse, or breaks the contract, is reported
 * as "repute replay: line N: <reason>" on standard error and skipped; the
 * replay goes on and ends with exit status 1. Anything that stops the
 * replay (an unusable configuration, a file that cannot be opened or read,
 * standard output that cannot be written, memory exhausted) exits with 2.
 * The sink cannot return an error to the engine, so a failure inside it
 * is remembered in the replay state and checked after each engine call.
 *
 * The clock. Replay always runs on event time. A configuration that asks
 * for clock=wall (perhaps a file shared with `repute run`) is not an
 * error: replay says on standard error that it ignores the key and goes
 * on with event time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "repute/engine.h"
#include "repute/jsonl.h"

#define CMD "replay"

/* ---------------------------------------------------------------- state */

typedef struct replay {
    rp_engine *engine;
    rp_engine_sink sink;
    FILE *out;
    rp_buf line; /* the output line being written */
    /* The FIFO of related-account reports: items[head..len) wait. */
    /* The first failure inside the sink (0 when none), with its reason. */
    int failed;
    char failure[128];
} replay;

static void replay_fail(replay *rp, int code, const char *reason) {
    if (rp->failed)
        return;
    rp->failed = code;
    snprintf(rp->failure, sizeof(rp->failure), "%s", reason);
}

/* ---------------------------------------------------------------- sink */

static void on_event(void *opaque, const rp_event *ev) {
    replay *rp = opaque;
    if (rp->failed)
        return;
    rp_buf_reset(&rp->line);
    if (rp_jsonl_write_event(&rp->line, ev) != 0) {
        replay_fail(rp, RP_ENOMEM, "out of memory");
        return;
    }
    if (fwrite(rp->line.data, 1, rp->line.len, rp->out) != rp->line.len) {
        char reason[128];
        snprintf(reason, sizeof(reason), "standard output: %s",
                 strerror(errno));
        replay_fail(rp, RP_EIO, reason);
    }
}

static void replay_free(replay *rp) {
    rp_buf_free(&rp->line);
    rp_engine_destroy(rp->engine);
}

/* ---------------------------------------------------------------- lines */

/*
 * Reads every line of the input and applies it. Returns 0 when it reached
 * the end of the input, or an RP_E* code with the reason already printed.
 */
static int replay_stream(replay *rp, rp_cli_input *ci) {
    rp_record rec;
    int64_t tick = 0;
    int kind, rc;

    while ((kind = rp_cli_input_next(ci, &rec, &tick)) > 0) {
        if (kind == RP_JSONL_TICK)
            rc = rp_engine_advance(rp->engine, tick, &rp->sink);
        else
            rc = rp_engine_apply(rp->engine, &rec, rec.event_time, &rp->sink);
        if (rc == 0)
            rc = rp->failed;
        if (rc) {
            fprintf(stderr, "repute " CMD ": line %zu: %s\n", ci->lineno,
                    rp->failed ? rp->failure : rp_strerror(rc));
            return rc;
        }
    }
    return kind;
}

/* ---------------------------------------------------------------- main */

static const struct option long_options[] = {RP_CLI_CONFIG_LONG_OPTIONS,
                                             {NULL, 0, NULL, 0}};

int rp_cli_replay_main(int argc, char **argv) {
    rp_cli_opts co;
    replay rp;
    rp_cli_input ci;
    char err[512];
    int status, rc;

    memset(&rp, 0, sizeof(rp));
    memset(&ci, 0, sizeof(ci));
    status = rp_cli_opts_parse(&co, CMD, RP_CLI_ONE_FILE, argc, argv,
                               long_options, NULL, NULL);
    if (status != RP_CLI_GO_ON)
        goto fail;

    /* Configuration: defaults, files, --set pairs, checks; then the clock,
     * which replay always takes from the events. */
    if ((status = rp_cli_config_open(&co, 0)) != 0)
        goto fail;
    status = RP_CLI_EXIT_USAGE;
    if (co.cfg.clock_set && co.cfg.clock == RP_CLOCK_WALL)
        fprintf(stderr, "repute " CMD ": warning: clock=wall is ignored: "
                        "replay always runs on event time\n");
    co.cfg.clock = RP_CLOCK_EVENT;

    if (rp_cli_input_open(&ci, CMD, co.path) != 0)
        goto fail;

    /* The engine and its sink. */
    rp.engine = rp_engine_new(&co.cfg, err, sizeof(err));
    if (!rp.engine) {
        fprintf(stderr, "repute " CMD ": %s\n", err);
        goto fail;
    }
    rp.out = stdout;
    /* Standard output is written in large blocks unless a person watches
     * it (stdio keeps a terminal line-buffered). */
    if (!isatty(fileno(stdout)))
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    rp.sink.opaque = &rp;
    rp.sink.on_event = on_event;
    rp.sink.on_report = NULL; /* loopback: the engine applies them */
    rp_engine_set_loopback(rp.engine, true);

    rc = replay_stream(&rp, &ci);
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "repute " CMD ": standard output: %s\n",
                strerror(errno));
        rc = RP_EIO;
    }
    if (rc)
        goto fail;
    if (ci.bad_lines)
        fprintf(stderr, "repute " CMD ": %zu malformed line%s skipped\n",
                ci.bad_lines, ci.bad_lines == 1 ? "" : "s");
    status = ci.bad_lines ? RP_CLI_EXIT_BAD_INPUT : RP_CLI_EXIT_OK;

fail:
    rp_cli_input_close(&ci);
    replay_free(&rp);
    rp_cli_opts_free(&co);
    return status;
}
