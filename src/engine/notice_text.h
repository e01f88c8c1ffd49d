/*
 * notice_text.h - the data the notices are built from (private to
 * src/engine/).
 *
 * A notification is the product of two things: the issue kind (what went
 * wrong) and the stage (where the issue stands in its life cycle). Writing
 * 14 x 7 texts by hand would produce 98 slightly different paragraphs that
 * drift apart as they are edited, so the texts are built from data instead.
 * Every issue kind has one record: a short name for titles, a topic phrase
 * for use inside a sentence, a sentence on the cause, a sentence on why it
 * matters, up to four remedy steps, a note on what to send a person who
 * decides, and a habit that keeps the issue from coming back. Every stage
 * has one template for the "why" text, in which {cause}, {matters}, {rate},
 * {topic} and {date} stand for the parts of the kind record and of the
 * notification, and a list of action slots that pick remedies, the evidence
 * note, the habit or a fixed sentence of the stage.
 *
 * A tenant of an account (docs/rules.md section 10) has records of its
 * own, of the same shape: the texts of a kind and of a stage written for
 * one stream of the account's mail, whose why templates also use {tenant}
 * (the tenant's name, quoted). A tenant kind's NULL `matters` means the
 * account kind's sentence, which is as true for one stream.
 *
 * The account's tables are in notice_text.c, the tenant's in
 * notice_text_tenant.c; notice.c renders them. Ownership: all of it is
 * static, read-only data.
 */
#ifndef REPUTE_ENGINE_NOTICE_TEXT_H
#define REPUTE_ENGINE_NOTICE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "repute/types.h"

/* The most remedy steps a kind lists; the remedies array holds one more
 * slot for the terminating NULL. */
#define NOTICE_MAX_REMEDIES 4

/* The most actions a stage gives, below the RP_NOTICE_MAX_ACTIONS limit of
 * the record so that a notification stays short enough to act on. */
#define NOTICE_STAGE_MAX_ACTIONS 6

/* The texts of one issue kind. */
typedef struct notice_kind {
    /* One title per stage, in the order of rp_stage. */
    const char *titles[RP_STAGE__COUNT];
    /* A noun phrase that completes "the review of ...". */
    const char *topic;
    /* For the two rate issues, the name of the rate; NULL otherwise. */
    const char *metric;
    /* True for the kinds that a person decides by default (docs/rules.md
     * section 4). */
    bool manual;
    /* What happened, in one sentence. */
    const char *cause;
    /* Why it matters to the owner, in one or two short sentences. */
    const char *matters;
    /* Concrete steps that fix the cause, most important first. */
    const char *remedies[NOTICE_MAX_REMEDIES + 1];
    /* What to send a person who decides about the account. */
    const char *evidence;
    /* The habit that keeps the issue from coming back. */
    const char *keep;
} notice_kind;

/* Where an action of a stage comes from. */
typedef enum notice_slot_kind {
    SLOT_END = 0,   /* ends the list */
    SLOT_REMEDIES,  /* the kind's remedies, at most max of them */
    SLOT_EVIDENCE,  /* the kind's note on what to send a person */
    SLOT_KEEP,      /* the kind's habit */
    SLOT_FOLLOW_UP, /* how to tell us about the fix, by class of kind */
    SLOT_TEXT,      /* the fixed text of the slot */
} notice_slot_kind;

typedef struct notice_slot {
    notice_slot_kind kind;
    size_t max;
    const char *text;
} notice_slot;

/* The texts of one stage. The why templates use {cause}, {matters},
 * {rate}, {topic} and {date} (a tenant's also {tenant}); why_dated is used when
 * the notification has a review end, why_open when it has none. */
typedef struct notice_stage {
    const char *why_dated;
    const char *why_open;
    notice_slot actions[NOTICE_STAGE_MAX_ACTIONS + 1];
} notice_stage;

/* The texts of every kind, in the order of rp_issue_kind, and of every
 * stage, in the order of rp_stage. */
extern const notice_kind rp_notice_kinds[RP_ISSUE__COUNT];
extern const notice_stage rp_notice_stages[RP_STAGE__COUNT];

/* How to tell us about a fix, for the three classes of kind: the rates
 * (only mail after the fix counts), the automatic report kinds (only
 * reports after the fix are weighed) and the kinds a person decides. */
extern const char *const rp_notice_follow_up_rate;
extern const char *const rp_notice_follow_up_report;
extern const char *const rp_notice_follow_up_manual;

/* The same for a tenant: its kinds, its stages and its follow-ups, in the
 * same orders (notice_text_tenant.c). */
extern const notice_kind rp_notice_tenant_kinds[RP_ISSUE__COUNT];
extern const notice_stage rp_notice_tenant_stages[RP_STAGE__COUNT];
extern const char *const rp_notice_tenant_follow_up_rate;
extern const char *const rp_notice_tenant_follow_up_report;
extern const char *const rp_notice_tenant_follow_up_manual;

#endif
