package repute.peer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Everything the peer keeps about one account (the value of the "accounts" store): hourly
 * buckets of attribution time, the 14 issues, the report log of the last report.window,
 * links, the manual-review flag, the output sequence and the last published status.
 */
final class AccountState {
    static final class Issue {
        int status = Model.HEALTHY;
        long since = 0;
        long reviewEnd = Model.NONE;
        long floor = Model.NONE;
        int extensions = 0;
        boolean exhausted = false;
        long newIncidents = 0;

        void copyFrom(Issue o) {
            status = o.status; since = o.since; reviewEnd = o.reviewEnd; floor = o.floor;
            extensions = o.extensions; exhausted = o.exhausted; newIncidents = o.newIncidents;
        }

        boolean isDefault() {
            return status == Model.HEALTHY && since == 0 && reviewEnd == Model.NONE && floor == Model.NONE
                    && extensions == 0 && !exhausted && newIncidents == 0;
        }

        boolean inReview() { return status == Model.UNDER_REVIEW || status == Model.ALMOST_HEALED; }
    }

    long sequence;
    int status = Model.A_HEALTHY;
    boolean manualReview;

    // Buckets, sorted by hour (hours since the epoch). Totals are derived on load.
    int nBuckets;
    int[] hour = new int[4];
    long[] sends = new long[4], hard = new long[4], deliveries = new long[4], complaints = new long[4];
    long totSends, totHard, totDeliveries, totComplaints;

    final Issue[] issues = new Issue[Model.ISSUES];

    // Report log: (event_time, kind, incidents) of reports that report.window can still count.
    int nReports;
    long[] repTime = new long[0];
    int[] repKind = new int[0], repIncidents = new int[0];

    List<String> links = List.of();

    AccountState() {
        for (int k = 0; k < Model.ISSUES; k++) issues[k] = new Issue();
    }

    /** The bucket index of `h`, inserted empty in order when missing. */
    int bucket(int h) {
        int n = nBuckets;
        if (n > 0 && hour[n - 1] == h) return n - 1;
        int pos = n;
        while (pos > 0 && hour[pos - 1] > h) pos--;
        if (pos > 0 && hour[pos - 1] == h) return pos - 1;
        if (n == hour.length) {
            int cap = Math.max(4, n * 2);
            hour = Arrays.copyOf(hour, cap);
            sends = Arrays.copyOf(sends, cap);
            hard = Arrays.copyOf(hard, cap);
            deliveries = Arrays.copyOf(deliveries, cap);
            complaints = Arrays.copyOf(complaints, cap);
        }
        int move = n - pos;
        System.arraycopy(hour, pos, hour, pos + 1, move);
        System.arraycopy(sends, pos, sends, pos + 1, move);
        System.arraycopy(hard, pos, hard, pos + 1, move);
        System.arraycopy(deliveries, pos, deliveries, pos + 1, move);
        System.arraycopy(complaints, pos, complaints, pos + 1, move);
        hour[pos] = h;
        sends[pos] = hard[pos] = deliveries[pos] = complaints[pos] = 0;
        nBuckets++;
        return pos;
    }

    /** Drops the buckets before `loHour` (no window can reach them any more). */
    void prune(long loHour) {
        int drop = 0;
        while (drop < nBuckets && hour[drop] < loHour) {
            totSends -= sends[drop];
            totHard -= hard[drop];
            totDeliveries -= deliveries[drop];
            totComplaints -= complaints[drop];
            drop++;
        }
        if (drop == 0) return;
        int keep = nBuckets - drop;
        System.arraycopy(hour, drop, hour, 0, keep);
        System.arraycopy(sends, drop, sends, 0, keep);
        System.arraycopy(hard, drop, hard, 0, keep);
        System.arraycopy(deliveries, drop, deliveries, 0, keep);
        System.arraycopy(complaints, drop, complaints, 0, keep);
        nBuckets = keep;
    }

    void addReport(long time, int kind, int incidents) {
        if (nReports == repTime.length) {
            int cap = Math.max(2, nReports * 2);
            repTime = Arrays.copyOf(repTime, cap);
            repKind = Arrays.copyOf(repKind, cap);
            repIncidents = Arrays.copyOf(repIncidents, cap);
        }
        repTime[nReports] = time;
        repKind[nReports] = kind;
        repIncidents[nReports] = incidents;
        nReports++;
    }

    /** Keeps only the reports later than `after`. */
    void pruneReports(long after) {
        int keep = 0;
        for (int i = 0; i < nReports; i++) {
            if (repTime[i] > after) {
                repTime[keep] = repTime[i];
                repKind[keep] = repKind[i];
                repIncidents[keep] = repIncidents[i];
                keep++;
            }
        }
        nReports = keep;
    }

    /**
     * Compact binary serde: varints and zigzag varints, bucket hours delta-encoded, only the
     * issues that differ from a fresh HEALTHY one. No Java serialization, no per-field tags.
     * One instance serves every task of every stream thread, so it keeps no shared state.
     */
    static final class StateSerde implements Serde<AccountState>, Serializer<AccountState>,
            Deserializer<AccountState> {
        private static final int VERSION = 1;
        private static final ThreadLocal<Writer> WRITER = ThreadLocal.withInitial(Writer::new);

        @Override public Serializer<AccountState> serializer() { return this; }
        @Override public Deserializer<AccountState> deserializer() { return this; }
        @Override public void close() {}
        @Override public void configure(java.util.Map<String, ?> configs, boolean isKey) {}

        private static final class Writer {
            byte[] buf = new byte[256];
            int pos;

            void ensure(int n) {
                if (pos + n > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + n));
            }

            void u(long v) {
                ensure(10);
                while ((v & ~0x7FL) != 0) {
                    buf[pos++] = (byte) ((v & 0x7F) | 0x80);
                    v >>>= 7;
                }
                buf[pos++] = (byte) v;
            }

            void s(long v) { u((v << 1) ^ (v >> 63)); }
        }

        @Override
        public byte[] serialize(String topic, AccountState a) {
            if (a == null) return null;
            Writer w = WRITER.get();
            w.pos = 0;
            w.u(VERSION);
            w.u(a.sequence);
            w.u(a.status | (a.manualReview ? 8 : 0));
            w.u(a.nBuckets);
            long prev = 0;
            for (int i = 0; i < a.nBuckets; i++) {
                w.s(a.hour[i] - prev);
                prev = a.hour[i];
                w.u(a.sends[i]);
                w.u(a.hard[i]);
                w.u(a.deliveries[i]);
                w.u(a.complaints[i]);
            }
            int mask = 0;
            for (int k = 0; k < Model.ISSUES; k++)
                if (!a.issues[k].isDefault()) mask |= 1 << k;
            w.u(mask);
            for (int k = 0; k < Model.ISSUES; k++) {
                if ((mask & (1 << k)) == 0) continue;
                Issue is = a.issues[k];
                boolean hasEnd = is.reviewEnd != Model.NONE, hasFloor = is.floor != Model.NONE;
                w.u(is.status | (is.exhausted ? 8 : 0) | (hasEnd ? 16 : 0) | (hasFloor ? 32 : 0));
                w.s(is.since);
                if (hasEnd) w.s(is.reviewEnd);
                if (hasFloor) w.s(is.floor);
                w.u(is.extensions);
                w.u(is.newIncidents);
            }
            w.u(a.nReports);
            for (int i = 0; i < a.nReports; i++) {
                w.s(a.repTime[i]);
                w.u(a.repKind[i]);
                w.u(a.repIncidents[i]);
            }
            w.u(a.links.size());
            for (String l : a.links) {
                byte[] b = l.getBytes(StandardCharsets.UTF_8);
                w.u(b.length);
                w.ensure(b.length);
                System.arraycopy(b, 0, w.buf, w.pos, b.length);
                w.pos += b.length;
            }
            return Arrays.copyOf(w.buf, w.pos);
        }

        private static final class Reader {
            final byte[] in;
            int at;

            Reader(byte[] in) { this.in = in; }

            long u() {
                long v = 0;
                int shift = 0;
                while (true) {
                    byte b = in[at++];
                    v |= (long) (b & 0x7F) << shift;
                    if (b >= 0) return v;
                    shift += 7;
                }
            }

            long s() {
                long v = u();
                return (v >>> 1) ^ -(v & 1);
            }
        }

        @Override
        public AccountState deserialize(String topic, byte[] data) {
            if (data == null) return null;
            Reader r = new Reader(data);
            if (r.u() != VERSION) throw new IllegalStateException("account state: unknown version");
            AccountState a = new AccountState();
            a.sequence = r.u();
            int st = (int) r.u();
            a.status = st & 7;
            a.manualReview = (st & 8) != 0;
            int n = (int) r.u();
            int cap = Math.max(4, n + 1);
            a.hour = new int[cap];
            a.sends = new long[cap];
            a.hard = new long[cap];
            a.deliveries = new long[cap];
            a.complaints = new long[cap];
            long h = 0;
            for (int i = 0; i < n; i++) {
                h += r.s();
                a.hour[i] = (int) h;
                a.totSends += a.sends[i] = r.u();
                a.totHard += a.hard[i] = r.u();
                a.totDeliveries += a.deliveries[i] = r.u();
                a.totComplaints += a.complaints[i] = r.u();
            }
            a.nBuckets = n;
            int mask = (int) r.u();
            for (int k = 0; k < Model.ISSUES; k++) {
                if ((mask & (1 << k)) == 0) continue;
                Issue is = a.issues[k];
                int f = (int) r.u();
                is.status = f & 7;
                is.exhausted = (f & 8) != 0;
                is.since = r.s();
                if ((f & 16) != 0) is.reviewEnd = r.s();
                if ((f & 32) != 0) is.floor = r.s();
                is.extensions = (int) r.u();
                is.newIncidents = r.u();
            }
            int nr = (int) r.u();
            a.repTime = new long[nr + 1];
            a.repKind = new int[nr + 1];
            a.repIncidents = new int[nr + 1];
            for (int i = 0; i < nr; i++) {
                a.repTime[i] = r.s();
                a.repKind[i] = (int) r.u();
                a.repIncidents[i] = (int) r.u();
            }
            a.nReports = nr;
            int nl = (int) r.u();
            if (nl > 0) {
                List<String> links = new ArrayList<>(nl);
                for (int i = 0; i < nl; i++) {
                    int len = (int) r.u();
                    links.add(new String(data, r.at, len, StandardCharsets.UTF_8));
                    r.at += len;
                }
                a.links = links;
            }
            return a;
        }
    }
}
