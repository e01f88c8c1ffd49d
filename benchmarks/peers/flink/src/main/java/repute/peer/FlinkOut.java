package repute.peer;

/**
 * One record for a KafkaSink: key, value, the event time it is stamped with, and for a dead
 * letter the headers repute writes (source topic, partition, offset, error); `error` is null
 * for an output event or a RELATED_ACCOUNT report. A Flink POJO, as FlinkRec.
 */
public class FlinkOut {
    public String key;
    public byte[] value;
    public long time;
    public String srcTopic;
    public int srcPartition;
    public long srcOffset;
    public String error;

    public FlinkOut() {}

    static FlinkOut of(String key, byte[] value, long time) {
        FlinkOut o = new FlinkOut();
        o.key = key;
        o.value = value;
        o.time = time;
        return o;
    }
}
