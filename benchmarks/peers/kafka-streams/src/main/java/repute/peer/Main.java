package repute.peer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.CRC32;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.state.Stores;

/** The command line: builds the topology, checks (or creates) the topics and runs it. */
public final class Main {
    static final String USAGE = """
            usage: java -jar repute-streams-peer.jar --bootstrap HOST:PORT [options]
              --prefix P              topics P.deliveries, P.bounces, P.complaints, P.reports,
                                      P.actions in; P.status out; P.dlq dead letters (default repute)
              --application-id ID     Kafka Streams application.id = consumer group (default repute-streams-peer)
              --output T              output topic (default P.status)
              --dlq T                 dead-letter topic (default P.dlq)
              --threads N             stream threads (default 1)
              --state-dir DIR         state directory (default /tmp/kafka-streams)
              --create-topics N       create the seven topics with N partitions if missing, then run
              --profile textbook|tuned
                                      textbook (default): persistent RocksDB stores, 64 MiB cache,
                                      commit.interval.ms=100, one stream thread; tuned: in-memory
                                      stores (changelogged), a larger cache and commit interval, two
                                      stream threads (README.md, "Tuned")
              --cache-mb N            record cache for all stores, MiB (profile's default)
              --commit-ms N           commit.interval.ms (profile's default)
              --partitioner crc32|murmur2
                                      partitioner of the RELATED_ACCOUNT reports the peer writes to
                                      P.reports: it must match the producers of the input topics
                                      (crc32 = librdkafka's default, used by repute produce; default)
              --window-min-volume N   window.min.volume (default 10000)
              --rate-min-volume N     rate.min.volume (default 1000)
              --config FILE           a repute properties file: its engine keys apply
              --set KEY=VALUE         one engine key (docs/rules.md section 8), e.g. --set review.period=7d
            """;

    /** The tuned profile's defaults: see README.md, "Tuned", for how they were chosen. */
    static final int TUNED_THREADS = 2;
    static final long TUNED_CACHE_MB = 256, TUNED_COMMIT_MS = 100;

    public static void main(String[] argv) throws Exception {
        Settings cfg = new Settings();
        String bootstrap = null, prefix = "repute", appId = "repute-streams-peer", output = null, dlq = null;
        String stateDir = null, partitioner = "crc32";
        int threads = 0, createTopics = 0;
        long cacheMb = -1, commitMs = -1;
        boolean tuned = false;
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
                    case "--threads" -> threads = Integer.parseInt(v);
                    case "--state-dir" -> stateDir = v;
                    case "--create-topics" -> createTopics = Integer.parseInt(v);
                    case "--cache-mb" -> cacheMb = Long.parseLong(v);
                    case "--commit-ms" -> commitMs = Long.parseLong(v);
                    case "--profile" -> {
                        if (!v.equals("textbook") && !v.equals("tuned"))
                            throw new IllegalArgumentException("--profile: textbook or tuned");
                        tuned = v.equals("tuned");
                    }
                    case "--partitioner" -> {
                        if (!v.equals("crc32") && !v.equals("murmur2"))
                            throw new IllegalArgumentException("--partitioner: crc32 or murmur2");
                        partitioner = v;
                    }
                    case "--window-min-volume" -> cfg.set("window.min.volume", v, false);
                    case "--rate-min-volume" -> cfg.set("rate.min.volume", v, false);
                    case "--config" -> cfg.load(v);
                    case "--set" -> {
                        int eq = v.indexOf('=');
                        if (eq <= 0) throw new IllegalArgumentException("--set KEY=VALUE");
                        cfg.set(v.substring(0, eq).trim(), v.substring(eq + 1).trim(), false);
                    }
                    default -> throw new IllegalArgumentException("unknown option " + a);
                }
            }
            if (bootstrap == null) throw new IllegalArgumentException("--bootstrap is required");
            if (threads == 0) threads = tuned ? TUNED_THREADS : 1;
            if (cacheMb < 0) cacheMb = tuned ? TUNED_CACHE_MB : 64;
            if (commitMs < 0) commitMs = tuned ? TUNED_COMMIT_MS : 100;
            if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1");
        } catch (IllegalArgumentException e) {
            System.err.println("peer: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        if (output == null) output = prefix + ".status";
        if (dlq == null) dlq = prefix + ".dlq";

        // Input topic -> record type (Codec.T_*), in the order of docs/rules.md section 2.
        Map<String, Integer> inputs = new LinkedHashMap<>();
        String[] names = {"deliveries", "bounces", "complaints", "reports", "actions"};
        for (int t = 0; t < names.length; t++) inputs.put(prefix + "." + names[t], t);
        String reportsTopic = prefix + ".reports";

        if (!checkTopics(bootstrap, inputs.keySet(), List.of(output, dlq), createTopics)) System.exit(1);

        Topology topology = buildTopology(cfg, inputs, output, reportsTopic, dlq, partitioner, tuned);
        System.err.printf("peer: profile %s, %d stream thread(s), cache %d MiB, commit.interval.ms %d%n",
                tuned ? "tuned" : "textbook", threads, cacheMb, commitMs);

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitMs);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, cacheMb * 1024 * 1024);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
        if (stateDir != null) p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");

        KafkaStreams streams = new KafkaStreams(topology, p);
        CountDownLatch done = new CountDownLatch(1);
        AtomicBoolean announced = new AtomicBoolean(), failed = new AtomicBoolean();
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING && announced.compareAndSet(false, true)) {
                System.out.println("peer: running");
                System.out.flush();
            }
            if (now == KafkaStreams.State.ERROR) {
                failed.set(true);
                done.countDown();
            }
            if (now == KafkaStreams.State.NOT_RUNNING) done.countDown();
        });
        streams.setUncaughtExceptionHandler(e -> {
            System.err.println("peer: stream thread failed: " + e);
            failed.set(true);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        Thread hook = new Thread(() -> {
            streams.close(Duration.ofSeconds(30));
            done.countDown();
        }, "peer-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        streams.start();
        done.await();
        if (failed.get()) {
            streams.close(Duration.ofSeconds(30));
            System.exit(1);
        }
    }

    static Topology buildTopology(Settings cfg, Map<String, Integer> inputs, String output, String reportsTopic,
            String dlq, String partitioner, boolean inMemory) {
        Topology t = new Topology();
        t.addSource(Topology.AutoOffsetReset.EARLIEST, "inputs", new EventTimeExtractor(),
                new StringDeserializer(), new ByteArrayDeserializer(), inputs.keySet().toArray(new String[0]));
        t.addProcessor("repute", () -> new ReputeProcessor(cfg, inputs, inMemory), "inputs");
        // The tuned profile keeps the same three stores in memory. Each is still changelogged
        // (logging is on by default for every builder), so a restart restores it from its
        // changelog and the exactly-once guarantee is the same; only the restore reads the whole
        // changelog instead of a local RocksDB checkpoint.
        t.addStateStore(Stores.keyValueStoreBuilder(inMemory
                ? Stores.inMemoryKeyValueStore(ReputeProcessor.ACCOUNTS)
                : Stores.persistentKeyValueStore(ReputeProcessor.ACCOUNTS),
                Serdes.String(), new AccountState.StateSerde()).withCachingEnabled(), "repute");
        // Retention = the horizon: a key counted at clock c0 is found until c0 + horizon.
        // No record cache on the dedupe and review-end stores: each key is written once, so a
        // cache combines no writes, and ranges over a cached store copy the cache's key range
        // (NamedCache.keyRange builds a TreeSet per fetch): that was most of the CPU in a profile.
        Duration horizon = Duration.ofMillis(cfg.dedupeHorizon);
        if (inMemory) {
            // Not Kafka Streams' in-memory window store: it keeps one map per distinct timestamp,
            // so a fetch over the horizon visits every instant of the last hour (thousands per
            // lookup); that made the tuned profile slower than the textbook one. A key-value
            // store of (account, event id) -> the clock when counted, expired by a punctuator
            // (ReputeProcessor.expireDedupe), is the same rule at one lookup per record.
            t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(ReputeProcessor.DEDUPE_KV),
                    Serdes.Bytes(), Serdes.ByteArray()).withCachingDisabled(), "repute");
        } else {
            t.addStateStore(Stores.windowStoreBuilder(
                    Stores.persistentWindowStore(ReputeProcessor.DEDUPE, horizon, Duration.ofMillis(1), false),
                    Serdes.Bytes(), Serdes.ByteArray()).withCachingDisabled(), "repute");
        }
        t.addStateStore(Stores.keyValueStoreBuilder(inMemory
                ? Stores.inMemoryKeyValueStore(ReputeProcessor.REVIEW_ENDS)
                : Stores.persistentKeyValueStore(ReputeProcessor.REVIEW_ENDS),
                Serdes.Bytes(), Serdes.ByteArray()).withCachingDisabled(), "repute");
        t.addSink(ReputeProcessor.TO_STATUS, output, new StringSerializer(), new ByteArraySerializer(), "repute");
        StreamPartitioner<String, byte[]> related = partitioner.equals("crc32") ? Main::crc32Partition : null;
        t.addSink(ReputeProcessor.TO_REPORTS, reportsTopic, new StringSerializer(), new ByteArraySerializer(),
                related, "repute");
        t.addSink(ReputeProcessor.TO_DLQ, dlq, new StringSerializer(), new ByteArraySerializer(), "repute");
        return t;
    }

    /** librdkafka's default partitioner for keyed records ("consistent_random"): CRC-32 of the
     *  key modulo the partition count. */
    static Optional<Set<Integer>> crc32Partition(String topic, String key, byte[] value, int n) {
        CRC32 c = new CRC32();
        c.update(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return Optional.of(Set.of((int) (c.getValue() % n)));
    }

    /** Creates missing topics when asked, then checks that the five inputs are co-partitioned. */
    static boolean checkTopics(String bootstrap, Set<String> inputs, List<String> outputs, int create)
            throws InterruptedException {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            if (create > 0) {
                List<NewTopic> nt = new ArrayList<>();
                for (String s : inputs) nt.add(new NewTopic(s, Optional.of(create), Optional.empty()));
                for (String s : outputs) nt.add(new NewTopic(s, Optional.of(create), Optional.empty()));
                for (var f : admin.createTopics(nt).values().entrySet()) {
                    try {
                        f.getValue().get();
                    } catch (ExecutionException e) {
                        if (!(e.getCause() instanceof TopicExistsException)) {
                            System.err.println("peer: cannot create " + f.getKey() + ": " + e.getCause().getMessage());
                            return false;
                        }
                    }
                }
            }
            Map<String, TopicDescription> d;
            try {
                d = admin.describeTopics(inputs).allTopicNames().get();
            } catch (ExecutionException e) {
                System.err.println("peer: cannot describe the input topics: " + e.getCause().getMessage());
                return false;
            }
            Map<String, Integer> counts = new HashMap<>();
            for (String s : inputs) counts.put(s, d.get(s).partitions().size());
            if (new java.util.HashSet<>(counts.values()).size() != 1) {
                System.err.println("peer: the input topics are not co-partitioned: " + counts);
                return false;
            }
            return true;
        }
    }

    private Main() {}
}
