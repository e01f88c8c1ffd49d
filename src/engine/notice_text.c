/*
 * notice_text.c - the texts that tell an account's owner what happened and
 * what to do about it: one record per issue kind, one per stage (the
 * design of the records is in notice_text.h).
 *
 * The texts are written for the owner of the account, in plain words. They
 * never name who reported the account, which trap addresses were hit or
 * who complained: those stay confidential by design, and the unit tests
 * check that no text names an organization. All texts are plain ASCII, so
 * a truncated text never ends in half a character.
 *
 * Titles are joined from the kind's name and the stage's wording at
 * compile time, and advice that two kinds give in the same words is
 * written once, so that no two copies of one sentence can drift apart.
 */
#include "engine/notice_text.h"

/* ---------------------------------------------------------------- kinds */

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

const notice_kind rp_notice_kinds[RP_ISSUE__COUNT] = {
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

const notice_stage rp_notice_stages[RP_STAGE__COUNT] = {
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

/* ---------------------------------------------------------------- follow-up */

const char *const rp_notice_follow_up_rate =
    "Once your changes are in place, submit a remediation describing them: "
    "from then on only mail sent after it counts toward the rate.";
const char *const rp_notice_follow_up_report =
    "Once your changes are in place, submit a remediation describing them: "
    "the review then weighs only reports received after it.";
const char *const rp_notice_follow_up_manual =
    "Reply to your case with what you found and what you changed; a person "
    "takes it into account when deciding.";
