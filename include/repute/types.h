/*
 * repute/types.h - the vocabulary shared by every module of repute.
 *
 * This header names the enums of docs/rules.md sections 1 and 2 (issue kinds,
 * issue and account statuses, bounce and feedback types, action types, the
 * notification stages), the borrowed string slice rp_str, and the one error
 * convention of the project: a function that can fail returns 0 on success
 * or a negative RP_E* code, and rp_strerror() turns the code into text.
 * Constructors that can fail for many reasons also take an
 * errstr/errstr_size out-parameter, as librdkafka does.
 *
 * Enum order is significant: it is the order of the Avro enum symbols and,
 * for rp_issue_kind, the order of docs/rules.md section 1 that STATUS_CHANGE
 * causes, issue arrays and notifications follow.
 */
#ifndef REPUTE_TYPES_H
#define REPUTE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- errors */

#define RP_OK       0
#define RP_ENOMEM   (-1) /* an allocation failed */
#define RP_EINVAL   (-2) /* an argument or a value is not valid */
#define RP_ETRUNC   (-3) /* the input ends before the record does */
#define RP_EBADDATA (-4) /* the input is not a valid record */
#define RP_ETOOBIG  (-5) /* the input is larger than the limit */
#define RP_ECONTRACT                                                           \
    (-6) /* decoded, but breaks the contract (docs/rules.md section 2) */
#define RP_EIO       (-7) /* an I/O operation failed */
#define RP_ENOTFOUND (-8) /* no such key, account or entry */
#define RP_ENOSPACE  (-9) /* an output buffer is too small */
#define RP_ENOSCHEMA                                                           \
    (-10) /* the record's writer schema is not known yet (repute/avro.h) */

/* Returns a static, human-readable description of an RP_E* code. */
const char *rp_strerror(int code);

/* ---------------------------------------------------------------- strings */

/* A borrowed byte string: not owned, not necessarily NUL-terminated.
 * ptr == NULL means "null" for the nullable fields of the contract. */
typedef struct rp_str {
    const char *ptr;
    size_t len;
} rp_str;

#define RP_STR_NULL ((rp_str){NULL, 0})

/* Wraps a NUL-terminated string (NULL stays null). */
rp_str rp_str_c(const char *s);
/* True when both are null, or both hold the same bytes. */
bool rp_str_eq(rp_str a, rp_str b);

/* ---------------------------------------------------------------- enums */

typedef enum rp_issue_kind {
    RP_ISSUE_BOUNCE_RATE = 0,
    RP_ISSUE_COMPLAINT_RATE,
    RP_ISSUE_ANTI_SPAM_ORGANIZATION,
    RP_ISSUE_LISTBOMBING,
    RP_ISSUE_SPAMTRAP,
    RP_ISSUE_DOMAIN_BLOCKLIST,
    RP_ISSUE_MAILBOX_PROVIDER,
    RP_ISSUE_DIRECT_FEEDBACK,
    RP_ISSUE_RECIPIENT_FEEDBACK,
    RP_ISSUE_INTERNAL_REVIEW,
    RP_ISSUE_RELATED_ACCOUNT,
    RP_ISSUE_VULNERABLE_SITE,
    RP_ISSUE_COMPROMISED_CREDENTIALS,
    RP_ISSUE_OTHER,
    RP_ISSUE__COUNT
} rp_issue_kind;

/* The twelve report kinds are the issue kinds from ANTI_SPAM_ORGANIZATION
 * on; the Avro enum ReportKind lists them in the same order, so
 * report kind index r is issue kind r + RP_ISSUE__FIRST_REPORT. */
#define RP_ISSUE__FIRST_REPORT RP_ISSUE_ANTI_SPAM_ORGANIZATION
#define RP_REPORT__COUNT       (RP_ISSUE__COUNT - RP_ISSUE__FIRST_REPORT)

static inline bool rp_issue_is_rate(rp_issue_kind k) {
    return k == RP_ISSUE_BOUNCE_RATE || k == RP_ISSUE_COMPLAINT_RATE;
}

typedef enum rp_issue_status {
    RP_ISTATUS_HEALTHY = 0,
    RP_ISTATUS_ALMOST_HEALED,
    RP_ISTATUS_UNDER_REVIEW,
    RP_ISTATUS_SENDING_PAUSE,
    RP_ISTATUS_PENDING_SENDING_PAUSE,
    RP_ISTATUS__COUNT
} rp_issue_status;

typedef enum rp_account_status {
    RP_ASTATUS_HEALTHY = 0,
    RP_ASTATUS_UNDER_REVIEW,
    RP_ASTATUS_PENDING_END_OF_REVIEW_DECISION,
    RP_ASTATUS_SENDING_PAUSED,
    RP_ASTATUS_PENDING_SENDING_PAUSE,
    RP_ASTATUS__COUNT
} rp_account_status;

typedef enum rp_bounce_type {
    RP_BOUNCE_PERMANENT = 0,
    RP_BOUNCE_TRANSIENT,
    RP_BOUNCE_UNDETERMINED,
    RP_BOUNCE__COUNT
} rp_bounce_type;

typedef enum rp_bounce_subtype {
    RP_BSUB_GENERAL = 0,
    RP_BSUB_NO_EMAIL,
    RP_BSUB_SUPPRESSED,
    RP_BSUB_ON_ACCOUNT_SUPPRESSION_LIST,
    RP_BSUB_MAILBOX_FULL,
    RP_BSUB_MESSAGE_TOO_LARGE,
    RP_BSUB_CONTENT_REJECTED,
    RP_BSUB_ATTACHMENT_REJECTED,
    RP_BSUB_UNDETERMINED,
    RP_BSUB__COUNT
} rp_bounce_subtype;

typedef enum rp_feedback_type {
    RP_FEEDBACK_ABUSE = 0,
    RP_FEEDBACK_AUTH_FAILURE,
    RP_FEEDBACK_FRAUD,
    RP_FEEDBACK_NOT_SPAM,
    RP_FEEDBACK_OTHER,
    RP_FEEDBACK_VIRUS,
    RP_FEEDBACK_UNKNOWN,
    RP_FEEDBACK__COUNT
} rp_feedback_type;

typedef enum rp_action_type {
    RP_ACTION_REMEDIATION_SUBMITTED = 0,
    RP_ACTION_RESUME_SENDING,
    RP_ACTION_PAUSE_SENDING,
    RP_ACTION_EXTEND_REVIEW,
    RP_ACTION_END_REVIEW,
    RP_ACTION_SET_MANUAL_REVIEW,
    RP_ACTION_CLEAR_MANUAL_REVIEW,
    RP_ACTION_LINK_ACCOUNT,
    RP_ACTION_UNLINK_ACCOUNT,
    RP_ACTION__COUNT
} rp_action_type;

typedef enum rp_event_kind {
    RP_EVENT_STATUS_CHANGE = 0,
    RP_EVENT_NOTIFICATION,
    RP_EVENT__COUNT
} rp_event_kind;

typedef enum rp_stage {
    RP_STAGE_REVIEW_STARTED = 0,
    RP_STAGE_REVIEW_EXTENDED,
    RP_STAGE_DECISION_PENDING,
    RP_STAGE_SENDING_PAUSED,
    RP_STAGE_PENDING_SENDING_PAUSE,
    RP_STAGE_SENDING_RESUMED,
    RP_STAGE_RESOLVED,
    RP_STAGE__COUNT
} rp_stage;

/* The record types, in the topic order of docs/rules.md section 2 (also the tie
 * order of the event-time merge). */
typedef enum rp_rec_type {
    RP_REC_DELIVERY = 0,
    RP_REC_BOUNCE,
    RP_REC_COMPLAINT,
    RP_REC_REPORT,
    RP_REC_ACTION,
    RP_REC__COUNT
} rp_rec_type;

/* Each enum has a table of its Avro symbol names.  *_name() returns the
 * static symbol (or "?" when out of range); *_parse() finds a symbol by its
 * exact name and returns its index, or RP_ENOTFOUND. */
const char *rp_issue_kind_name(rp_issue_kind v);
const char *rp_issue_status_name(rp_issue_status v);
const char *rp_account_status_name(rp_account_status v);
const char *rp_bounce_type_name(rp_bounce_type v);
const char *rp_bounce_subtype_name(rp_bounce_subtype v);
const char *rp_feedback_type_name(rp_feedback_type v);
const char *rp_action_type_name(rp_action_type v);
const char *rp_event_kind_name(rp_event_kind v);
const char *rp_stage_name(rp_stage v);
const char *rp_rec_type_name(rp_rec_type v); /* "delivery", "bounce", ... */

int rp_issue_kind_parse(const char *s, size_t len);
int rp_issue_status_parse(const char *s, size_t len);
int rp_account_status_parse(const char *s, size_t len);
int rp_bounce_type_parse(const char *s, size_t len);
int rp_bounce_subtype_parse(const char *s, size_t len);
int rp_feedback_type_parse(const char *s, size_t len);
int rp_action_type_parse(const char *s, size_t len);
int rp_event_kind_parse(const char *s, size_t len);
int rp_stage_parse(const char *s, size_t len);
int rp_rec_type_parse(const char *s, size_t len);

/* Time: milliseconds since the Unix epoch, UTC. */
#define RP_MS_PER_SECOND INT64_C(1000)
#define RP_MS_PER_HOUR   INT64_C(3600000)
#define RP_MS_PER_DAY    INT64_C(86400000)

#endif
