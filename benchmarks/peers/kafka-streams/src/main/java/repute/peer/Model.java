package repute.peer;

import java.util.List;

/** Ordinals of the contract's enums (schemas/ReputationEvent.avsc), as ints. */
final class Model {
    static final List<String> ISSUE_KINDS = List.of("BOUNCE_RATE", "COMPLAINT_RATE",
            "ANTI_SPAM_ORGANIZATION", "LISTBOMBING", "SPAMTRAP", "DOMAIN_BLOCKLIST", "MAILBOX_PROVIDER",
            "DIRECT_FEEDBACK", "RECIPIENT_FEEDBACK", "INTERNAL_REVIEW", "RELATED_ACCOUNT",
            "VULNERABLE_SITE", "COMPROMISED_CREDENTIALS", "OTHER");
    static final int ISSUES = 14;
    static final int RELATED_ACCOUNT = 10;

    // IssueStatus
    static final int HEALTHY = 0, ALMOST_HEALED = 1, UNDER_REVIEW = 2, SENDING_PAUSE = 3,
            PENDING_SENDING_PAUSE = 4;
    // AccountStatus
    static final int A_HEALTHY = 0, A_UNDER_REVIEW = 1, A_PENDING_DECISION = 2, A_SENDING_PAUSED = 3,
            A_PENDING_SENDING_PAUSE = 4;
    // NotificationStage
    static final int REVIEW_STARTED = 0, REVIEW_EXTENDED = 1, DECISION_PENDING = 2, STAGE_SENDING_PAUSED = 3,
            STAGE_PENDING_SENDING_PAUSE = 4, SENDING_RESUMED = 5, RESOLVED = 6;
    // ActionType
    static final int REMEDIATION_SUBMITTED = 0, RESUME_SENDING = 1, PAUSE_SENDING = 2, EXTEND_REVIEW = 3,
            END_REVIEW = 4, SET_MANUAL_REVIEW = 5, CLEAR_MANUAL_REVIEW = 6, LINK_ACCOUNT = 7, UNLINK_ACCOUNT = 8;

    /** "No time" (a review with no end, an issue with no floor). */
    static final long NONE = Long.MIN_VALUE;

    static int kind(String name) {
        int k = ISSUE_KINDS.indexOf(name);
        if (k < 0) throw new IllegalArgumentException("unknown issue kind " + name);
        return k;
    }

    private Model() {}
}
