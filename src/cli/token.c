/*
 * token.c - `repute token add NAME ROLE [--file F]`: makes a new API token
 * for the HTTP API's tokens file (docs/api-auth.md, repute/auth.h).
 *
 * The token is printed once, on standard output, and only its hash is
 * appended to the file: whoever reads the file later cannot use it, and
 * the token cannot be shown again (a lost token is replaced, not
 * recovered). The file is F, or else http.auth.tokens.file of the
 * configuration (--config, --set). It is made with mode 0600 when it does
 * not exist; when it does, it is parsed first, so that a new line is never
 * appended to a file `repute run` would refuse, and a name already in it
 * is refused. The line goes out in one append write, so a crash never
 * leaves half a line.
 *
 * `repute run` reads the file at start-up: a running instance learns of
 * the new token when it is restarted.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "repute/auth.h"

#include "cli/cli.h"

#define CMD "token"

#define OPT_FILE 2000

static const struct option long_options[] = {
    RP_CLI_CONFIG_LONG_OPTIONS,
    {"file", required_argument, NULL, OPT_FILE},
    {NULL, 0, NULL, 0}};

typedef struct token_opts {
    const char *file;
} token_opts;

static int token_option(void *ctx, int opt, const char *arg) {
    token_opts *t = ctx;
    if (opt != OPT_FILE)
        return RP_CLI_OPT_NOT_MINE;
    t->file = arg;
    return 0;
}

/* Checks that the file, if it exists, is a valid tokens file without
 * `name`. Returns 0 or prints why and returns nonzero. */
static int check_existing(const char *path, const char *name) {
    char err[512];
    rp_auth_tokens t = {NULL, 0};
    if (access(path, F_OK) != 0)
        return 0;
    if (rp_auth_tokens_load(&t, path, err, sizeof(err)) != 0) {
        fprintf(stderr, "repute " CMD ": %s\n", err);
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < t.n; i++)
        if (strcmp(t.entries[i].name, name) == 0) {
            fprintf(stderr,
                    "repute " CMD ": %s already has a token named \"%s\" "
                    "(remove its line first to replace it)\n",
                    path, name);
            rc = 1;
        }
    rp_auth_tokens_free(&t);
    return rc;
}

static int append_line(const char *path, const char *line) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "repute " CMD ": %s: %s\n", path, strerror(errno));
        return 1;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr,
                "repute " CMD ": warning: %s can be read by others (mode "
                "%03o); it holds only hashes, but 0600 is better\n",
                path, (unsigned)(st.st_mode & 0777));
    size_t len = strlen(line);
    ssize_t w = write(fd, line, len);
    int rc = 0;
    if (w != (ssize_t)len || fsync(fd) != 0) {
        fprintf(stderr, "repute " CMD ": cannot write %s: %s\n", path,
                w < 0 ? strerror(errno) : "short write");
        rc = 1;
    }
    if (close(fd) != 0 && rc == 0) {
        fprintf(stderr, "repute " CMD ": cannot write %s: %s\n", path,
                strerror(errno));
        rc = 1;
    }
    return rc;
}

int rp_cli_token_main(int argc, char **argv) {
    rp_cli_opts co;
    token_opts t = {NULL};
    char token[RP_AUTH_TOKEN_LEN + 1], line[256], err[256];
    int status = rp_cli_opts_parse(&co, CMD, RP_CLI_MANY_OPERANDS, argc, argv,
                                   long_options, token_option, &t);
    if (status != RP_CLI_GO_ON)
        goto done;
    if (co.n_operands != 3 || strcmp(co.operands[0], "add") != 0) {
        status = rp_cli_usage_error(CMD, "expected: add NAME ROLE");
        goto done;
    }
    const char *name = co.operands[1];
    rp_auth_role role = rp_auth_role_parse(co.operands[2]);
    if (role == RP_AUTH_NONE) {
        status = rp_cli_usage_error(
            CMD, "unknown role '%s' (viewer or operator)", co.operands[2]);
        goto done;
    }
    if ((status = rp_cli_config_open(&co, 0)) != 0)
        goto done;
    const char *path = t.file ? t.file : co.cfg.http_auth_tokens_file;
    if (!path || strcmp(path, "none") == 0) {
        status = rp_cli_usage_error(CMD, "no tokens file: give --file F or "
                                         "set http.auth.tokens.file");
        goto done;
    }
    if (rp_auth_token_new(name, role, token, line, sizeof(line), err,
                          sizeof(err)) != 0) {
        status = rp_cli_usage_error(CMD, "%s", err);
        goto done;
    }
    if (check_existing(path, name) != 0 || append_line(path, line) != 0) {
        status = RP_CLI_EXIT_USAGE;
        goto done;
    }
    printf("%s\n", token);
    fflush(stdout);
    fprintf(stderr,
            "repute " CMD ": added \"%s\" (%s) to %s. The token above is "
            "shown once: keep it now. Restart repute run to use it.\n",
            name, rp_auth_role_name(role), path);
    status = RP_CLI_EXIT_OK;
done:
    OPENSSL_cleanse(token, sizeof(token));
    rp_cli_opts_free(&co);
    return status;
}
