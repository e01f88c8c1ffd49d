/*
 * cli.h - what the commands of the repute binary share.
 *
 * The binary is one program with subcommands (docs/rules.md section 9): main.c
 * owns the table of commands and dispatches to one of them; each command lives
 * in its own file with an entry point of the rp_cli_main_fn shape, which
 * gets the arguments from the command's name on (argv[0] is "replay") and
 * returns the process exit status.
 *
 * Every command that reads a configuration takes "--config FILE" and
 * "--set key=value" the same way, through one opening (opts.c). Options are
 * collected while parsing (rp_cli_opts_parse) and applied only once parsing
 * is done (rp_cli_config_open), always in the order docs/rules.md section 9
 * gives, whatever their order on the command line: the defaults, then each
 * --config file in turn, then each --set pair in turn, then the checks across
 * keys. So
 * `--set a=1 --config f` still lets the --set win.
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
#include "repute/jsonl.h"

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
int rp_cli_token_main(int argc, char **argv);

/* Looks a command up by name (NULL when there is none). */
const rp_cli_command *rp_cli_find_command(const char *name);

/* Prints "usage: repute NAME SYNOPSIS" and the command's options. */
void rp_cli_command_help(FILE *out, const rp_cli_command *cmd);

/* Prints "repute CMD: <message>" and the hint to try --help on stderr;
 * returns RP_CLI_EXIT_USAGE. */
int rp_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- options */

/* The long options every configured command accepts, for getopt_long
 * tables: "--config FILE" returns RP_CLI_OPT_CONFIG, "--set k=v" returns
 * RP_CLI_OPT_SET, "--help" (and -h) returns 'h'. A command's own options
 * use values from 2000 on. */
#define RP_CLI_OPT_CONFIG 1000
#define RP_CLI_OPT_SET    1001
#define RP_CLI_CONFIG_LONG_OPTIONS                                             \
    {"config", required_argument, NULL, RP_CLI_OPT_CONFIG},                    \
        {"set", required_argument, NULL, RP_CLI_OPT_SET}, {                    \
        "help", no_argument, NULL, 'h'                                         \
    }

/* What the opening of one command (opts.c) keeps: the --config files and
 * --set pairs as given (the strings borrow argv), the FILE operand, and
 * the configuration built from them. */
typedef struct rp_cli_opts {
    const char *cmd; /* "replay": the name in every message */
    const char **files;
    size_t n_files;
    const char **sets;
    size_t n_sets;
    const char *path;            /* the FILE operand; NULL: standard input */
    const char *const *operands; /* with RP_CLI_MANY_OPERANDS (borrow argv) */
    size_t n_operands;
    rp_config cfg; /* valid after rp_cli_config_open() returned 0 */
    bool have_cfg;
} rp_cli_opts;

/* Flags of rp_cli_opts_parse() and rp_cli_config_open(). */
#define RP_CLI_ONE_FILE      1u /* takes one operand, FILE or '-' */
#define RP_CLI_NEEDS_KAFKA   2u /* kafka.bootstrap.servers must be set */
#define RP_CLI_MANY_OPERANDS 4u /* any operands, left to the command */

/* Returned by rp_cli_opts_parse() when the command goes on. */
#define RP_CLI_GO_ON (-1)

/* A command's own options, one at a time (arg is optarg). Returns 0 when
 * it took the option, RP_CLI_OPT_NOT_MINE when opt is not one of its own,
 * or the exit status to end with (a usage error it printed). */
#define RP_CLI_OPT_NOT_MINE (-1)
typedef int (*rp_cli_option_fn)(void *ctx, int opt, const char *arg);

/*
 * Parses the command line of command cmd (argv[0] is its name) with
 * getopt_long and long_options (which hold RP_CLI_CONFIG_LONG_OPTIONS):
 * records --config and --set, hands every other option to on_option (may
 * be NULL), answers --help, reports unknown options and missing values,
 * then checks the operands: none, or with RP_CLI_ONE_FILE at most one,
 * FILE or '-' (o->path is NULL for standard input). Returns RP_CLI_GO_ON,
 * or the exit status to end with (RP_CLI_EXIT_OK after --help). Whatever
 * it returns, the caller frees *o with rp_cli_opts_free().
 */
int rp_cli_opts_parse(rp_cli_opts *o, const char *cmd, unsigned flags, int argc,
                      char **argv, const struct option *long_options,
                      rp_cli_option_fn on_option, void *ctx);

/*
 * Builds o->cfg in the order of docs/rules.md section 9: defaults, each
 * --config file, each --set pair, rp_config_validate(); then sets the log level
 * and, with RP_CLI_NEEDS_KAFKA, requires kafka.bootstrap.servers. Returns
 * 0, or RP_CLI_EXIT_USAGE with "repute CMD: configuration: <reason>" on
 * stderr. rp_cli_opts_free() destroys the configuration.
 */
int rp_cli_config_open(rp_cli_opts *o, unsigned flags);

/* Frees what *o holds (the configuration too); *o itself is the caller's. */
void rp_cli_opts_free(rp_cli_opts *o);

/* ---------------------------------------------------------------- input */

/* The JSON lines of replay and produce (input.c), read one at a time. */
typedef struct rp_cli_input {
    const char *cmd;  /* for messages */
    const char *name; /* the path, or "standard input" */
    FILE *in;
    rp_jsonl_reader *reader;
    char *line;
    size_t line_cap;
    size_t lineno;    /* the number of the line read last */
    size_t bad_lines; /* malformed lines skipped (a command may add its own) */
} rp_cli_input;

/* Opens path (NULL: standard input). Returns 0, or RP_EIO with "repute
 * CMD: PATH: <reason>" on stderr. Whatever it returns, the caller closes
 * *ci with rp_cli_input_close(). */
int rp_cli_input_open(rp_cli_input *ci, const char *cmd, const char *path);

/* Reads up to the next record or tick, reporting and counting the
 * malformed lines on the way. Returns RP_JSONL_RECORD (*rec borrows *ci
 * until the next call) or RP_JSONL_TICK (*tick set), 0 at the end of the
 * input, or RP_ENOMEM / RP_EIO with the reason on stderr. */
int rp_cli_input_next(rp_cli_input *ci, rp_record *rec, int64_t *tick);

void rp_cli_input_close(rp_cli_input *ci);

#endif
