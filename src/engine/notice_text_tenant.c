/*
 * notice_text_tenant.c - the texts of the notifications about one tenant
 * of an account (docs/rules.md section 10): one record per issue kind, one
 * per stage, in the same shape as notice_text.c's records for accounts.
 *
 * A tenant is one stream of an account's mail (a customer, a brand, a
 * product); its reviews and pauses stop that stream alone. The account's
 * texts would mislead its owner here: "sending from your account is
 * paused" is false when only one tenant is, and the owner would go looking
 * for the cause across all of their mail. So a tenant's texts are written
 * for that stream: every "why" names the tenant (rendered from {tenant}),
 * says that the rest of the account's mail is not affected, and the
 * remedies point at the stream itself (the list that tenant mails, its
 * sign-up path, its templates and credentials), in words of our own rather
 * than the account's with "tenant" pasted in.
 *
 * The tenant's name is the only thing from the record that a text quotes;
 * titles stay static, so a title says "a tenant" and the why says which.
 * A kind's `matters` is left NULL where the account's sentence is just as
 * true for one stream; notice.c falls back to the account's then.
 * Everything here is plain ASCII, as in notice_text.c; the unit tests in
 * test_notice_tenant.c hold these records to their promises.
 */
#include "engine/notice_text.h"

/* ---------------------------------------------------------------- kinds */

/* The titles of a tenant's notices: the kind's short name and the stage,
 * saying that it is about a tenant, never that the account is paused. */
#define TENANT_TITLES(name)                                                    \
    .titles = {name " review started for a tenant",                            \
               name " review extended for a tenant",                           \
               name " review: decision pending for a tenant",                  \
               name ": a tenant's sending paused",                             \
               name ": a tenant's sending pause pending",                      \
               name ": a tenant's sending resumed",                            \
               name " review resolved for a tenant"}

/* Unwanted mail flagged by an outside party: the same list hygiene for the
 * tenant's list, as for accounts (notice_text.c). */
#define TENANT_UNWANTED_REMEDIES                                               \
    "Check how every address on this tenant's list was collected, and stop "   \
    "mailing those without clear consent.",                                    \
        "Remove addresses that bounce or have not engaged in months from "     \
        "this tenant's list.",                                                 \
        "Compare this tenant's content and frequency with what people signed " \
        "up for, and close any gap."
#define TENANT_UNWANTED_EVIDENCE                                               \
    "Describe how this tenant's addresses are collected and what you "         \
    "changed in its acquisition, content or frequency."

/* Complaints sent to us or relayed by a provider: consent and a clear
 * sender identity, for the tenant's stream. */
#define TENANT_CONSENT_REMEDIES                                                \
    "Use confirmed (double) opt-in for this tenant, so that everyone on its "  \
    "list really asked for its mail.",                                         \
        "Show clearly who sends this tenant's mail and why people get it, "    \
        "with a familiar sender name and a line on how they signed up.",       \
        "Make the unsubscribe link in this tenant's mail easy to find and "    \
        "honour every request at once.",                                       \
        "Remove addresses that have not engaged in months from this tenant's " \
        "list."
#define TENANT_CONSENT_KEEP                                                    \
    "Keep this tenant's sender identity clear and remove people who stop "     \
    "engaging with its mail."

const notice_kind rp_notice_tenant_kinds[RP_ISSUE__COUNT] = {
    [RP_ISSUE_BOUNCE_RATE] =
        {
            TENANT_TITLES("Bounce rate"),
            .topic = "this tenant's bounce rate",
            .metric = "bounce rate",
            .cause = "Too many of the messages you send for this tenant go "
                     "to addresses that do not exist or will never accept "
                     "mail (hard bounces).",
            .remedies =
                {
                    "Find the list this tenant mails, remove every address "
                    "that hard-bounced from it, and make the tenant's "
                    "sending skip those addresses from now on.",
                    "Check how addresses reach this tenant's list (its "
                    "sign-up forms, imports and integrations): a recent "
                    "import or a new form is the usual source.",
                    "Never let this tenant mail a bought, rented or scraped "
                    "list.",
                    "Validate addresses where this tenant's sign-ups come "
                    "in: check the syntax, catch typos and send a "
                    "confirmation message.",
                },
            .evidence = "Say which of this tenant's lists or sign-up paths "
                        "the bounced addresses came from, and when you "
                        "removed them.",
            .keep = "Remove hard-bounced addresses from this tenant's list "
                    "as bounces arrive, and validate its new sign-ups.",
        },
    [RP_ISSUE_COMPLAINT_RATE] =
        {
            TENANT_TITLES("Complaint rate"),
            .topic = "this tenant's complaint rate",
            .metric = "complaint rate",
            .cause = "Too many recipients of the mail you send for this "
                     "tenant mark it as spam.",
            .remedies =
                {
                    "Check how the people on this tenant's list signed up, "
                    "and stop mailing anyone who did not ask for its mail.",
                    "Put a clear unsubscribe link in every message of this "
                    "tenant and honour every request at once.",
                    "Make every message of this tenant show which brand or "
                    "service it comes from, so that recipients recognise it.",
                    "Send this tenant's mail less often, and stop mailing "
                    "people who have not opened or clicked in months.",
                },
            .evidence = "Say how the people who complained had signed up for "
                        "this tenant's mail and what you changed in its "
                        "content or frequency.",
            .keep = "Keep unsubscribing from this tenant's mail easy, and "
                    "match its frequency to what people signed up for.",
        },
    [RP_ISSUE_ANTI_SPAM_ORGANIZATION] =
        {
            TENANT_TITLES("Anti-spam report"),
            .topic = "the anti-spam report on this tenant's mail",
            .cause = "An independent anti-abuse group flagged the mail you "
                     "send for this tenant as unwanted, typically because of "
                     "complaints, invalid addresses, trap hits or content.",
            .remedies =
                {
                    TENANT_UNWANTED_REMEDIES,
                    "Make unsubscribing from this tenant's mail easy and "
                    "honour it at once.",
                },
            .evidence = TENANT_UNWANTED_EVIDENCE,
            .keep = "Review this tenant's list sources and engagement on a "
                    "schedule, not only when a problem is flagged.",
        },
    [RP_ISSUE_LISTBOMBING] =
        {
            TENANT_TITLES("Listbombing"),
            .topic = "the abuse of this tenant's sign-up forms",
            .cause = "The sign-up forms that feed this tenant's list are "
                     "being used to subscribe other people's addresses in "
                     "bulk, flooding their inboxes.",
            .remedies =
                {
                    "Find every form and integration that adds addresses to "
                    "this tenant's list, and add a CAPTCHA to each.",
                    "Switch this tenant's sign-ups to confirmed (double) "
                    "opt-in: add an address only after its owner clicks a "
                    "confirmation link.",
                    "Rate-limit those forms, per IP address and per "
                    "submitted address.",
                    "Run a permission pass on this tenant's recent sign-ups: "
                    "mail them once asking them to confirm, and keep only "
                    "those who do.",
                },
            .evidence = "Say when the bulk sign-ups to this tenant's list "
                        "started and which protections you added to its "
                        "forms.",
            .keep = "Keep CAPTCHA, confirmed opt-in and rate limits on every "
                    "form of this tenant, including the ones added later.",
        },
    [RP_ISSUE_SPAMTRAP] =
        {
            TENANT_TITLES("Spamtrap hits"),
            .topic = "the spamtrap hits in this tenant's mail",
            .cause = "Mail you send for this tenant reached spamtraps: "
                     "addresses no person uses, kept only to catch senders "
                     "whose lists are not well managed.",
            .remedies =
                {
                    "Find where this tenant's addresses come from, and stop "
                    "mailing any bought, rented or scraped list: that is "
                    "where most traps come from.",
                    "Use confirmed (double) opt-in for this tenant's "
                    "sign-ups, so that only addresses whose owners confirmed "
                    "join its list.",
                    "Remove addresses with no opens or clicks in months from "
                    "this tenant's list: old abandoned addresses are "
                    "recycled as traps.",
                    "Check this tenant's new addresses for typo domains, "
                    "such as a misspelled provider name, before you mail "
                    "them.",
                },
            .evidence = "Describe where this tenant's addresses come from "
                        "and which unengaged addresses you removed, and when.",
            .keep = "Keep confirmed opt-in for this tenant, and prune its "
                    "addresses with no engagement in months on a schedule.",
        },
    [RP_ISSUE_DOMAIN_BLOCKLIST] =
        {
            TENANT_TITLES("Blocklisted domain"),
            .topic = "the blocklisted domain in this tenant's mail",
            .cause = "The messages you send for this tenant reference a "
                     "domain (in a link, an image, tracking or the sender "
                     "address) that is on a public domain blocklist for "
                     "abuse.",
            .remedies =
                {
                    "List every domain this tenant's mail references: links, "
                    "images, tracking and link shorteners, and its sender "
                    "domains.",
                    "Check each of those domains against a public domain "
                    "blocklist.",
                    "Remove or replace every listed domain in this tenant's "
                    "templates, such as a shared link shortener or image "
                    "host.",
                    "If a listed domain belongs to this tenant and is clean, "
                    "fix what got it listed and request delisting from the "
                    "blocklist.",
                },
            .evidence = "List the domains of this tenant's mail you checked, "
                        "the ones you removed or replaced, and any delisting "
                        "you requested.",
            .keep = "Check every new domain against a public domain "
                    "blocklist before it goes into this tenant's mail.",
        },
    [RP_ISSUE_MAILBOX_PROVIDER] =
        {
            TENANT_TITLES("Mailbox provider report"),
            .topic = "the mailbox provider report on this tenant's mail",
            .cause = "A large mailbox provider told us that the mail you "
                     "send for this tenant is unwanted or harmful to its "
                     "users.",
            .remedies =
                {
                    TENANT_UNWANTED_REMEDIES,
                    "Check this tenant's messages for links or attachments "
                    "that could look harmful, and remove them.",
                },
            .evidence = TENANT_UNWANTED_EVIDENCE,
            .keep = "Review this tenant's list sources, content and "
                    "frequency on a schedule, not only when a problem is "
                    "flagged.",
        },
    [RP_ISSUE_DIRECT_FEEDBACK] =
        {
            TENANT_TITLES("Direct complaints"),
            .topic = "the complaints sent to us about this tenant's mail",
            .cause = "Recipients of the mail you send for this tenant "
                     "complained to us directly: they did not sign up, did "
                     "not expect it, got too much or did not know the "
                     "sender.",
            .remedies =
                {
                    TENANT_CONSENT_REMEDIES,
                },
            .evidence = "Say how the people who complained had signed up for "
                        "this tenant's mail and what you changed.",
            .keep = TENANT_CONSENT_KEEP,
        },
    [RP_ISSUE_RECIPIENT_FEEDBACK] =
        {
            TENANT_TITLES("Recipient feedback"),
            .topic = "the complaints a mailbox provider relayed about this "
                     "tenant's mail",
            .cause = "A mailbox provider told us that many of its users mark "
                     "the mail you send for this tenant as unwanted, beyond "
                     "the complaints we see ourselves.",
            .remedies =
                {
                    TENANT_CONSENT_REMEDIES,
                },
            .evidence = "Say how this tenant's recipients signed up and what "
                        "you changed in consent, identity or frequency.",
            .keep = TENANT_CONSENT_KEEP,
        },
    [RP_ISSUE_INTERNAL_REVIEW] =
        {
            TENANT_TITLES("Sending practices"),
            .topic = "this tenant's sending",
            .manual = true,
            .cause = "Our own review found signs of unwanted mail in what "
                     "you send for this tenant, such as content patterns, a "
                     "hidden sender identity or poorly reputed domains.",
            .remedies =
                {
                    "Read the details that come with your case and answer "
                    "each point for this tenant's mail.",
                    "Make every message of this tenant show clearly who "
                    "sends it, with a sender name and domain that match its "
                    "brand.",
                    "Check that the domains in this tenant's mail have a "
                    "good reputation, and replace those that do not.",
                    "Explain what this tenant sends, to whom, and how its "
                    "recipients signed up.",
                },
            .evidence = "Answer each point in your case and describe what "
                        "this tenant sends and how its recipients signed up.",
            .keep = "Keep this tenant's sender identity, branding and "
                    "domains consistent in every message.",
        },
    [RP_ISSUE_RELATED_ACCOUNT] =
        {
            TENANT_TITLES("Related account"),
            .topic = "this tenant's link to a paused account",
            .manual = true,
            .cause = "An account tied to the mail you send for this tenant "
                     "was paused for serious sending problems.",
            .matters = "A stream tied to a paused account often shares its "
                       "lists, content or practices, so the same problem may "
                       "be in this tenant's mail.",
            .remedies =
                {
                    "Find out what ties this tenant's mail to the paused "
                    "account: shared lists, content, domains or the same "
                    "customer.",
                    "Fix what this tenant shares with that account; the "
                    "paused account's own notices say what its problem is.",
                    "Tell us how this tenant is related to the paused "
                    "account and how its mail differs.",
                },
            .evidence = "Say how this tenant is related to the paused "
                        "account and what you changed in its mail.",
            .keep = "Hold the mail you send for every tenant to the same "
                    "standard as the rest of your sending.",
        },
    [RP_ISSUE_VULNERABLE_SITE] =
        {
            TENANT_TITLES("Abused site feature"),
            .topic = "the abused feature behind this tenant's mail",
            .manual = true,
            .cause = "A feature of the site or app that sends this tenant's "
                     "mail, such as a contact form or an invite or share "
                     "feature, is abused by others to send mail.",
            .remedies =
                {
                    "Find the feature that sends this tenant's mail, and add "
                    "a CAPTCHA to it.",
                    "Require people to log in before that feature can send "
                    "mail.",
                    "Rate-limit the feature, per user and per IP address.",
                    "Stop putting free text typed by visitors into this "
                    "tenant's mail; send fixed templates instead.",
                },
            .evidence = "Name the feature behind this tenant's mail that was "
                        "abused and the protections you added to it.",
            .keep = "Protect every new feature that sends mail for this "
                    "tenant with a CAPTCHA, a login and rate limits.",
        },
    [RP_ISSUE_COMPROMISED_CREDENTIALS] =
        {
            TENANT_TITLES("Compromised credentials"),
            .topic = "the possible misuse of the credentials behind this "
                     "tenant's mail",
            .manual = true,
            .cause = "Mail went out for this tenant that you most likely did "
                     "not send, which points to a leaked API key or SMTP "
                     "password of its sending.",
            .remedies =
                {
                    "Rotate every API key and SMTP password that can send "
                    "for this tenant now, and update the apps that use them.",
                    "Remove every user and key you do not recognise, for "
                    "this tenant and for the rest of your account.",
                    "Move to short-lived credentials where you can, with "
                    "separate ones per tenant so that a leak stays "
                    "contained.",
                    "Never store secrets in public places such as code "
                    "repositories, client-side code or shared documents.",
                },
            .evidence = "Say which of this tenant's credentials you rotated "
                        "and removed, and where the leak most likely "
                        "happened.",
            .keep = "Rotate this tenant's credentials on a schedule and keep "
                    "secrets out of code and shared places.",
        },
    [RP_ISSUE_OTHER] =
        {
            TENANT_TITLES("Sending issue"),
            .topic = "the sending problem found in this tenant's mail",
            .manual = true,
            .cause = "A review of the mail you send for this tenant found a "
                     "sending problem that fits none of the usual "
                     "categories.",
            .remedies =
                {
                    "Read the details that come with your case.",
                    "Fix the problem they describe in this tenant's sending, "
                    "and note what you changed and when.",
                    "Check your other tenants and the rest of your sending "
                    "for the same problem, and fix it there too.",
                },
            .evidence = "Answer the points in your case and say what you "
                        "changed in this tenant's sending, and when.",
            .keep = "Check this tenant's sending against the points of your "
                    "case from time to time.",
        },
};

/* ---------------------------------------------------------------- stages */

/* Every why names the tenant and says that its stream alone is affected.
 * The pause texts say what is paused (the tenant's mail) and what is not
 * (the rest of the account's). */
const notice_stage rp_notice_tenant_stages[RP_STAGE__COUNT] = {
    [RP_STAGE_REVIEW_STARTED] =
        {
            .why_dated = "The mail you send for your tenant {tenant} is under "
                         "review; only that tenant's mail is concerned, and "
                         "the rest of your account's mail goes on as before. "
                         "{cause} {rate} {matters} The tenant's mail can keep "
                         "going; the review ends {date}, and its sending may "
                         "be paused if the problem is still there then.",
            .why_open = "The mail you send for your tenant {tenant} is under "
                        "review; only that tenant's mail is concerned, and "
                        "the rest of your account's mail goes on as before. "
                        "{cause} {rate} {matters} The tenant's mail can keep "
                        "going while a person on our team looks into it and "
                        "decides how the review ends.",
            .actions = {{SLOT_REMEDIES, 4, NULL}, {SLOT_FOLLOW_UP, 1, NULL}},
        },
    [RP_STAGE_REVIEW_EXTENDED] =
        {
            .why_dated = "This concerns only the mail you send for your "
                         "tenant {tenant}; the rest of your account's mail "
                         "goes on as before. The review of {topic} now runs "
                         "until {date}, to give your changes time to show. "
                         "{cause} {rate}",
            .why_open = "This concerns only the mail you send for your tenant "
                        "{tenant}; the rest of your account's mail goes on "
                        "as before. The review of {topic} goes on, to give "
                        "your changes time to show. {cause} {rate}",
            .actions = {{SLOT_REMEDIES, 4, NULL}, {SLOT_FOLLOW_UP, 1, NULL}},
        },
    [RP_STAGE_DECISION_PENDING] =
        {
            .why_dated = NULL,
            .why_open = "This concerns only the mail you send for your tenant "
                        "{tenant}; the rest of your account's mail goes on "
                        "as before. {cause} {rate} The review has run its "
                        "full course without the problem clearing, so a "
                        "person on our team will now decide whether this "
                        "tenant's mail keeps going.",
            .actions =
                {
                    {SLOT_TEXT, 1,
                     "Send the person reviewing this tenant what caused the "
                     "problem in its mail and what you changed, with dates."},
                    {SLOT_EVIDENCE, 1, NULL},
                    {SLOT_REMEDIES, 3, NULL},
                },
        },
    [RP_STAGE_SENDING_PAUSED] =
        {
            .why_dated = NULL,
            .why_open = "Sending for your tenant {tenant} is paused: none of "
                        "its mail leaves until the pause is lifted. Only this "
                        "tenant is paused; the rest of your account's mail "
                        "goes on. {cause} {rate} Once you have fixed the "
                        "cause, ask for a review of this tenant's pause and "
                        "tell us what you changed.",
            .actions =
                {
                    {SLOT_REMEDIES, 4, NULL},
                    {SLOT_TEXT, 1,
                     "When the cause is fixed, ask for a review of this "
                     "tenant's pause and say what you changed and when; fix "
                     "it fully first, as a problem that returns is paused "
                     "sooner."},
                    {SLOT_TEXT, 1,
                     "Do not move this tenant's mail to another tenant or "
                     "send it without one while it is paused: it would then "
                     "count against that stream or your whole account."},
                },
        },
    [RP_STAGE_PENDING_SENDING_PAUSE] =
        {
            .why_dated = NULL,
            .why_open = "This concerns only the mail you send for your tenant "
                        "{tenant}; the rest of your account's mail goes on "
                        "as before. {cause} {rate} The review ended with the "
                        "problem still there. Your account gets an extra "
                        "check, so a person on our team will decide whether "
                        "to pause this tenant's sending; until then its mail "
                        "can still go.",
            .actions =
                {
                    {SLOT_TEXT, 1,
                     "Before a person decides, send them what caused the "
                     "problem in this tenant's mail and what you have "
                     "changed, with dates."},
                    {SLOT_EVIDENCE, 1, NULL},
                    {SLOT_REMEDIES, 3, NULL},
                },
        },
    [RP_STAGE_SENDING_RESUMED] =
        {
            .why_dated = "Sending for your tenant {tenant} has resumed, and a "
                         "new review of {topic} runs until {date}. {rate} If "
                         "the same problem comes back, this tenant's sending "
                         "will be paused sooner than before; the rest of your "
                         "account's mail is not concerned.",
            .why_open = "Sending for your tenant {tenant} has resumed, and a "
                        "new review of {topic} has started. {rate} If the "
                        "same problem comes back, this tenant's sending will "
                        "be paused sooner than before; the rest of your "
                        "account's mail is not concerned.",
            .actions =
                {
                    {SLOT_TEXT, 1,
                     "Keep every change you made to this tenant's sending in "
                     "place."},
                    {SLOT_KEEP, 1, NULL},
                    {SLOT_TEXT, 1,
                     "Watch this tenant's status during the new review: if "
                     "the problem comes back, its sending is paused again, "
                     "sooner."},
                },
        },
    [RP_STAGE_RESOLVED] =
        {
            .why_dated = NULL,
            .why_open = "Your tenant {tenant} is clear: the review of {topic} "
                        "has ended, and this issue no longer counts against "
                        "that tenant. {rate} The review concerned that "
                        "tenant's mail alone, not the rest of your account's. "
                        "Thank you for the work you put into fixing it.",
            .actions =
                {
                    {SLOT_KEEP, 1, NULL},
                    {SLOT_TEXT, 1,
                     "Keep the changes you made to this tenant's sending: if "
                     "the problem returns, a new review of the tenant "
                     "starts."},
                },
        },
};

/* ---------------------------------------------------------------- follow-up */

const char *const rp_notice_tenant_follow_up_rate =
    "Once your changes are in place, submit a remediation for this tenant "
    "describing them: from then on only the tenant's mail sent after it "
    "counts toward its rate.";
const char *const rp_notice_tenant_follow_up_report =
    "Once your changes are in place, submit a remediation for this tenant "
    "describing them: its review then weighs only reports received after "
    "it.";
const char *const rp_notice_tenant_follow_up_manual =
    "Reply to your case with what you found in this tenant's mail and what "
    "you changed; a person takes it into account when deciding.";
