/*
 * repute/registry.h - a client of a Confluent-compatible Schema Registry.
 *
 * What repute asks a registry (docs/schemas.md): the writer schema of an
 * id found in a framed record (GET /schemas/ids/{id}), the id of one of
 * its own schemas under a subject (POST /subjects/{subject}/versions
 * registers it, POST /subjects/{subject} only looks it up), and the
 * compatibility level (GET /config). Every call blocks on the network, up
 * to schema.registry.request.timeout per URL tried, so `repute run` makes
 * them on libuv's thread pool or at start-up, never on the loop; the
 * client may be used from several threads at once (each call has its own
 * curl handle; the cache has a lock).
 *
 * The base URLs of schema.registry.url are tried in turn: a URL that
 * cannot be reached, or answers 5xx, passes the request on to the next.
 * An answer is final: 404 for an id (RP_ENOTFOUND), 409 or 422 for a
 * schema the subject's compatibility rejects (RP_ECONTRACT, with the
 * registry's message). RP_EIO means that no URL gave an answer (the
 * registry is unreachable): the caller retries later.
 *
 * Schemas fetched by id are cached for the life of the client: an id's
 * schema never changes.
 *
 * The parsers of the registry's answers (rp_registry_parse_*) are
 * separate, pure functions, so that the unit tests and the fuzzer
 * (tests/fuzz/fuzz_registry.c) reach them without a network.
 *
 * Ownership: rp_registry_new() returns a client the caller frees with
 * rp_registry_destroy(); it copies what it needs of the config. A schema
 * text returned by rp_registry_schema() is owned by the client's cache
 * and valid until rp_registry_destroy(). Strings returned by the parsers
 * are heap copies the caller frees with free().
 */
#ifndef REPUTE_REGISTRY_H
#define REPUTE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "repute/config.h"

typedef struct rp_registry rp_registry;

/* A new client for cfg's schema.registry.* keys, or NULL with errstr (no
 * URL configured, a URL that is not http:// or https://, out of memory).
 * Call it once before any thread uses libcurl (it initialises libcurl's
 * global state the first time). */
rp_registry *rp_registry_new(const rp_config *cfg, char *errstr,
                             size_t errstr_size);
void rp_registry_destroy(rp_registry *r);

/* True when cfg names a registry (schema.registry.url is not empty). */
bool rp_registry_configured(const rp_config *cfg);

/* The writer schema of id: 0 with *schema_json (borrowed, see Ownership),
 * RP_ENOTFOUND (the registry has no such id), RP_EIO (unreachable),
 * RP_EBADDATA (an answer that is not a schema), all with errstr. Served
 * from the cache after the first success. */
int rp_registry_schema(rp_registry *r, int32_t id, const char **schema_json,
                       char *errstr, size_t errstr_size);

/* Registers schema_json under subject (or finds it registered): 0 with
 * *id, RP_ECONTRACT (the subject's compatibility rejects it; errstr is the
 * registry's message), RP_EIO, RP_EBADDATA. */
int rp_registry_register(rp_registry *r, const char *subject,
                         const char *schema_json, int32_t *id, char *errstr,
                         size_t errstr_size);

/* Looks schema_json up under subject without registering it: 0 with *id,
 * RP_ENOTFOUND (not registered there), RP_EIO, RP_EBADDATA. */
int rp_registry_lookup(rp_registry *r, const char *subject,
                       const char *schema_json, int32_t *id, char *errstr,
                       size_t errstr_size);

/* The registry's global compatibility level ("BACKWARD", ...) into buf: 0,
 * RP_EIO, RP_EBADDATA. */
int rp_registry_compatibility(rp_registry *r, char *buf, size_t size,
                              char *errstr, size_t errstr_size);

/* The subject of a record written to topic under strategy
 * (schema.registry.subject.strategy): "<topic>-value" (topic),
 * "<record full name>" (record), "<topic>-<record full name>"
 * (topic_record). Returns 0 or RP_ENOSPACE. */
int rp_registry_subject(rp_subject_strategy strategy, const char *topic,
                        const char *record_fullname, char *buf, size_t size);

/* The full name ("namespace.Name") of the record a schema text declares,
 * into buf. Returns 0, RP_EINVAL (not a named record) or RP_ENOSPACE. */
int rp_registry_record_name(const char *schema_json, char *buf, size_t size);

/* ------------------------------------------------ repute's own schemas */

/* The subject of the embedded schema of slot (RP_REC_* or
 * RP_SCHEMA_ID_STATUS) written to the topic of that slot in cfg (the
 * input topics, or topic.status), under cfg's subject strategy. Returns
 * 0, RP_EINVAL (a bad slot) or RP_ENOSPACE. */
int rp_registry_slot_subject(const rp_config *cfg, int slot, char *buf,
                             size_t size);

/* For every slot whose bit (1u << slot) is set in mask: registers the
 * embedded schema under its subject (do_register) or looks it up there,
 * and writes its id into ids[slot]. Stops at the first failure, with the
 * code of rp_registry_register() or rp_registry_lookup() and errstr
 * beginning with the subject. */
int rp_registry_slot_ids(rp_registry *r, const rp_config *cfg, unsigned mask,
                         bool do_register, int32_t *ids, char *errstr,
                         size_t errstr_size);

/* ------------------------------------------------ parsers of answers */

/* {"schema": "...", "schemaType": "AVRO"?, ...}: 0 with *schema_json (heap,
 * NUL-terminated), or RP_EBADDATA with errstr (not JSON, no "schema"
 * string, a schemaType other than AVRO). */
int rp_registry_parse_schema(const char *body, size_t len, char **schema_json,
                             char *errstr, size_t errstr_size);

/* {"id": N, ...}: 0 with *id, or RP_EBADDATA (N not a positive 32-bit
 * number). */
int rp_registry_parse_id(const char *body, size_t len, int32_t *id,
                         char *errstr, size_t errstr_size);

/* {"error_code": N, "message": "..."}: the message (cut, control
 * characters escaped) into buf, and *code (0 when absent). Returns 0, or
 * RP_EBADDATA when body is not such an object (buf then holds a cut and
 * escaped copy of the body itself, for the log). */
int rp_registry_parse_error(const char *body, size_t len, int *code, char *buf,
                            size_t size);

/* {"compatibilityLevel": "..."} (or "compatibility"): 0 with the level in
 * buf, or RP_EBADDATA. */
int rp_registry_parse_config(const char *body, size_t len, char *buf,
                             size_t size, char *errstr, size_t errstr_size);

#endif
