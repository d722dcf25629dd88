#!/usr/bin/env python3
"""Counts the operators' API requests in the steady-state window from the kube-apiserver audit log
(JSON lines, policy level Metadata), per node (the request's source IP: every node namespace has its
own address on the control plane's bridge) and per verb and resource. A request counts when the API
server received it inside the window (requestReceivedTimestamp; one auditID may log several stages).
Watches still open at the end of the window (no ResponseComplete yet) are listed too:
a watch opened before the window and still running costs nothing inside it.

Also records when the API server received and answered each VirtualIP create (the trials), so that
"object created -> address on the node" can be told apart from the client's own start-up.

Usage: kube_audit.py AUDIT_LOG STEADY_JSON  ->  STEADY_JSON's fields plus "requests", "open_watches",
"creates".
"""
import collections
import datetime
import json
import sys

OPERATOR = "system:serviceaccount:lvs-rs-operator:lvs-rs-operator"


def epoch(ts):  # "2026-11-26T01:02:03.456789Z"
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


log_path, steady_path = sys.argv[1], sys.argv[2]
with open(steady_path) as f:
    steady = json.load(f)
t0, t1 = steady["t0"], steady["t1"]

seen = {}  # auditID -> (ip, what, received)
started, completed = set(), set()
creates = {}  # VirtualIP name -> [received, completed], unix seconds
with open(log_path) as f:
    for line in f:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e["verb"] == "create" and e["stage"] == "ResponseComplete" and \
                e.get("objectRef", {}).get("resource") == "virtualips" and e.get("responseStatus", {}).get("code") == 201:
            # The trials' VirtualIPs (kubectl or curl, as admin): when the API server received the
            # create and when it answered (the object is in etcd and on its way to the watchers).
            creates[e["objectRef"]["name"]] = [epoch(e["requestReceivedTimestamp"]), epoch(e["stageTimestamp"])]
        if e.get("user", {}).get("username") != OPERATOR:
            continue
        aid = e["auditID"]
        ref = e.get("objectRef", {})
        what = e["verb"] + " " + ref.get("resource", e.get("requestURI", "?"))
        if ref.get("subresource"):
            what += "/" + ref["subresource"]
        seen[aid] = ((e.get("sourceIPs") or ["?"])[0], what, epoch(e["requestReceivedTimestamp"]))
        if e["verb"] == "watch":  # 1.20 logs RequestReceived, then ResponseComplete when it ends
            started.add(aid)
        if e["stage"] in ("ResponseComplete", "Panic"):
            completed.add(aid)

requests = collections.defaultdict(collections.Counter)
before = collections.defaultdict(collections.Counter)  # before the window: start-up and the trials
open_watches = collections.defaultdict(collections.Counter)
for aid, (ip, what, received) in seen.items():
    if t0 <= received < t1:
        requests[ip][what] += 1
    elif received < t0:
        before[ip][what] += 1
    if aid in started and aid not in completed and received < t1:
        open_watches[ip][what] += 1
steady["requests"] = {ip: dict(c) for ip, c in sorted(requests.items())}
steady["requests_before_window"] = {ip: dict(c) for ip, c in sorted(before.items())}
steady["open_watches"] = {ip: dict(c) for ip, c in sorted(open_watches.items())}
steady["creates"] = creates
print(json.dumps(steady))
