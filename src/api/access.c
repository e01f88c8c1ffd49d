/*
 * access.c - who may use the HTTP API: the start-up of tokens and TLS,
 * and the check every protected request passes (docs/api-auth.md).
 *
 * At start-up the tokens file (http.auth.tokens.file) is read and the TLS
 * certificate and key (http.tls.*) loaded; any mistake stops `repute run`
 * with the file, and for the tokens file the line, named. One rule ties
 * them to http.listen: tokens must never cross a network in clear text, so
 * with tokens configured on an address other than loopback, the server
 * refuses to start without TLS unless http.allow.plaintext=true says that
 * something in front (a TLS proxy, a private link) takes care of it.
 *
 * The check, per request, in this order:
 *
 *   1. A client address that has used up its failed attempts gets 429
 *      with Retry-After, whatever it sends (repute/auth.h, the limiter).
 *   2. No Authorization field, or one that is not "Bearer TOKEN": 401
 *      with `WWW-Authenticate: Bearer realm="repute"`. A missing token is
 *      not a failed attempt (the dashboard's first request has none).
 *   3. A token that matches no line: 401 with error="invalid_token", and
 *      a failed attempt counted against the address.
 *   4. A role lower than the route needs: 403 naming both roles.
 *
 * Each refusal is counted in repute_http_auth_failures_total by reason.
 * What is logged: a warning per invalid token with the client's address
 * (never the token, nor any part of it); the limiter bounds how many. A
 * signed-in request logs nothing. The caller's name and role then travel
 * with the request (rp_auth_caller) to the handler, which records the name
 * as the actor of what it does.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repute/log.h"

#include "api/routes.h"

/* ---------------------------------------------------------------- start */

static bool is_set(const char *v) {
    return v && *v && strcmp(v, "none") != 0;
}

/* True when the host of "HOST:PORT" is a loopback address. */
static bool listen_is_loopback(const char *listen) {
    if (strncmp(listen, "localhost:", 10) == 0 ||
        strncmp(listen, "[::1]:", 6) == 0)
        return true;
    const char *colon = strrchr(listen, ':');
    char host[64];
    size_t n = colon ? (size_t)(colon - listen) : 0;
    if (n == 0 || n >= sizeof(host))
        return false;
    memcpy(host, listen, n);
    host[n] = '\0';
    struct in_addr in;
    return inet_pton(AF_INET, host, &in) == 1 &&
           (ntohl(in.s_addr) >> 24) == 127;
}

int rp_api_access_start(rp_api *a, char *errstr, size_t errstr_size) {
    const rp_config *cfg = a->cfg;
    char err[512];
    rp_auth_limiter_init(&a->limiter);
    bool cert = is_set(cfg->http_tls_cert), key = is_set(cfg->http_tls_key);
    if (cert != key) {
        snprintf(errstr, errstr_size,
                 "http.tls.cert.location and http.tls.key.location go "
                 "together: set both or neither");
        return RP_EINVAL;
    }
    if (cert && rp_http_tls_new(&a->tls, cfg->http_tls_cert, cfg->http_tls_key,
                                err, sizeof(err)) != 0) {
        snprintf(errstr, errstr_size, "http.tls: %s", err);
        return RP_EINVAL;
    }
    if (!is_set(cfg->http_auth_tokens_file))
        return 0;
    int rc = rp_auth_tokens_load(&a->tokens, cfg->http_auth_tokens_file, err,
                                 sizeof(err));
    if (rc != 0) {
        snprintf(errstr, errstr_size, "http.auth.tokens.file: %s", err);
        return rc;
    }
    if (a->tokens.n == 0) {
        snprintf(errstr, errstr_size,
                 "http.auth.tokens.file: %s holds no token (add one with "
                 "`repute token add NAME ROLE --file %s`)",
                 cfg->http_auth_tokens_file, cfg->http_auth_tokens_file);
        return RP_EINVAL;
    }
    a->auth_on = true;
    if (!a->tls && !cfg->http_allow_plaintext &&
        !listen_is_loopback(cfg->http_listen)) {
        snprintf(errstr, errstr_size,
                 "http.listen=%s is not a loopback address and "
                 "http.auth.tokens.file is set, so tokens would cross the "
                 "network in clear text: set http.tls.cert.location and "
                 "http.tls.key.location, or http.allow.plaintext=true if "
                 "something in front of repute encrypts the traffic",
                 cfg->http_listen);
        return RP_EINVAL;
    }
    return 0;
}

void rp_api_access_free(rp_api *a) {
    rp_auth_tokens_free(&a->tokens);
    rp_http_tls_free(a->tls);
    a->tls = NULL;
}

/* ---------------------------------------------------------------- check */

static const char *const reason_names[RP_API_AUTH__COUNT] = {
    "missing", "invalid", "forbidden", "rate_limited"};

const char *rp_api_auth_reason_name(int r) {
    return r >= 0 && r < RP_API_AUTH__COUNT ? reason_names[r] : "?";
}

static void peer_text(const struct sockaddr *sa, char *out, size_t size) {
    snprintf(out, size, "?");
    if (!sa)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
                  (socklen_t)size);
}

/* The path for a log line: at most 80 bytes, anything but printable ASCII
 * as '?', so that a crafted path (an escaped newline) cannot forge lines. */
static void path_text(rp_str path, char *out, size_t size) {
    size_t n = 0;
    for (size_t i = 0; i < path.len && n + 4 < size && i < 80; i++) {
        unsigned char ch = (unsigned char)path.ptr[i];
        out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    if (path.len > 80 && n + 4 < size)
        out[n++] = '.', out[n++] = '.', out[n++] = '.';
    out[n] = '\0';
}

static void unauthorized(rp_api *a, rp_http_response *res, bool invalid) {
    a->auth_failures[invalid ? RP_API_AUTH_INVALID : RP_API_AUTH_MISSING]++;
    res->headers = invalid ? "WWW-Authenticate: Bearer realm=\"repute\", "
                             "error=\"invalid_token\"\r\n"
                           : "WWW-Authenticate: Bearer realm=\"repute\"\r\n";
    rp_api_error_json(res, 401, "unauthorized",
                      invalid ? "the token is not valid"
                              : "this needs a token: Authorization: Bearer "
                                "TOKEN (see docs/api-auth.md)");
}

bool rp_api_authorize(rp_api *a, const rp_http_request *req, rp_auth_role need,
                      rp_auth_caller *who, rp_http_response *res) {
    who->name = "";
    who->role = RP_AUTH_NONE;
    uint64_t now = uv_now(a->loop);
    unsigned wait = rp_auth_limiter_wait(&a->limiter, req->peer, now);
    if (wait > 0) {
        a->auth_failures[RP_API_AUTH_LIMITED]++;
        snprintf(a->retry_after, sizeof(a->retry_after), "Retry-After: %u\r\n",
                 wait);
        res->headers = a->retry_after;
        rp_api_error_json(res, 429, "too_many_requests",
                          "too many failed sign-ins from this address; try "
                          "again later");
        return false;
    }
    const char *tok;
    size_t tok_len;
    if (!req->authorization.ptr ||
        !rp_auth_bearer(req->authorization.ptr, req->authorization.len, &tok,
                        &tok_len)) {
        unauthorized(a, res, false);
        return false;
    }
    const rp_auth_entry *e = rp_auth_tokens_find(&a->tokens, tok, tok_len);
    if (!e) {
        char peer[64], path[96];
        peer_text(req->peer, peer, sizeof(peer));
        path_text(req->path, path, sizeof(path));
        rp_auth_limiter_fail(&a->limiter, req->peer, now);
        rp_log_warn("http: an invalid token from %s (%s %s)", peer, req->method,
                    path);
        unauthorized(a, res, true);
        return false;
    }
    who->name = e->name;
    who->role = e->role;
    if (!rp_auth_role_allows(e->role, need)) {
        char msg[256];
        a->auth_failures[RP_API_AUTH_FORBIDDEN]++;
        snprintf(msg, sizeof(msg),
                 "the token \"%s\" has the role %s; this needs the role %s",
                 e->name, rp_auth_role_name(e->role), rp_auth_role_name(need));
        rp_api_error_json(res, 403, "forbidden", msg);
        return false;
    }
    return true;
}
