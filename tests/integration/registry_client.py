#!/usr/bin/env python3
"""An independent client of Kafka and the schema registry for
tests/integration/test_registry.c: Python's confluent-kafka with its
AvroSerializer and AvroDeserializer, which is what a Confluent-style
pipeline around repute runs.

  produce  writes JSON lines (repute's input format, docs/input.md) to the
           input topics, each record serialized by AvroSerializer with a
           variant of repute's schema, registered under <topic>-value:
             exact         repute's schema as it is;
             newer         an optional field added (second, so that the
                           fields after it move);
             older         the last field that has a default left out;
             incompatible  Delivery without message_id, which has no
                           default: repute cannot read it.
           It appends to --effective the lines as repute should see them
           (older: the field left out, so that replay gives it its default;
           incompatible: nothing, since those records go to the DLQ), and
           prints the schema ids it used.
  read     reads the status topic with AvroDeserializer and compares every
           event with the expected JSON lines (repute replay's output):
           the same events per account and sequence, field for field.
  reject   registers, under --subject, a ReputationEvent that repute's
           cannot read (one required field of its own), and sets the
           subject's compatibility to BACKWARD: repute's registration must
           then be rejected.
  proxy    a TCP relay from 127.0.0.1:PORT to the registry, which the test
           kills to make the registry unreachable for repute only.
"""
import argparse
import copy
import datetime
import json
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "..", "schemas")
TYPES = {  # JSON "type" -> (schema file, topic suffix)
    "delivery": ("Delivery", "deliveries"),
    "bounce": ("Bounce", "bounces"),
    "complaint": ("Complaint", "complaints"),
    "report": ("Report", "reports"),
    "action": ("Action", "actions"),
}


def load_schema(name):
    with open(os.path.join(SCHEMAS, name + ".avsc")) as f:
        return json.load(f)


def variant(schema, how):
    """The writer schema of a variant, and the field it leaves out."""
    s = copy.deepcopy(schema)
    dropped = None
    if how == "newer":
        s["fields"].insert(1, {"name": "trace_id", "type": ["null", "string"],
                               "default": None})
    elif how == "older":
        for i in range(len(s["fields"]) - 1, -1, -1):
            if "default" in s["fields"][i]:
                dropped = s["fields"].pop(i)["name"]
                break
    elif how == "incompatible":
        s["fields"] = [f for f in s["fields"] if f["name"] != "message_id"]
    return s, dropped


def millis(v):
    if isinstance(v, str):
        t = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
        return int(t.timestamp() * 1000)
    return v


def is_time(ftype):
    if isinstance(ftype, dict):
        return ftype.get("logicalType") == "timestamp-millis"
    if isinstance(ftype, list):
        return any(is_time(t) for t in ftype)
    return False


def datum(schema, line):
    """The Avro datum of a JSON line for the writer schema."""
    d = {}
    for f in schema["fields"]:
        if f["name"] in line:
            v = line[f["name"]]
            d[f["name"]] = millis(v) if is_time(f["type"]) and v is not None else v
        elif f["name"] == "trace_id":
            d[f["name"]] = "trace-" + line["event_id"]
        elif "default" in f:
            d[f["name"]] = f["default"]
        else:
            # What repute's JSON reader gives a field left out of a line
            # (FIELD_DEFAULT in src/codec/jsonl_read.c).
            d[f["name"]] = {"string": "", "long": 0, "int": 0,
                            "boolean": False}.get(
                f["type"] if isinstance(f["type"], str) else "", None)
            if isinstance(f["type"], dict) and f["type"].get("type") == "array":
                d[f["name"]] = []
    return d


def produce(a):
    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import (MessageField,
                                               SerializationContext)
    sr = SchemaRegistryClient({"url": a.registry})
    p = Producer({"bootstrap.servers": a.bootstrap, "enable.idempotence": True,
                  "linger.ms": 5})
    sers, ids = {}, {}
    failed = []
    eff = open(a.effective, "a")
    n = 0
    for raw in open(a.input):
        line = json.loads(raw)
        if line["type"] not in TYPES:
            continue  # ticks
        name, suffix = TYPES[line["type"]]
        how = a.variant
        if how == "incompatible" and name != "Delivery":
            how = "exact"
        if name not in sers:
            schema, dropped = variant(load_schema(name), how)
            sers[name] = (AvroSerializer(sr, json.dumps(schema),
                                         conf={"auto.register.schemas": True}),
                          schema, dropped)
        ser, schema, dropped = sers[name]
        topic = a.prefix + "." + suffix
        value = ser(datum(schema, line),
                    SerializationContext(topic, MessageField.VALUE))
        ids[name] = int.from_bytes(value[1:5], "big")
        p.produce(topic, key=line["account_id"].encode(), value=value,
                  on_delivery=lambda e, m: e and failed.append(e))
        p.poll(0)
        n += 1
        if how != "incompatible":
            if dropped:
                line.pop(dropped, None)
            eff.write(json.dumps(line) + "\n")
    eff.close()
    left = p.flush(60)
    if left or failed:
        sys.exit("produce: %d not delivered, %d failed: %s" %
                 (left, len(failed), failed[:3]))
    print(json.dumps({"variant": a.variant, "records": n, "ids": ids}))


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def plain(v):
    """A deserialized datum as repute's JSON writes it: timestamp-millis
    (a datetime to fastavro) as milliseconds since the epoch."""
    if isinstance(v, datetime.datetime):
        return (v - EPOCH) // datetime.timedelta(milliseconds=1)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def read(a):
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import (MessageField,
                                               SerializationContext)
    sr = SchemaRegistryClient({"url": a.registry})
    de = AvroDeserializer(sr)
    want = {}
    for raw in open(a.expected):
        e = json.loads(raw)
        want[(e["account_id"], e["sequence"])] = e
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": "unused",
                  "enable.auto.commit": False,
                  "isolation.level": "read_committed",
                  "enable.partition.eof": True})
    md = c.list_topics(a.topic, timeout=30).topics[a.topic]
    c.assign([TopicPartition(a.topic, p, 0) for p in md.partitions])
    got, eofs, last = {}, set(), time.time()
    ids = set()
    while time.time() - last < 5 or len(eofs) < len(md.partitions):
        m = c.poll(0.5)
        if m is None:
            if time.time() - last > 60:
                break
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                eofs.add(m.partition())
            continue
        last = time.time()
        ids.add(int.from_bytes(m.value()[1:5], "big"))
        e = plain(de(m.value(),
                     SerializationContext(a.topic, MessageField.VALUE)))
        got[(e["account_id"], e["sequence"])] = e
    c.close()
    bad = 0
    for k, e in want.items():
        g = got.get(k)
        if g is None or g != e:
            bad += 1
            if bad <= 5:
                print("read: %s: expected %s\n            got %s" %
                      (k, json.dumps(e), json.dumps(g)), file=sys.stderr)
    extra = [k for k in got if k not in want]
    print(json.dumps({"events": len(got), "expected": len(want),
                      "different": bad, "extra": len(extra),
                      "ids": sorted(ids)}))
    sys.exit(1 if bad or extra else 0)


def reject(a):
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    sr = SchemaRegistryClient({"url": a.registry})
    other = {"type": "record", "name": "ReputationEvent",
             "namespace": "repute.v1",
             "fields": [{"name": "only_this", "type": "string"}]}
    sid = sr.register_schema(a.subject, Schema(json.dumps(other), "AVRO"))
    sr.set_compatibility(subject_name=a.subject, level="BACKWARD")
    print(json.dumps({"subject": a.subject, "id": sid}))


def relay(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def proxy(a):
    host, port = a.to.rsplit(":", 1)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(16)
    print("proxy: listening on %d" % a.port, flush=True)
    while True:
        c, _ = ls.accept()
        u = socket.create_connection((host, int(port)))
        threading.Thread(target=relay, args=(c, u), daemon=True).start()
        threading.Thread(target=relay, args=(u, c), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("produce")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--registry", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--effective", required=True)
    p.add_argument("--variant", required=True,
                   choices=["exact", "newer", "older", "incompatible"])
    r = sub.add_parser("read")
    r.add_argument("--bootstrap", required=True)
    r.add_argument("--registry", required=True)
    r.add_argument("--topic", required=True)
    r.add_argument("--expected", required=True)
    j = sub.add_parser("reject")
    j.add_argument("--registry", required=True)
    j.add_argument("--subject", required=True)
    x = sub.add_parser("proxy")
    x.add_argument("--port", type=int, required=True)
    x.add_argument("--to", required=True)
    a = ap.parse_args()
    {"produce": produce, "read": read, "reject": reject,
     "proxy": proxy}[a.cmd](a)


if __name__ == "__main__":
    main()
