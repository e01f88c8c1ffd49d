#!/usr/bin/env python3
"""Writes N synthetic input records as JSON lines for `repute produce`:
every one of A accounts sends at least once, then random accounts;
88% deliveries, 10% hard bounces, 2% complaints, event times 10 ms apart.
A test tool (not part of the product): python3 gen-jsonl.py ACCOUNTS N."""
import sys, random
n_acc=int(sys.argv[1]); n=int(sys.argv[2]); rnd=random.Random(1)
t0=1767225600000
w=sys.stdout.write
for i in range(n):
    a = i % n_acc if i < n_acc else rnd.randrange(n_acc)
    t = t0 + i*10
    r = rnd.random()
    if r < 0.88:
        w('{"type":"delivery","event_id":"e%d","account_id":"acct-%07d","event_time":%d}\n' % (i,a,t))
    elif r < 0.98:
        w('{"type":"bounce","event_id":"e%d","account_id":"acct-%07d","event_time":%d,"bounce_type":"PERMANENT","bounce_subtype":"GENERAL"}\n' % (i,a,t))
    else:
        w('{"type":"complaint","event_id":"e%d","account_id":"acct-%07d","event_time":%d,"feedback_type":"ABUSE"}\n' % (i,a,t))
