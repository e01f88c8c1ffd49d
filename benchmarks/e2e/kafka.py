"""The broker, as the harness sees it: topics, offsets and cleanup.

The harness never produces or consumes itself (the C tools and the systems
under test do); it only asks the broker questions through confluent-kafka's
admin client. Three of them carry the measurements: the end offsets of the
input topics before a run (the finish line), the consumer group's committed
offsets (a run is over when they reach the finish line on every partition,
which means output, changelog and offsets were all committed), and whether a
fresh topic's partitions answer a ListOffsets yet (a produce right after
creation can be lost otherwise, KAFKA-15591). Offsets are listed with a
fresh admin client each time, because librdkafka's cached metadata can keep
saying "no leader" for topics created after the cache was filled.

Cleanup is best effort: topics and groups under a prefix are deleted at the
end of each part of the run and of the run itself, and failures other than
the benign ones (already deleted; a Kafka Streams member still in its group)
are logged, not raised, so that cleanup never hides the run's own error.
"""
import time

from .common import log


class Kafka:
    def __init__(self, bootstrap):
        from confluent_kafka.admin import AdminClient
        self.bs = bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap,
                                  "log_level": 4})

    def close(self):
        pass

    def create_topics(self, specs, partitions):
        """specs: {name: config dict}. Creates them, then waits until every
        partition answers a ListOffsets (KAFKA-15591, docs/run.md)."""
        from confluent_kafka.admin import NewTopic
        new = [NewTopic(n, num_partitions=partitions, replication_factor=1,
                        config=c) for n, c in specs.items()]
        for name, fut in self.admin.create_topics(new, request_timeout=30).items():
            fut.result()
        deadline = time.monotonic() + 30
        for name in specs:
            self._answers(name, partitions, deadline)

    def _list_offsets(self, tps, spec="latest"):
        # A fresh client: librdkafka's admin client, once its metadata cache
        # was filled by a full list_topics, can keep answering "no leaders"
        # for topics created after it, for tens of seconds.
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import AdminClient, OffsetSpec
        admin = AdminClient({"bootstrap.servers": self.bs, "log_level": 4})
        req = {TopicPartition(t, p): getattr(OffsetSpec, spec)() for t, p in tps}
        futs = admin.list_offsets(req, request_timeout=10)
        return {(tp.topic, tp.partition): f.result().offset
                for tp, f in futs.items()}

    def _answers(self, topic, partitions, deadline):
        while True:
            try:
                self._list_offsets([(topic, p) for p in range(partitions)])
                return
            except Exception:  # noqa: BLE001 - not ready yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def end_offsets(self, topics, partitions):
        return self._list_offsets([(t, p) for t in topics
                                   for p in range(partitions)])

    def committed(self, group, tps):
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
        req = ConsumerGroupTopicPartitions(
            group, [TopicPartition(t, p) for (t, p) in tps])
        fut = self.admin.list_consumer_group_offsets(
            [req], require_stable=False, request_timeout=10)[group]
        res = fut.result()
        return {(tp.topic, tp.partition): tp.offset for tp in res.topic_partitions}

    def wait_committed(self, group, target, timeout, procs, interval=0.1):
        """Waits until the group's committed offsets reach `target` on every
        partition. Returns the monotonic time it was first seen."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            t = time.monotonic()
            try:
                c = self.committed(group, target.keys())
                # A partition that holds nothing gets no committed offset.
                if all(off <= 0 or c.get(tp, -1) >= off
                       for tp, off in target.items()):
                    return t
                last = c
            except Exception as e:  # noqa: BLE001 - coordinator not ready
                last = str(e)
            for pr in procs:
                if not pr.alive():
                    raise RuntimeError(f"{pr.name} exited {pr.p.returncode} "
                                       f"before finishing:\n{pr.tail()}")
            if t > deadline:
                raise RuntimeError(f"group {group}: offsets not committed "
                                   f"within {timeout} s; last {last}")
            time.sleep(interval)

    @staticmethod
    def _settle(futures, benign, what):
        """Waits for admin futures; logs failures other than `benign`."""
        for _, f in futures.items():
            try:
                f.result()
            except Exception as e:  # noqa: BLE001
                if benign not in str(e):
                    log(f"{what}: {e}")

    def delete_prefix(self, prefix):
        try:
            md = self.admin.list_topics(timeout=10)
            names = [t for t in md.topics if t.startswith(prefix)]
            if names:
                # UNKNOWN_TOPIC: already going.
                self._settle(self.admin.delete_topics(
                    names, operation_timeout=30), "UNKNOWN_TOPIC",
                    "delete topic")
            groups = []
            try:
                res = self.admin.list_consumer_groups(request_timeout=10).result()
                groups = [g.group_id for g in res.valid
                          if g.group_id.startswith(prefix)]
            except Exception as e:  # noqa: BLE001
                log(f"list groups: {e}")
            if groups:
                # NON_EMPTY_GROUP: Kafka Streams does not leave its group on
                # close; the member lingers until its session times out.
                self._settle(self.admin.delete_consumer_groups(
                    groups, request_timeout=30), "NON_EMPTY_GROUP",
                    "delete group")
            log(f"deleted {len(names)} topics and {len(groups)} groups "
                f"under {prefix}")
        except Exception as e:  # noqa: BLE001 - cleanup is best effort
            log(f"cleanup of {prefix}: {e}")
