package repute.peer;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeutils.base.ListSerializer;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.api.common.typeutils.base.array.BytePrimitiveArraySerializer;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The rules as a Flink KeyedProcessFunction keyed by account_id (the Kafka key).
 *
 * Order. The source's watermarks are per Kafka partition with monotonous timestamps (zero
 * out-of-orderness), so the operator's watermark W is the smallest event time that every
 * input partition has passed: no record at or before W can still come, except one that is out
 * of order within its own partition. A record later than W is therefore buffered in keyed
 * state under its event time, with an event-time timer there; when the watermark passes it,
 * the timers fire in time order and the records are applied, ties in topic order (deliveries,
 * bounces, complaints, reports, actions) and then arrival order. That is the merge repute's
 * task does (docs/run.md, Event-time merge), with watermarks in place of its buffers. A record
 * at or before W (out of order within its partition) is applied at once at the clock, as in
 * repute run (docs/rules.md section 5: a record older than the clock is applied at the clock).
 *
 * The clock. Timers fire in time order across all keys of the operator, so `engine.clock`, the
 * largest instant processed, is the task clock of repute with one partition per operator
 * instance. At parallelism 1 every account shares it, as every account of a one-partition
 * repute run shares its task's clock.
 *
 * Review ends are event-time timers of the account at the end instant; a timer at T first
 * processes the account's review ends at T (docs/rules.md section 5 "Order": review ends at or
 * before a record's time come before it), then the records buffered at T. A timer left by a
 * review that moved finds nothing due (Engine.reviewEnds returns false), as stale entries of
 * repute's heap do.
 *
 * Dedupe: a MapState event_id -> the clock at which it was counted; a record is a duplicate
 * while that instant lies in [clock - dedupe.horizon, clock]. Entries are dropped by timers on
 * whole minutes past clock + horizon, so it is bounded by time as the Kafka Streams peer's
 * window store is.
 */
final class FlinkFunction extends KeyedProcessFunction<String, FlinkRec, FlinkOut> {
    private static final long serialVersionUID = 1L;
    static final OutputTag<FlinkOut> REPORTS = new OutputTag<>("reports") {};
    static final OutputTag<FlinkOut> DLQ = new OutputTag<>("dlq") {};
    static final String[] TOPIC_NAMES = {"deliveries", "bounces", "complaints", "reports", "actions"};
    private static final long MINUTE = 60_000;

    private final List<String> engineKeys;
    private final String topicPrefix;
    private transient Settings cfg;
    private transient Codec codec;
    private transient Engine engine;
    private transient ValueState<AccountState> account;
    private transient MapState<String, Long> dedupe;
    private transient MapState<Long, List<byte[]>> buffer;
    /** Where the engine's callbacks go: the context and collector of the current call. */
    private transient Context ctx;
    private transient Collector<FlinkOut> out;

    /** engineKeys: KEY=VALUE settings of docs/rules.md section 8 (Settings parses them). */
    FlinkFunction(List<String> engineKeys, String topicPrefix) {
        this.engineKeys = new ArrayList<>(engineKeys);
        this.topicPrefix = topicPrefix;
    }

    @Override
    public void open(OpenContext openContext) {
        cfg = new Settings();
        for (String kv : engineKeys) {
            int eq = kv.indexOf('=');
            cfg.set(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim(), false);
        }
        codec = new Codec();
        engine = new Engine(cfg, codec, new Engine.Out() {
            @Override public void event(String acct, byte[] value) {
                out.collect(FlinkOut.of(acct, value, engine.clock));
            }
            @Override public void report(String acct, byte[] value) {
                ctx.output(REPORTS, FlinkOut.of(acct, value, engine.clock));
            }
            @Override public void reviewEnd(long at, String acct) {
                ctx.timerService().registerEventTimeTimer(at);
            }
        });
        account = getRuntimeContext().getState(
                new ValueStateDescriptor<>("account", FlinkStateSerializer.INSTANCE));
        dedupe = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("dedupe", StringSerializer.INSTANCE, LongSerializer.INSTANCE));
        buffer = getRuntimeContext().getMapState(new MapStateDescriptor<>("buffer", LongSerializer.INSTANCE,
                new ListSerializer<>(BytePrimitiveArraySerializer.INSTANCE)));
    }

    @Override
    public void processElement(FlinkRec r, Context c, Collector<FlinkOut> o) throws Exception {
        ctx = c;
        out = o;
        if (r.time <= c.timerService().currentWatermark()) {
            // Out of order within its own partition: applied now, at the clock.
            apply(r.type, r.partition, r.offset, r.value, r.time);
            return;
        }
        List<byte[]> at = buffer.get(r.time);
        if (at == null) at = new ArrayList<>(1);
        at.add(pack(r));
        buffer.put(r.time, at);
        c.timerService().registerEventTimeTimer(r.time);
    }

    @Override
    public void onTimer(long t, OnTimerContext c, Collector<FlinkOut> o) throws Exception {
        ctx = c;
        out = o;
        // The clock moves to t only for a review end due at t or a record at t: a timer that
        // only expires dedupe entries (or a stale review end) is not an event of the rules.
        AccountState a = account.value();
        if (a != null && dueAt(a, t)) {
            if (t > engine.clock) engine.clock = t;
            if (engine.reviewEnds(c.getCurrentKey(), a, t)) account.update(a);
        }
        List<byte[]> recs = buffer.get(t);
        if (recs != null) {
            buffer.remove(t);
            if (recs.size() > 1) recs.sort((x, y) -> Byte.compare(x[0], y[0])); // stable: arrival order
            for (byte[] p : recs) {
                byte[] v = new byte[p.length - 13];
                System.arraycopy(p, 13, v, 0, v.length);
                apply(p[0], getInt(p, 1), getLong(p, 5), v, t);
            }
        }
        if (t % MINUTE == 0) expire(t - cfg.dedupeHorizon);
    }

    private static boolean dueAt(AccountState a, long t) {
        for (AccountState.Issue is : a.issues) if (is.inReview() && is.reviewEnd == t) return true;
        return false;
    }

    /** Decodes, checks, dedupes and applies one record at max(its time, the clock). */
    private void apply(int type, int partition, long offset, byte[] value, long time) throws Exception {
        String key = ctx.getCurrentKey();
        Codec.Input in;
        try {
            if (value == null) throw new IllegalStateException("null value");
            in = codec.decode(type, value);
            if (!in.accountId.equals(key)) throw new IllegalStateException("the key is not the record's account_id");
        } catch (Exception e) {
            FlinkOut d = FlinkOut.of(key, value, time);
            d.srcTopic = topicPrefix + "." + TOPIC_NAMES[type];
            d.srcPartition = partition;
            d.srcOffset = offset;
            d.error = String.valueOf(e.getMessage());
            ctx.output(DLQ, d);
            return;
        }
        if (in.eventTime > engine.clock) engine.clock = in.eventTime;
        long clock = engine.clock;
        String eid = in.eventId.toString();
        Long seen = dedupe.get(eid);
        if (seen != null && seen >= clock - cfg.dedupeHorizon && seen <= clock) {
            engine.duplicates++;
            return;
        }
        dedupe.put(eid, clock);
        ctx.timerService().registerEventTimeTimer((Math.floorDiv(clock + cfg.dedupeHorizon, MINUTE) + 1) * MINUTE);
        AccountState a = account.value();
        if (a == null) a = new AccountState();
        engine.apply(a, in);
        account.update(a);
    }

    /** Drops the dedupe entries counted before `before`. */
    private void expire(long before) throws Exception {
        Iterator<Map.Entry<String, Long>> it = dedupe.iterator();
        while (it.hasNext()) if (it.next().getValue() < before) it.remove();
    }

    /** type (1 byte), partition (4), offset (8), value. */
    private static byte[] pack(FlinkRec r) {
        byte[] v = r.value == null ? new byte[0] : r.value;
        byte[] p = new byte[13 + v.length];
        p[0] = (byte) r.type;
        putInt(p, 1, r.partition);
        putLong(p, 5, r.offset);
        System.arraycopy(v, 0, p, 13, v.length);
        return p;
    }

    private static void putInt(byte[] b, int at, int v) {
        for (int i = 3; i >= 0; i--, v >>>= 8) b[at + i] = (byte) v;
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 7; i >= 0; i--, v >>>= 8) b[at + i] = (byte) v;
    }

    private static int getInt(byte[] b, int at) {
        int v = 0;
        for (int i = 0; i < 4; i++) v = (v << 8) | (b[at + i] & 0xFF);
        return v;
    }

    private static long getLong(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) v = (v << 8) | (b[at + i] & 0xFF);
        return v;
    }
}
