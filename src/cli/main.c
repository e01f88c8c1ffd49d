/*
 * main.c - the repute binary: the table of commands and what they share.
 *
 * `repute COMMAND ...` looks COMMAND up in one static table and hands it
 * the rest of the command line; `repute --help`, `repute help [COMMAND]`
 * and `repute --version` are answered here. The table is also the source
 * of every usage text, so a command's synopsis is written once and the
 * help, the errors and the manual page (docs/repute.1.md) say the same.
 * A command whose entry point is NULL is known but not part of this build
 * yet: it is listed, marked as such, and refused with exit status 2.
 *
 * The usage errors are reported here too (rp_cli_usage_error), for main
 * and for every command; the opening the commands share, their options
 * and their configuration, is in opts.c. Every message goes to standard
 * error and begins with "repute CMD:", so that a script that runs several
 * commands can tell who complained.
 */
#include <stdarg.h>
#include <string.h>

#include "repute/version.h"

#include "cli/cli.h"

/* ---------------------------------------------------------------- commands */

#define CONFIG_OPTIONS                                                         \
    "  --config FILE     read configuration keys from a properties file\n"     \
    "                    (may be given more than once; read in order)\n"       \
    "  --set KEY=VALUE   set one configuration key, after the files\n"         \
    "                    (may be repeated; applied in order)\n"

static const rp_cli_command commands[] = {
    {"run", "[--config FILE] [--set k=v]... [--embedded] [--rebuild-current]",
     "the stream processor: input topics in, status topic out",
     CONFIG_OPTIONS
     "  --embedded        start an in-process Kafka-protocol broker, create\n"
     "                    the topics and print bootstrap.servers=HOST:PORT\n"
     "  --rebuild-current after each partition's restore, write the state\n"
     "                    of every account to topic.current (a tombstone\n"
     "                    for a healthy one): for a topic deleted or made\n"
     "                    late\n",
     NULL, rp_cli_run_main},
    {"replay", "[--config FILE] [--set k=v]... [FILE|-]",
     "the engine on JSON lines, no Kafka: deterministic, event time",
     CONFIG_OPTIONS "  FILE              the JSON lines to read; '-' or none: "
                    "standard input\n",
     "Every output event is written to standard output as one JSON line.\n"
     "A line {\"type\":\"tick\",\"time\":T} moves the clock to T. A malformed\n"
     "line is reported on standard error with its number and skipped.\n"
     "Exit status: 0 when every line was good, 1 when a line was skipped,\n"
     "2 for a usage, configuration or input/output error.\n",
     rp_cli_replay_main},
    {"produce",
     "[--config FILE] [--set k=v]... [--topic T] [--register] [FILE|-]",
     "JSON lines -> Avro -> the input topics",
     CONFIG_OPTIONS
     "  --topic T         send every line to topic T (default: the input\n"
     "                    topic of each line's type)\n"
     "  --register        with schema.registry.url: register the input\n"
     "                    schemas (default: look their ids up)\n"
     "  FILE              the JSON lines to read; '-' or none: standard "
     "input\n",
     "Each record is encoded as Avro (framing and schema ids as configured,\n"
     "or the ids of the schema registry)\n"
     "and sent keyed by its account_id with an idempotent producer; tick\n"
     "lines are skipped. kafka.bootstrap.servers must be set.\n"
     "Partitioner: librdkafka's default (consistent_random) unless\n"
     "kafka.partitioner is set. Every producer to the five input topics must\n"
     "use the same partitioner, so that an account has the same partition\n"
     "in each (co-partitioning); Java clients hash with murmur2, matched by\n"
     "--set kafka.partitioner=murmur2_random.\n"
     "Produce waits until every record is acknowledged and ends with\n"
     "\"N records sent\" on standard error. A malformed line, or a record\n"
     "that was not acknowledged, is reported with its line number.\n"
     "Exit status: 0 when every record was sent, 1 when a line was skipped\n"
     "or a record was not acknowledged, 2 for a usage, configuration or\n"
     "input error.\n",
     rp_cli_produce_main},
    {"tail",
     "[--config FILE] [--set k=v]... [--from-beginning] [--max N] "
     "[--idle-exit D] [--current [--follow] [--format json|table]]",
     "the status topic -> JSON lines, as replay writes them",
     CONFIG_OPTIONS
     "  --from-beginning  start at the oldest event, not the newest\n"
     "  --max N           stop after N events\n"
     "  --idle-exit D     stop after D (e.g. 5s) with nothing new, counted\n"
     "                    from when every partition's end was reached\n"
     "  --current         read topic.current from the beginning to its end\n"
     "                    and print the table of accounts that are not\n"
     "                    HEALTHY (sorted by account), then exit\n"
     "  --follow          with --current: then go on printing changes (a\n"
     "                    tombstone prints as status HEALTHY)\n"
     "  --format F        with --current: json (JSON lines, the default)\n"
     "                    or table (account, status, since, review end,\n"
     "                    issues)\n",
     "Every partition of the status topic is read (read_committed) without\n"
     "joining a consumer group or committing offsets. Each event is written\n"
     "to standard output as one JSON line, flushed at once; the events of\n"
     "one account come in order. An undecodable record is reported with its\n"
     "partition and offset and skipped. SIGINT or SIGTERM stops tail.\n"
     "Exit status: 0, 1 when a record was skipped, 2 for a usage or\n"
     "configuration error or when the topic cannot be read.\n",
     rp_cli_tail_main},
    {"token", "add NAME ROLE [--file F] [--config FILE] [--set k=v]...",
     "a new token for the HTTP API (printed once; its hash is kept)",
     "  --file F          the tokens file (default: "
     "http.auth.tokens.file)\n" CONFIG_OPTIONS,
     "ROLE is viewer (every GET) or operator (viewer and actions). The new\n"
     "token is printed once on standard output; its line NAME ROLE\n"
     "sha256:HEX is appended to the tokens file (made with mode 0600),\n"
     "which must be valid and must not hold NAME yet. repute run reads\n"
     "the file at start-up (docs/api-auth.md).\n"
     "Exit status: 0, or 2 for a usage, configuration or file error.\n",
     rp_cli_token_main},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const rp_cli_command *rp_cli_find_command(const char *name) {
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* ---------------------------------------------------------------- help */

static void print_usage_line(FILE *out) {
    fprintf(out, "usage: repute COMMAND [OPTION]... [ARG]...\n"
                 "       repute --help | --version | help COMMAND\n");
}

static void print_help(FILE *out) {
    print_usage_line(out);
    fprintf(out,
            "\n"
            "repute keeps the sending reputation of every account of an\n"
            "email-sending service: it counts bounces and complaints over a\n"
            "representative window, weighs third-party reports, runs each\n"
            "account through review and pause, and publishes every status\n"
            "change and notification.\n"
            "\n"
            "Commands:\n");
    bool missing = false;
    for (size_t i = 0; i < N_COMMANDS; i++) {
        fprintf(out, "  %-9s %s%s\n", commands[i].name, commands[i].summary,
                commands[i].main ? "" : " (*)");
        missing = missing || !commands[i].main;
    }
    if (missing)
        fprintf(out, "  (*) not in this build yet\n");
    fprintf(
        out,
        "\n"
        "Options of every command:\n" CONFIG_OPTIONS
        "  -h, --help        show the command's usage and options\n"
        "\n"
        "Options of repute itself:\n"
        "  -h, --help        show this help\n"
        "  -V, --version     show the version\n"
        "\n"
        "Configuration keys and their defaults are listed in docs/rules.md,\n"
        "section 8, and docs/configuration.md; usage in docs/repute.1.md.\n");
}

void rp_cli_command_help(FILE *out, const rp_cli_command *cmd) {
    fprintf(out, "usage: repute %s %s\n\nrepute %s: %s%s.\n\nOptions:\n%s",
            cmd->name, cmd->synopsis, cmd->name, cmd->summary,
            cmd->main ? "" : " (not in this build yet)", cmd->options);
    fprintf(out, "  -h, --help        show this help\n");
    if (cmd->details)
        fprintf(out, "\n%s", cmd->details);
}

int rp_cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "repute%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "\nTry 'repute %s --help'.\n", cmd);
    else
        fprintf(stderr, "\nTry 'repute --help'.\n");
    return RP_CLI_EXIT_USAGE;
}

/* The first line stays "repute VERSION" for scripts that read only it;
 * the others say what was built and what it runs with, for bug reports. */
static void print_version(FILE *out) {
    rp_version_info v;
    rp_version_get(&v);
    fprintf(out,
            "repute %s\n"
            "commit: %s\n"
            "librdkafka: %s\n"
            "avro-c: %s (at build time)\n"
            "libuv: %s\n",
            v.version, v.commit, v.librdkafka, v.avro, v.libuv);
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
    if (argc < 2) {
        print_usage_line(stderr);
        fprintf(stderr, "Try 'repute --help'.\n");
        return RP_CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        print_help(stdout);
        return RP_CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        print_version(stdout);
        return RP_CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc == 2) {
            print_help(stdout);
            return RP_CLI_EXIT_OK;
        }
        const rp_cli_command *cmd = rp_cli_find_command(argv[2]);
        if (!cmd)
            return rp_cli_usage_error(NULL, "unknown command '%s'", argv[2]);
        rp_cli_command_help(stdout, cmd);
        return RP_CLI_EXIT_OK;
    }
    if (name[0] == '-')
        return rp_cli_usage_error(NULL, "unknown option '%s'", name);

    const rp_cli_command *cmd = rp_cli_find_command(name);
    if (!cmd)
        return rp_cli_usage_error(NULL, "unknown command '%s'", name);
    if (!cmd->main) {
        fprintf(stderr, "repute %s: not part of this build yet\n", name);
        return RP_CLI_EXIT_USAGE;
    }
    return cmd->main(argc - 1, argv + 1);
}
