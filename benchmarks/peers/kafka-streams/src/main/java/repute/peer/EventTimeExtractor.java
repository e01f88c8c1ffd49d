package repute.peer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Stream time follows event time: every input schema starts with event_id (string),
 * account_id (string), event_time (long), so the extractor skips two strings and reads one
 * zig-zag varint, without decoding the record. Bytes that are not even that fall back to the
 * partition time, so that the processor sees them and sends them to the dead-letter topic.
 */
public final class EventTimeExtractor implements TimestampExtractor {
    @Override
    public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
        if (record.value() instanceof byte[] b) {
            try {
                int[] pos = {0};
                for (int i = 0; i < 2; i++) {
                    long len = varint(b, pos);
                    if (len < 0 || len > b.length - pos[0]) throw new IllegalArgumentException();
                    pos[0] += (int) len;
                }
                long t = varint(b, pos);
                if (t >= 0) return t;
            } catch (RuntimeException e) {
                // fall through
            }
        }
        return partitionTime >= 0 ? partitionTime : Math.max(0, record.timestamp());
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
}
