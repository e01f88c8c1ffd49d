/*
 * run.c - `repute run`: parse the command line, build the configuration,
 * and hand over to the processor (src/runtime/processor.c).
 *
 * Signals are taken over first thing (repute/stop.h), before anything
 * can wait, even when SIGINT was ignored at start (a shell's background
 * job): from then on SIGINT and SIGTERM stop repute cleanly, whatever
 * phase it is in (docs/run.md, "Signals").
 *
 * Embedded mode defaults topics.create to true (the mock cluster starts
 * empty); otherwise the user's topics.create stands.
 *
 * The command also wires the HTTP API (src/api/) to the processor, as the
 * processor's observer: the runtime knows nothing of the API, and the API
 * reads the runtime only through repute/procview.h, so neither depends on
 * the other beyond those two headers.
 */
#include "cli/cli.h"
#include "repute/api.h"
#include "repute/processor.h"
#include "repute/stop.h"

#define CMD "run"

#define OPT_EMBEDDED        2000
#define OPT_REBUILD_CURRENT 2001

static const struct option long_options[] = {
    RP_CLI_CONFIG_LONG_OPTIONS,
    {"embedded", no_argument, NULL, OPT_EMBEDDED},
    {"rebuild-current", no_argument, NULL, OPT_REBUILD_CURRENT},
    {NULL, 0, NULL, 0}};

/* --embedded and --rebuild-current, the options of run's own. */
static int run_option(void *ctx, int opt, const char *arg) {
    rp_run_options *opts = ctx;
    (void)arg;
    if (opt == OPT_EMBEDDED)
        opts->embedded = true;
    else if (opt == OPT_REBUILD_CURRENT)
        opts->rebuild_current = true;
    else
        return RP_CLI_OPT_NOT_MINE;
    return 0;
}

/* ---------------------------------------------------------------- the API */

static int api_start(void *opaque, uv_loop_t *loop, const rp_config *cfg,
                     const rp_proc_view *view, char *errstr,
                     size_t errstr_size) {
    return rp_api_start((rp_api **)opaque, loop, cfg, view, errstr,
                        errstr_size);
}

static void api_stop(void *opaque) {
    rp_api_stop(*(rp_api **)opaque);
}

static void api_on_event(void *opaque, const rp_event *ev) {
    rp_api_note_event(*(rp_api **)opaque, ev);
}

static void api_on_commit(void *opaque, uint64_t ms) {
    rp_api_commit_done(*(rp_api **)opaque, ms);
}

static void api_free(void *opaque) {
    rp_api **api = opaque;
    rp_api_free(*api);
    *api = NULL;
}

int rp_cli_run_main(int argc, char **argv) {
    rp_cli_opts co;
    rp_api *api = NULL;
    const rp_proc_observer observer = {&api,         api_start,     api_stop,
                                       api_on_event, api_on_commit, api_free};
    rp_run_options opts = {false, false, &observer};
    char err[1024];
    int status;

    if (rp_stop_install(err, sizeof(err)) != 0) {
        fprintf(stderr, "repute " CMD ": %s\n", err);
        return RP_CLI_EXIT_USAGE;
    }
    status = rp_cli_opts_parse(&co, CMD, 0, argc, argv, long_options,
                               run_option, &opts);
    if (status != RP_CLI_GO_ON)
        goto done;
    if ((status = rp_cli_config_open(&co, 0)) != 0)
        goto done;
    if (rp_api_check(&co.cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "repute " CMD ": %s\n", err); /* before Kafka */
        status = RP_CLI_EXIT_USAGE;
        goto done;
    }
    if (opts.embedded && !co.cfg.topics_create_set)
        co.cfg.topics_create = true;
    status = rp_processor_run(&co.cfg, &opts);
done:
    rp_cli_opts_free(&co);
    return status;
}
