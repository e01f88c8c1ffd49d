/*
 * repute/version.h - what this binary is: its version, the commit it was
 * built from, and the versions of the libraries it runs with.
 *
 * An operator who reports a problem, or a dashboard that compares two
 * hosts, needs more than "0.1.0": the commit tells two builds of the same
 * version apart, and the libraries' versions matter because the package
 * takes them from the distribution, so they change under repute with a
 * system upgrade. librdkafka and libuv are asked at run time (the shared
 * library actually loaded); avro-c has no version call, so its version is
 * the one pkg-config reported when repute was configured. `repute
 * --version` prints these and /metrics shows them as repute_build_info.
 */
#ifndef REPUTE_VERSION_H
#define REPUTE_VERSION_H

typedef struct rp_version_info {
    const char *version;    /* "0.1.0", CMake's project version */
    const char *commit;     /* git describe at build time, or "unknown" */
    const char *librdkafka; /* rd_kafka_version_str() */
    const char *avro;       /* pkg-config's avro-c version at configure time */
    const char *libuv;      /* uv_version_string() */
} rp_version_info;

/* Fills *out with static strings: nothing to free, valid for the life of
 * the process. */
void rp_version_get(rp_version_info *out);

#endif
