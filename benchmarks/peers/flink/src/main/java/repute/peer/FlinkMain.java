package repute.peer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.zip.CRC32;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The Flink peer: the rules of docs/rules.md as one Flink job in a local MiniCluster (one
 * JVM), over the same five topics and Avro records as repute.
 *
 * KafkaSource (read_committed, from the earliest offset, offsets committed to the group on
 * each checkpoint) -> watermarks per partition with monotonous event times -> keyBy the
 * Kafka key -> FlinkFunction (keyed state, event-time timers) -> three KafkaSinks (status,
 * RELATED_ACCOUNT reports to the reports topic, dead letters), each EXACTLY_ONCE: a Kafka
 * transaction per checkpoint, committed when the checkpoint completes, so the output a
 * read_committed consumer sees and the offsets the group has committed move together, as
 * with repute's and Kafka Streams' exactly once.
 *
 * It prints `peer: running` once the job is RUNNING; SIGINT or SIGTERM cancels it and exits.
 */
public final class FlinkMain {
    static final String USAGE = """
            usage: java -jar repute-flink-peer.jar --bootstrap HOST:PORT [options]
              --prefix P              topics P.deliveries ... P.actions in, P.status out (default repute)
              --application-id ID     consumer group id and transactional id prefix (default repute-flink-peer)
              --output T              output topic (default P.status)
              --dlq T                 dead-letter topic (default P.dlq)
              --state-dir DIR         checkpoints, RocksDB files and temporary files (default /tmp/repute-flink)
              --state-backend B       hashmap (default) or rocksdb
              --parallelism N         parallelism of every operator (default 1)
              --checkpoint-ms N       checkpoint interval (default 200)
              --watermark-ms N        pipeline.auto-watermark-interval (default 50)
              --idle-ms N             a partition that sent nothing for N ms is left out of the
                                      watermark until it sends again (default 0: never; the
                                      harness gives 500, repute's max.task.idle, for live input)
              --threads N             accepted and ignored (the harness's Kafka Streams option)
              --config FILE           a repute properties file: its engine keys apply
              --set KEY=VALUE         one engine key (docs/rules.md section 8)
            """;

    public static void main(String[] argv) throws Exception {
        String bootstrap = null, prefix = "repute", appId = "repute-flink-peer", output = null, dlq = null;
        String stateDir = "/tmp/repute-flink", backend = "hashmap";
        int parallelism = 1;
        long checkpointMs = 200, watermarkMs = 50, idleMs = 0;
        List<String> engineKeys = new ArrayList<>();
        try {
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                if (a.equals("--help") || a.equals("-h")) {
                    System.out.print(USAGE);
                    return;
                }
                if (i + 1 >= argv.length) throw new IllegalArgumentException(a + " needs a value");
                String v = argv[++i];
                switch (a) {
                    case "--bootstrap" -> bootstrap = v;
                    case "--prefix" -> prefix = v;
                    case "--application-id" -> appId = v;
                    case "--output" -> output = v;
                    case "--dlq" -> dlq = v;
                    case "--state-dir" -> stateDir = v;
                    case "--state-backend" -> {
                        if (!v.equals("hashmap") && !v.equals("rocksdb"))
                            throw new IllegalArgumentException("--state-backend: hashmap or rocksdb");
                        backend = v;
                    }
                    case "--parallelism" -> parallelism = Integer.parseInt(v);
                    case "--checkpoint-ms" -> checkpointMs = Long.parseLong(v);
                    case "--watermark-ms" -> watermarkMs = Long.parseLong(v);
                    case "--idle-ms" -> idleMs = Long.parseLong(v);
                    case "--threads" -> { }
                    case "--config" -> {
                        Settings s = new Settings();
                        s.load(v); // checks the file; its engine keys are passed on as lines
                        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(v))) {
                            String t = line.trim();
                            if (t.isEmpty() || t.startsWith("#") || t.startsWith("!") || !t.contains("=")) continue;
                            String k = t.substring(0, t.indexOf('=')).trim();
                            if (k.startsWith("kafka.") || k.startsWith("topic")) continue;
                            engineKeys.add(t);
                        }
                    }
                    case "--set" -> {
                        int eq = v.indexOf('=');
                        if (eq <= 0) throw new IllegalArgumentException("--set KEY=VALUE");
                        new Settings().set(v.substring(0, eq).trim(), v.substring(eq + 1).trim(), false);
                        engineKeys.add(v);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (bootstrap == null) throw new IllegalArgumentException("--bootstrap is required");
            if (parallelism < 1) throw new IllegalArgumentException("--parallelism must be >= 1");
        } catch (IllegalArgumentException e) {
            System.err.println("peer: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (output == null) output = prefix + ".status";
        if (dlq == null) dlq = prefix + ".dlq";

        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, backend);
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "file://" + stateDir + "/checkpoints");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, backend.equals("rocksdb"));
        conf.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 1);
        conf.set(CoreOptions.TMP_DIRS, stateDir + "/tmp");
        conf.setString("state.backend.rocksdb.localdir", stateDir + "/rocksdb");
        conf.set(PipelineOptions.AUTO_WATERMARK_INTERVAL, Duration.ofMillis(watermarkMs));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, conf);
        env.enableCheckpointing(checkpointMs, CheckpointingMode.EXACTLY_ONCE);

        String[] names = FlinkFunction.TOPIC_NAMES;
        List<String> inputs = new ArrayList<>();
        for (String n : names) inputs.add(prefix + "." + n);
        final String pfx = prefix;
        KafkaSource<FlinkRec> source = KafkaSource.<FlinkRec>builder()
                .setBootstrapServers(bootstrap)
                .setTopics(inputs)
                .setGroupId(appId)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(
                        org.apache.kafka.clients.consumer.OffsetResetStrategy.EARLIEST))
                .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
                .setProperty("commit.offsets.on.checkpoint", "true")
                .setDeserializer(new Deserializer(pfx))
                .build();
        WatermarkStrategy<FlinkRec> wm = WatermarkStrategy.<FlinkRec>forMonotonousTimestamps()
                .withTimestampAssigner((r, ts) -> r.time);
        // Live input: a partition with nothing to send (a sparse topic such as actions) would
        // hold the watermark, and every record behind it, for as long as it stays silent. As
        // repute's max.task.idle, a partition silent for idleMs is left out until it sends.
        if (idleMs > 0) wm = wm.withIdleness(Duration.ofMillis(idleMs));
        SingleOutputStreamOperator<FlinkOut> rules = env.fromSource(source, wm, "inputs")
                .keyBy(r -> r.key)
                .process(new FlinkFunction(engineKeys, prefix))
                .name("rules");
        rules.sinkTo(sink(bootstrap, appId + "-status", output, false)).name("status");
        rules.getSideOutput(FlinkFunction.REPORTS)
                .sinkTo(sink(bootstrap, appId + "-reports", prefix + ".reports", true)).name("reports");
        rules.getSideOutput(FlinkFunction.DLQ)
                .sinkTo(sink(bootstrap, appId + "-dlq", dlq, false)).name("dlq");

        System.err.printf("peer: Flink %s state, parallelism %d, checkpoints every %d ms, EXACTLY_ONCE, idle %d ms%n",
                backend, parallelism, checkpointMs, idleMs);
        JobClient job = env.executeAsync("repute-flink-peer");
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                job.cancel().get();
            } catch (Exception e) {
                // already gone
            }
            done.countDown();
        }, "peer-shutdown"));
        boolean announced = false;
        while (true) {
            JobStatus st = job.getJobStatus().get();
            if (st == JobStatus.RUNNING && !announced) {
                System.out.println("peer: running");
                System.out.flush();
                announced = true;
            }
            if (st.isGloballyTerminalState()) {
                if (st != JobStatus.CANCELED) {
                    System.err.println("peer: job " + st);
                    try {
                        job.getJobExecutionResult().get();
                    } catch (Exception e) {
                        System.err.println("peer: " + e);
                    }
                    System.exit(1);
                }
                break;
            }
            Thread.sleep(100);
        }
        done.await();
    }

    /** A KafkaSink of FlinkOut records to `topic`, EXACTLY_ONCE; the RELATED_ACCOUNT reports are
     *  partitioned by the CRC-32 of the key (librdkafka's default, as repute and the loader). */
    static KafkaSink<FlinkOut> sink(String bootstrap, String txPrefix, String topic, boolean crc32) {
        Properties p = new Properties();
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "600000");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        return KafkaSink.<FlinkOut>builder()
                .setBootstrapServers(bootstrap)
                .setKafkaProducerConfig(p)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(txPrefix)
                .setRecordSerializer(new Serializer(topic, crc32))
                .build();
    }

    /** Kafka record -> FlinkRec: key, value, type from the topic, event time from the value. */
    static final class Deserializer implements KafkaRecordDeserializationSchema<FlinkRec> {
        private static final long serialVersionUID = 1L;
        private final String prefix;

        Deserializer(String prefix) { this.prefix = prefix; }

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> rec, Collector<FlinkRec> out) {
            FlinkRec r = new FlinkRec();
            r.key = rec.key() == null ? "" : new String(rec.key(), StandardCharsets.UTF_8);
            r.value = rec.value();
            String t = rec.topic().substring(prefix.length() + 1);
            r.type = switch (t) {
                case "deliveries" -> Codec.T_DELIVERY;
                case "bounces" -> Codec.T_BOUNCE;
                case "complaints" -> Codec.T_COMPLAINT;
                case "reports" -> Codec.T_REPORT;
                default -> Codec.T_ACTION;
            };
            r.time = eventTime(rec.value(), Math.max(0, rec.timestamp()));
            r.partition = rec.partition();
            r.offset = rec.offset();
            out.collect(r);
        }

        @Override
        public TypeInformation<FlinkRec> getProducedType() { return TypeInformation.of(FlinkRec.class); }
    }

    /** The third field of every input schema (after two strings), as EventTimeExtractor reads it
     *  in the Kafka Streams peer; `fallback` when the bytes are not even that. */
    static long eventTime(byte[] b, long fallback) {
        if (b == null) return fallback;
        try {
            int[] pos = {0};
            for (int i = 0; i < 2; i++) {
                long len = varint(b, pos);
                if (len < 0 || len > b.length - pos[0]) return fallback;
                pos[0] += (int) len;
            }
            long t = varint(b, pos);
            return t >= 0 ? t : fallback;
        } catch (RuntimeException e) {
            return fallback;
        }
    }

    private static long varint(byte[] b, int[] pos) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte x = b[pos[0]++];
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) return (v >>> 1) ^ -(v & 1);
        }
        throw new IllegalArgumentException("varint too long");
    }

    /** FlinkOut -> Kafka record; dead letters carry repute's four headers. */
    static final class Serializer implements KafkaRecordSerializationSchema<FlinkOut> {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final boolean crc32;

        Serializer(String topic, boolean crc32) {
            this.topic = topic;
            this.crc32 = crc32;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(FlinkOut o, KafkaSinkContext ctx, Long ts) {
            byte[] key = o.key.getBytes(StandardCharsets.UTF_8);
            Integer part = null;
            if (crc32) {
                int[] parts = ctx.getPartitionsForTopic(topic);
                CRC32 c = new CRC32();
                c.update(key);
                part = parts[(int) (c.getValue() % parts.length)];
            }
            RecordHeaders h = new RecordHeaders();
            if (o.error != null) {
                h.add("repute.topic", o.srcTopic.getBytes(StandardCharsets.UTF_8));
                h.add("repute.partition", Integer.toString(o.srcPartition).getBytes(StandardCharsets.UTF_8));
                h.add("repute.offset", Long.toString(o.srcOffset).getBytes(StandardCharsets.UTF_8));
                h.add("repute.error", o.error.getBytes(StandardCharsets.UTF_8));
            }
            return new ProducerRecord<>(topic, part, o.time, key, o.value, h);
        }
    }

    private FlinkMain() {}
}
