#!/usr/bin/env python3
"""The converge workload of N VIPs as bench/run.sh feeds it to each contender, in WORK:

  vips-N.yaml          one VirtualIP per address, for the operator
  batch-N.txt/.sh      `ip -batch` of every address and host route, then the sysctls
  manual-N.sh          one `ip` / `sysctl` process per command, as a manual procedure would
  head-N.txt, manual-tail-N.sh   above 1,000 VIPs: the first N-1,000 as a batch (set up, not
                       timed) and the manual commands of the last 1,000 (timed; report.py scales)

Usage: write_workload.py N WORK
"""
import ipaddress, sys
n, work = int(sys.argv[1]), sys.argv[2]
ips = [str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("198.18.0.1")) + i)) for i in range(n)]
sysctls = [f"net.ipv4.conf.{c}.{k}={v}" for c in ("all", "default", "lo") for k, v in (("arp_ignore", 1), ("arp_announce", 2))]
with open(f"{work}/vips-{n}.yaml", "w") as f:
    for i, ip in enumerate(ips):
        f.write(f"---\napiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata:\n  name: vip-{i}\nspec:\n  addresses: [\"{ip}\"]\n")
with open(f"{work}/batch-{n}.txt", "w") as f:
    for ip in ips:
        f.write(f"addr add {ip}/32 dev lo label lo:lvsrs\nroute add {ip}/32 dev lo proto 245\n")
with open(f"{work}/batch-{n}.sh", "w") as f:
    f.write(f"ip -batch {work}/batch-{n}.txt\n")
    for s in sysctls:
        key, v = s.split("=")
        f.write(f"echo {v} > /proc/sys/{key.replace('.', '/')}\n")
def manual(path, part):
    with open(path, "w") as f:
        f.write("set -e\n")
        for ip in part:
            f.write(f"ip addr add {ip}/32 dev lo label lo:lvsrs\nip route add {ip}/32 dev lo proto 245\n")
        for s in sysctls:
            f.write(f"sysctl -q -w {s}\n")
manual(f"{work}/manual-{n}.sh", ips)
if n > 1000:
    # Above 1,000 the manual way takes minutes per run here: time its last 1,000 commands pairs
    # (with the first n-1,000 VIPs already present) and scale by n/1,000 (report.py).
    with open(f"{work}/head-{n}.txt", "w") as f:
        for ip in ips[:-1000]:
            f.write(f"addr add {ip}/32 dev lo label lo:lvsrs\nroute add {ip}/32 dev lo proto 245\n")
    manual(f"{work}/manual-tail-{n}.sh", ips[-1000:])
