#!/usr/bin/env python3
"""The LVS-DR lab's HTTP traffic, each mode one process the lab starts by pid and stops with SIGTERM.

  serve  --name rs1 [--port 80]        a real server's responder: answers every GET with its name,
                                       HTTP/1.1 keep-alive, IPv4 and IPv6 (bound to ::)
  stream --host VIP [--interval 0.05] --out FILE
                                       a steady stream of new requests, each a new TCP connection
                                       (a new source port, so the director schedules each afresh)
  hold   --host VIP --want rs1 [--interval 0.2] --out FILE
                                       one long-lived keep-alive connection that landed on the real
                                       server --want names (it reconnects until one does, before its
                                       first counted request), then a request on it every interval

stream and hold report counters, never logs: FILE is rewritten (atomically) after every request.
  stream: "rs1 N", "rs2 N", "failed N", "last_error TEXT" lines
  hold:   "server rs1", "ok N", "state open|closed|reset|no-answer|eof|refused", "detail TEXT"
hold closes its connection cleanly (FIN) on SIGTERM or SIGUSR1 and then reports "state closed";
a broken connection ends the requests and is reported, the process then waits for SIGTERM.
"""
import argparse
import http.server
import os
import signal
import socket
import sys
import time

REQUEST_TIMEOUT_S = 2.0


def write_counters(path, lines):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("".join(f"{k} {v}\n" for k, v in lines))
    os.replace(tmp, path)


def connect(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(REQUEST_TIMEOUT_S)
    s.connect((host, port))
    return s


def read_response(sock, buffered=b""):
    """One HTTP response with a Content-Length (or up to EOF); returns (body, rest)."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError("connection closed by the server before a response")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return rest, b""
            rest += chunk
    while len(rest) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError("connection closed by the server mid-response")
        rest += chunk
    status = head.split(b"\r\n", 1)[0]
    if b" 200 " not in status + b" ":
        raise OSError(f"HTTP status {status.decode(errors='replace')}")
    return rest[:length], rest[length:]


def request(host, keep_alive):
    hdr = "Connection: keep-alive\r\n" if keep_alive else "Connection: close\r\n"
    return f"GET / HTTP/1.1\r\nHost: {host}\r\n{hdr}\r\n".encode()


def serve(args):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the lab's long-lived connections

        def do_GET(self):
            body = (args.name + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *unused):
            pass

    class DualStack(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6
        daemon_threads = True

        def server_bind(self):
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            super().server_bind()

    DualStack(("::", args.port), Handler).serve_forever()


def stream(args):
    counts = {"rs1": 0, "rs2": 0, "failed": 0}
    last_error = "none"
    while True:
        started = time.monotonic()
        try:
            with connect(args.host, args.port) as s:
                s.sendall(request(args.host, keep_alive=False))
                body, _ = read_response(s)
            name = body.decode(errors="replace").strip()
            counts[name] = counts.get(name, 0) + 1
        except (OSError, EOFError) as e:
            counts["failed"] += 1
            last_error = f"{type(e).__name__}: {e}".replace("\n", " ")
        write_counters(args.out, list(counts.items()) + [("last_error", last_error)])
        time.sleep(max(0.0, args.interval - (time.monotonic() - started)))


def hold(args):
    closing = []
    signal.signal(signal.SIGTERM, lambda *_: closing.append(1))
    signal.signal(signal.SIGUSR1, lambda *_: closing.append(1))
    report = {"server": "none", "ok": 0, "state": "connecting", "detail": "-"}

    def publish():
        write_counters(args.out, report.items())

    publish()
    sock, rest = None, b""
    for _ in range(args.tries):
        try:
            sock = connect(args.host, args.port)
            sock.sendall(request(args.host, keep_alive=True))
            body, rest = read_response(sock)
        except (OSError, EOFError) as e:
            report["detail"] = f"{type(e).__name__}: {e}"
            sock = None
            time.sleep(args.interval)
            continue
        if body.decode(errors="replace").strip() == args.want:
            break
        sock.close()
        sock = None
    if sock is None:
        report["state"] = "refused"
        report["detail"] = f"no connection landed on {args.want} in {args.tries} tries"
        publish()
        signal.pause()
        return
    report.update(server=args.want, ok=1, state="open", detail="-")
    publish()
    while not closing:
        time.sleep(args.interval)
        if closing:
            break
        try:
            sock.sendall(request(args.host, keep_alive=True))
            body, rest = read_response(sock, rest)
            report["ok"] += 1
            report["server"] = body.decode(errors="replace").strip()
        except ConnectionResetError as e:
            report.update(state="reset", detail=str(e))
        except socket.timeout:
            report.update(state="no-answer", detail=f"no answer within {REQUEST_TIMEOUT_S} s")
        except (OSError, EOFError) as e:
            report.update(state="eof" if isinstance(e, EOFError) else "reset", detail=str(e))
        publish()
        if report["state"] != "open":
            while not closing:
                signal.pause()
            return
    sock.close()  # a clean close: FIN, the real server's socket leaves ESTABLISHED
    report["state"] = "closed"
    publish()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--name", required=True)
    s.add_argument("--port", type=int, default=80)
    s = sub.add_parser("stream")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, default=80)
    s.add_argument("--interval", type=float, default=0.05)
    s.add_argument("--out", required=True)
    s = sub.add_parser("hold")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, default=80)
    s.add_argument("--want", required=True)
    s.add_argument("--interval", type=float, default=0.2)
    s.add_argument("--tries", type=int, default=20)
    s.add_argument("--out", required=True)
    args = p.parse_args()
    {"serve": serve, "stream": stream, "hold": hold}[args.mode](args)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
