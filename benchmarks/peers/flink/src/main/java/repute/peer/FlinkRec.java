package repute.peer;

/**
 * One input record between the KafkaSource and the keyed function: the Kafka key, the Avro
 * value, the input topic as a record type (Codec.T_*), the event time read from the value's
 * third field (the watermarks' timestamp), and where it came from (for the dead-letter
 * headers). A Flink POJO (public fields, a public no-argument constructor), so Flink
 * serializes it with its own POJO serializer rather than Kryo.
 */
public class FlinkRec {
    public String key;
    public byte[] value;
    public int type;
    public long time;
    public int partition;
    public long offset;

    public FlinkRec() {}
}
