#!/usr/bin/env python3
"""End to end with a schema registry: `repute run` over deliveries written
with repute's own Delivery schema, beside the same run over the same
deliveries written with an evolved one (issue 14's "Measure": two fields
added, one removed that has a default, the fields reordered). The target
is the evolved run within 10% of the exact one.

Both streams are written once, by Python's confluent-kafka AvroSerializer
through the registry, to two sets of input topics (4 partitions each;
only the deliveries topic holds records). Each round starts `repute run`
with a fresh group, changelog and outputs (clock=event, from the
beginning), polls its /metrics every 50 ms, and takes the rate between
the first poll that sees deliveries consumed and the one that sees them
all: the decoding, merge, engine and transactions of the records, without
the start-up. The rounds alternate
exact and evolved (CONTRIBUTING.md, "Benchmarks"), and the medians are
compared, with their spread.

  build/venv-registry/bin/python benchmarks/registry_e2e.py \\
      --repute build-rel/repute --registry URL [--records 400000] [--rounds 5]
"""
import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "schemas", "Delivery.avsc")
INPUTS = ["deliveries", "bounces", "complaints", "reports", "actions"]


def evolved(schema):
    """Two fields added, feedback_loop (default true) removed, reordered."""
    f = {x["name"]: x for x in schema["fields"]}
    out = dict(schema)
    out["fields"] = [
        f["account_id"], f["event_id"],
        {"name": "trace_id", "type": "string"},
        f["event_time"], f["recipient"], f["message_id"],
        {"name": "region", "type": ["null", "string"], "default": None},
        f["sent_time"], f["verified_recipient"], f["simulator"],
    ]
    return out


def produce(a, prefix, schema, n):
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext
    admin = AdminClient({"bootstrap.servers": a.bootstrap})
    fs = admin.create_topics([NewTopic("%s.%s" % (prefix, t), 4, 1)
                              for t in INPUTS])
    for f in fs.values():
        f.result()
    topic = prefix + ".deliveries"
    ser = AvroSerializer(SchemaRegistryClient({"url": a.registry}),
                         json.dumps(schema))
    ctx = SerializationContext(topic, MessageField.VALUE)
    p = Producer({"bootstrap.servers": a.bootstrap, "linger.ms": 20,
                  "batch.num.messages": 10000, "enable.idempotence": True})
    rnd = random.Random(14)
    t0 = 1_700_000_000_000
    for i in range(n):
        acct = "acct-%d" % rnd.randrange(a.accounts)
        d = {"event_id": "e-%d" % i, "account_id": acct,
             "event_time": t0 + i * 10, "message_id": "m-%d" % i,
             "recipient": "r%d@example.com" % (i % 9973), "sent_time": None,
             "verified_recipient": False, "simulator": False,
             "feedback_loop": True, "trace_id": "t-%d" % i, "region": "eu"}
        while True:
            try:
                p.produce(topic, key=acct.encode(), value=ser(d, ctx))
                break
            except BufferError:
                p.poll(0.1)
        if i % 10000 == 0:
            p.poll(0)
    if p.flush(120):
        sys.exit("produce: not everything was delivered")


def consumed(port, topic):
    try:
        body = urllib.request.urlopen(
            "http://127.0.0.1:%d/metrics" % port, timeout=2).read().decode()
    except OSError:
        return -1
    m = re.search(r'repute_records_consumed_total\{topic="%s"\} (\d+)'
                  % re.escape(topic), body)
    return int(m.group(1)) if m else -1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def one_round(a, prefix, n, k, tmp):
    port = free_port()
    run = "%s-r%d-%d" % (prefix, k, os.getpid())
    props = os.path.join(tmp, run + ".properties")
    with open(props, "w") as f:
        f.write("kafka.bootstrap.servers = %s\n" % a.bootstrap)
        f.write("avro.framing = confluent\nschema.registry.url = %s\n"
                % a.registry)
        f.write("group.id = %s\nclock = event\ntopics.create = true\n" % run)
        f.write("http.listen = 127.0.0.1:%d\nlog.level = warn\n" % port)
        for t in INPUTS:
            f.write("topic.%s = %s.%s\n" % (t, prefix, t))
        for t in ["status", "dlq", "changelog"]:
            f.write("topic.%s = %s.%s\n" % (t, run, t))
    log = open(os.path.join(tmp, run + ".log"), "w")
    proc = subprocess.Popen([a.repute, "run", "--config", props],
                            stdout=log, stderr=log)
    topic = prefix + ".deliveries"
    first = last = None
    c0 = 0
    deadline = time.time() + 600
    while time.time() < deadline:
        c = consumed(port, topic)
        now = time.monotonic()
        if c > 0 and first is None:
            first, c0 = now, c
        if c >= n:
            last = now
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    if last is None or last == first:
        sys.exit("round %s: repute did not consume %d records over two "
                 "polls (see %s; more --records?)" % (run, n, log.name))
    # The records consumed between the first poll that saw some and the
    # one that saw them all, over the time between the two.
    return (n - c0) / (last - first)


def cleanup(a, base):
    """Deletes every topic this run made (inputs and the rounds')."""
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": a.bootstrap})
    names = [t for t in admin.list_topics(timeout=30).topics
             if t.startswith(base + "-")]
    if names:
        for f in admin.delete_topics(names).values():
            try:
                f.result()
            except Exception as e:  # best effort
                print("cleanup: %s" % e, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repute", required=True)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--bootstrap", default="127.0.0.1:9092")
    ap.add_argument("--records", type=int, default=400000)
    ap.add_argument("--accounts", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    with open(SCHEMA) as f:
        exact = json.load(f)
    base = "bench-reg-%d" % os.getpid()
    streams = {"exact": (base + "-exact", exact),
               "evolved": (base + "-evolved", evolved(exact))}
    for name, (prefix, schema) in streams.items():
        t = time.time()
        produce(a, prefix, schema, a.records)
        print("produced %d %s deliveries in %.1f s" %
              (a.records, name, time.time() - t), file=sys.stderr)
    rates = {"exact": [], "evolved": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(a.rounds):
            for name in ("exact", "evolved"):
                r = one_round(a, streams[name][0], a.records, k, tmp)
                rates[name].append(r)
                print("round %d %-7s %9.0f records/s" % (k, name, r),
                      file=sys.stderr)
    cleanup(a, base)
    med = {k: statistics.median(v) for k, v in rates.items()}
    out = {"records": a.records, "rounds": a.rounds,
           "exact_median": med["exact"], "evolved_median": med["evolved"],
           "ratio": med["evolved"] / med["exact"],
           "exact": rates["exact"], "evolved": rates["evolved"]}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
