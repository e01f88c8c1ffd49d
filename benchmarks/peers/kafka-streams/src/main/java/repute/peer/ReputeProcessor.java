package repute.peer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * The one processor of the topology: it reads the five co-partitioned input topics of one task
 * (Kafka Streams hands it their records in event-time order), keeps the task's clock, processes
 * due review ends, drops duplicates and applies each record to its account's state.
 *
 * Stores (all persistent RocksDB with changelogs and caching):
 *  - accounts: account_id -> AccountState (compact binary serde);
 *  - dedupe: window store of (account_id, event_id) keyed by the clock at which it was counted,
 *    retention dedupe.horizon, so it is bounded by time;
 *  - review-ends: (review end big-endian, account_id) -> empty: the task's due-review index,
 *    scanned in key order = time order, then account byte order (docs/semantics.md 3).
 */
final class ReputeProcessor extends ContextualProcessor<String, byte[], String, byte[]> {
    static final String ACCOUNTS = "accounts", DEDUPE = "dedupe", REVIEW_ENDS = "review-ends";
    /** The tuned profile's dedupe store: (account_id, event_id) -> the clock when counted. */
    static final String DEDUPE_KV = "dedupe-kv";
    static final String TO_STATUS = "status-sink", TO_REPORTS = "reports-sink", TO_DLQ = "dlq-sink";

    private final Settings cfg;
    private final Map<String, Integer> topicType;
    private KeyValueStore<String, AccountState> accounts;
    private WindowStore<Bytes, byte[]> dedupe;
    private KeyValueStore<Bytes, byte[]> dedupeKv;
    private final boolean tuned;
    private KeyValueStore<Bytes, byte[]> reviewEnds;
    private Codec codec;
    private Engine engine;
    /** The earliest entry of review-ends (a lower bound: entries may be stale), or NONE. */
    private long nextDue = Model.NONE;
    private static final byte[] EMPTY = new byte[0];

    ReputeProcessor(Settings cfg, Map<String, Integer> topicType, boolean tuned) {
        this.cfg = cfg;
        this.tuned = tuned;
        this.topicType = new HashMap<>(topicType);
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        super.init(context);
        accounts = context.getStateStore(ACCOUNTS);
        if (tuned) {
            dedupeKv = context.getStateStore(DEDUPE_KV);
            // Bounded by time as the window store is: every dedupe.horizon of stream time (at
            // least a minute), the entries counted before clock - horizon are dropped.
            context.schedule(Duration.ofMillis(Math.max(cfg.dedupeHorizon, 60_000)), PunctuationType.STREAM_TIME,
                    this::expireDedupe);
        } else {
            dedupe = context.getStateStore(DEDUPE);
        }
        reviewEnds = context.getStateStore(REVIEW_ENDS);
        codec = new Codec();
        engine = new Engine(cfg, codec, new Engine.Out() {
            @Override public void event(String account, byte[] value) {
                context().forward(new Record<>(account, value, engine.clock), TO_STATUS);
            }
            @Override public void report(String account, byte[] value) {
                context().forward(new Record<>(account, value, engine.clock), TO_REPORTS);
            }
            @Override public void reviewEnd(long at, String account) {
                reviewEnds.put(indexKey(at, account), EMPTY);
                if (nextDue == Model.NONE || at < nextDue) nextDue = at;
            }
        });
        try (KeyValueIterator<Bytes, byte[]> it = reviewEnds.all()) {
            if (it.hasNext()) nextDue = ByteBuffer.wrap(it.next().key.get()).getLong();
        }
        // Review ends are processed as stream time (event time) passes them. process() also
        // does it before applying each record, so that a record with event_time T comes after
        // every review end at or before T (docs/rules.md section 5 "Order"); the punctuator covers stream time
        // that moves for the task without reaching this processor.
        context.schedule(Duration.ofMinutes(1), PunctuationType.STREAM_TIME, this::advance);
    }

    private static Bytes indexKey(long at, String account) {
        byte[] id = account.getBytes(StandardCharsets.UTF_8);
        return Bytes.wrap(ByteBuffer.allocate(8 + id.length).putLong(at).put(id).array());
    }

    /** Processes every review end up to `now`, one instant and account at a time, then moves
     *  the clock to `now` if it is later. */
    private void advance(long now) {
        while (nextDue != Model.NONE && nextDue <= now) {
            KeyValue<Bytes, byte[]> first;
            try (KeyValueIterator<Bytes, byte[]> it = reviewEnds.all()) {
                first = it.hasNext() ? it.next() : null;
            }
            if (first == null) {
                nextDue = Model.NONE;
                break;
            }
            byte[] k = first.key.get();
            long at = ByteBuffer.wrap(k).getLong();
            if (at > now) {
                nextDue = at;
                break;
            }
            reviewEnds.delete(first.key);
            if (at > engine.clock) engine.clock = at;
            String id = new String(k, 8, k.length - 8, StandardCharsets.UTF_8);
            AccountState a = accounts.get(id);
            if (a != null && engine.reviewEnds(id, a, at)) accounts.put(id, a);
        }
        if (now > engine.clock) engine.clock = now;
    }

    @Override
    public void process(Record<String, byte[]> record) {
        RecordMetadata md = context().recordMetadata().orElseThrow();
        Integer type = topicType.get(md.topic());
        Codec.Input in;
        try {
            if (type == null) throw new IllegalStateException("unexpected topic");
            if (record.value() == null) throw new IllegalStateException("null value");
            in = codec.decode(type, record.value());
            if (!in.accountId.equals(record.key())) throw new IllegalStateException("the key is not the record's account_id");
        } catch (Exception e) {
            deadLetter(record, md, e);
            return;
        }
        // The clock: the task's stream time (the largest event time seen, restored on restart).
        advance(Math.max(in.eventTime, context().currentStreamTimeMs()));
        long clock = engine.clock;

        Bytes dk = dedupeKey(in);
        if (tuned) {
            byte[] seen = dedupeKv.get(dk);
            if (seen != null) {
                long at = ByteBuffer.wrap(seen).getLong();
                if (at >= clock - cfg.dedupeHorizon && at <= clock) {
                    engine.duplicates++;
                    return;
                }
            }
            dedupeKv.put(dk, ByteBuffer.allocate(8).putLong(clock).array());
        } else {
            try (WindowStoreIterator<byte[]> it = dedupe.fetch(dk, clock - cfg.dedupeHorizon, clock)) {
                if (it.hasNext()) {
                    engine.duplicates++;
                    return;
                }
            }
            dedupe.put(dk, EMPTY, clock);
        }

        AccountState a = accounts.get(in.accountId);
        if (a == null) a = new AccountState();
        engine.apply(a, in);
        accounts.put(in.accountId, a);
    }

    /** Drops the tuned dedupe store's entries that no lookup can match any more. */
    private void expireDedupe(long now) {
        long before = Math.max(engine.clock, now) - cfg.dedupeHorizon;
        java.util.List<Bytes> old = new java.util.ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = dedupeKv.all()) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> e = it.next();
                if (ByteBuffer.wrap(e.value).getLong() < before) old.add(e.key);
            }
        }
        for (Bytes k : old) dedupeKv.delete(k);
    }

    private static Bytes dedupeKey(Codec.Input in) {
        byte[] acct = in.accountId.getBytes(StandardCharsets.UTF_8);
        int eLen = in.eventId.getByteLength();
        byte[] k = new byte[2 + acct.length + eLen];
        k[0] = (byte) (acct.length >>> 8);
        k[1] = (byte) acct.length;
        System.arraycopy(acct, 0, k, 2, acct.length);
        System.arraycopy(in.eventId.getBytes(), 0, k, 2 + acct.length, eLen);
        return Bytes.wrap(k);
    }

    private void deadLetter(Record<String, byte[]> record, RecordMetadata md, Exception e) {
        RecordHeaders h = new RecordHeaders();
        h.add("repute.topic", md.topic().getBytes(StandardCharsets.UTF_8));
        h.add("repute.partition", Integer.toString(md.partition()).getBytes(StandardCharsets.UTF_8));
        h.add("repute.offset", Long.toString(md.offset()).getBytes(StandardCharsets.UTF_8));
        h.add("repute.error", String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8));
        context().forward(new Record<>(record.key(), record.value(), record.timestamp(), h), TO_DLQ);
    }
}
