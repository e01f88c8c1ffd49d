/*
 * properties.c - the two ways a user writes keys: a properties file
 * (--config FILE) and a "key=value" pair (--set).
 *
 * A properties file is read by the rules of java.util.Properties, so that
 * a file shared with Kafka's own Java tools means the same thing to both:
 * "key = value", "key: value" or "key value", '#' and '!' comments, blank
 * lines. Where repute departs from Java it refuses rather than reads the
 * file differently: a line ending in a backslash (a continued line in
 * Java) and a NUL byte are errors, trailing blanks of a value are dropped
 * (they are invisible in an editor and never meant), and a UTF-8
 * byte-order mark before the first key is skipped. Every error names the
 * file and the line.
 *
 * Loading a file stops at its first bad line; the lines before it have
 * been applied, which does not matter because the caller exits. Each key
 * goes through rp_config_set() (set.c), as a --set pair does, so a value
 * means the same wherever it was written.
 */
#include "config/keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The whitespace of a properties file: space, tab and form feed. */
static bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\f';
}

static char *trim(char *s) {
    while (is_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* --------------------------------------------------------------- --set */

int rp_config_set_pair(rp_config *cfg, const char *pair, char *errstr,
                       size_t errstr_size) {
    char q[QUOTE_BUF];
    const char *eq = pair ? strchr(pair, '=') : NULL;
    if (!eq) {
        rp_config_err(errstr, errstr_size, "expected key=value, got %s",
                      rp_config_quote_for(pair ? pair : "", pair ? pair : "", q,
                                          sizeof(q)));
        return RP_EINVAL;
    }
    char *copy = strdup(pair);
    if (!copy) {
        rp_config_err(errstr, errstr_size, "out of memory");
        return RP_ENOMEM;
    }
    copy[eq - pair] = '\0';
    int rc = rp_config_set(cfg, trim(copy), trim(copy + (eq - pair) + 1),
                           errstr, errstr_size);
    free(copy);
    return rc;
}

/* --------------------------------------------------------- properties files */

/* Splits one line of a properties file in place, by the rules of
 * java.util.Properties: the key ends at the first '=', ':' or blank; blanks
 * and at most one '=' or ':' follow. Unlike Java, trailing blanks of the
 * value are dropped (they are invisible in an editor and never meant) and
 * backslashes are taken literally. A line ending in a backslash would
 * continue onto the next in Java; rather than read that file differently
 * from Java, it is refused. Sets *key to NULL for a blank or comment line.
 * Returns 0 or RP_EINVAL with why set. */
static int split_line(char *line, char **key, char **value, const char **why) {
    size_t n = strlen(line);
    if (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    if (n > 0 && line[n - 1] == '\r')
        line[--n] = '\0';
    char *p = line;
    while (is_blank(*p))
        p++;
    *key = NULL;
    if (*p == '\0' || *p == '#' || *p == '!')
        return 0;
    char *k = p;
    while (*p && *p != '=' && *p != ':' && !is_blank(*p))
        p++;
    if (p == k) {
        *why = "expected key = value";
        return RP_EINVAL;
    }
    char *end = p;
    while (is_blank(*p))
        p++;
    if (*p == '=' || *p == ':')
        p++;
    *end = '\0';
    char *v = trim(p);
    size_t vn = strlen(v);
    if (vn > 0 && v[vn - 1] == '\\') {
        *why = "a line ending in a backslash (a continued line) is not "
               "supported";
        return RP_EINVAL;
    }
    *key = k;
    *value = v;
    return 0;
}

int rp_config_load_file(rp_config *cfg, const char *path, char *errstr,
                        size_t errstr_size) {
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    char why_set[1024];
    int rc;

    f = fopen(path, "r");
    if (!f) {
        rp_config_err(errstr, errstr_size, "%s: cannot open: %s", path,
                      strerror(errno));
        rc = RP_EIO;
        goto fail;
    }
    while ((len = getline(&line, &cap, f)) != -1) {
        lineno++;
        char *text = line, *key, *value;
        const char *why = NULL;
        if (strlen(line) != (size_t)len) {
            rp_config_err(errstr, errstr_size, "%s:%ld: line holds a NUL byte",
                          path, lineno);
            rc = RP_EINVAL;
            goto fail;
        }
        /* Editors on Windows may start a UTF-8 file with a byte-order
         * mark; it is not part of the first key. */
        if (lineno == 1 && strncmp(text, "\xEF\xBB\xBF", 3) == 0)
            text += 3;
        rc = split_line(text, &key, &value, &why);
        if (rc != 0) {
            rp_config_err(errstr, errstr_size, "%s:%ld: %s", path, lineno, why);
            goto fail;
        }
        if (!key)
            continue;
        rc = rp_config_set(cfg, key, value, why_set, sizeof(why_set));
        if (rc != 0) {
            rp_config_err(errstr, errstr_size, "%s:%ld: %s", path, lineno,
                          why_set);
            goto fail;
        }
    }
    if (ferror(f)) {
        rp_config_err(errstr, errstr_size, "%s: cannot read: %s", path,
                      strerror(errno));
        rc = RP_EIO;
        goto fail;
    }
    rc = 0;

fail:
    free(line);
    if (f)
        fclose(f);
    return rc;
}
