/*
 * cli.h - what the commands of the repute binary share.
 *
 * The binary is one program with subcommands (SPEC section 9): main.c owns
 * the table of commands and dispatches to one of them; each command lives
 * in its own file with an entry point of the rp_cli_main_fn shape, which
 * gets the arguments from the command's name on (argv[0] is "replay") and
 * returns the process exit status.
 *
 * Every command that reads a configuration takes "--config FILE" and
 * "--set key=value" the same way. Options are collected while parsing (in
 * rp_cli_config_args) and applied only once parsing is done, always in the
 * order SPEC section 9 gives, whatever their order on the command line:
 * the defaults, then each --config file in turn, then each --set pair in
 * turn, then the checks across keys. So `--set a=1 --config f` still lets
 * the --set win.
 *
 * Exit statuses are shared too: 0 for success, 1 when the command ran but
 * some input was bad (replay's malformed lines, produce's unacknowledged
 * records), 2 when it could not run as asked (usage, configuration, an
 * unreadable file, an internal failure).
 */
#ifndef REPUTE_CLI_H
#define REPUTE_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "repute/config.h"

#ifndef REPUTE_VERSION
#define REPUTE_VERSION "0.1.0"
#endif

/* ---------------------------------------------------------------- status */

#define RP_CLI_EXIT_OK        0
#define RP_CLI_EXIT_BAD_INPUT 1
#define RP_CLI_EXIT_USAGE     2

/* ---------------------------------------------------------------- commands */

typedef int (*rp_cli_main_fn)(int argc, char **argv);

typedef struct rp_cli_command {
    const char *name;     /* "replay" */
    const char *synopsis; /* the arguments after the name */
    const char *summary;  /* one line for `repute --help` */
    const char *options;  /* the option lines of `repute CMD --help` */
    const char *details;  /* the paragraph after the options, or NULL */
    rp_cli_main_fn main;  /* NULL: not part of this build yet */
} rp_cli_command;

/* The commands' entry points. */
int rp_cli_replay_main(int argc, char **argv);
int rp_cli_run_main(int argc, char **argv);
int rp_cli_produce_main(int argc, char **argv);
int rp_cli_tail_main(int argc, char **argv);

/* Looks a command up by name (NULL when there is none). */
const rp_cli_command *rp_cli_find_command(const char *name);

/* Prints "usage: repute NAME SYNOPSIS" and the command's options. */
void rp_cli_command_help(FILE *out, const rp_cli_command *cmd);

/* Prints "repute CMD: <message>" and the hint to try --help on stderr;
 * returns RP_CLI_EXIT_USAGE. */
int rp_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- options */

/* The --config files and --set pairs of one command line, as given (the
 * strings borrow argv). */
typedef struct rp_cli_config_args {
    const char **files;
    size_t n_files;
    const char **sets;
    size_t n_sets;
} rp_cli_config_args;

/* Makes room for up to argc options. Returns 0 or RP_ENOMEM. */
int rp_cli_config_args_init(rp_cli_config_args *ca, int argc);
void rp_cli_config_args_free(rp_cli_config_args *ca);

/* The long options every configured command accepts, for getopt_long
 * tables: "--config FILE" returns RP_CLI_OPT_CONFIG, "--set k=v" returns
 * RP_CLI_OPT_SET, "--help" (and -h) returns 'h'. */
#define RP_CLI_OPT_CONFIG 1000
#define RP_CLI_OPT_SET    1001
#define RP_CLI_CONFIG_LONG_OPTIONS                                             \
    {"config", required_argument, NULL, RP_CLI_OPT_CONFIG},                    \
        {"set", required_argument, NULL, RP_CLI_OPT_SET}, {                    \
        "help", no_argument, NULL, 'h'                                         \
    }

/* Records one --config or --set option. Returns true when opt was one. */
bool rp_cli_config_option(rp_cli_config_args *ca, int opt, const char *arg);

/* Builds *cfg: defaults, the files, the pairs, then rp_config_validate().
 * On failure prints "repute CMD: <reason>" (naming the key) on stderr,
 * leaves *cfg destroyed and returns RP_CLI_EXIT_USAGE; returns 0 on
 * success (free with rp_config_destroy()). */
int rp_cli_build_config(const char *cmd, const rp_cli_config_args *ca,
                        rp_config *cfg);

/* Reports a getopt_long failure ('?' or ':' returned with opterr = 0 and
 * an optstring that begins with ':'): the unknown option or the option
 * that lacks its value. Returns RP_CLI_EXIT_USAGE. */
int rp_cli_getopt_error(const char *cmd, int opt, char **argv);

#endif
