/*
 * repute/record.h - the records that flow through repute, as C structs.
 *
 * Input records (rp_record) are what the five input topics carry (docs/rules.md
 * section 2); output events (rp_event) are the ReputationEvent of docs/rules.md
 * section 7. Both are plain structs with no ownership of their strings:
 * every rp_str and pointer inside is borrowed from whoever filled the
 * struct (a decoder's reused buffers, a JSON document, the engine's
 * account table) and is valid only until that owner is used again. Copy
 * what you need to keep.
 *
 * Nullable fields of the contract are a has_* flag beside the value, or an
 * rp_str whose ptr is NULL.
 */
#ifndef REPUTE_RECORD_H
#define REPUTE_RECORD_H

#include "repute/types.h"

/* docs/rules.md section 1: an account_id is a non-empty string of at most 256
 * bytes. */
#define RP_ACCOUNT_ID_MAX 256
/* repute's own limits on the other strings of an input record (docs/
 * input.md): an event_id is a key of the dedupe window, so it is held to
 * the account_id's size; every other string (recipients, diagnostics,
 * report details, notes) to 8 KiB. A record over them breaks the contract
 * and goes to the dead-letter topic. */
#define RP_EVENT_ID_MAX 256
#define RP_TEXT_MAX     8192
/* docs/rules.md section 10: a tenant is a non-empty UTF-8 string of at most
 * 256 bytes, unique within its account. */
#define RP_TENANT_MAX 256

typedef struct rp_delivery {
    rp_str message_id;
    rp_str recipient;
    bool has_sent_time;
    int64_t sent_time;
    bool verified_recipient; /* default false */
    bool simulator;          /* default false */
    bool feedback_loop;      /* default true */
} rp_delivery;

typedef struct rp_bounce {
    rp_str message_id;
    rp_str recipient;
    bool has_sent_time;
    int64_t sent_time;
    rp_bounce_type bounce_type;
    rp_bounce_subtype bounce_subtype;
    bool verified_recipient; /* default false */
    bool simulator;          /* default false */
    rp_str diagnostic;       /* nullable */
} rp_bounce;

typedef struct rp_complaint {
    rp_str message_id;
    const rp_str *recipients; /* borrowed array of n_recipients */
    size_t n_recipients;
    bool has_sent_time;
    int64_t sent_time;
    rp_feedback_type feedback_type;
    bool on_suppression_list; /* default false */
    bool simulator;           /* default false */
} rp_complaint;

typedef struct rp_report {
    rp_issue_kind kind;        /* always a report kind (>= FIRST_REPORT) */
    int32_t incidents;         /* default 1, must be >= 1 */
    rp_str domain;             /* nullable */
    rp_str related_account_id; /* nullable */
    rp_str reporter;           /* nullable; confidential, never output */
    rp_str detail;             /* nullable */
} rp_report;

typedef struct rp_action {
    rp_action_type action;
    bool has_issue;
    rp_issue_kind issue;
    bool has_effective_time;
    int64_t effective_time;
    rp_str related_account_id; /* nullable */
    rp_str note;               /* nullable */
    rp_str actor; /* nullable: who decided it; kept in the account's
                     history, never copied into a notification */
} rp_action;

typedef struct rp_record {
    rp_rec_type type;
    rp_str event_id;
    rp_str account_id;
    int64_t event_time;
    rp_str tenant; /* nullable: null is the account's own sending */
    union {
        rp_delivery delivery;
        rp_bounce bounce;
        rp_complaint complaint;
        rp_report report;
        rp_action action;
    } u;
} rp_record;

/* Fills *rec with the defaults of docs/rules.md section 2 for a record of this
 * type (every other field zero / null). */
void rp_record_init(rp_record *rec, rp_rec_type type);

/* Checks the parts of the contract that a schema cannot: a non-empty
 * account_id of at most RP_ACCOUNT_ID_MAX bytes, a non-empty event_id of
 * at most RP_EVENT_ID_MAX bytes, a tenant that is null or a non-empty
 * UTF-8 string of at most RP_TENANT_MAX bytes, an action's actor that is
 * null or UTF-8, other strings of at most RP_TEXT_MAX, incidents >= 1,
 * enum values in range, a report kind that is a report issue. Returns 0,
 * or RP_ECONTRACT with the reason in errstr. */
int rp_record_check(const rp_record *rec, char *errstr, size_t errstr_size);

/* ------------------------------------------------------------ output */

typedef struct rp_metric_snapshot {
    rp_issue_status status;
    bool has_rate;
    double rate;
    int64_t count;
    int64_t volume;
    int64_t window_start;
    int64_t window_end;
} rp_metric_snapshot;

typedef struct rp_issue_state {
    rp_issue_kind kind;
    rp_issue_status status;
    int64_t since;
    bool has_review_end;
    int64_t review_ends_at;
} rp_issue_state;

typedef struct rp_status_change {
    rp_account_status previous_status;
    rp_account_status status;
    rp_issue_kind cause;
    bool has_review_end;
    int64_t review_ends_at;
    rp_metric_snapshot bounce;
    rp_metric_snapshot complaint;
    size_t n_issues;
    rp_issue_state issues[RP_ISSUE__COUNT];
} rp_status_change;

/* One tenant that is not HEALTHY, in an AccountState (the schema's
 * TenantState): its tenant status and its own issues. */
typedef struct rp_tenant_state {
    rp_str tenant;
    rp_account_status status; /* the tenant status */
    int64_t since;            /* the oldest of its issues' since */
    bool has_review_end;
    int64_t review_ends_at;
    size_t n_issues; /* non-HEALTHY issues, in kind order */
    rp_issue_state issues[RP_ISSUE__COUNT];
} rp_tenant_state;

/* An account's current state, the value of topic.current
 * (schemas/AccountState.avsc; encoded by repute/acctstate.h, filled by
 * the engine, src/engine/current.c). */
typedef struct rp_account_state {
    rp_str account_id;
    rp_account_status status;
    int64_t since; /* see the schema's doc: the oldest open issue's since */
    bool has_review_end;
    int64_t review_ends_at;
    uint64_t sequence; /* of the STATUS_CHANGE it follows */
    size_t n_issues;   /* non-HEALTHY issues, in kind order */
    rp_issue_state issues[RP_ISSUE__COUNT];
    /* The account's tenants that are not HEALTHY, in the byte order of
     * their names. Filled by the engine: `tenants` points at n_tenants
     * entries (borrowed). Decoded: `tenants` is NULL and the n_tenants
     * entries are still Avro in `tenants_avro` (borrowing the decoded
     * bytes), read one by one with rp_acctstate_tenant_next() (which also
     * reads the first form), so that decoding allocates nothing. */
    size_t n_tenants;
    const rp_tenant_state *tenants;
    rp_str tenants_avro;
} rp_account_state;

#define RP_NOTICE_MAX_ACTIONS 8

typedef struct rp_notification {
    rp_issue_kind issue;
    rp_stage stage;
    rp_account_status account_status;
    const char *title; /* NUL-terminated */
    const char *why;   /* NUL-terminated */
    const char *actions[RP_NOTICE_MAX_ACTIONS];
    size_t n_actions;
    bool has_rate;
    double rate;
    bool has_threshold;
    double threshold;
    bool has_review_end;
    int64_t review_ends_at;
    /* Nullable: the tenant the notification is about (docs/rules.md section
     * 10); its texts then speak of that stream alone. */
    rp_str tenant;
} rp_notification;

typedef struct rp_event {
    rp_str account_id;
    uint64_t sequence; /* from 1 per account, its tenants' events included */
    int64_t event_time;
    rp_event_kind kind;
    /* Exactly one of these is meaningful, as kind says. */
    const rp_status_change *status_change;
    const rp_notification *notification;
    rp_str tenant; /* nullable: null for the account's own events */
} rp_event;

/* Writes the event_id "<account_id>:<sequence>" into buf (NUL-terminated).
 * Returns the length, or RP_ENOSPACE when buf is too small
 * (RP_ACCOUNT_ID_MAX + 22 bytes always suffice). */
int rp_event_id_format(const rp_event *ev, char *buf, size_t size);

#endif
