/*
 * run.c - `repute run`: parse the command line, build the configuration,
 * and hand over to the processor (src/runtime/processor.c).
 *
 * Embedded mode defaults topics.create to true (the mock cluster starts
 * empty); otherwise the user's topics.create stands.
 */
#include "cli/cli.h"
#include "repute/processor.h"

#define CMD "run"

#define OPT_EMBEDDED 2000

static const struct option long_options[] = {
    RP_CLI_CONFIG_LONG_OPTIONS,
    {"embedded", no_argument, NULL, OPT_EMBEDDED},
    {NULL, 0, NULL, 0}};

/* --embedded, the one option of run's own. */
static int run_option(void *ctx, int opt, const char *arg) {
    rp_run_options *opts = ctx;
    (void)arg;
    if (opt != OPT_EMBEDDED)
        return RP_CLI_OPT_NOT_MINE;
    opts->embedded = true;
    return 0;
}

int rp_cli_run_main(int argc, char **argv) {
    rp_cli_opts co;
    rp_run_options opts = {false};
    int status;

    status = rp_cli_opts_parse(&co, CMD, 0, argc, argv, long_options,
                               run_option, &opts);
    if (status != RP_CLI_GO_ON)
        goto done;
    if ((status = rp_cli_config_open(&co, 0)) != 0)
        goto done;
    if (opts.embedded && !co.cfg.topics_create_set)
        co.cfg.topics_create = true;
    status = rp_processor_run(&co.cfg, &opts);
done:
    rp_cli_opts_free(&co);
    return status;
}
