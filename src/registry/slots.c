/*
 * slots.c - repute's own schemas in a registry (repute/registry.h): under
 * which subject each lives, and their ids.
 *
 * repute writes ReputationEvent (topic.status) and Report (topic.reports,
 * the reports it writes for related accounts), and `repute produce` writes
 * the five input records. Each is registered, or looked up, under the
 * subject that the configured strategy gives for the topic it is written
 * to, exactly as a Confluent serializer would name it, so that consumers
 * with the default settings of their deserializers find it. The slot
 * numbers of the embedded schemas (repute/schemas.h) line up with the
 * topic slots of the config: RP_REC_DELIVERY is RP_TOPIC_DELIVERIES and so
 * on, and RP_SCHEMA_ID_STATUS is RP_TOPIC_STATUS.
 */
#include "repute/registry.h"

#include <stdio.h>
#include <string.h>

#include "repute/schemas.h"

_Static_assert((int)RP_REC_DELIVERY == (int)RP_TOPIC_DELIVERIES &&
                   (int)RP_REC_ACTION == (int)RP_TOPIC_ACTIONS &&
                   (int)RP_SCHEMA_ID_STATUS == (int)RP_TOPIC_STATUS,
               "schema slots and topic slots line up");

int rp_registry_slot_subject(const rp_config *cfg, int slot, char *buf,
                             size_t size) {
    const char *json = rp_avro_schema_json(slot);
    char name[256];
    if (!json || rp_registry_record_name(json, name, sizeof(name)) != 0)
        return RP_EINVAL;
    return rp_registry_subject(cfg->subject_strategy, cfg->topic[slot], name,
                               buf, size);
}

int rp_registry_slot_ids(rp_registry *r, const rp_config *cfg, unsigned mask,
                         bool do_register, int32_t *ids, char *errstr,
                         size_t errstr_size) {
    for (int slot = 0; slot < RP_SCHEMA_ID__COUNT; slot++) {
        if (!(mask & (1u << slot)))
            continue;
        char subject[512];
        int rc = rp_registry_slot_subject(cfg, slot, subject, sizeof(subject));
        if (rc != 0) {
            snprintf(errstr, errstr_size, "%s: no subject for this schema",
                     rp_avro_schema_name(slot));
            return rc;
        }
        const char *json = rp_avro_schema_json(slot);
        rc = do_register ? rp_registry_register(r, subject, json, &ids[slot],
                                                errstr, errstr_size)
                         : rp_registry_lookup(r, subject, json, &ids[slot],
                                              errstr, errstr_size);
        if (rc != 0)
            return rc;
    }
    return 0;
}
