package repute.peer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.util.Utf8;

/**
 * Plain Avro binary (no Confluent framing) with the contract's schemas, which the build copies
 * from schemas/*.avsc into the jar. One instance per processor (readers reuse their records).
 */
final class Codec {
    static final Schema DELIVERY = load("Delivery"), BOUNCE = load("Bounce"), COMPLAINT = load("Complaint"),
            REPORT = load("Report"), ACTION = load("Action"), EVENT = load("ReputationEvent");
    static final Schema STATUS_CHANGE = EVENT.getField("status_change").schema().getTypes().get(1);
    static final Schema NOTIFICATION = EVENT.getField("notification").schema().getTypes().get(1);
    static final Schema METRIC = STATUS_CHANGE.getField("bounce").schema();
    static final Schema ISSUE_STATE = STATUS_CHANGE.getField("issues").schema().getElementType();
    static final Schema ISSUES_ARRAY = STATUS_CHANGE.getField("issues").schema();
    static final Schema STRINGS = NOTIFICATION.getField("actions").schema();
    static final GenericData.EnumSymbol[] EVENT_KIND = symbols(EVENT.getField("kind").schema());
    static final GenericData.EnumSymbol[] ACCOUNT_STATUS = symbols(STATUS_CHANGE.getField("status").schema());
    static final GenericData.EnumSymbol[] ISSUE_KIND = symbols(STATUS_CHANGE.getField("cause").schema());
    static final GenericData.EnumSymbol[] ISSUE_STATUS = symbols(METRIC.getField("status").schema());
    static final GenericData.EnumSymbol[] STAGE = symbols(NOTIFICATION.getField("stage").schema());
    static final GenericData.EnumSymbol REPORT_RELATED =
            new GenericData.EnumSymbol(REPORT.getField("kind").schema(), "RELATED_ACCOUNT");

    static final int T_DELIVERY = 0, T_BOUNCE = 1, T_COMPLAINT = 2, T_REPORT = 3, T_ACTION = 4;

    private static Schema load(String name) {
        try (InputStream in = Codec.class.getResourceAsStream("/schemas/" + name + ".avsc")) {
            if (in == null) throw new IllegalStateException("schema " + name + ".avsc missing from the jar");
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static GenericData.EnumSymbol[] symbols(Schema e) {
        List<String> s = e.getEnumSymbols();
        GenericData.EnumSymbol[] out = new GenericData.EnumSymbol[s.size()];
        for (int i = 0; i < out.length; i++) out[i] = new GenericData.EnumSymbol(e, s.get(i));
        return out;
    }

    /** The ordinal of an enum value read by the generic reader (the symbol's schema maps its
     *  name to its ordinal with one hash lookup). */
    static int ord(Object sym) {
        GenericData.EnumSymbol e = (GenericData.EnumSymbol) sym;
        return e.getSchema().getEnumOrdinal(e.toString());
    }

    /** One decoded input record (reused). */
    static final class Input {
        int type;
        Utf8 eventId;
        String accountId;
        long eventTime;
        boolean hasSent;
        long sent;
        // outcome flags, already reduced to what the counting rules read (docs/rules.md section 3)
        boolean send, hardBounce, delivery, complaint;
        // report
        int kind, incidents;
        // action
        int action, issue;
        boolean hasEffective;
        long effective;
        String related;
    }

    private final GenericDatumReader<GenericRecord>[] readers = readers();
    private final GenericRecord[] reuse = new GenericRecord[5];
    private BinaryDecoder decoder;

    @SuppressWarnings("unchecked")
    private static GenericDatumReader<GenericRecord>[] readers() {
        Schema[] s = {DELIVERY, BOUNCE, COMPLAINT, REPORT, ACTION};
        GenericDatumReader<GenericRecord>[] r = new GenericDatumReader[s.length];
        for (int i = 0; i < s.length; i++) r[i] = new GenericDatumReader<>(s[i]);
        return r;
    }

    final Input in = new Input();

    /** Decodes `value` of input type `type`; throws on bytes that break the schema or the contract. */
    Input decode(int type, byte[] value) throws IOException {
        decoder = DecoderFactory.get().binaryDecoder(value, decoder);
        GenericRecord r = readers[type].read(reuse[type], decoder);
        reuse[type] = r;
        if (!decoder.isEnd()) throw new IOException("trailing bytes after the record");
        Input x = in;
        x.type = type;
        x.eventId = (Utf8) r.get(0);
        x.accountId = r.get(1).toString();
        x.eventTime = (Long) r.get(2);
        x.send = x.hardBounce = x.delivery = x.complaint = false;
        x.related = null;
        switch (type) {
            case T_DELIVERY -> {
                sentTime(x, r.get(5));
                boolean simulator = (Boolean) r.get(7);
                x.send = !simulator && !(Boolean) r.get(6);
                x.delivery = !simulator && (Boolean) r.get(8);
            }
            case T_BOUNCE -> {
                sentTime(x, r.get(5));
                x.send = !(Boolean) r.get(9) && !(Boolean) r.get(8);
                // PERMANENT = 0; ON_ACCOUNT_SUPPRESSION_LIST = 3
                x.hardBounce = x.send && ord(r.get(6)) == 0 && ord(r.get(7)) != 3;
            }
            case T_COMPLAINT -> {
                sentTime(x, r.get(5));
                // NOT_SPAM = 3
                x.complaint = !(Boolean) r.get(8) && !(Boolean) r.get(7) && ord(r.get(6)) != 3;
            }
            case T_REPORT -> {
                x.kind = ord(r.get(3)) + 2; // ReportKind -> IssueKind
                x.incidents = (Integer) r.get(4);
                if (x.incidents < 1) throw new IOException("incidents < 1");
                Object rel = r.get(6);
                x.related = rel == null ? null : rel.toString();
            }
            case T_ACTION -> {
                x.action = ord(r.get(3));
                Object issue = r.get(4);
                x.issue = issue == null ? -1 : ord(issue);
                Object eff = r.get(5);
                x.hasEffective = eff != null;
                x.effective = eff == null ? 0 : (Long) eff;
                Object rel = r.get(6);
                x.related = rel == null ? null : rel.toString();
            }
            default -> throw new IllegalArgumentException("type " + type);
        }
        int idLen = r.get(1) instanceof Utf8 u ? u.getByteLength() : 0;
        if (idLen == 0 || idLen > 256) throw new IOException("account_id must be 1 to 256 bytes");
        return x;
    }

    private static void sentTime(Input x, Object sent) {
        x.hasSent = sent != null;
        x.sent = sent == null ? 0 : (Long) sent;
    }

    // ------------------------------------------------------------------ output

    private final GenericDatumWriter<GenericRecord> eventWriter = new GenericDatumWriter<>(EVENT);
    private final GenericDatumWriter<GenericRecord> reportWriter = new GenericDatumWriter<>(REPORT);
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    private BinaryEncoder encoder;

    byte[] encode(GenericRecord r, boolean event) {
        out.reset();
        encoder = EncoderFactory.get().binaryEncoder(out, encoder);
        try {
            (event ? eventWriter : reportWriter).write(r, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static GenericRecord metric(int status, Engine.Metric m) {
        GenericData.Record r = new GenericData.Record(METRIC);
        r.put(0, ISSUE_STATUS[status]);
        r.put(1, m.known ? m.rate : null);
        r.put(2, m.count);
        r.put(3, m.volume);
        r.put(4, m.windowStart);
        r.put(5, m.windowEnd);
        return r;
    }

    static GenericData.Array<GenericRecord> issueStates(AccountState a) {
        GenericData.Array<GenericRecord> arr = new GenericData.Array<>(2, ISSUES_ARRAY);
        for (int k = 0; k < Model.ISSUES; k++) {
            AccountState.Issue is = a.issues[k];
            if (is.status == Model.HEALTHY) continue;
            GenericData.Record r = new GenericData.Record(ISSUE_STATE);
            r.put(0, ISSUE_KIND[k]);
            r.put(1, ISSUE_STATUS[is.status]);
            r.put(2, is.since);
            r.put(3, is.reviewEnd == Model.NONE ? null : is.reviewEnd);
            arr.add(r);
        }
        return arr;
    }

    static GenericRecord event(String account, long seq, long time, int kind, GenericRecord body) {
        GenericData.Record e = new GenericData.Record(EVENT);
        e.put(0, account + ":" + seq);
        e.put(1, account);
        e.put(2, seq);
        e.put(3, time);
        e.put(4, EVENT_KIND[kind]);
        e.put(5, kind == 0 ? body : null);
        e.put(6, kind == 1 ? body : null);
        return e;
    }

    static List<CharSequence> list(String... s) {
        return new ArrayList<>(List.of(s));
    }

    static GenericRecord relatedReport(String eventId, String account, long time, String paused) {
        GenericData.Record r = new GenericData.Record(REPORT);
        r.put("event_id", eventId);
        r.put("account_id", account);
        r.put("event_time", time);
        r.put("kind", REPORT_RELATED);
        r.put("incidents", 1);
        r.put("domain", null);
        r.put("related_account_id", paused);
        r.put("reporter", null);
        r.put("detail", null);
        return r;
    }
}
