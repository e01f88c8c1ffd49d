"""Unit tests of the equivalence check's pure parts: the merge order the
expected output is replayed in, and the comparison, which must be able to
fail (a check that always passes would let a peer that does less work
through). Run with `python3 -m unittest discover -s benchmarks -p
'test_*.py'` (benchmarks/run.sh --quick does, before the harness).
"""
import copy
import unittest

from e2e.equiv import compare, merge_order


def rec(t, time, eid):
    return {"type": t, "event_id": eid, "account_id": "a", "event_time": time}


def event(acct, seq, time, status="UNDER_REVIEW", cause="BOUNCE_RATE",
          notification=None):
    ev = {"event_id": f"{acct}:{seq}", "account_id": acct, "sequence": seq,
          "event_time": time, "kind": "STATUS_CHANGE",
          "status_change": {"status": status, "cause": cause, "issues": []},
          "notification": None}
    if notification:
        ev["kind"] = "NOTIFICATION"
        ev["status_change"] = None
        ev["notification"] = notification
    return ev


class MergeOrder(unittest.TestCase):
    def test_event_time_then_topic_order(self):
        recs = [rec("action", 5, "x"), rec("delivery", 5, "d"),
                rec("bounce", 3, "b"), rec("delivery", 7, "d2")]
        self.assertEqual([r["event_id"] for r in merge_order(recs)],
                         ["b", "d", "x", "d2"])

    def test_out_of_order_within_a_topic_stays_in_place(self):
        # A redelivered duplicate (time 1 after time 4 in its topic) is not
        # moved before the other topic's time-2 record: repute's task reads
        # each partition in offset order.
        recs = [rec("delivery", 4, "d4"), rec("delivery", 1, "dup"),
                rec("bounce", 2, "b2")]
        self.assertEqual([r["event_id"] for r in merge_order(recs)],
                         ["b2", "d4", "dup"])


class Compare(unittest.TestCase):
    def setUp(self):
        n = {"issue": "BOUNCE_RATE", "stage": "REVIEW_STARTED",
             "title": "t", "why": "w", "actions": ["a"], "rate": 0.1}
        self.exp = {"a": [event("a", 1, 10), event("a", 2, 10, notification=n)],
                    "b": [event("b", 1, 20)]}

    def test_equal(self):
        c = compare(self.exp, copy.deepcopy(self.exp), set())
        self.assertTrue(c["equal"])
        self.assertEqual(c["events_compared"], 3)

    def test_a_changed_time_differs(self):
        got = copy.deepcopy(self.exp)
        got["b"][0]["event_time"] = 21
        c = compare(self.exp, got, set())
        self.assertFalse(c["equal"])
        self.assertEqual(c["first_differences"][0]["account"], "b")

    def test_a_missing_event_differs(self):
        got = copy.deepcopy(self.exp)
        got["a"].pop()
        c = compare(self.exp, got, set())
        self.assertFalse(c["equal"])
        self.assertEqual(c["first_differences"][0]["what"], "missing")

    def test_a_gap_in_sequences_differs(self):
        got = copy.deepcopy(self.exp)
        got["a"][1]["sequence"] = 3
        self.assertFalse(compare(self.exp, got, set())["equal"])

    def test_texts_aside_only_when_asked(self):
        got = copy.deepcopy(self.exp)
        got["a"][1]["notification"]["title"] = "other"
        self.assertFalse(compare(self.exp, got, set(), texts=True)["equal"])
        self.assertTrue(compare(self.exp, got, set(), texts=False)["equal"])
        got["a"][1]["notification"]["rate"] = 0.2
        self.assertFalse(compare(self.exp, got, set(), texts=False)["equal"])

    def test_linked_accounts_exempt_after_related_account(self):
        exp = {"a": [event("a", 1, 10), event("a", 2, 30, cause="RELATED_ACCOUNT")]}
        got = {"a": [event("a", 1, 10), event("a", 2, 35, cause="RELATED_ACCOUNT")]}
        self.assertFalse(compare(exp, got, set())["equal"])
        c = compare(exp, got, {"a"})
        self.assertTrue(c["equal"])
        self.assertEqual(c["exempt"]["events"], 1)
        # ... but not before it.
        got["a"][0]["event_time"] = 11
        self.assertFalse(compare(exp, got, {"a"})["equal"])


if __name__ == "__main__":
    unittest.main()
