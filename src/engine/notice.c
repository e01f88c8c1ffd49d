/*
 * notice.c - the texts that tell an account's owner what happened and what
 * to do about it.
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
 * Titles and actions are static strings (the titles are joined from the
 * kind's name and the stage's wording at compile time), so only the "why"
 * is rendered, into the caller's buffer. Rendering never allocates and
 * never fails: the writer below counts what fits, drops the rest and always
 * leaves a NUL-terminated string, however small the buffer. All texts are
 * plain ASCII, so a truncated text never ends in half a character.
 *
 * The texts are written for the owner of the account, in plain words. They
 * never name who reported the account, which trap addresses were hit or
 * who complained: those stay confidential by design, and the unit tests
 * check that no text names an organization.
 */
#include "repute/notice.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- kinds */

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
    /* True for the kinds that a person decides by default (SPEC 4). */
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

/* Joins a kind's short name with the wording of each stage. The order
 * follows rp_stage. */
#define NOTICE_TITLES(name)                                                    \
    .titles = {name " review started",           name " review extended",      \
               name " review: decision pending", name ": sending paused",      \
               name ": sending pause pending",   name ": sending resumed",     \
               name " review resolved"}

/* Advice that two kinds give in the same words is written once, so that an
 * edit reaches both. Mail flagged as unwanted by an outside party (an
 * anti-spam group, a mailbox provider) calls for the same list hygiene;
 * each of the two kinds adds a fourth remedy of its own. */
#define NOTICE_UNWANTED_REMEDIES                                               \
    "Check how every address on your list was collected, and stop mailing "    \
    "those without clear consent.",                                            \
        "Remove addresses that bounce or have not engaged in months.",         \
        "Compare your content and frequency with what people signed up for, "  \
        "and close any gap."
#define NOTICE_UNWANTED_EVIDENCE                                               \
    "Describe how you collect addresses and what you changed in "              \
    "acquisition, content or frequency."

/* Complaints sent to us and complaints relayed by a provider have the
 * same causes, and the same cure: consent and a clear sender identity. */
#define NOTICE_CONSENT_REMEDIES                                                \
    "Use confirmed (double) opt-in so that everyone on your list really "      \
    "asked for your mail.",                                                    \
        "Show clearly who you are and why people get your mail, with a "       \
        "familiar sender name and a line on how they signed up.",              \
        "Make the unsubscribe link easy to find and honour every request at "  \
        "once.",                                                               \
        "Remove addresses that have not engaged in months."
#define NOTICE_CONSENT_KEEP                                                    \
    "Keep your sender identity clear and remove people who stop engaging."

static const notice_kind notice_kinds[RP_ISSUE__COUNT] = {
    [RP_ISSUE_BOUNCE_RATE] =
        {
            NOTICE_TITLES("Bounce rate"),
            .topic = "your bounce rate",
            .metric = "bounce rate",
            .cause = "Too many of your messages go to addresses that do not "
                     "exist or will never accept mail (hard bounces).",
            .matters = "Mailbox providers take hard bounces as a sign of an "
                       "old or careless list and filter mail from you and "
                       "from others who send through us.",
            .remedies =
                {
                    "Remove every address that hard-bounced from your lists, "
                    "and make your sending code skip them from now on.",
                    "Clean the rest of the list: drop addresses you have not "
                    "mailed or heard from in a long time.",
                    "Never send to bought, rented or scraped lists.",
                    "Validate addresses when people sign up: check the "
                    "syntax, catch typos and send a confirmation message.",
                },
            .evidence = "Say where the bounced addresses came from and when "
                        "you removed them from your lists.",
            .keep = "Remove hard-bounced addresses automatically as bounces "
                    "arrive, and keep validating new sign-ups.",
        },
    [RP_ISSUE_COMPLAINT_RATE] =
        {
            NOTICE_TITLES("Complaint rate"),
            .topic = "your complaint rate",
            .metric = "complaint rate",
            .cause = "Too many recipients mark your messages as spam.",
            .matters = "Every complaint tells a mailbox provider that your "
                       "mail is unwanted, and providers answer by filtering "
                       "it and mail from others who send through us.",
            .remedies =
                {
                    "Only mail people who asked to hear from you, and stop "
                    "mailing anyone who did not.",
                    "Put a clear unsubscribe link in every message and "
                    "honour every request at once.",
                    "Tell people when they sign up what you will send and "
                    "how often, then keep to it.",
                    "Send less often, and stop mailing people who have not "
                    "opened or clicked in months.",
                },
            .evidence = "Say how the people who complained had signed up and "
                        "what you changed in content or frequency.",
            .keep = "Keep unsubscribing easy, honour it at once, and match "
                    "your frequency to what people signed up for.",
        },
    [RP_ISSUE_ANTI_SPAM_ORGANIZATION] =
        {
            NOTICE_TITLES("Anti-spam report"),
            .topic = "the anti-spam report on your mail",
            .cause = "An independent anti-abuse group flagged mail from your "
                     "account as unwanted, typically because of complaints, "
                     "invalid addresses, trap hits or content.",
            .matters = "Many mailbox providers filter mail on such flags, so "
                       "it can hurt delivery for you and for others who send "
                       "through us.",
            .remedies =
                {
                    NOTICE_UNWANTED_REMEDIES,
                    "Make unsubscribing easy and honour it at once.",
                },
            .evidence = NOTICE_UNWANTED_EVIDENCE,
            .keep = "Review your list sources and engagement on a schedule, "
                    "not only when a problem is flagged.",
        },
    [RP_ISSUE_LISTBOMBING] =
        {
            NOTICE_TITLES("Listbombing"),
            .topic = "the abuse of your sign-up forms",
            .cause = "Your sign-up forms are being used to subscribe other "
                     "people's addresses in bulk, flooding their inboxes.",
            .matters = "The victims never asked for your mail, so they "
                       "complain, and the attack can get your mail and ours "
                       "blocked.",
            .remedies =
                {
                    "Add a CAPTCHA to every sign-up form.",
                    "Switch to confirmed (double) opt-in: add an address only "
                    "after its owner clicks a confirmation link.",
                    "Rate-limit your forms, per IP address and per submitted "
                    "address.",
                    "Run a permission pass: mail recent sign-ups once asking "
                    "them to confirm, and keep only those who do.",
                },
            .evidence = "Say when the bulk sign-ups started and which "
                        "protections you added to your forms.",
            .keep = "Keep CAPTCHA, confirmed opt-in and rate limits on every "
                    "form, including the ones you add later.",
        },
    [RP_ISSUE_SPAMTRAP] =
        {
            NOTICE_TITLES("Spamtrap hits"),
            .topic = "the spamtrap hits",
            .cause = "Your mail reached spamtraps: addresses no person uses, "
                     "kept only to catch senders whose lists are not well "
                     "managed.",
            .matters = "Providers treat trap hits as strong proof of a poor "
                       "list. Trap addresses are never disclosed, so the fix "
                       "is in how you collect and prune addresses.",
            .remedies =
                {
                    "Stop mailing bought, rented or scraped lists: that is "
                    "where most traps come from.",
                    "Use confirmed (double) opt-in so that only addresses "
                    "whose owners confirmed join your list.",
                    "Remove addresses with no opens or clicks in months: old "
                    "abandoned addresses are recycled as traps.",
                    "Check new addresses for typo domains, such as a "
                    "misspelled provider name, before you mail them.",
                },
            .evidence = "Describe where your addresses come from and which "
                        "unengaged addresses you removed, and when.",
            .keep = "Keep confirmed opt-in, and prune addresses with no "
                    "engagement in months on a regular schedule.",
        },
    [RP_ISSUE_DOMAIN_BLOCKLIST] =
        {
            NOTICE_TITLES("Blocklisted domain"),
            .topic = "the blocklisted domain in your mail",
            .cause = "Your messages reference a domain (in a link, an image, "
                     "tracking or your own sender address) that is on a "
                     "public domain blocklist for abuse.",
            .matters = "Mail that mentions a listed domain is widely filtered "
                       "or refused, whatever else it says.",
            .remedies =
                {
                    "List every domain your mail references: links, images, "
                    "tracking and link shorteners, and your own domains.",
                    "Check each of those domains against a public domain "
                    "blocklist.",
                    "Remove or replace every listed domain, such as a shared "
                    "link shortener or image host.",
                    "If a listed domain is yours and clean, fix what got it "
                    "listed and request delisting from the blocklist.",
                },
            .evidence = "List the domains you checked, the ones you removed "
                        "or replaced, and any delisting you requested.",
            .keep = "Check every new domain against a public domain "
                    "blocklist before it goes into your mail.",
        },
    [RP_ISSUE_MAILBOX_PROVIDER] =
        {
            NOTICE_TITLES("Mailbox provider report"),
            .topic = "the mailbox provider report on your mail",
            .cause = "A large mailbox provider told us that mail from your "
                     "account is unwanted or harmful to its users.",
            .matters = "The provider can filter or refuse your mail, and "
                       "mail from others who send through us.",
            .remedies =
                {
                    NOTICE_UNWANTED_REMEDIES,
                    "Check your messages for links or attachments that could "
                    "look harmful, and remove them.",
                },
            .evidence = NOTICE_UNWANTED_EVIDENCE,
            .keep = "Review your list sources, content and frequency on a "
                    "schedule, not only when a problem is flagged.",
        },
    [RP_ISSUE_DIRECT_FEEDBACK] =
        {
            NOTICE_TITLES("Direct complaints"),
            .topic = "the complaints sent to us about your mail",
            .cause = "Recipients of your mail complained to us directly: "
                     "they did not sign up, did not expect it, got too much "
                     "or did not know the sender.",
            .matters = "People who complain to us also mark your mail as "
                       "spam, and their providers filter it.",
            .remedies =
                {
                    NOTICE_CONSENT_REMEDIES,
                },
            .evidence = "Say how the people who complained had signed up and "
                        "what you changed.",
            .keep = NOTICE_CONSENT_KEEP,
        },
    [RP_ISSUE_RECIPIENT_FEEDBACK] =
        {
            NOTICE_TITLES("Recipient feedback"),
            .topic = "the complaints relayed by a mailbox provider",
            .cause = "A mailbox provider told us that many of its users mark "
                     "your mail as unwanted, beyond the complaints we see "
                     "ourselves.",
            .matters = "Providers filter senders their users reject, and the "
                       "harm spreads to others who send through us.",
            .remedies =
                {
                    NOTICE_CONSENT_REMEDIES,
                },
            .evidence = "Say how your recipients signed up and what you "
                        "changed in consent, identity or frequency.",
            .keep = NOTICE_CONSENT_KEEP,
        },
    [RP_ISSUE_INTERNAL_REVIEW] =
        {
            NOTICE_TITLES("Sending practices"),
            .topic = "your account's sending",
            .manual = true,
            .cause = "Our own review found signs of unwanted mail in your "
                     "sending, such as content patterns, a hidden sender "
                     "identity or poorly reputed domains.",
            .matters = "We do not publish the specific findings: the details "
                       "that apply to you come with your case.",
            .remedies =
                {
                    "Read the details that come with your case and answer "
                    "each point.",
                    "Make every message show clearly who you are, with a "
                    "sender name and domain that match your brand.",
                    "Check that the domains in your mail have a good "
                    "reputation, and replace those that do not.",
                    "Explain what you send, to whom, and how the recipients "
                    "signed up.",
                },
            .evidence = "Answer each point in your case and describe what "
                        "you send and how recipients signed up.",
            .keep = "Keep your sender identity, branding and domains "
                    "consistent in every message.",
        },
    [RP_ISSUE_RELATED_ACCOUNT] =
        {
            NOTICE_TITLES("Related account"),
            .topic = "your account's link to a paused account",
            .manual = true,
            .cause = "Another account tied to yours was paused for serious "
                     "sending problems.",
            .matters = "Linked accounts often share lists, content or "
                       "practices, so the same problem may affect this one.",
            .remedies =
                {
                    "Fix the problem on the related account first; its own "
                    "notices say what it is.",
                    "Check whether this account shares lists, content, "
                    "domains or credentials with it, and fix what it shares.",
                    "Tell us how the two accounts are related and how this "
                    "one differs.",
                },
            .evidence = "Say how the accounts are related and what you fixed "
                        "on the related account.",
            .keep = "Keep the practices of every account you run to the same "
                    "standard.",
        },
    [RP_ISSUE_VULNERABLE_SITE] =
        {
            NOTICE_TITLES("Abused site feature"),
            .topic = "the abused feature of your site or app",
            .manual = true,
            .cause = "A feature of your site or app, such as a contact form "
                     "or an invite or share feature, is abused by others to "
                     "send mail through your account.",
            .matters = "That mail goes out in your name to people who never "
                       "asked for it.",
            .remedies =
                {
                    "Add a CAPTCHA to every feature that sends mail.",
                    "Require people to log in before the feature can send "
                    "mail.",
                    "Rate-limit the feature, per user and per IP address.",
                    "Stop putting free text typed by visitors into outgoing "
                    "mail; send fixed templates instead.",
                },
            .evidence = "Name the feature that was abused and the "
                        "protections you added to it.",
            .keep = "Protect every new feature that sends mail with a "
                    "CAPTCHA, a login and rate limits.",
        },
    [RP_ISSUE_COMPROMISED_CREDENTIALS] =
        {
            NOTICE_TITLES("Compromised credentials"),
            .topic = "the possible misuse of your credentials",
            .manual = true,
            .cause = "Your account sent mail that you most likely did not "
                     "send, which points to a leaked API key or SMTP "
                     "password.",
            .matters = "Whoever holds the credentials can send spam or "
                       "phishing in your name until they are revoked.",
            .remedies =
                {
                    "Rotate every API key and SMTP password of the account "
                    "now, and update your apps with the new ones.",
                    "Remove every user and key you do not recognise.",
                    "Move to short-lived credentials where you can.",
                    "Never store secrets in public places such as code "
                    "repositories, client-side code or shared documents.",
                },
            .evidence = "Say which credentials you rotated and removed, and "
                        "where the leak most likely happened.",
            .keep = "Rotate credentials on a schedule and keep secrets out "
                    "of code and shared places.",
        },
    [RP_ISSUE_OTHER] =
        {
            NOTICE_TITLES("Sending issue"),
            .topic = "the sending problem found on your account",
            .manual = true,
            .cause = "A review of your account found a sending problem that "
                     "fits none of the usual categories.",
            .matters = "The details that apply to you come with your case.",
            .remedies =
                {
                    "Read the details that come with your case.",
                    "Fix the problem they describe, and note what you "
                    "changed and when.",
                    "Check the rest of your sending for the same problem, "
                    "and fix it there too.",
                },
            .evidence = "Answer the points in your case and say what you "
                        "changed and when.",
            .keep = "Check your sending against the points of your case "
                    "from time to time.",
        },
};

/* ---------------------------------------------------------------- stages */

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
 * {rate}, {topic} and {date}; why_dated is used when the notification has
 * a review end, why_open when it has none. */
typedef struct notice_stage {
    const char *why_dated;
    const char *why_open;
    notice_slot actions[NOTICE_STAGE_MAX_ACTIONS + 1];
} notice_stage;

static const notice_stage notice_stages[RP_STAGE__COUNT] = {
    [RP_STAGE_REVIEW_STARTED] =
        {
            .why_dated = "{cause} {rate} {matters} You can keep sending; the "
                         "review ends {date}, and sending may be paused if "
                         "the problem is still there then.",
            .why_open = "{cause} {rate} {matters} You can keep sending while "
                        "a person on our team looks into it and decides how "
                        "the review ends.",
            .actions = {{SLOT_REMEDIES, 4, NULL}, {SLOT_FOLLOW_UP, 1, NULL}},
        },
    [RP_STAGE_REVIEW_EXTENDED] =
        {
            .why_dated = "The review of {topic} now runs until {date}, to "
                         "give your changes time to show. {cause} {rate}",
            .why_open = "The review of {topic} goes on, to give your changes "
                        "time to show. {cause} {rate}",
            .actions = {{SLOT_REMEDIES, 4, NULL}, {SLOT_FOLLOW_UP, 1, NULL}},
        },
    [RP_STAGE_DECISION_PENDING] =
        {
            .why_dated = NULL,
            .why_open = "{cause} {rate} The review has run its full course "
                        "without the problem clearing, so a person on our "
                        "team will now decide whether your account keeps "
                        "sending.",
            .actions =
                {
                    {SLOT_TEXT, 1,
                     "Send the person reviewing your account what caused the "
                     "problem and what you changed, with dates."},
                    {SLOT_EVIDENCE, 1, NULL},
                    {SLOT_REMEDIES, 3, NULL},
                },
        },
    [RP_STAGE_SENDING_PAUSED] =
        {
            .why_dated = NULL,
            .why_open = "Sending from your account is paused: no mail leaves "
                        "it until the pause is lifted. {cause} {rate} Once "
                        "you have fixed the cause, ask for a review of the "
                        "pause and tell us what you changed.",
            .actions =
                {
                    {SLOT_REMEDIES, 4, NULL},
                    {SLOT_TEXT, 1,
                     "When the cause is fixed, ask for a review of the pause "
                     "and say what you changed and when; fix it fully first, "
                     "as a problem that returns is paused sooner."},
                },
        },
    [RP_STAGE_PENDING_SENDING_PAUSE] =
        {
            .why_dated = NULL,
            .why_open = "{cause} {rate} The review ended with the problem "
                        "still there. Your account gets an extra check, so a "
                        "person on our team will decide whether to pause "
                        "sending; until then you can still send.",
            .actions =
                {
                    {SLOT_TEXT, 1,
                     "Before a person decides, send them what caused the "
                     "problem and what you have changed, with dates."},
                    {SLOT_EVIDENCE, 1, NULL},
                    {SLOT_REMEDIES, 3, NULL},
                },
        },
    [RP_STAGE_SENDING_RESUMED] =
        {
            .why_dated = "Sending from your account has resumed, and a new "
                         "review of {topic} runs until {date}. {rate} If the "
                         "same problem comes back, sending will be paused "
                         "sooner than before.",
            .why_open = "Sending from your account has resumed, and a new "
                        "review of {topic} has started. {rate} If the same "
                        "problem comes back, sending will be paused sooner "
                        "than before.",
            .actions =
                {
                    {SLOT_TEXT, 1, "Keep every change you made in place."},
                    {SLOT_KEEP, 1, NULL},
                    {SLOT_TEXT, 1,
                     "Watch your account status during the new review: if "
                     "the problem comes back, sending is paused again, "
                     "sooner."},
                },
        },
    [RP_STAGE_RESOLVED] =
        {
            .why_dated = NULL,
            .why_open = "The review of {topic} has ended, and this issue no "
                        "longer counts against your account. {rate} Thank you "
                        "for the work you put into fixing it.",
            .actions =
                {
                    {SLOT_KEEP, 1, NULL},
                    {SLOT_TEXT, 1,
                     "Keep the changes you made: if the problem returns, a "
                     "new review starts."},
                },
        },
};

/* How to tell us about a fix, for the three classes of kind: the rates
 * (only mail after the fix counts), the automatic report kinds (only
 * reports after the fix are weighed) and the kinds a person decides. */
static const char *const notice_follow_up_rate =
    "Once your changes are in place, submit a remediation describing them: "
    "from then on only mail sent after it counts toward the rate.";
static const char *const notice_follow_up_report =
    "Once your changes are in place, submit a remediation describing them: "
    "the review then weighs only reports received after it.";
static const char *const notice_follow_up_manual =
    "Reply to your case with what you found and what you changed; a person "
    "takes it into account when deciding.";

/* The text of a kind or stage out of range. */
static const char *const notice_generic_title = "Sending reputation notice";
static const char *const notice_generic_why =
    "There is a change in the sending reputation of your account. Check the "
    "status of your account for details.";
static const char *const notice_generic_actions[] = {
    "Check the status of your account and any open reviews.",
    "Contact support if anything in the status is unclear.",
};

/* ---------------------------------------------------------------- writer */

/* A writer into a fixed buffer: it keeps what fits, drops the rest, and
 * always leaves the buffer NUL-terminated. Spaces collapse: a space is
 * written only after a character that is not a space, so a template part
 * that renders empty leaves no double space behind. */
typedef struct notice_writer {
    char *buf;
    size_t size;
    size_t len;
    char last; /* the last character written or dropped, 0 at the start */
} notice_writer;

static void writer_char(notice_writer *w, char c) {
    if (c == ' ' && (w->last == 0 || w->last == ' '))
        return;
    w->last = c;
    if (w->len + 1 < w->size)
        w->buf[w->len++] = c;
}

static void writer_str(notice_writer *w, const char *s) {
    for (; s && *s; s++)
        writer_char(w, *s);
}

/* Ends the text: drops a trailing space and writes the NUL. */
static void writer_finish(notice_writer *w) {
    while (w->len > 0 && w->buf[w->len - 1] == ' ')
        w->len--;
    w->buf[w->len] = '\0';
}

/* ---------------------------------------------------------------- numbers */

/* Formats a fraction as a percentage without the sign, with the given
 * number of decimals and trailing zeros removed: 0.062 -> "6.2",
 * 0.05 -> "5". */
static void format_percent_at(char *out, size_t size, double v, int decimals) {
    snprintf(out, size, "%.*f", decimals, v * 100.0);
    char *dot = strchr(out, '.');
    if (!dot)
        return;
    char *end = out + strlen(out);
    while (end > dot + 1 && end[-1] == '0')
        *--end = '\0';
    if (end == dot + 1)
        *dot = '\0';
}

/* The number of decimals a percentage reads well with: one from 1% up,
 * two below, more when a small but non-zero value would show as "0". */
static int percent_decimals(double v) {
    double pct = fabs(v * 100.0);
    int decimals = pct >= 1.0 ? 1 : 2;
    double shown = 0.005; /* the smallest value that rounds to non-zero */
    while (decimals < 4 && pct > 0.0 && pct < shown) {
        decimals++;
        shown /= 10.0;
    }
    return decimals;
}

/* Formats the rate and the threshold it is held against. When the rate is
 * on the other side of the threshold but would print the same (4.996%
 * against 5%), the rate gets more decimals, so the text never reads
 * "5%, below the 5% threshold". */
static void format_rate_pair(char *rate_out, char *thr_out, size_t size,
                             double rate, double threshold) {
    format_percent_at(thr_out, size, threshold, percent_decimals(threshold));
    int decimals = percent_decimals(rate);
    format_percent_at(rate_out, size, rate, decimals);
    while (rate != threshold && strcmp(rate_out, thr_out) == 0 && decimals < 6)
        format_percent_at(rate_out, size, rate, ++decimals);
}

/* Writes the review end as "2026-01-09 14:00 UTC". Returns false when the
 * time cannot be shown (out of the range of the calendar functions). */
static bool format_date(char *out, size_t size, int64_t ms) {
    int64_t secs = ms / RP_MS_PER_SECOND;
    if (ms % RP_MS_PER_SECOND < 0)
        secs--; /* round towards the past for times before 1970 */
    time_t t = (time_t)secs;
    if ((int64_t)t != secs)
        return false;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return false;
    return strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm) > 0;
}

/* The sentence on the rate of a rate issue: its value against the
 * threshold of the stage, or that it is not known yet. */
static void format_rate_sentence(char *out, size_t size,
                                 const rp_notification *n,
                                 const notice_kind *k) {
    const char *which = (n->stage == RP_STAGE_SENDING_PAUSED ||
                         n->stage == RP_STAGE_PENDING_SENDING_PAUSE)
                            ? "pause"
                            : "review";
    bool has_threshold = n->has_threshold && isfinite(n->threshold);
    char rate[32], thr[32];
    if (n->has_rate && isfinite(n->rate)) {
        if (has_threshold) {
            format_rate_pair(rate, thr, sizeof rate, n->rate, n->threshold);
            snprintf(out, size, "Your %s is %s%%, %s the %s%% %s threshold.",
                     k->metric, rate,
                     n->rate >= n->threshold ? "at or above" : "below", thr,
                     which);
        } else {
            format_percent_at(rate, sizeof rate, n->rate,
                              percent_decimals(n->rate));
            snprintf(out, size, "Your %s is %s%%.", k->metric, rate);
        }
    } else if (has_threshold) {
        format_percent_at(thr, sizeof thr, n->threshold,
                          percent_decimals(n->threshold));
        snprintf(out, size,
                 "Your %s is not known yet, because too little mail has been "
                 "counted to measure it; the %s threshold is %s%%.",
                 k->metric, which, thr);
    } else {
        snprintf(out, size,
                 "Your %s is not known yet, because too little mail has been "
                 "counted to measure it.",
                 k->metric);
    }
}

/* ---------------------------------------------------------------- render */

/* Expands a why template into the writer. An unknown placeholder is
 * dropped, so a template error shows as a missing word, never as garbage. */
static void render_why(notice_writer *w, const char *tmpl,
                       const rp_notification *n, const notice_kind *k,
                       const char *date) {
    const char *p = tmpl;
    while (*p) {
        if (*p != '{') {
            writer_char(w, *p++);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) {
            writer_str(w, p);
            return;
        }
        size_t len = (size_t)(close - p - 1);
        const char *name = p + 1;
        if (len == 5 && memcmp(name, "cause", 5) == 0) {
            writer_str(w, k->cause);
        } else if (len == 7 && memcmp(name, "matters", 7) == 0) {
            writer_str(w, k->matters);
        } else if (len == 5 && memcmp(name, "topic", 5) == 0) {
            writer_str(w, k->topic);
        } else if (len == 4 && memcmp(name, "date", 4) == 0) {
            writer_str(w, date);
        } else if (len == 4 && memcmp(name, "rate", 4) == 0 && k->metric) {
            char sentence[256];
            format_rate_sentence(sentence, sizeof sentence, n, k);
            writer_str(w, sentence);
        }
        p = close + 1;
    }
}

/* Appends the actions of one slot, up to the limit of the stage. */
static void add_slot_actions(rp_notification *n, const notice_slot *slot,
                             const notice_kind *k) {
    const char *one = NULL;
    switch (slot->kind) {
    case SLOT_REMEDIES:
        for (size_t i = 0;
             i < slot->max && i < NOTICE_MAX_REMEDIES && k->remedies[i] &&
             n->n_actions < NOTICE_STAGE_MAX_ACTIONS;
             i++)
            n->actions[n->n_actions++] = k->remedies[i];
        return;
    case SLOT_EVIDENCE: one = k->evidence; break;
    case SLOT_KEEP: one = k->keep; break;
    case SLOT_FOLLOW_UP:
        one = k->metric   ? notice_follow_up_rate
              : k->manual ? notice_follow_up_manual
                          : notice_follow_up_report;
        break;
    case SLOT_TEXT: one = slot->text; break;
    case SLOT_END: return;
    }
    if (one && n->n_actions < NOTICE_STAGE_MAX_ACTIONS)
        n->actions[n->n_actions++] = one;
}

void rp_notice_render(rp_notification *n, char *buf, size_t size) {
    for (size_t i = 0; i < RP_NOTICE_MAX_ACTIONS; i++)
        n->actions[i] = NULL;
    n->n_actions = 0;

    /* With no room at all the why is a static empty string. */
    static const char empty[] = "";
    notice_writer w = {buf, size, 0, 0};
    n->why = (buf && size > 0) ? buf : empty;

    if ((unsigned)n->issue >= RP_ISSUE__COUNT ||
        (unsigned)n->stage >= RP_STAGE__COUNT) {
        n->title = notice_generic_title;
        if (buf && size > 0) {
            writer_str(&w, notice_generic_why);
            writer_finish(&w);
        }
        for (size_t i = 0; i < sizeof notice_generic_actions /
                                   sizeof notice_generic_actions[0];
             i++)
            n->actions[n->n_actions++] = notice_generic_actions[i];
        return;
    }

    const notice_kind *k = &notice_kinds[n->issue];
    const notice_stage *s = &notice_stages[n->stage];
    n->title = k->titles[n->stage];

    if (buf && size > 0) {
        char date[64];
        bool dated = n->has_review_end && s->why_dated &&
                     format_date(date, sizeof date, n->review_ends_at);
        render_why(&w, dated ? s->why_dated : s->why_open, n, k,
                   dated ? date : "");
        writer_finish(&w);
    }

    for (const notice_slot *slot = s->actions; slot->kind != SLOT_END; slot++)
        add_slot_actions(n, slot, k);
}
