/*
 * opts.c - the opening every command shares: its command line, then its
 * configuration.
 *
 * Every command opens the same way: reset getopt, collect --config and
 * --set, answer --help, report an unknown option or one that lacks its
 * value, count the operands, build the configuration, set the log level,
 * and (for the commands that talk to Kafka) refuse to start without
 * kafka.bootstrap.servers. That opening is written once here, so that the
 * commands cannot drift apart in what they accept or in how they complain.
 * A command keeps only what is its own: its extra options, handed over
 * one at a time through an rp_cli_option_fn, and what it does once the
 * configuration is open.
 *
 * The opening is in two steps. rp_cli_opts_parse() looks only at the
 * command line and records the options, so that --help and every usage
 * error are answered before any file is read; rp_cli_config_open() then
 * applies them in the order of docs/rules.md section 9 (see cli.h), whatever
 * their order on the command line. Every message begins with "repute CMD:" and
 * goes to standard error; the exit statuses are those of cli.h.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "repute/kafka.h"
#include "repute/log.h"

/* ---------------------------------------------------------------- parse */

/* Reports a getopt_long failure ('?' or ':' returned with opterr = 0 and
 * an optstring that begins with ':'): the unknown option or the option
 * that lacks its value. Returns RP_CLI_EXIT_USAGE. */
static int getopt_error(const char *cmd, int opt, char **argv) {
    const char *arg = argv[optind - 1];
    if (opt == ':')
        return rp_cli_usage_error(cmd, "option '%s' needs a value", arg);
    if (optopt && optopt < 256)
        return rp_cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return rp_cli_usage_error(cmd, "unknown option '%s'", arg);
}

/* Records one --config or --set option. Returns true when opt was one.
 * There is room: each option takes at least one of the argc arguments. */
static bool config_option(rp_cli_opts *o, int opt, const char *arg) {
    if (opt == RP_CLI_OPT_CONFIG)
        o->files[o->n_files++] = arg;
    else if (opt == RP_CLI_OPT_SET)
        o->sets[o->n_sets++] = arg;
    else
        return false;
    return true;
}

/* The operands: none, or with RP_CLI_ONE_FILE one FILE ('-' or none:
 * standard input). Returns RP_CLI_GO_ON or the usage error's status. */
static int operands(rp_cli_opts *o, unsigned flags, int argc, char **argv) {
    if (flags & RP_CLI_MANY_OPERANDS) {
        /* The command checks them itself (getopt_long has moved them after
         * the options). */
        o->operands = (const char *const *)argv + optind;
        o->n_operands = (size_t)(argc - optind);
        return RP_CLI_GO_ON;
    }
    if (!(flags & RP_CLI_ONE_FILE)) {
        if (optind < argc)
            return rp_cli_usage_error(o->cmd, "unexpected argument '%s'",
                                      argv[optind]);
        return RP_CLI_GO_ON;
    }
    if (argc - optind > 1)
        return rp_cli_usage_error(o->cmd, "one input file at most, got %d",
                                  argc - optind);
    if (optind < argc && strcmp(argv[optind], "-") != 0)
        o->path = argv[optind];
    return RP_CLI_GO_ON;
}

int rp_cli_opts_parse(rp_cli_opts *o, const char *cmd, unsigned flags, int argc,
                      char **argv, const struct option *long_options,
                      rp_cli_option_fn on_option, void *ctx) {
    size_t n = argc > 0 ? (size_t)argc : 1;
    int opt;

    memset(o, 0, sizeof(*o));
    o->cmd = cmd;
    o->files = calloc(n, sizeof(*o->files));
    o->sets = calloc(n, sizeof(*o->sets));
    if (!o->files || !o->sets) {
        fprintf(stderr, "repute %s: %s\n", cmd, rp_strerror(RP_ENOMEM));
        return RP_CLI_EXIT_USAGE;
    }

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (config_option(o, opt, optarg))
            continue;
        if (on_option) {
            int rc = on_option(ctx, opt, optarg);
            if (rc == 0)
                continue;
            if (rc != RP_CLI_OPT_NOT_MINE)
                return rc;
        }
        if (opt == 'h') {
            rp_cli_command_help(stdout, rp_cli_find_command(cmd));
            return RP_CLI_EXIT_OK;
        }
        return getopt_error(cmd, opt, argv);
    }
    return operands(o, flags, argc, argv);
}

/* ---------------------------------------------------------------- config */

/* Builds o->cfg: defaults, the files, the pairs, then rp_config_validate().
 * On failure prints "repute CMD: configuration: <reason>" (naming the key),
 * leaves the configuration destroyed and returns RP_CLI_EXIT_USAGE. */
static int build_config(rp_cli_opts *o) {
    rp_config *cfg = &o->cfg;
    char err[512] = "";
    int rc = rp_config_init(cfg);
    if (rc) {
        snprintf(err, sizeof(err), "%s", rp_strerror(rc));
        goto fail;
    }
    for (size_t i = 0; i < o->n_files; i++)
        if ((rc = rp_config_load_file(cfg, o->files[i], err, sizeof(err))))
            goto fail;
    for (size_t i = 0; i < o->n_sets; i++) {
        if (!strchr(o->sets[i], '=')) {
            snprintf(err, sizeof(err),
                     "--set %s: expected KEY=VALUE (e.g. --set "
                     "window.min.volume=100)",
                     o->sets[i]);
            rc = RP_EINVAL;
            goto fail;
        }
        if ((rc = rp_config_set_pair(cfg, o->sets[i], err, sizeof(err))))
            goto fail;
    }
    if ((rc = rp_config_validate(cfg, err, sizeof(err))))
        goto fail;
    o->have_cfg = true;
    return 0;

fail:
    fprintf(stderr, "repute %s: configuration: %s\n", o->cmd,
            err[0] ? err : rp_strerror(rc));
    rp_config_destroy(cfg);
    return RP_CLI_EXIT_USAGE;
}

int rp_cli_config_open(rp_cli_opts *o, unsigned flags) {
    int status = build_config(o);
    if (status)
        return status;
    /* log.level is checked against the same names by rp_config_validate(),
     * so this warning is only a guard. */
    if (rp_log_set_level(o->cfg.log_level) != 0)
        rp_log_warn("%s: log.level: unknown level '%s'", o->cmd,
                    o->cfg.log_level);
    if ((flags & RP_CLI_NEEDS_KAFKA) && !rp_kafka_has_bootstrap(&o->cfg)) {
        fprintf(stderr,
                "repute %s: configuration: kafka.bootstrap.servers: not "
                "set (give it with --set kafka.bootstrap.servers=HOST:PORT)\n",
                o->cmd);
        return RP_CLI_EXIT_USAGE;
    }
    return 0;
}

void rp_cli_opts_free(rp_cli_opts *o) {
    if (o->have_cfg)
        rp_config_destroy(&o->cfg);
    free(o->files);
    free(o->sets);
    memset(o, 0, sizeof(*o));
}
