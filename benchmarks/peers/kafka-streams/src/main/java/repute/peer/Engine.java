package repute.peer;

import static repute.peer.Model.*;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/**
 * The rules of docs/rules.md sections 3 to 7 on one account's state at one task's clock. No I/O: the
 * processor loads and stores the state and routes what this publishes.
 */
final class Engine {
    static final long HOUR = Settings.HOUR;

    interface Out {
        /** An output event (kind 0 STATUS_CHANGE, 1 NOTIFICATION) for `account`, Avro-encoded. */
        void event(String account, byte[] value);
        /** A RELATED_ACCOUNT report for `account`, Avro-encoded. */
        void report(String account, byte[] value);
        /** `account` has an issue whose review ends at `at`. */
        void reviewEnd(long at, String account);
    }

    static final class Metric {
        boolean known;
        double rate;
        long count, volume, windowStart, windowEnd;
    }

    final Settings cfg;
    final Codec codec;
    final Out out;
    /** The task's clock: the largest event time seen, or the review end being processed. */
    long clock = Long.MIN_VALUE;

    private final AccountState.Issue[] before = new AccountState.Issue[ISSUES];
    private final int[] stage = new int[ISSUES];
    private int statusBefore;
    private final Metric[] m = {new Metric(), new Metric()};

    long duplicates, actionsNotApplied;

    Engine(Settings cfg, Codec codec, Out out) {
        this.cfg = cfg;
        this.codec = codec;
        this.out = out;
        for (int k = 0; k < ISSUES; k++) before[k] = new AccountState.Issue();
    }

    // ------------------------------------------------------------ buckets and windows

    long oldestReachableHour() {
        long end = (Math.floorDiv(clock, HOUR) + 1) * HOUR;
        return ceilDiv(end - cfg.windowMaxSpan, HOUR);
    }

    static long ceilDiv(long a, long b) { return -Math.floorDiv(-a, b); }

    void prune(AccountState a) {
        if (a.nBuckets > 0 && a.hour[0] < oldestReachableHour()) a.prune(oldestReachableHour());
    }

    /** The representative window of docs/rules.md section 3 for rate `w` (0 bounce, 1 complaint). */
    void window(AccountState a, int w, Metric r) {
        long floor = a.issues[w].floor;
        long cb = Math.floorDiv(clock, HOUR);
        long end = (cb + 1) * HOUR;
        long bLo = ceilDiv(end - cfg.windowMaxSpan, HOUR);
        if (floor != NONE && ceilDiv(floor, HOUR) > bLo) bLo = ceilDiv(floor, HOUR);
        long bSpan = Math.min(cb + 1 - ceilDiv(cfg.windowMinSpan, HOUR), cb);
        long[] vols = w == 0 ? a.sends : a.deliveries;
        long[] cnts = w == 0 ? a.hard : a.complaints;
        long totVol = w == 0 ? a.totSends : a.totDeliveries;
        long vol = 0, cnt = 0, stop;
        if (cfg.windowMinVolume > 0 && totVol < cfg.windowMinVolume && floor == NONE
                && (a.nBuckets == 0 || a.hour[a.nBuckets - 1] <= cb)) {
            // Every bucket is within reach (pruned) and together they stay under the minimum
            // volume: the window reaches back to its limit and holds them all.
            vol = totVol;
            cnt = w == 0 ? a.totHard : a.totComplaints;
            stop = bLo;
        } else {
            boolean reached = cfg.windowMinVolume <= 0;
            stop = bLo;
            if (reached) stop = Math.max(bSpan, bLo);
            for (int i = a.nBuckets - 1; i >= 0; i--) {
                long h = a.hour[i];
                if (h > cb) continue;
                if (h < stop) break;
                vol += vols[i];
                cnt += cnts[i];
                if (!reached && vol >= cfg.windowMinVolume) {
                    reached = true;
                    stop = Math.max(Math.min(bSpan, h), bLo);
                }
            }
        }
        r.volume = vol;
        r.count = cnt;
        r.windowEnd = end;
        r.windowStart = stop > cb ? end : stop * HOUR;
        r.known = vol > 0 && vol >= cfg.rateMinVolume;
        r.rate = r.known ? (double) cnt / (double) vol : 0.0;
    }

    private void rates(AccountState a) {
        window(a, 0, m[0]);
        window(a, 1, m[1]);
    }

    // ------------------------------------------------------------ status

    int accountStatus(AccountState a) {
        boolean paused = false, pending = false, decision = false, review = false;
        for (int k = 0; k < ISSUES; k++) {
            AccountState.Issue is = a.issues[k];
            if (is.status == SENDING_PAUSE) paused = true;
            else if (is.status == PENDING_SENDING_PAUSE) pending = true;
            else if (is.inReview()) {
                review = true;
                if (cfg.manual(k) || is.exhausted) decision = true;
            }
        }
        if (paused) return A_SENDING_PAUSED;
        if (pending) return A_PENDING_SENDING_PAUSE;
        if (decision) return A_PENDING_DECISION;
        if (review) return A_UNDER_REVIEW;
        return A_HEALTHY;
    }

    // ------------------------------------------------------------ transitions

    private void setReviewEnd(String id, AccountState.Issue is, long end) {
        is.reviewEnd = end;
        if (end != NONE) out.reviewEnd(end, id);
    }

    private void startReview(String id, AccountState a, int k, boolean pauseNow) {
        AccountState.Issue is = a.issues[k];
        is.since = clock;
        is.extensions = 0;
        is.exhausted = false;
        is.newIncidents = 0;
        if (pauseNow) {
            is.status = SENDING_PAUSE;
            is.reviewEnd = NONE;
            stage[k] = STAGE_SENDING_PAUSED;
            return;
        }
        is.status = UNDER_REVIEW;
        stage[k] = REVIEW_STARTED;
        setReviewEnd(id, is, cfg.manual(k) ? NONE : clock + cfg.reviewPeriod);
    }

    private void toPause(AccountState a, int k, boolean manualOk) {
        AccountState.Issue is = a.issues[k];
        boolean pending = manualOk && a.manualReview;
        is.status = pending ? PENDING_SENDING_PAUSE : SENDING_PAUSE;
        is.reviewEnd = NONE;
        is.exhausted = false;
        stage[k] = pending ? STAGE_PENDING_SENDING_PAUSE : STAGE_SENDING_PAUSED;
    }

    private void toHealthy(AccountState a, int k) {
        AccountState.Issue is = a.issues[k];
        long floor = is.floor; // the floor outlives the review
        is.copyFrom(new AccountState.Issue());
        is.floor = floor;
        stage[k] = RESOLVED;
    }

    private void endOfReview(String id, AccountState a, int k) {
        AccountState.Issue is = a.issues[k];
        if (k >= 2) {
            if (is.newIncidents >= cfg.reportThreshold[k]) toPause(a, k, true);
            else toHealthy(a, k);
            return;
        }
        if (is.status == ALMOST_HEALED) {
            toHealthy(a, k);
            return;
        }
        if (m[k].known && m[k].rate >= cfg.pauseRate(k)) {
            toPause(a, k, true);
            return;
        }
        if (is.extensions < cfg.reviewMaxExtensions) {
            is.extensions++;
            stage[k] = REVIEW_EXTENDED;
            setReviewEnd(id, is, is.reviewEnd + cfg.reviewPeriod);
            return;
        }
        is.reviewEnd = NONE;
        is.exhausted = true;
        stage[k] = DECISION_PENDING;
    }

    private void evaluateRates(String id, AccountState a) {
        for (int k = 0; k < 2; k++) {
            Metric r = m[k];
            if (!r.known) continue;
            AccountState.Issue is = a.issues[k];
            boolean over = r.rate >= cfg.reviewRate(k);
            if (is.status == HEALTHY) {
                if (over) startReview(id, a, k, cfg.pauseImmediate && r.rate >= cfg.pauseRate(k));
            } else if (is.inReview()) {
                is.status = over ? UNDER_REVIEW : ALMOST_HEALED;
            }
        }
    }

    // ------------------------------------------------------------ entry points

    /** Applies one decoded record at the clock (the processor has advanced it and checked the
     *  dedupe store). Returns whether the state changed in a way worth storing (always, here). */
    void apply(AccountState a, Codec.Input in) {
        String id = in.accountId;
        prune(a);
        begin(a);
        switch (in.type) {
            case Codec.T_REPORT -> applyReport(id, a, in);
            case Codec.T_ACTION -> applyAction(id, a, in);
            default -> count(a, in);
        }
        rates(a);
        evaluateRates(id, a);
        publish(id, a);
    }

    /** The review ends of `a` at instant `at` (== clock). Returns false when none was due (a
     *  stale index entry: the review moved or ended since). */
    boolean reviewEnds(String id, AccountState a, long at) {
        boolean any = false;
        for (int k = 0; k < ISSUES; k++)
            if (a.issues[k].inReview() && a.issues[k].reviewEnd == at) any = true;
        if (!any) return false;
        prune(a);
        begin(a);
        rates(a);
        for (int k = 0; k < ISSUES; k++) {
            AccountState.Issue is = a.issues[k];
            if (is.inReview() && is.reviewEnd == at) endOfReview(id, a, k);
        }
        publish(id, a);
        return true;
    }

    private void count(AccountState a, Codec.Input in) {
        if (!(in.send | in.hardBounce | in.delivery | in.complaint)) return;
        long t = in.hasSent ? in.sent : in.eventTime;
        long lo = oldestReachableHour() * HOUR;
        if (t < lo) t = lo;
        if (t > clock) t = clock;
        int b = a.bucket((int) Math.floorDiv(t, HOUR));
        if (in.send) { a.sends[b]++; a.totSends++; }
        if (in.hardBounce) { a.hard[b]++; a.totHard++; }
        if (in.delivery) { a.deliveries[b]++; a.totDeliveries++; }
        if (in.complaint) { a.complaints[b]++; a.totComplaints++; }
    }

    private void applyReport(String id, AccountState a, Codec.Input in) {
        int k = in.kind;
        long after = clock - cfg.reportWindow;
        a.pruneReports(after);
        if (in.eventTime > after) a.addReport(in.eventTime, k, in.incidents);
        AccountState.Issue is = a.issues[k];
        if (is.status != HEALTHY) {
            is.newIncidents += in.incidents;
            return;
        }
        long n = 0;
        for (int i = 0; i < a.nReports; i++)
            if (a.repKind[i] == k && a.repTime[i] > after) n += a.repIncidents[i];
        if (n >= cfg.reportThreshold[k]) startReview(id, a, k, false);
    }

    private void applyAction(String id, AccountState a, Codec.Input in) {
        long eff = in.hasEffective ? in.effective : in.eventTime;
        boolean applied = false;
        switch (in.action) {
            case SET_MANUAL_REVIEW, CLEAR_MANUAL_REVIEW -> {
                a.manualReview = in.action == SET_MANUAL_REVIEW;
                applied = true;
            }
            case LINK_ACCOUNT, UNLINK_ACCOUNT -> {
                String other = in.related;
                if (other == null || other.isEmpty() || other.equals(id)) break;
                if (in.action == UNLINK_ACCOUNT) {
                    if (a.links.contains(other)) {
                        List<String> l = new ArrayList<>(a.links);
                        l.remove(other);
                        a.links = l;
                        applied = true;
                    }
                } else if (!a.links.contains(other)) {
                    List<String> l = new ArrayList<>(a.links);
                    l.add(other);
                    a.links = l;
                    applied = true;
                }
            }
            default -> {
                for (int k = 0; k < ISSUES; k++) {
                    if (in.issue >= 0 && in.issue != k) continue;
                    applied |= actionOnIssue(id, a, in.action, eff, k);
                }
            }
        }
        if (!applied) actionsNotApplied++;
    }

    private boolean actionOnIssue(String id, AccountState a, int action, long eff, int k) {
        AccountState.Issue is = a.issues[k];
        boolean rate = k < 2;
        boolean paused = is.status == SENDING_PAUSE || is.status == PENDING_SENDING_PAUSE;
        switch (action) {
            case REMEDIATION_SUBMITTED -> {
                if (is.status == HEALTHY) return false;
                if (rate) {
                    is.floor = eff;
                    return true;
                }
                is.newIncidents = 0;
                if (is.inReview() && is.reviewEnd != NONE) {
                    long end = eff + cfg.reviewPeriod;
                    if (end > is.reviewEnd) {
                        stage[k] = REVIEW_EXTENDED;
                        setReviewEnd(id, is, end);
                    }
                }
                return true;
            }
            case RESUME_SENDING -> {
                if (!paused) return false;
                is.status = rate ? ALMOST_HEALED : UNDER_REVIEW;
                is.extensions = 0;
                is.exhausted = false;
                is.newIncidents = 0;
                if (rate) is.floor = eff;
                stage[k] = SENDING_RESUMED;
                setReviewEnd(id, is, cfg.manual(k) ? NONE : eff + cfg.reviewPeriod);
                return true;
            }
            case PAUSE_SENDING -> {
                if (!is.inReview() && is.status != PENDING_SENDING_PAUSE) return false;
                toPause(a, k, false);
                return true;
            }
            case END_REVIEW -> {
                if (!is.inReview() && is.status != PENDING_SENDING_PAUSE) return false;
                toHealthy(a, k);
                return true;
            }
            case EXTEND_REVIEW -> {
                if (!is.inReview() || is.reviewEnd == NONE) return false;
                stage[k] = REVIEW_EXTENDED;
                setReviewEnd(id, is, is.reviewEnd + cfg.reviewPeriod);
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    // ------------------------------------------------------------ publishing

    private void begin(AccountState a) {
        for (int k = 0; k < ISSUES; k++) {
            before[k].copyFrom(a.issues[k]);
            stage[k] = -1;
        }
        statusBefore = a.status;
    }

    private static boolean changed(AccountState.Issue x, AccountState.Issue y) {
        return x.status != y.status || x.reviewEnd != y.reviewEnd || x.since != y.since;
    }

    /** One STATUS_CHANGE, then one NOTIFICATION per changed issue (docs/rules.md section 5 "Order", docs/rules.md section 7). */
    private void publish(String id, AccountState a) {
        a.status = accountStatus(a);
        int cause = -1;
        boolean[] ch = null;
        for (int k = 0; k < ISSUES; k++) {
            if (changed(before[k], a.issues[k])) {
                if (ch == null) ch = new boolean[ISSUES];
                ch[k] = true;
                if (cause < 0) cause = k;
            }
        }
        if (cause < 0 && a.status == statusBefore) return;
        if (cause < 0) cause = 0;
        rates(a);

        GenericData.Record sc = new GenericData.Record(Codec.STATUS_CHANGE);
        sc.put(0, Codec.ACCOUNT_STATUS[statusBefore]);
        sc.put(1, Codec.ACCOUNT_STATUS[a.status]);
        sc.put(2, Codec.ISSUE_KIND[cause]);
        long earliest = NONE;
        for (int k = 0; k < ISSUES; k++) {
            AccountState.Issue is = a.issues[k];
            if (is.inReview() && is.reviewEnd != NONE && (earliest == NONE || is.reviewEnd < earliest))
                earliest = is.reviewEnd;
        }
        sc.put(3, earliest == NONE ? null : earliest);
        sc.put(4, Codec.metric(a.issues[0].status, m[0]));
        sc.put(5, Codec.metric(a.issues[1].status, m[1]));
        sc.put(6, Codec.issueStates(a));
        out.event(id, codec.encode(Codec.event(id, ++a.sequence, clock, 0, sc), true));
        long seq = a.sequence;

        if (ch != null) {
            for (int k = 0; k < ISSUES; k++) {
                if (!ch[k] || stage[k] < 0) continue;
                out.event(id, codec.encode(Codec.event(id, ++a.sequence, clock, 1, notification(a, k)), true));
            }
        }

        if (a.status == A_SENDING_PAUSED && statusBefore != A_SENDING_PAUSED) {
            for (String linked : a.links) {
                GenericRecord r = Codec.relatedReport("related:" + id + ":" + seq, linked, clock, id);
                out.report(linked, codec.encode(r, false));
            }
        }
    }

    private static final String[] STAGE_TITLE = {"review started", "review extended", "decision pending",
            "sending paused", "sending pause pending", "sending resumed", "resolved"};

    /** A notification with the contract's fields; the texts are short generic ones (the peer
     *  does not reproduce repute's owner-facing wording). */
    private GenericRecord notification(AccountState a, int k) {
        AccountState.Issue is = a.issues[k];
        int st = stage[k];
        GenericData.Record n = new GenericData.Record(Codec.NOTIFICATION);
        n.put(0, Codec.ISSUE_KIND[k]);
        n.put(1, Codec.STAGE[st]);
        n.put(2, Codec.ACCOUNT_STATUS[a.status]);
        String label = ISSUE_KINDS.get(k);
        n.put(3, label + ": " + STAGE_TITLE[st]);
        n.put(4, "The account's " + label + " issue changed: " + STAGE_TITLE[st] + ".");
        n.put(5, Codec.list("See the account's reputation dashboard."));
        if (k < 2) {
            n.put(6, m[k].known ? m[k].rate : null);
            n.put(7, st == STAGE_SENDING_PAUSED || st == STAGE_PENDING_SENDING_PAUSE
                    ? cfg.pauseRate(k) : cfg.reviewRate(k));
        } else {
            n.put(6, null);
            n.put(7, null);
        }
        n.put(8, is.reviewEnd == NONE ? null : is.reviewEnd);
        return n;
    }
}
