#!/usr/bin/env python3
"""A stand-in Kubernetes API server that misbehaves on purpose, for tests/kube/malformed_api_test.cpp.

Why a stand-in: the real kube-apiserver (used by every other kube test) cannot be made to send
truncated JSON, a watch event cut in the middle, objects of the wrong kind, 5xx without a Status
body, or a body that trickles and stalls. This serves just enough of the Kubernetes list/watch
protocol over HTTPS for one lvs-rs-operator agent:

What it implements
  - GET /apis/lvsdr.io/v1alpha1/virtualips?limit=..      a VirtualIPList (one page, no continue)
  - GET /apis/lvsdr.io/v1alpha1/virtualips?watch=1&...   a chunked watch stream: the current
    VirtualIP as MODIFIED, then nothing until timeoutSeconds, then the end of the stream
  - GET /api/v1/nodes?fieldSelector=metadata.name=NODE   a NodeList with NODE (labelled
    lvsdr.io/real-server=true), and its watch (idle until timeoutSeconds)
  - any other GET: 404 with a Status body; POST/PUT/PATCH (RealServer, Events, Lease, status):
    200 echoing the body, so the agent's reporting does not get in the way
  The behaviour of the VirtualIP list and watch is chosen by the first word of MODE_FILE, read on
  every request (the test switches it while the agent runs):
    good | good2 (a second address) | truncated_list | cut_event | wrong_kind | http_500_status |
    http_503_plain | gone | stall | garbage | empty_watch | huge_list (a Content-Length of 100 GiB) |
    endless_list (a chunked list body that never ends) | mistyped (every object the agent reads
    besides the VirtualIP's spec has fields of the wrong type: the Node's uid and a label, the
    VirtualIP's generation and status, the summariser Lease, the RealServers it summarises)
  In mode mistyped the stand-in also serves GET of the Lease and a RealServer list.
  Every request is logged to LOG as "<monotonic seconds> <method> <path>".

What it does not implement
  Authentication and authorisation (any bearer token is accepted), resourceVersion semantics
  (fixed versions; a watch never replays history), paging, label/field selectors other than the
  node's name, bookmarks, protobuf, HTTP/2, and every other resource and verb.
"""
import argparse
import http.server
import json
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

VIP_PATH = "/apis/lvsdr.io/v1alpha1/virtualips"
NODE_PATH = "/api/v1/nodes"
LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/lvs-rs-operator/leases/"
RS_PATH = "/apis/lvsdr.io/v1alpha1/realservers"


def vip(mode):
    addresses = ["192.0.2.80"] + (["192.0.2.81"] if mode == "good2" else [])
    obj = {
        "apiVersion": "lvsdr.io/v1alpha1",
        "kind": "VirtualIP",
        "metadata": {"name": "stand", "uid": "u-stand", "resourceVersion": "101" if mode == "good2" else "100",
                     "generation": 1},
        "spec": {"addresses": addresses, "nodeSelector": {"matchLabels": {"lvsdr.io/real-server": "true"}}},
    }
    if mode == "mistyped":
        obj["metadata"].update({"generation": "one", "resourceVersion": "102"})
        obj["status"] = {"ready": 5, "selectedNodes": "x"}
    return obj


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-apiserver"

    def log_message(self, fmt, *args):  # quiet; requests go to the request log instead
        pass

    def mode(self):
        try:
            with open(self.server.mode_file) as f:
                words = f.read().split()
                return words[0] if words else "good"
        except OSError:
            return "good"

    def record(self):
        with self.server.log_lock:
            self.server.log.write("%.3f %s %s\n" % (time.monotonic(), self.command, self.path))
            self.server.log.flush()

    def send_json(self, code, obj, raw=None):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def start_chunked(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def idle(self, query):
        timeout = int(query.get("timeoutSeconds", ["5"])[0])
        time.sleep(min(max(timeout, 1), 30))

    def abort(self):
        # Close the TCP connection without the terminating chunk.
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(2)
        except OSError:
            pass

    def do_GET(self):
        self.record()
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        watch = query.get("watch", ["0"])[0] in ("1", "true")
        if url.path == NODE_PATH:
            return self.node(query, watch)
        if url.path == VIP_PATH:
            return self.watch_vips(query, self.mode()) if watch else self.list_vips(self.mode())
        if self.mode() == "mistyped" and url.path.startswith(LEASE_PATH):
            return self.send_json(200, {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                                        "metadata": {"name": url.path.rsplit("/", 1)[1], "resourceVersion": "3"},
                                        "spec": {"holderIdentity": 7, "leaseDurationSeconds": "60",
                                                 "renewTime": ["2026"]}})
        if self.mode() == "mistyped" and url.path == RS_PATH and not watch:
            return self.send_json(200, {"apiVersion": "lvsdr.io/v1alpha1", "kind": "RealServerList",
                                        "metadata": {"resourceVersion": "20"},
                                        "items": [{"apiVersion": "lvsdr.io/v1alpha1", "kind": "RealServer",
                                                   "metadata": {"name": "other", "resourceVersion": "20"},
                                                   "status": {"virtualIPs": [{"name": 1, "state": [], "message": 2},
                                                                             "x", {"name": "stand", "state": 5}],
                                                              "conditions": [{"type": 1}], "lastSyncTime": {}}}]})
        self.send_json(404, status(404, "NotFound", "the stand-in serves no " + url.path))

    def node(self, query, watch):
        node = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.server.node, "uid": "u-node", "resourceVersion": "10",
                             "labels": {"lvsdr.io/real-server": "true"}}}
        if not watch:
            return self.send_json(200, {"apiVersion": "v1", "kind": "NodeList", "metadata": {"resourceVersion": "10"},
                                        "items": [node]})
        self.start_chunked()
        if self.mode() == "mistyped":
            node["metadata"].update({"uid": 5, "resourceVersion": "11"})
            node["metadata"]["labels"]["other"] = 3
            self.chunk((json.dumps({"type": "MODIFIED", "object": node}) + "\n").encode())
        self.idle(query)
        self.end_chunked()

    def list_vips(self, mode):
        good = {"apiVersion": "lvsdr.io/v1alpha1", "kind": "VirtualIPList", "metadata": {"resourceVersion": "100"},
                "items": [vip(mode if mode in ("good2", "mistyped") else "good")]}
        body = json.dumps(good).encode()
        if mode == "truncated_list":
            return self.send_json(200, None, raw=body[: len(body) // 2])
        if mode == "wrong_kind":
            return self.send_json(200, {"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {"resourceVersion": "7"},
                                        "items": []})
        if mode == "http_500_status":
            return self.send_json(500, status(500, "InternalError", "etcdserver: request timed out"))
        if mode == "http_503_plain":
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "huge_list":
            # A length no agent should try to buffer; a few bytes, then the connection is held.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(100 << 30))
            self.end_headers()
            self.wfile.write(b'{"kind": "VirtualIPList", "items": [')
            self.wfile.flush()
            time.sleep(30)
            return
        if mode == "endless_list":
            # Valid JSON so far, forever, until the client hangs up.
            self.start_chunked()
            self.chunk(b'{"kind": "VirtualIPList", "items": [')
            try:
                for _ in range(100000):  # 6 GiB: far past any cap
                    self.chunk(b" " * 65536)
            except OSError:
                pass
            self.close_connection = True
            return
        if mode == "stall":
            # The list trickles in, a few bytes at a time, but completes.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), 16):
                self.wfile.write(body[i:i + 16])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.send_json(200, good)

    def watch_vips(self, query, mode):
        event = lambda t, obj: (json.dumps({"type": t, "object": obj}) + "\n").encode()
        if mode in ("truncated_list", "huge_list", "endless_list"):  # make the agent list again
            return self.send_json(410, status(410, "Expired", "too old resource version: 100 (200)"))
        if mode == "http_500_status":
            return self.send_json(500, status(500, "InternalError", "etcdserver: request timed out"))
        if mode == "http_503_plain":
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "gone":
            # Alternately as an HTTP status and as an ERROR event in the stream, as the real
            # server does depending on where the version turned out too old.
            self.server.gone_count += 1
            if self.server.gone_count % 2:
                return self.send_json(410, status(410, "Expired", "too old resource version"))
            self.start_chunked()
            self.chunk(event("ERROR", status(410, "Expired", "too old resource version: 100 (300)")))
            return self.end_chunked()
        if mode == "empty_watch":
            self.start_chunked()
            return self.end_chunked()
        self.start_chunked()
        if mode == "cut_event":
            line = event("MODIFIED", vip("good2"))
            self.chunk(line[: len(line) // 2])
            return self.abort()
        if mode == "wrong_kind":
            self.chunk(event("ADDED", {"apiVersion": "v1", "kind": "ConfigMap",
                                       "metadata": {"name": "stand", "resourceVersion": "8"}, "data": {}}))
            self.idle(query)
            return self.end_chunked()
        if mode == "garbage":
            for line in (b"hello\n", b"\x00\xff\xfe\n", b"[1,2]\n", b'{"type":"ADDED"}\n'):
                self.chunk(line)
            self.idle(query)
            return self.end_chunked()
        if mode == "stall":
            # Headers, then silence far beyond timeoutSeconds: only the client's own timeout
            # can end this stream.
            time.sleep(3600)
            return
        # good, good2: the current object, split across two chunks, then idle until the timeout.
        line = event("MODIFIED", vip(mode))
        self.chunk(line[:10])
        self.chunk(line[10:])
        self.idle(query)
        self.end_chunked()

    def do_write(self):
        self.record()
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if length else b"{}"
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = {}
        if isinstance(obj, dict):
            obj.setdefault("metadata", {}).setdefault("resourceVersion", "1")
        self.send_json(200, obj)

    do_POST = do_write
    do_PUT = do_write
    do_PATCH = do_write


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--mode-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--node", required=True)
    a = p.parse_args()
    srv = Server(("127.0.0.1", a.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.mode_file, srv.node = a.mode_file, a.node
    srv.log, srv.log_lock, srv.gone_count = open(a.log, "a"), threading.Lock(), 0
    print("fake apiserver on https://127.0.0.1:%d" % a.port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
