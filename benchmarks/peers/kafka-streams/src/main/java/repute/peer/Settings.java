package repute.peer;

import java.io.FileReader;
import java.io.IOException;
import java.util.Properties;

/** The engine settings of docs/rules.md section 8 that the peer honours, with their defaults. */
final class Settings {
    static final long HOUR = 3_600_000L;

    double bounceReviewRate = 0.05, bouncePauseRate = 0.10;
    double complaintReviewRate = 0.001, complaintPauseRate = 0.005;
    long windowMinVolume = 10_000;
    long windowMinSpan = 24 * HOUR;
    long windowMaxSpan = 90 * 24 * HOUR;
    long rateMinVolume = 1_000;
    long reviewPeriod = 7 * 24 * HOUR;
    int reviewMaxExtensions = 2;
    boolean pauseImmediate = false;
    long reportWindow = 30 * 24 * HOUR;
    long dedupeHorizon = HOUR;
    /** Indexed by IssueKind ordinal (0 and 1, the rates, unused). */
    final long[] reportThreshold = new long[Model.ISSUES];
    final boolean[] reportManual = new boolean[Model.ISSUES];

    Settings() {
        for (int k = 2; k < Model.ISSUES; k++)
            reportThreshold[k] = 1;
        reportThreshold[Model.kind("SPAMTRAP")] = 3;
        reportThreshold[Model.kind("DOMAIN_BLOCKLIST")] = 3;
        for (String m : new String[] {"INTERNAL_REVIEW", "RELATED_ACCOUNT", "VULNERABLE_SITE",
                "COMPROMISED_CREDENTIALS", "OTHER"})
            reportManual[Model.kind(m)] = true;
    }

    /** Reads a repute properties file: engine keys are applied, kafka.* / topic.* and the
     *  runtime keys of repute are ignored (the peer takes those from its own flags). */
    void load(String file) throws IOException {
        Properties p = new Properties();
        try (FileReader r = new FileReader(file)) {
            p.load(r);
        }
        for (String k : p.stringPropertyNames())
            set(k, p.getProperty(k).trim(), true);
    }

    void set(String key, String v, boolean lenient) {
        try {
            switch (key) {
                case "bounce.review.rate" -> bounceReviewRate = Double.parseDouble(v);
                case "bounce.pause.rate" -> bouncePauseRate = Double.parseDouble(v);
                case "complaint.review.rate" -> complaintReviewRate = Double.parseDouble(v);
                case "complaint.pause.rate" -> complaintPauseRate = Double.parseDouble(v);
                case "window.min.volume" -> windowMinVolume = Long.parseLong(v);
                case "window.min.span" -> windowMinSpan = duration(v);
                case "window.max.span" -> windowMaxSpan = duration(v);
                case "rate.min.volume" -> rateMinVolume = Long.parseLong(v);
                case "review.period" -> reviewPeriod = duration(v);
                case "review.max.extensions" -> reviewMaxExtensions = Integer.parseInt(v);
                case "pause.immediate" -> pauseImmediate = bool(v);
                case "report.window" -> reportWindow = duration(v);
                case "dedupe.horizon" -> dedupeHorizon = duration(v);
                default -> {
                    if (key.startsWith("report.") && key.endsWith(".threshold")) {
                        reportThreshold[Model.kind(key.substring(7, key.length() - 10))] = Long.parseLong(v);
                    } else if (key.startsWith("report.") && key.endsWith(".manual")) {
                        reportManual[Model.kind(key.substring(7, key.length() - 7))] = bool(v);
                    } else if (!lenient) {
                        throw new IllegalArgumentException("unknown key " + key);
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + ": bad value '" + v + "' (" + e.getMessage() + ")");
        }
    }

    static boolean bool(String v) {
        if (v.equals("true")) return true;
        if (v.equals("false")) return false;
        throw new IllegalArgumentException("not a boolean");
    }

    /** Durations as repute writes them: 500ms, 30s, 15m, 24h, 7d. */
    static long duration(String v) {
        String s = v.trim();
        long unit;
        if (s.endsWith("ms")) { unit = 1; s = s.substring(0, s.length() - 2); }
        else if (s.endsWith("s")) { unit = 1000; s = s.substring(0, s.length() - 1); }
        else if (s.endsWith("m")) { unit = 60_000; s = s.substring(0, s.length() - 1); }
        else if (s.endsWith("h")) { unit = HOUR; s = s.substring(0, s.length() - 1); }
        else if (s.endsWith("d")) { unit = 24 * HOUR; s = s.substring(0, s.length() - 1); }
        else throw new IllegalArgumentException("not a duration");
        return Long.parseLong(s) * unit;
    }

    double reviewRate(int k) { return k == 0 ? bounceReviewRate : complaintReviewRate; }
    double pauseRate(int k) { return k == 0 ? bouncePauseRate : complaintPauseRate; }
    boolean manual(int k) { return k >= 2 && reportManual[k]; }
}
