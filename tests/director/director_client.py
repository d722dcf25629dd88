#!/usr/bin/env python3
"""Clients of the director-facing listeners for tests/director (run inside a test namespace).

  agent HOST PORT [LINE]       HAProxy agent-check as HAProxy does it: connect, send LINE + "\\n"
                               when given (agent-send), print everything until the agent closes.
  hold HOST PORT N READY_FILE  open N TCP connections and keep them idle (send nothing); write how
                               many were established to READY_FILE, then sleep until killed.
  stat SOCKET                  HAProxy's `show stat` over its stats socket: "server status" lines.
"""
import resource
import socket
import sys
import time


def agent(host, port, line=None):
    with socket.create_connection((host, int(port)), timeout=5) as s:
        if line is not None:
            s.sendall(line.encode() + b"\n")
        out = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            out += b
    sys.stdout.write(out.decode())


def hold(host, port, n, ready_file):
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(n) + 256, int(n) + 256))
    conns = []
    for _ in range(int(n)):
        conns.append(socket.create_connection((host, int(port)), timeout=5))
    with open(ready_file + ".tmp", "w") as f:
        f.write(str(len(conns)))
    import os
    os.rename(ready_file + ".tmp", ready_file)
    while True:
        time.sleep(60)


def stat(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b"show stat\n")
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    for line in data.decode().splitlines():
        f = line.split(",")
        if line.startswith("#") or len(f) < 18:
            continue
        print(f[1], f[17])


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"agent": agent, "hold": hold, "stat": stat}[cmd](*args)
