#!/usr/bin/env python3
"""Turns the raw results of bench/run.sh (OUT/*.json) into the Markdown table of BENCHMARKS.md
and OUT/converge.dat for the plot. Usage: report.py OUT "10 100 1000 10000"."""
import json
import os
import statistics
import sys

out, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split()]


def load(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def ms(x):
    return f"{x * 1e3:.3g} ms" if x < 1 else f"{x:.3g} s"


def us(x):  # microseconds in
    return ms(x / 1e6)


rows = []  # figure, result, spread, anchor, ratio, goal, verdict


def row(*cells):
    rows.append(cells)


machine = {}
with open(os.path.join(out, "machine.txt")) as f:
    for line in f:
        k, _, v = line.strip().partition("=")
        machine[k] = v

# Converge: operator vs ip -batch vs manual, all sizes; the table shows 1,000 (or the largest).
dat = []
conv = {}
estimated = set()  # manual anchor timed on its last 1,000 VIPs and scaled
for n in sizes:
    c = load(f"converge-{n}.json")
    m = load(f"converge-manual-{n}.json")
    scale = 1
    if not m:
        m, scale = load(f"converge-manual-tail-{n}.json"), n / 1000
        estimated.add(n)
    if not c or not m:
        continue
    times = {r["command"]: r["times"] for r in c["results"]}
    times["manual"] = [t * scale for t in m["results"][0]["times"]]
    conv[n] = times
    dat.append((n, *(statistics.median(times[k]) * 1e3 for k in ("operator", "ip-batch", "manual"))))
with open(os.path.join(out, "converge.dat"), "w") as f:
    f.write("# vips operator_ms ip_batch_ms manual_ms (medians)\n")
    for d in dat:
        f.write(" ".join(f"{x:g}" for x in d) + "\n")

key_n = 1000 if 1000 in conv else max(conv, default=None)
for n in sorted(conv):
    t = conv[n]
    op, ib, man = (statistics.median(t[k]) for k in ("operator", "ip-batch", "manual"))
    spread = f"{ms(min(t['operator']))} – {ms(max(t['operator']))} ({len(t['operator'])} runs)"
    star = " **(goal figure)**" if n == key_n else ""
    row(f"converge {n:,} VIPs vs `ip -batch`{star}", ms(op), spread,
        f"{ms(ib)} ({ms(min(t['ip-batch']))} – {ms(max(t['ip-batch']))})", f"{op / ib:.2f}×",
        "≤ 1.0×", "met" if op <= ib else f"missed by {op / ib - 1:.0%}")
    est = ", estimated: last 1,000 VIPs timed × n/1,000" if n in estimated else ""
    row(f"converge {n:,} VIPs vs one process per command{star}", ms(op), "",
        f"{ms(man)} ({ms(min(t['manual']))} – {ms(max(t['manual']))}, {len(t['manual'])} runs{est})",
        f"{man / op:.1f}× faster", "≥ 20× faster", "met" if man / op >= 20 else f"missed: {man / op:.1f}×")

p = load("passes.json")
if p:
    n = p["present"]
    a = p["add_one_us"]
    row(f"add 1 VIP with {n:,} present: whole pass (observe, diff, apply, verify)", us(statistics.median(a)),
        f"{us(min(a))} – {us(max(a))} ({len(a)} trials)", "", "", "≤ 1 ms",
        "met" if statistics.median(a) <= 1000 else f"missed: {statistics.median(a) / 1000:.0f}×")
    row(f"add 1 VIP with {n:,} present: netlink requests per pass", str(p["add_one_requests"]),
        f"of which {p['add_one_writes']} writes", "", "", "O(1)", "met" if p["add_one_requests"] <= 12 else "missed")
    ap = p["apply_one_us"]
    row(f"add 1 VIP with {n:,} present: the kernel write alone (RtnlKernel::Apply)", us(statistics.median(ap)),
        f"{us(min(ap))} – {us(max(ap))}", "", "", f"{p['apply_one_requests']} requests, 1 round trip", "")
    r = p["resync_us"]
    row(f"full resync, {n:,} VIPs, nothing to do", us(statistics.median(r)),
        f"{us(min(r))} – {us(max(r))}; {statistics.median(r) * 1e3 / n:.0f} ns per VIP", "", "",
        "no writes; time per VIP", f"{p['resync_writes']} writes, {p['resync_requests']} requests (dumps)")
    o = p["observe_us"]
    row(f"  of which the netlink dumps (Observe)", us(statistics.median(o)), f"{us(min(o))} – {us(max(o))}",
        "", "", "", "")

for kind in ("address", "route"):
    d = load(f"drift-{kind}.json")
    if not d:
        continue
    s = d["repair_us"]
    p99 = pct(s, 99)
    row(f"drift repair, {kind} deleted by someone else ({d['vips']:,} VIPs)", f"p50 {us(pct(s, 50))}",
        f"p99 {us(p99)}, max {us(max(s))} ({len(s)} trials, {d['timeouts']} lost)", "", "", "p99 ≤ 10 ms",
        "met" if p99 <= 10000 and not d["timeouts"] else f"missed: p99 {p99 / 10000:.1f}× the goal")

d = load("arp.json")
if d and d["repair_us"]:
    s = d["repair_us"]
    row("drift repair, conf/all.arp_ignore reset to 0 (resync period 2 s)", us(statistics.median(s)),
        f"max {us(max(s))} ({len(s)} trials)", "", "", "≤ resync period (2 s)",
        "met" if max(s) <= 2.1e6 and not d["timeouts"] else "missed")

idle = load("idle.json")
if idle:
    w, tck = idle["window_s"], idle["clk_tck"]
    op, ne = idle["operator"], idle["node_exporter"]
    op_cpu, ne_cpu = op["cpu_ticks"] / tck, ne["cpu_ticks"] / tck
    row(f"RSS with {idle['vips']:,} VIPs (after the drift trials)", f"{op['rss_kib'] / 1024:.1f} MiB", "",
        f"node_exporter {ne['rss_kib'] / 1024:.1f} MiB", f"{op['rss_kib'] / ne['rss_kib']:.2f}×",
        "≤ 16 MiB and below node_exporter",
        "met" if op["rss_kib"] <= 16384 and op["rss_kib"] < ne["rss_kib"] else "missed")
    row(f"idle CPU over {w} s, {idle['vips']:,} VIPs, extrapolated to 10 min", f"{op_cpu * 600 / w:.2f} s",
        f"{op_cpu:.2f} s measured in {w} s (10 ms ticks)", f"node_exporter {ne_cpu * 600 / w:.2f} s (unscraped)",
        "", "≤ 1 s per 10 min", "met" if op_cpu * 600 / w <= 1 else f"missed: {op_cpu * 600 / w:.1f} s")

plan = load("plan.json")
if plan:
    best = {}
    for b in plan["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        best[b["run_name"]] = b
    for name, b in best.items():
        if "per_vip" not in b:
            continue
        row(f"pure: {name.replace('BM_', '')}", f"{b['per_vip'] * 1e9:.0f} ns per VIP (CPU)",
            f"{b['cpu_time']:.4g} {b['time_unit']} CPU per call, {b['real_time']:.4g} wall", "", "",
            "linear or better", "")

mt = load("metrics.json")
if mt:
    s_ = mt["scrape_s"]
    p99 = pct(s_, 99)
    row(f"/metrics scrape with {mt['vips']:,} VIPs ({mt['bytes']:,} bytes)", f"p50 {ms(pct(s_, 50))}",
        f"p99 {ms(p99)}, max {ms(max(s_))} ({len(s_)} scrapes)", "", "", "p99 ≤ 5 ms",
        "met" if p99 <= 0.005 else f"missed: p99 {p99 / 0.005:.1f}× the goal")
not_measured = [] if mt or machine.get("kube_only") == "1" else \
    [("/metrics scrape p99 with 1,000 VIPs", "this build has no --metrics-bind-address")]

# ---- Kubernetes figures (bench/kube_figures.sh) ----
kube_skipped = (load("kube.json") or {}).get("skipped")


def server_side(d):
    """Per trial and node: seconds from the API server receiving the create (audit log) to the
    address; from its answer to the address; and the create itself (received -> answered)."""
    creates = (load("kube-steady.json") or {}).get("creates", {})
    recv, done, server = [], [], []
    for t in d["trials"]:
        c = creates.get(f"bench-{t.get('tag')}")
        if not c or "t0_unix_us" not in t:
            continue
        server.append(c[1] - c[0])
        for x in t["address_us"]:
            if x is not None:
                at = t["t0_unix_us"] / 1e6 + x / 1e6
                recv.append(at - c[0])
                done.append(at - c[1])
    return recv, done, server


def apply_rows(name, what, goal_p50, goal_p99):
    d = load(name)
    if not d:
        return
    addr = [t["address_us"][0] / 1e6 for t in d["trials"] if t["address_us"][0] is not None]
    lost = sum(1 for t in d["trials"] if t["address_us"][0] is None)
    exit_ = [t["command_exit_us"] / 1e6 for t in d["trials"]]
    p50, p99 = pct(addr, 50), pct(addr, 99)
    goal = f"p50 ≤ {ms(goal_p50)}, p99 ≤ {ms(goal_p99)}" if goal_p50 else ""
    verdict = ""
    if goal_p50:
        verdict = "met" if p50 <= goal_p50 and p99 <= goal_p99 and not lost else \
            f"missed: p50 {p50 / goal_p50:.1f}×, p99 {p99 / goal_p99:.1f}× the goal"
    row(what, f"p50 {ms(p50)}", f"p99 {ms(p99)}, min {ms(min(addr))}, max {ms(max(addr))} ({len(addr)} trials, {lost} lost)",
        f"{d['trials'] and 'command exits: p50 ' + ms(pct(exit_, 50))}", "", goal, verdict)
    # The same trials seen from the API server (audit log, same host clock): from when it received
    # the create, and from when it answered it (stored in etcd), to the address on the node.
    recv, done, server = server_side(d)
    if recv:
        row("  of which: API server received the create → address (audit log)", f"p50 {ms(pct(recv, 50))}",
            f"p99 {ms(pct(recv, 99))}; the create itself (received → answered, etcd write): p50 {ms(pct(server, 50))}; "
            f"answered → address: p50 {pct(done, 50) * 1e3:.3g} ms (negative: the watch event beat the HTTP answer)",
            "", "", "", "")


apply_rows("kube-apply-kubectl.json", "`kubectl apply` of a VirtualIP → address on the node (timed from kubectl's start)",
           0.050, 0.200)
apply_rows("kube-apply-curl.json", "HTTPS POST (curl) of a VirtualIP → address on the node (timed from curl's start)",
           None, None)

for fname, how in (("kube-fleet.json", "`kubectl apply`"), ("kube-fleet-curl.json", "HTTPS POST (curl)")):
    f = load(fname)
    if not f:
        continue
    per_node = [x / 1e6 for t in f["trials"] for x in t["address_us"] if x is not None]
    lost = sum(1 for t in f["trials"] for x in t["address_us"] if x is None)
    last = [max(x for x in t["address_us"] if x is not None) / 1e6 for t in f["trials"] if any(t["address_us"])]
    p99 = pct(per_node, 99)
    row(f"fleet: {how} of a VirtualIP → address on each of {f['nodes']} nodes (per node)",
        f"p50 {ms(pct(per_node, 50))}",
        f"p99 {ms(p99)}, max {ms(max(per_node))} ({len(f['trials'])} VirtualIPs × {f['nodes']} nodes, {lost} lost); "
        f"last node per VirtualIP: median {ms(statistics.median(last))}",
        f"command exits: p50 {ms(pct([t['command_exit_us'] / 1e6 for t in f['trials']], 50))}", "", "p99 ≤ 1 s",
        "met" if p99 <= 1 and not lost else f"missed: p99 {p99:.2f} s")
    recv, done, server = server_side(f)
    if recv:
        creates = (load("kube-steady.json") or {}).get("creates", {})
        start = [creates[f"bench-{t['tag']}"][0] - t["t0_unix_us"] / 1e6 for t in f["trials"] if f"bench-{t['tag']}" in creates]
        row("  of which: API server received the create → address, per node (audit log)", f"p50 {ms(pct(recv, 50))}",
            f"p99 {ms(pct(recv, 99))}, max {ms(max(recv))}; the create itself (received → answered): p50 {ms(pct(server, 50))}, "
            f"max {ms(max(server))}; before it, the command's start → API server received: p50 {ms(pct(start, 50))}, "
            f"max {ms(max(start))}", "", "", "", "")
        odd = set((load("kube-fleet-extra.json") or {}).get("before_nodes") or [])
        if odd:  # FLEET_BEFORE_BIN on the odd-numbered nodes, this build on the even ones
            for label, keep in (("this build, even nodes", lambda i: i + 1 not in odd), ("FLEET_BEFORE_BIN, odd nodes", lambda i: i + 1 in odd)):
                xs = [x / 1e6 for t in f["trials"] for i, x in enumerate(t["address_us"]) if x is not None and keep(i)]
                row(f"  of which: {label}", f"p50 {ms(pct(xs, 50))}", f"p99 {ms(pct(xs, 99))}, max {ms(max(xs))}", "", "", "", "")
        first = [min(x for x in t["address_us"] if x is not None) / 1e6 for t in f["trials"] if any(t["address_us"])]
        row("  of which: first node / last node per VirtualIP (from the command's start)",
            f"median {ms(statistics.median(first))} / {ms(statistics.median(last))}",
            "per VirtualIP: " + ", ".join(f"{ms(a)}–{ms(b)}" for a, b in zip(first, last)), "", "", "", "")

fx = load("kube-fleet-extra.json")
if fx:
    nodes, tck, trials = fx["nodes"], fx["clk_tck"], fx["trials"]
    # READY: the summariser's status.ready reads N/N, from the watch (bench/vip_ready_watch.py).
    creates = (load("kube-steady.json") or {}).get("creates", {})
    for fname, how in (("kube-fleet.json", "`kubectl apply`"), ("kube-fleet-curl.json", "HTTPS POST (curl)")):
        f = load(fname)
        if not f:
            continue
        from_start, from_recv, missing = [], [], 0
        for t in f["trials"]:
            name = f"bench-{t['tag']}"
            r = fx["ready"]["names"].get(name, {}).get("ready_unix")
            if r is None:
                missing += 1
                continue
            from_start.append(r - t["t0_unix_us"] / 1e6)
            if name in creates:
                from_recv.append(r - creates[name][0])
        if not from_start:
            row(f"fleet: {how} → the summariser's READY {nodes}/{nodes} (`kubectl get vip`)", "never", f"{missing} of {len(f['trials'])} VirtualIPs not ready in time", "", "", "reported", "")
            continue
        extra = f"; from the API server receiving the create: median {ms(statistics.median(from_recv))}" if from_recv else ""
        row(f"fleet: {how} → the summariser's READY {nodes}/{nodes} (`kubectl get vip`, from a watch)",
            f"median {ms(statistics.median(from_start))}",
            f"min {ms(min(from_start))}, max {ms(max(from_start))} ({len(from_start)} VirtualIPs, {missing} never){extra}; "
            "the holder summarises at most once per 10 s period", "", "", "reported", "")
    # CPU per VirtualIP event: utime+stime of the operators, kube-apiserver and etcd over the trials.
    c, ps = fx["cpu"], fx.get("passes")
    before_nodes = set(fx.get("before_nodes") or [])
    groups = [("", [i for i in range(nodes) if i + 1 not in before_nodes])]
    if before_nodes:  # FLEET_BEFORE_BIN: the odd-numbered nodes ran another build (the anchor)
        groups = [(" (this build, even nodes)", groups[0][1]), (" (FLEET_BEFORE_BIN, odd nodes)", [i - 1 for i in sorted(before_nodes)])]
    for a, b, pa, pb, how in (("before", "after_kubectl", "before", "after_kubectl", "`kubectl apply`"),
                              ("before_curl" if "before_curl" in c else "after_kubectl", "after_curl", "after_kubectl",
                               "after_curl", "HTTPS POST (curl)")):
        api, etcd = (c[b][k] - c[a][k] for k in ("apiserver", "etcd"))
        for label, idx in groups:
            ops = [c[b]["operators"][i] - c[a]["operators"][i] for i in idx]
            per_event = sum(ops) / tck / (len(idx) * trials)
            passes = ""
            if ps and all(ps[pa][i] is not None and ps[pb][i] is not None for i in idx):
                passes = f"; full passes per VirtualIP per node: {statistics.mean(ps[pb][i] - ps[pa][i] for i in idx) / trials:.1f}"
            row(f"fleet: operator CPU per VirtualIP during the {how} trials{label} ({trials} VirtualIPs × {len(idx)} nodes)",
                f"{per_event * 1e3:.1f} ms per operator",
                f"these {len(idx)} operators: {sum(ops) / tck:.2f} s for {trials} VirtualIPs ({sum(ops) / tck / trials:.2f} s each); "
                f"busiest operator {max(ops) / tck:.2f} s (10 ms ticks){passes}",
                f"kube-apiserver {api / tck:.2f} s, etcd {etcd / tck:.2f} s over the same trials", "", "", "")

st = load("kube-steady.json")
if st:
    w, tck, nodes = st["window_s"], st["clk_tck"], st["fleet_nodes"]
    op, ne = st["operator"], st["node_exporter"]
    op_cpu, ne_cpu = op["cpu_ticks"] / tck, ne["cpu_ticks"] / tck
    row(f"RSS, Kubernetes mode, {st['vips']:,} VIPs, end of the {w:.0f} s window", f"{op['rss_kib'] / 1024:.1f} MiB",
        f"{op['threads']} threads" if "threads" in op else "",
        f"node_exporter {ne['rss_kib'] / 1024:.1f} MiB", f"{op['rss_kib'] / ne['rss_kib']:.2f}×",
        "≤ 16 MiB and below node_exporter",
        "met" if op["rss_kib"] <= 16384 and op["rss_kib"] < ne["rss_kib"] else
        f"missed: {op['rss_kib'] / 1024:.1f} MiB")
    row(f"idle CPU over {w:.0f} s, Kubernetes mode, {st['vips']:,} VIPs", f"{op_cpu:.2f} s",
        f"{op_cpu * 600 / w:.2f} s per 10 min (10 ms ticks)", f"node_exporter {ne_cpu:.2f} s (scraped once, before)", "",
        "≤ 1 s per 10 min", "met" if op_cpu * 600 / w <= 1 else f"missed: {op_cpu * 600 / w:.1f} s per 10 min")

    def reqs(ip):
        return st["requests"].get(ip, {})

    def summary(c):
        return ", ".join(f"{n} {k}" for k, n in sorted(c.items(), key=lambda kv: -kv[1])) or "none"

    sc = reqs(st["steady_ip"])
    writes = sum(n for k, n in sc.items() if k.split()[0] in ("create", "update", "patch", "delete"))
    watches = sum(n for k, n in sc.items() if k.startswith("watch "))
    holder = st.get("lease_holder", "")
    row(f"API requests at steady state, {st['vips']:,} VIPs, {w / 60:.1f} min (audit log), node `steady`",
        f"{sum(sc.values())} requests", summary(sc) + f"; open watches at the end: {summary(st['open_watches'].get(st['steady_ip'], {}))}",
        "", "", "1 watch (plus reconnects), 0 writes",
        "met" if writes == 0 and watches == sum(sc.values()) else
        f"missed: {sum(sc.values()) - watches} requests besides watches, {writes} writes"
        + (" (this node holds the summariser Lease)" if holder == "steady" else ""))
    fleet_ips = st.get("fleet_ips") or [f"198.51.100.{10 + i}" for i in range(1, nodes + 1)]
    per_min = [sum(reqs(ip).values()) * 60 / w for ip in fleet_ips]
    everyone, fleet_all = {}, {}
    for ip in fleet_ips + [st["steady_ip"], st["trial_ip"]]:
        for k, n in reqs(ip).items():
            everyone[k] = everyone.get(k, 0) + n
            if ip in fleet_ips:
                fleet_all[k] = fleet_all.get(k, 0) + n
    row(f"fleet: API requests per node per minute at steady state ({nodes} nodes, {w / 60:.1f} min)",
        f"{statistics.median(per_min):.2f}", f"{min(per_min):.2f} – {max(per_min):.2f}; all {nodes + 2} operators together: "
        + summary(everyone) + f" ({sum(everyone.values()) / w:.2f} requests/s; Lease holder: {holder or '?'})",
        "", "", "reported", "")
    row(f"  of which, per fleet node per minute, by verb and resource",
        ", ".join(f"{n * 60 / w / nodes:.3g} {k}" for k, n in sorted(fleet_all.items(), key=lambda kv: -kv[1])) or "none",
        f"the {nodes} fleet nodes (followers{', the Lease holder among them' if holder.startswith('fleet-') else ''})",
        "", "", "", "")
    holder_ip = {"steady": st["steady_ip"], "trial": st["trial_ip"]}.get(holder)
    if holder.startswith("fleet-") and holder[6:].isdigit() and int(holder[6:]) <= len(fleet_ips):
        holder_ip = fleet_ips[int(holder[6:]) - 1]
    followers = [ip for ip in fleet_ips + [st["steady_ip"], st["trial_ip"]] if ip != holder_ip]
    besides = {ip: sum(n for k, n in reqs(ip).items() if not k.startswith("watch ")) for ip in followers}
    fwrites = sum(n for ip in followers for k, n in reqs(ip).items() if k.split()[0] in ("create", "update", "patch", "delete"))
    worst = max(besides.values()) * 600 / w if besides else 0
    row(f"fleet: requests besides watches per follower per 10 min at steady state ({len(followers)} followers)",
        f"max {worst:.2g}", f"median {statistics.median(besides.values()) * 600 / w:.2g}; "
        f"{sum(1 for v in besides.values() if v)} of {len(followers)} followers sent any; writes by followers: {fwrites}",
        "", "", "≤ 1 per node per 10 min, 0 writes",
        "met" if worst <= 1 and fwrites == 0 else f"missed: max {worst:.2g} per 10 min, {fwrites} writes")
    fm = st.get("fleet_memory") or {"rss_kib": st.get("fleet_rss_kib_total", 0)}
    pss = f"; sum of Pss (shared library pages counted once): {fm['pss_kib'] / 1024:.0f} MiB, {fm['pss_kib'] / 1024 / nodes:.1f} MiB per node" \
        if "pss_kib" in fm else ""
    row(f"fleet: memory of {nodes} operators (sum of VmRSS, end of the window)",
        f"{fm['rss_kib'] / 1024:.0f} MiB", f"{fm['rss_kib'] / 1024 / nodes:.1f} MiB per node{pss}", "", "", "", "")
    fc = st.get("fleet_cpu")
    if fc:
        ops = [b - a for a, b in zip(fc["t0"]["operators"], fc["t1"]["operators"])]
        row(f"fleet: idle CPU of {nodes} operators over the {w:.0f} s window",
            f"{sum(ops) / tck:.2f} s", f"per node: median {statistics.median(ops) / tck * 600 / w:.2f} s per 10 min, max "
            f"{max(ops) / tck * 600 / w:.2f} s (10 ms ticks); kube-apiserver {(fc['t1']['apiserver'] - fc['t0']['apiserver']) / tck:.1f} s, "
            f"etcd {(fc['t1']['etcd'] - fc['t0']['etcd']) / tck:.1f} s over the window (with everything else the suite runs)",
            "", "", "", "")
    b = st["bytes"]
    fleet_vips = sum(len((load(n) or {}).get("trials", [])) for n in ("kube-fleet.json", "kube-fleet-curl.json"))
    row(f"bytes per object (`kubectl get -o json`): VirtualIP with 1 address; RealServer of a fleet node ({fleet_vips} VIPs); "
        f"of node steady ({st['vips']:,} VIPs)", f"{b['virtualip_1_address']:,} B", f"{b['realserver_1_vip']:,} B; "
        f"{b.get('realserver_%d_vips' % st['vips'], 0):,} B", "", "", "", "")
elif kube_skipped:
    for fig in ("`kubectl apply` → address present", "API requests at steady state", "fleet simulation"):
        not_measured.append((fig, "skipped: " + kube_skipped))

# ---- the summariser with N RealServers (bench/summariser_scale.sh) ----
sc = load("summariser.json")
if sc and "after" in sc:
    n, a, b4 = sc["nodes"], sc["after"], sc.get("before")

    def peak(r):  # MiB, the process's VmHWM at the last reading
        return max(r[k]["memory"].get("VmHWM", 0) for k in ("to_failed", "to_ready")) / 1024

    def lat(r):
        return [r[k]["ready_after_last_patch_s"] for k in ("to_failed", "to_ready")]

    tk = (sc.get("takeover") or {}).get("memory", {}).get("VmHWM", 0) / 1024
    hwm = max(peak(a), tk)
    row(f"summariser with {n:,} RealServers (10 VirtualIPs × 100 addresses each): peak memory of the agent holding the Lease (VmHWM)",
        f"{hwm:.1f} MiB", f"{peak(a):.1f} MiB having watched them come and flip, {tk:.1f} MiB taking over (one list of all); "
        f"{a['memory_before'].get('VmRSS', 0) / 1024:.1f} MiB before the RealServers were written",
        f"before this change, taking over and flipping: {peak(b4):.1f} MiB" if b4 else "",
        f"{hwm / peak(b4):.2f}×" if b4 else "", "≤ 64 MiB", "met" if hwm <= 64 else f"missed: {hwm:.1f} MiB")
    la = lat(a)
    ok = all(0 <= x <= 15 for x in la)
    row(f"summariser: lg-0 flipped on all {n:,} nodes, last node's PATCH answered → READY right (0/N, then N/N)",
        f"{max(la):.1f} s", " / ".join(f"{x:.1f} s" for x in la) + f"; the {n:,} PATCHes took "
        + " / ".join(f"{a[k]['patch_s']:.0f} s" for k in ("to_failed", "to_ready")) + " (8 clients)",
        ("before this change: " + " / ".join(f"{x:.1f} s" for x in lat(b4))) if b4 else "", "",
        "≤ 15 s", "met" if ok else "missed: " + " / ".join(f"{x:.1f} s" for x in la))
    for k, what in (("to_failed", "to not ready"), ("to_ready", "back to ready")):
        bb = a["bytes_per_node"][k]
        new, old = bb["bounded"], bb["before"]
        row(f"one VirtualIP changed {what} on {n:,} nodes: RealServer status PATCH bodies into the API server",
            f"{n * new['patch'] / 1e6:.1f} MB", f"{new['patch']:,} B per node; the stored object each watcher receives: "
            f"{new['object']:,} B per node, {n * new['object'] / 1e6:.1f} MB",
            f"before the bounded status: {n * old['patch'] / 1e6:.0f} MB ({old['patch']:,} B per node; object "
            f"{old['object']:,} B)", f"{new['patch'] / old['patch']:.3f}×", "reported", "")

sm = load("storm.json")
if sm:
    tck, sec = sm["clk_tck"], sm["storm_s"]
    storm_cpu, idle_cpu = sm["agent_storm_ticks"] / tck, sm["agent_idle_ticks"] / tck
    ipw, ipo = sum(sm["ip_with_agent_s"]), sum(sm["ip_without_agent_s"])
    row(f"storm: agent CPU while `ip -force -batch` deletes one of its 2 VIPs for {sec} s",
        f"{storm_cpu:.2f} s", f"{sm['repairs']} repairs (10 ms ticks)",
        f"agent idle {sec} s: {idle_cpu:.2f} s; the deleting `ip`: {ipw:.2f} s with the agent, {ipo:.2f} s without",
        f"{storm_cpu / ipw:.2f}× the `ip` process" if ipw else "", "backoff: CPU bounded, not per deletion", "")

for fig, why in not_measured:
    row(fig, "not measured", why, "", "", "", "")

print(f"Run {machine.get('date')} at commit {machine.get('commit')}: {machine.get('nproc')} CPUs "
      f"({machine.get('cpu')}), kernel {machine.get('kernel')}, load average at start {machine.get('loadavg')}"
      f", at the end {machine.get('loadavg_end', '?')}; the suite took {int(machine.get('suite_s', 0)) / 60:.1f} min"
      f"{' — SMOKE RUN, tiny sizes, numbers meaningless' if machine.get('smoke') == '1' else ''}.\n")
print("| figure | result (median) | spread | anchor, same run | ratio | goal | verdict |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(str(c) for c in r) + " |")
