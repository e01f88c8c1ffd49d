/*
 * version.c - the version, the commit and the libraries' versions
 * (repute/version.h).
 *
 * The commit comes from gen/version_commit.h, which cmake/version.cmake
 * rewrites at every build but only when the commit changed, so that a new
 * commit recompiles this one file and nothing else. It lives in repute_io
 * rather than repute_core because it asks librdkafka and libuv, which only
 * the adapters link.
 */
#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "repute/version.h"

#include "version_commit.h"

#ifndef REPUTE_VERSION
#error "REPUTE_VERSION is set by CMake (the project's version)"
#endif
#ifndef REPUTE_AVRO_VERSION
#define REPUTE_AVRO_VERSION "unknown"
#endif

void rp_version_get(rp_version_info *out) {
    out->version = REPUTE_VERSION;
    out->commit = REPUTE_COMMIT;
    out->librdkafka = rd_kafka_version_str();
    out->avro = REPUTE_AVRO_VERSION;
    out->libuv = uv_version_string();
}
