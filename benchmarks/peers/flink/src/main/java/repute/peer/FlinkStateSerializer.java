package repute.peer;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Flink's serializer of an account's state: the Kafka Streams peer's compact binary form
 * (AccountState.StateSerde: varints, delta-coded hours, only non-default issues) behind a
 * length. With the HashMap backend it runs only at checkpoints (state lives as objects on
 * the heap); with RocksDB, on every read and write of the state, as in Kafka Streams.
 */
public final class FlinkStateSerializer extends TypeSerializerSingleton<AccountState> {
    static final FlinkStateSerializer INSTANCE = new FlinkStateSerializer();
    private static final AccountState.StateSerde SERDE = new AccountState.StateSerde();

    @Override public boolean isImmutableType() { return false; }
    @Override public AccountState createInstance() { return new AccountState(); }
    @Override public int getLength() { return -1; }

    @Override
    public AccountState copy(AccountState from) {
        return SERDE.deserialize(null, SERDE.serialize(null, from));
    }

    @Override public AccountState copy(AccountState from, AccountState reuse) { return copy(from); }

    @Override
    public void serialize(AccountState record, DataOutputView target) throws IOException {
        byte[] b = SERDE.serialize(null, record);
        target.writeInt(b.length);
        target.write(b);
    }

    @Override
    public AccountState deserialize(DataInputView source) throws IOException {
        byte[] b = new byte[source.readInt()];
        source.readFully(b);
        return SERDE.deserialize(null, b);
    }

    @Override
    public AccountState deserialize(AccountState reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int n = source.readInt();
        target.writeInt(n);
        target.write(source, n);
    }

    @Override
    public TypeSerializerSnapshot<AccountState> snapshotConfiguration() { return new Snapshot(); }

    /** The snapshot of a serializer without parameters. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<AccountState> {
        public Snapshot() { super(() -> INSTANCE); }
    }
}
