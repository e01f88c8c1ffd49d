/*
 * support_impl.h - what the files of the integration support library share
 * behind support.h. Private to tests/integration's support files; the
 * tests include support.h only.
 *
 * The library keeps a little state for the one test that runs at a time
 * (each test file is its own process and runs its tests one after the
 * other): the context of the running test, whether a test stopped the
 * shared broker, and the librdkafka handles made for that context. The
 * context (support.c) owns the life of that state, it_init to it_done and
 * it_fini; the Kafka helpers (kafka.c) and the clusters (cluster.c) read
 * it.
 */
#ifndef REPUTE_IT_SUPPORT_IMPL_H
#define REPUTE_IT_SUPPORT_IMPL_H

#include <librdkafka/rdkafka.h>

#include "support.h"

#ifndef IT_WORK_DIR
#define IT_WORK_DIR "/tmp/repute-it"
#endif

/* The context of the running test (NULL between tests). */
extern it_ctx *it_cur_ctx;
/* A test stopped the shared broker (it_broker_script("stop")): it_fini
 * starts it again, and it_done deletes no topics. */
extern bool it_broker_down;

/* ---------------------------------------------------------------- files */

/* The whole file, NUL-terminated (an empty string when it cannot be read:
 * a process may not have written it yet); the caller frees it. */
char *it_slurp(const char *path, size_t *len_out);
/* mkdir -p, failing the test when the directory cannot be made. */
void it_mkdir_p(const char *path);
/* The number of lines of a file (a last line without '\n' counts). */
size_t it_count_lines(const char *path);

/* ---------------------------------------------------------------- kafka */

/* Swallows librdkafka's logs (a broker that goes away on purpose would
 * fill the test's output). */
void it_kafka_quiet_log(const rd_kafka_t *rk, int level, const char *fac,
                        const char *buf);
/* A new client of the broker at bootstrap: an idempotent producer, or a
 * read_committed consumer of group (NULL: a reader's group) that commits
 * nothing. Fails the test when it cannot be made. */
rd_kafka_t *it_kafka_new(rd_kafka_type_t type, const char *bootstrap,
                         const char *group);
/* The context's producer (raw records, metadata, the admin API) and its
 * consumer of the group's committed offsets, made on first use. */
rd_kafka_t *it_kafka_prod(it_ctx *c);
rd_kafka_t *it_kafka_offs(it_ctx *c);
/* Frees both (they are made again for the next context). */
void it_kafka_free(void);
/* Creates the test's topics, replicas > 1 with alternating leaders, and
 * waits until every partition takes writes. */
void it_kafka_create_topics(it_ctx *c, int replicas);
/* Deletes the test's topics, best effort (no wait). */
void it_kafka_delete_topics(it_ctx *c);

/* ---------------------------------------------------------------- cluster */

/* Stops the nodes of a cluster a test left running (from it_fini). */
void it_cluster_fini(void);

#endif
