/*
 * run.c - `repute run`: parse the command line, build the configuration,
 * and hand over to the processor (src/runtime/processor.c).
 *
 * Embedded mode defaults topics.create to true (the mock cluster starts
 * empty); otherwise the user's topics.create stands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "repute/log.h"
#include "repute/processor.h"

#define CMD "run"

#define OPT_EMBEDDED 2000

static const struct option long_options[] = {
    RP_CLI_CONFIG_LONG_OPTIONS,
    {"embedded", no_argument, NULL, OPT_EMBEDDED},
    {NULL, 0, NULL, 0}};

int rp_cli_run_main(int argc, char **argv) {
    rp_cli_config_args ca;
    rp_config cfg;
    bool have_cfg = false;
    rp_run_options opts = {false};
    int status = RP_CLI_EXIT_USAGE, opt;

    if (rp_cli_config_args_init(&ca, argc) != 0)
        return RP_CLI_EXIT_USAGE;
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (rp_cli_config_option(&ca, opt, optarg))
            continue;
        if (opt == OPT_EMBEDDED) {
            opts.embedded = true;
            continue;
        }
        if (opt == 'h') {
            rp_cli_command_help(stdout, rp_cli_find_command(CMD));
            status = RP_CLI_EXIT_OK;
            goto done;
        }
        status = rp_cli_getopt_error(CMD, opt, argv);
        goto done;
    }
    if (optind < argc) {
        status =
            rp_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if ((status = rp_cli_build_config(CMD, &ca, &cfg)) != 0)
        goto done;
    have_cfg = true;
    if (rp_log_set_level(cfg.log_level) != 0)
        rp_log_warn("run: log.level: unknown level '%s'", cfg.log_level);
    if (opts.embedded && !cfg.topics_create_set)
        cfg.topics_create = true;
    status = rp_processor_run(&cfg, &opts);
done:
    if (have_cfg)
        rp_config_destroy(&cfg);
    rp_cli_config_args_free(&ca);
    return status;
}
