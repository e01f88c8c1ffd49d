#!/usr/bin/env python3
"""Writes examples/review-and-pause.jsonl, the example the README replays.

    python3 examples/gen-review-and-pause.py > examples/review-and-pause.jsonl

The story, with examples/review-and-pause.properties (which lowers the
window's minimum volume to 500 and the rate's to 200 so that the example
stays small):

- acme sends cleanly on Monday 2 March 2026 (about 1% hard bounces), then on
  Tuesday mails an old list: its bounce rate passes 5% and a review of
  BOUNCE_RATE starts, ending 7 days later. Wednesday's sending is no
  better. When the review ends on 10 March (the first tick moves the clock
  there) the rate over acme's window is still above 10%: sending is paused.
- acme is linked to acme-marketing (a LINK_ACCOUNT action on 1 March), so
  the pause gives acme-marketing a RELATED_ACCOUNT report, a kind that a
  person must decide on: it waits for an end-of-review decision.
- globex's messages hit spamtraps three times on 4 March (the SPAMTRAP
  threshold is 3): a review starts. The owner submits a remediation on 5
  March, which moves the end of the review to 7 days after it; with no new
  hits by then (the second tick, on 13 March), globex is healthy again.
- initech sends cleanly all along and never appears in the output.
- hooli sends for two tenants (docs/rules.md section 10): its receipts go
  out cleanly, but on Tuesday its promotions tenant mails a bought list.
  The promotions stream's bounce rate passes 5% and its own review starts;
  when that review ends on 10 March the stream's rate is still above 10%
  and the tenant alone is paused. hooli's rate over all of its sending
  stays near 2.5%, so the account stays healthy and its receipts go on.

The output is deterministic: a fixed random seed, and records sorted by
time (ties keep their order of creation).
"""

import random
import sys
from datetime import datetime, timedelta, timezone

rng = random.Random(20260302)
records = []  # (time, sequence, dict)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def add(t, rec):
    records.append((t, len(records), rec))


counters = {}


def next_id(prefix):
    counters[prefix] = counters.get(prefix, 0) + 1
    return "%s-%06d" % (prefix, counters[prefix])


def day(d, hour=0, minute=0, second=0):
    return datetime(2026, 3, d, hour, minute, second, tzinfo=timezone.utc)


def sending(account, domain, start, hours, delivered, hard, soft,
            tenant=None):
    """Spreads one day's sending over `hours` hours from `start`: delivered
    messages, hard bounces (no such user) and soft bounces (mailbox full),
    shuffled together; `tenant` names the stream they belong to (None: the
    account's own sending, and no "tenant" key is written)."""
    extra = {"tenant": tenant} if tenant else {}
    outcomes = ["d"] * delivered + ["h"] * hard + ["s"] * soft
    rng.shuffle(outcomes)
    step = hours * 3600.0 / len(outcomes)
    for i, kind in enumerate(outcomes):
        sent = start + timedelta(seconds=int(i * step + rng.random() * step))
        msg = next_id("m-" + account)
        rcpt = "user%05d@%s" % (rng.randrange(100000), domain)
        if kind == "d":
            add(sent + timedelta(seconds=rng.randrange(1, 30)), {
                "type": "delivery",
                "event_id": next_id("d-" + account),
                "account_id": account,
                "event_time": None,
                "message_id": msg,
                "recipient": rcpt,
                **extra,
            })
        else:
            hard_bounce = kind == "h"
            add(sent + timedelta(seconds=rng.randrange(1, 120)), {
                "type": "bounce",
                "event_id": next_id("b-" + account),
                "account_id": account,
                "event_time": None,
                "message_id": msg,
                "recipient": rcpt,
                "sent_time": iso(sent),
                "bounce_type": "PERMANENT" if hard_bounce else "TRANSIENT",
                "bounce_subtype": "NO_EMAIL" if hard_bounce else "MAILBOX_FULL",
                "diagnostic": "550 5.1.1 user unknown" if hard_bounce
                else "452 4.2.2 mailbox full",
                **extra,
            })


# acme: a clean Monday, an old list on Tuesday, no better on Wednesday.
add(day(1, 10), {
    "type": "action", "event_id": "act-acme-1", "account_id": "acme",
    "event_time": None, "action": "LINK_ACCOUNT",
    "related_account_id": "acme-marketing",
    "note": "same owner, same payment method",
})
sending("acme", "example.com", day(2, 8), 10, delivered=500, hard=6, soft=4)
sending("acme", "example.org", day(3, 8), 10, delivered=420, hard=80, soft=5)
sending("acme", "example.org", day(4, 9), 6, delivered=150, hard=25, soft=2)

# globex: clean sending, three spamtrap hits, a remediation.
sending("globex", "example.net", day(2, 9), 9, delivered=70, hard=0, soft=1)
sending("globex", "example.net", day(3, 9), 9, delivered=65, hard=1, soft=0)
sending("globex", "example.net", day(4, 9), 9, delivered=60, hard=0, soft=1)
for n, (h, m) in enumerate([(9, 15), (13, 40), (16, 5)], start=1):
    add(day(4, h, m), {
        "type": "report", "event_id": "rep-globex-%d" % n,
        "account_id": "globex", "event_time": None, "kind": "SPAMTRAP",
        "incidents": 1, "domain": "news.globex.example",
        "reporter": "trap-network-7",
        "detail": "message to a spamtrap address",
    })
add(day(5, 10), {
    "type": "action", "event_id": "act-globex-1", "account_id": "globex",
    "event_time": None, "action": "REMEDIATION_SUBMITTED",
    "issue": "SPAMTRAP",
    "note": "removed the purchased list segment; confirmed opt-in from now on",
})

# initech: healthy all along.
for d in (2, 3, 4):
    sending("initech", "example.edu", day(d, 7), 12, delivered=100, hard=1,
            soft=1)

# The clock moves on with nobody sending: past acme's review end, then past
# globex's. The ticks serve `repute replay`; `repute run` skips ticks, and
# under clock=event each partition's clock follows its own records, so a
# few late deliveries from each account carry every partition past the
# review ends too (initech's land in whichever partition it hashes to).
add(day(10, 12), {"type": "tick", "time": None})
add(day(13, 0), {"type": "tick", "time": None})
for acct, domain in (("acme", "example.com"), ("globex", "example.org"),
                     ("initech", "example.edu"), ("acme-marketing",
                                                  "example.com")):
    sending(acct, domain, day(13, 6), 1, delivered=2, hard=0, soft=0)

# hooli: clean receipts every day; a bought list on Tuesday in the
# promotions stream, and worse on Wednesday. (Written after the others, so
# that their records, drawn from the same random sequence, stay as they
# were before hooli joined the example.)
for d in (2, 3, 4):
    sending("hooli", "example.com", day(d, 6), 14, delivered=600, hard=2,
            soft=2, tenant="receipts")
sending("hooli", "example.net", day(2, 10), 4, delivered=150, hard=1, soft=1,
        tenant="promotions")
sending("hooli", "example.net", day(3, 10), 4, delivered=170, hard=30,
        soft=2, tenant="promotions")
sending("hooli", "example.net", day(4, 10), 4, delivered=80, hard=20, soft=1,
        tenant="promotions")
sending("hooli", "example.com", day(13, 6), 1, delivered=2, hard=0, soft=0,
        tenant="receipts")

records.sort(key=lambda r: (r[0], r[1]))
out = sys.stdout
for t, _, rec in records:
    key = "time" if rec["type"] == "tick" else "event_time"
    rec[key] = iso(t)
    fields = []
    for k, v in rec.items():
        if isinstance(v, str):
            v = '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')
        fields.append('"%s":%s' % (k, v))
    out.write("{" + ",".join(fields) + "}\n")
