#!/usr/bin/env python3
"""The summariser's READY as `kubectl get vip NAME` shows it (status.ready, e.g. "200/200"), timed
from a watch on VirtualIPs: bench/kube_figures.sh starts it before the fleet trials, and it records,
for every VirtualIP named, when each status.ready value was first delivered, until each reads WANT
(or the timeout). A watch, not a poll: the time is when the API server's event arrived here, with
no polling interval in it. Run it where the API server is reachable (the control plane's
namespace).

Usage: vip_ready_watch.py SERVER CA_FILE TOKEN WANT NAME[,NAME...] TIMEOUT_S STARTED_FILE
  -> JSON on stdout: {"want": WANT, "names": {NAME: {"statuses": [[unix_s, "x/y"], ...],
     "ready_unix": unix_s or null}}}. STARTED_FILE is created once the watch is open (the trials
     may start then).
"""
import http.client
import json
import ssl
import sys
import time
import urllib.parse

server, ca, token, want, names, timeout, started_file = sys.argv[1:8]
names = [n for n in names.split(",") if n]
deadline = time.time() + float(timeout)
url = urllib.parse.urlparse(server)
ctx = ssl.create_default_context(cafile=ca)
headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
PATH = "/apis/lvsdr.io/v1alpha1/virtualips"

seen = {n: {"statuses": [], "ready_unix": None} for n in names}


def connect():  # the server ends each watch (timeoutSeconds); the socket timeout is a backstop
    return http.client.HTTPSConnection(url.hostname, url.port or 443, context=ctx, timeout=float(timeout) + 30)


def record(obj, now):
    name = obj.get("metadata", {}).get("name")
    if name not in seen:
        return
    ready = (obj.get("status") or {}).get("ready")
    s = seen[name]
    if ready and (not s["statuses"] or s["statuses"][-1][1] != ready):
        s["statuses"].append([now, ready])
    if ready == want and s["ready_unix"] is None:
        s["ready_unix"] = now


conn = connect()
conn.request("GET", PATH + "?limit=500", headers=headers)
listed = json.loads(conn.getresponse().read())
rv = listed["metadata"]["resourceVersion"]
for item in listed.get("items", []):  # already there (none, normally): their current status
    record(item, time.time())

opened = False
while time.time() < deadline and any(s["ready_unix"] is None for s in seen.values()):
    left = max(1, int(deadline - time.time()))
    conn.request("GET", f"{PATH}?watch=1&resourceVersion={rv}&timeoutSeconds={left}", headers=headers)
    resp = conn.getresponse()
    if resp.status != 200:
        sys.exit(f"vip_ready_watch: watch answered {resp.status}: {resp.read()[:200]!r}")
    if not opened:
        open(started_file, "w").close()
        opened = True
    while any(s["ready_unix"] is None for s in seen.values()):
        line = resp.readline()
        if not line:
            break  # the server ended the watch (timeoutSeconds): resume from rv
        now = time.time()
        event = json.loads(line)
        obj = event.get("object", {})
        if event.get("type") == "ERROR":  # 410 Gone: the trials' objects are lost to us; give up
            sys.exit(f"vip_ready_watch: {obj.get('message')}")
        rv = obj.get("metadata", {}).get("resourceVersion", rv)
        if event.get("type") in ("ADDED", "MODIFIED"):
            record(obj, now)
    conn.close()
    conn = connect()

print(json.dumps({"want": want, "names": seen}))
