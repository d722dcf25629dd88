#!/usr/bin/env bash
# LVS-DR lab: proves on the wire, with the real kernel, that lvs-rs-operator makes real servers stop
# answering ARP for the VIP (and, for the IPv6 VIP, neighbour solicitations), that direct-routing
# traffic flows over IPv4 and IPv6 (requests through the director, replies straight from the real
# server to the client), and that a real server drains without dropping a connection.
#
# Topology, all in network namespaces this script creates and deletes (nothing in the host's):
#
#       client 192.0.2.10      director 192.0.2.2 + VIP 192.0.2.100 (on eth0)
#              2001:db8::10             2001:db8::2 + VIP 2001:db8::100
#            |                        |   nft scheduler + health checker + HAProxy agent-check
#   [ br0 in namespace "switch": one veth per host, one L2 segment 192.0.2.0/24, 2001:db8::/64 ]
#            |                        |
#       rs1 192.0.2.11           rs2 192.0.2.12       (VIPs on lo, HTTP responder on :80,
#           2001:db8::11             2001:db8::12      lvs-rs-operator run --file)
#
# This kernel has no IPVS, so the director is an IPVS look-alike: nftables keeps a connection table
# and schedules new connections by weight over the real servers its health checker finds healthy
# (lab/health-check.sh polls each real server's :8472/vips/<VIP>, like keepalived's HTTP_GET), and
# the chosen real server's mark selects a routing table via that real server. The kernel forwards
# such a packet exactly like DR does: the destination IP stays the VIP and only the MAC changes to
# the chosen real server's. Everything else for the VIPs (ARP, neighbour solicitations, ping) is
# still answered by the director itself.
#
# Usage: sudo lab/dr-lab.sh [--binary PATH] [--prefix NAME] [--unique-prefix] [--requests N]
# Exit 0 only when every check passed; 1 when a check failed; 2 on a usage or setup problem.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BINARY=$ROOT/build/lvs-rs-operator
PREFIX=lvsrs-lab
REQUESTS=20

usage() {
  cat <<'EOF'
Usage: sudo lab/dr-lab.sh [--binary PATH] [--prefix NAME] [--unique-prefix] [--requests N]
Runs the LVS-DR lab in network namespaces; exit 0 only when every check passed.
  --binary PATH     the lvs-rs-operator binary (default: build/lvs-rs-operator)
  --prefix NAME     network namespace name prefix (default: lvsrs-lab)
  --unique-prefix   append this process id to the prefix (lets the automated test run beside a demo)
  --requests N      HTTP requests per traffic check (default: 20)
EOF
}

while (($#)); do
  case $1 in
    --binary) BINARY=${2:?--binary needs a path}; shift 2 ;;
    --prefix) PREFIX=${2:?--prefix needs a name}; shift 2 ;;
    --unique-prefix) UNIQUE=1; shift ;;
    --requests) REQUESTS=${2:?--requests needs a number}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "dr-lab: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "${UNIQUE:-}" ] && PREFIX=$PREFIX-$$
[[ $REQUESTS =~ ^[1-9][0-9]*$ ]] || { echo "dr-lab: --requests must be a positive number" >&2; exit 2; }

# ---------------------------------------------------------------------------------------------
# Addresses and MACs. The MACs are fixed, locally administered, and end in the host's last octet,
# so the ARP table below is readable; the client shares the VIP's subnet, so it ARPs for the VIP.
SUBNET_PREFIX=24
VIP=192.0.2.100
VIP2=192.0.2.101 # the second team's VirtualIP (step 8)
VIP6=2001:db8::100
HOSTS=(client director rs1 rs2)
REAL_SERVERS=(rs1 rs2)
declare -A IP=([client]=192.0.2.10 [director]=192.0.2.2 [rs1]=192.0.2.11 [rs2]=192.0.2.12)
declare -A IP6=([client]=2001:db8::10 [director]=2001:db8::2 [rs1]=2001:db8::11 [rs2]=2001:db8::12)
declare -A MAC=([client]=02:00:c0:00:02:0a [director]=02:00:c0:00:02:02
  [rs1]=02:00:c0:00:02:0b [rs2]=02:00:c0:00:02:0c)
# The director's scheduling: per real server a mark, a routing table (and rule preference, ahead of
# the local table, which moves from 0 to LOCAL_RULE_PREF) and an IPVS weight.
declare -A RS_MARK=([rs1]=1 [rs2]=2) RS_TABLE=([rs1]=101 [rs2]=102) WEIGHT=([rs1]=1 [rs2]=1)
LOCAL_RULE_PREF=200
SLOTS=12 # size of the director's scheduling maps (numgen inc mod SLOTS)
NFT_TABLE=lvsrs_lab
DIRECTOR_TABLE=lvsrs_director

if [ -t 1 ]; then
  B=$'\033[1m' G=$'\033[32m' R=$'\033[31m' D=$'\033[2m' N=$'\033[0m'
else
  B='' G='' R='' D='' N=''
fi

ns() { echo "$PREFIX-$1"; }
# Exactly our names: another lab's prefix may start with ours (lvsrs-lab-test-123-* vs lvsrs-lab-*).
our_namespaces_present() {
  local h
  for h in switch "${HOSTS[@]}"; do
    [ -e "/run/netns/$PREFIX-$h" ] && echo "$PREFIX-$h"
  done
  return 0
}
in_ns() { # in_ns HOST cmd...: run a command inside HOST's namespace
  local host=$1
  shift
  ip netns exec "$(ns "$host")" "$@"
}
now_ms() { date +%s%3N; }
step() { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
say() { printf '   %s\n' "$*"; }
detail() { printf '   %s%s%s\n' "$D" "$*" "$N"; }
die() {
  printf '%sdr-lab: %s%s\n' "$R" "$*" "$N" >&2
  exit 2
}

CHECK_NAMES=()
CHECK_RESULTS=()
# check "what the check proves" cmd...: runs cmd; records and prints PASS or FAIL.
check() {
  local what=$1
  shift
  if "$@"; then
    CHECK_RESULTS+=(PASS)
    printf '   %sPASS%s  %s\n' "$G" "$N" "$what"
  else
    CHECK_RESULTS+=(FAIL)
    printf '   %sFAIL%s  %s\n' "$R" "$N" "$what"
  fi
  CHECK_NAMES+=("$what")
}

# wait_until TIMEOUT_MS cmd...: polls cmd every 20 ms; true when it succeeded in time.
wait_until() {
  local deadline=$(($(now_ms) + $1))
  shift
  until "$@"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.02
  done
}

# ---------------------------------------------------------------------------------------------
# Cleanup: every path out (success, failure, Ctrl-C, kill) stops our processes by pid, deletes our
# namespaces (which removes every veth, address, route, sysctl and nft rule with them) and removes
# the temporary directory. Nothing was changed in the host namespace, so nothing to undo there.
PIDS=()
TMP=
FINISHED=
CREATED_NS=()
cleanup() {
  local rc=$?
  trap - EXIT
  [ -n "$FINISHED" ] || ((rc)) || printf '\n%sstopped before the end (interrupted), cleaning up%s\n' "$R" "$N" >&2
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # Anything else still running inside our namespaces (a probe interrupted mid-way) was started by
  # this script too; stop it by pid before the namespace goes, or it would outlive it.
  local n
  for n in "${CREATED_NS[@]}"; do
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$n" 2>/dev/null || true
  done
  [ -n "$TMP" ] && rm -rf "$TMP"
  local left='' alive=''
  for n in "${CREATED_NS[@]}"; do [ -e "/run/netns/$n" ] && left+=" $n"; done
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=" $pid"; done
  if [ -n "$left$alive" ]; then
    printf '%sdr-lab: left behind: namespaces %s processes %s%s\n' "$R" "${left:-none}" "${alive:-none}" "$N" >&2
    ((rc)) || rc=1
  elif ((${#CREATED_NS[@]})); then
    detail "cleanup: namespaces ${PREFIX}-{switch,client,director,rs1,rs2}, processes and $([ -n "$TMP" ] && echo "$TMP" || echo 'temporary files') removed"
  fi
  exit "$rc"
}
# Only an EXIT trap: bash runs it on Ctrl-C and SIGTERM too (then dies by that signal, exit status
# 130/143). A separate INT trap would be unsafe here: bash 5.2 fails to parse a trap that fires while
# a command with two $(...) is running ("interrupt trap: unexpected EOF") and then carries on.
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# Preflight
[ "$(id -u)" = 0 ] || die "needs root for network namespaces: run it with sudo"
[ -x "$BINARY" ] || die "no operator binary at $BINARY (build first, or pass --binary)"
PYTHON=$(command -v /usr/bin/python3 || command -v python3 || true)
TRAFFIC=$ROOT/lab/traffic.py      # HTTP responder, stream of new requests, long-lived connection
HEALTH_CHECK=$ROOT/lab/health-check.sh # the director's health checker (keepalived HTTP_GET-like)
for tool in ip arping ndisc6 nft curl haproxy; do
  command -v "$tool" >/dev/null || die "$tool is missing (Debian packages: scripts/deps/lab.txt)"
done
[ -n "$PYTHON" ] || die "python3 is missing (Debian packages: scripts/deps/lab.txt)"
stale=$(our_namespaces_present)
if [ -n "$stale" ]; then
  die "namespaces of this lab exist already (another lab running with --prefix $PREFIX?):
  ${stale//$'\n'/ }
  remove them with: for n in ${stale//$'\n'/ }; do ip netns del \$n; done"
fi
TMP=$(mktemp -d /tmp/lvsrs-lab.XXXXXX)

printf '%sLVS-DR lab%s: does lvs-rs-operator stop real servers answering ARP and NDP, and does DR traffic flow?\n' "$B" "$N"
detail "namespaces ${PREFIX}-{switch,client,director,rs1,rs2}; operator $BINARY"

# ---------------------------------------------------------------------------------------------
step "1. One L2 segment: bridge br0 in $(ns switch), a veth from it to each host"
ip netns add "$(ns switch)"
CREATED_NS+=("$(ns switch)")
ip -n "$(ns switch)" link set lo up
ip -n "$(ns switch)" link add br0 type bridge
ip -n "$(ns switch)" link set br0 up
for h in "${HOSTS[@]}"; do
  ip netns add "$(ns "$h")"
  CREATED_NS+=("$(ns "$h")")
  ip -n "$(ns "$h")" link set lo up
  # Before eth0 exists, so it inherits it: no duplicate address detection. The lab's addresses are
  # unique by construction, and until DAD ends a link-local address is tentative and the kernel
  # sends no neighbour solicitation at all. Forwarding and proxy_ndp pinned to the defaults (off).
  in_ns "$h" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.forwarding=0 net.ipv6.conf.all.proxy_ndp=0 net.ipv6.conf.default.proxy_ndp=0
  # Created inside the switch namespace with the peer placed straight into the host's namespace,
  # so no interface ever exists in the machine's own namespace.
  ip -n "$(ns switch)" link add "p-$h" type veth peer name eth0 netns "$(ns "$h")"
  ip -n "$(ns switch)" link set "p-$h" master br0 up
  ip -n "$(ns "$h")" link set eth0 address "${MAC[$h]}"
  ip -n "$(ns "$h")" addr add "${IP[$h]}/$SUBNET_PREFIX" dev eth0
  ip -n "$(ns "$h")" addr add "${IP6[$h]}/64" dev eth0 nodad
  ip -n "$(ns "$h")" link set eth0 up
  # New namespaces copy the host's conf/all and conf/default for IPv4; pin what the lab relies on
  # to the kernel defaults so the result does not depend on this machine's settings.
  for conf in all default lo eth0; do
    in_ns "$h" sysctl -qw "net.ipv4.conf.$conf.arp_ignore=0" "net.ipv4.conf.$conf.arp_announce=0"
  done
  printf '   %-9s %-13s %-13s %s\n' "$h" "${IP[$h]}" "${IP6[$h]}" "${MAC[$h]}"
done

# ---------------------------------------------------------------------------------------------
step "2. Director: holds VIPs $VIP and $VIP6 on eth0, schedules VIP TCP/80 like IPVS, forwards at L2 (DR)"
in_ns director ip addr add "$VIP/32" dev eth0
# Deprecated (preferred lifetime 0), still answered and still delivered locally, so that source
# address selection never picks it for the director's own traffic: as a /128 it would otherwise win
# the longest-prefix rule against 2001:db8::2/64, and the health checker's requests to the real
# servers would leave from the VIP, whose answers each real server keeps for itself (VIP on lo).
in_ns director ip -6 addr add "$VIP6/128" dev eth0 nodad preferred_lft 0
in_ns director sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# Forwarding back out of the interface a packet came in on would make the kernel send the client an
# ICMP redirect to the real server, bypassing the director; an LVS director sends none either.
# IPv6 has no send_redirects: the director drops its ICMPv6 redirects with nftables (below).
in_ns director sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0
in_ns client sysctl -qw net.ipv4.conf.all.accept_redirects=0 net.ipv4.conf.eth0.accept_redirects=0 \
  net.ipv6.conf.all.accept_redirects=0 net.ipv6.conf.eth0.accept_redirects=0
# One routing table per real server, chosen by the packet's mark: the VIP routed via that real
# server, so the kernel forwards exactly like LVS-DR (destination IP still the VIP, only the MAC
# changes). Packets without a mark (ARP carries no mark and no L4 header, ping, anything but a
# scheduled TCP/80 connection) find the VIP local and the director answers them itself.
for rs in "${REAL_SERVERS[@]}"; do
  in_ns director ip route add table "${RS_TABLE[$rs]}" "$VIP/32" via "${IP[$rs]}" dev eth0 proto static
  in_ns director ip -6 route add table "${RS_TABLE[$rs]}" "$VIP6/128" via "${IP6[$rs]}" dev eth0 proto static
  in_ns director ip rule add pref "${RS_TABLE[$rs]}" iif eth0 fwmark "${RS_MARK[$rs]}" lookup "${RS_TABLE[$rs]}"
  in_ns director ip -6 rule add pref "${RS_TABLE[$rs]}" iif eth0 fwmark "${RS_MARK[$rs]}" lookup "${RS_TABLE[$rs]}"
done
in_ns director ip rule add pref "$LOCAL_RULE_PREF" lookup local
in_ns director ip rule del pref 0
in_ns director ip -6 rule add pref "$LOCAL_RULE_PREF" lookup local
in_ns director ip -6 rule del pref 0
# The scheduler, IPVS-like, in nftables. This kernel has no IPVS, and the director sees only the
# client's half of each connection (replies go straight from the real server to the client), so
# conntrack would call every packet after the SYN invalid (an ACK in SYN_SENT, no SYN/ACK seen) and
# lose its mark: the VIP traffic is not tracked, and the director keeps its own connection table,
# as IPVS does (ip_vs_conn): per real server a set of the client addresses and ports it serves,
# forgotten after 15 minutes idle (IPVS's TCP established timeout). A packet of a connection in the
# table keeps its real server. A SYN of a connection the table does not know is scheduled: `numgen
# inc` walks a map of SLOTS slots that the health checker fills with the healthy real servers by
# weight (wrr). A real server taken out of that map (weight 0, quiescent) gets no new connection
# while the table keeps its established ones on it. (A set per real server, not one map to the
# mark: nft 1.0.6 aborts on a dynamic map update whose key is an IPv6 address and a port.)
# Counters per real server: connections scheduled to it, and request packets sent to it.
director_ruleset() { # director_ruleset FAMILY(4|6) -> the sets, maps and chains of one virtual service
  local f=$1 key=ip rs
  [ "$f" = 6 ] && key=ip6
  key+=" saddr . tcp sport"
  echo "  map sched$f { typeof numgen inc mod $SLOTS : meta mark; }"
  echo "  counter unscheduled$f { }"
  for rs in "${REAL_SERVERS[@]}"; do
    echo "  set conns${f}_$rs { typeof $key; flags dynamic, timeout; timeout 15m; }"
    echo "  counter conns${f}_$rs { }"
    echo "  counter packets${f}_$rs { }"
  done
  echo "  chain scheduled$f {"
  for rs in "${REAL_SERVERS[@]}"; do
    echo "    meta mark ${RS_MARK[$rs]} update @conns${f}_$rs { $key } counter name \"conns${f}_$rs\""
  done
  echo "  }"
  echo "  chain vs$f {"
  for rs in "${REAL_SERVERS[@]}"; do
    echo "    $key @conns${f}_$rs meta mark set ${RS_MARK[$rs]} update @conns${f}_$rs { $key } goto count$f"
  done
  echo "    meta mark 0 tcp flags & (syn | ack) == syn meta mark set numgen inc mod $SLOTS map @sched$f jump scheduled$f"
  echo "    meta mark 0 counter name \"unscheduled$f\" return"
  echo "    jump count$f"
  echo "  }"
  echo "  chain count$f {"
  for rs in "${REAL_SERVERS[@]}"; do echo "    meta mark ${RS_MARK[$rs]} counter name \"packets${f}_$rs\" return"; done
  echo "  }"
}
in_ns director nft -f - <<EOF
table inet $DIRECTOR_TABLE {
$(director_ruleset 4)
$(director_ruleset 6)
  chain skip_conntrack {
    type filter hook prerouting priority raw; policy accept;
    iif eth0 ip daddr $VIP tcp dport 80 notrack
    iif eth0 ip6 daddr $VIP6 tcp dport 80 notrack
  }
  chain dispatch {
    type filter hook prerouting priority mangle; policy accept;
    iif eth0 ip daddr $VIP tcp dport 80 jump vs4
    iif eth0 ip6 daddr $VIP6 tcp dport 80 jump vs6
  }
  chain noredirect {
    type filter hook output priority 0; policy accept;
    icmpv6 type nd-redirect drop
  }
}
EOF
for rs in "${REAL_SERVERS[@]}"; do
  detail "ip rule   $(in_ns director ip rule show pref "${RS_TABLE[$rs]}" | tr -s '\t ' ' ')" \
    "-> table ${RS_TABLE[$rs]}: $(in_ns director ip route show table "${RS_TABLE[$rs]}" | tr -s '\t\n ' ' ')"
  detail "ip -6 rule $(in_ns director ip -6 rule show pref "${RS_TABLE[$rs]}" | tr -s '\t ' ' ')" \
    "-> table ${RS_TABLE[$rs]}: $(in_ns director ip -6 route show table "${RS_TABLE[$rs]}" | tr -s '\t\n ' ' ')"
done
detail "nft table inet $DIRECTOR_TABLE: VIP TCP/80 -> connection table, else SYN -> numgen inc mod $SLOTS map @sched"
detail "  (the maps stay empty until the health checker finds a real server healthy, step 5)"

# Counters on the wire, per address family (names ending in 6: IPv6). Director: VIP packets seen on
# eth0, forwarded, delivered locally, and any reply from the VIP (DR replies must never come back
# through it). Real servers: VIP requests, and those arriving from the director's MAC. Client:
# replies from the VIP by sender MAC.
install_counters() {
  in_ns director nft -f - <<EOF
table netdev $NFT_TABLE { }
delete table netdev $NFT_TABLE
table netdev $NFT_TABLE {
  counter requests_in { }
  counter replies_in { }
  counter requests_in6 { }
  counter replies_in6 { }
  chain ingress {
    type filter hook ingress device "eth0" priority 0; policy accept;
    ip daddr $VIP tcp dport 80 counter name "requests_in"
    ip saddr $VIP tcp sport 80 counter name "replies_in"
    ip6 daddr $VIP6 tcp dport 80 counter name "requests_in6"
    ip6 saddr $VIP6 tcp sport 80 counter name "replies_in6"
  }
}
table inet $NFT_TABLE { }
delete table inet $NFT_TABLE
table inet $NFT_TABLE {
  counter forwarded { }
  counter local_in { }
  counter replies_out { }
  counter forwarded6 { }
  counter local_in6 { }
  counter replies_out6 { }
  chain forward {
    type filter hook forward priority 0; policy accept;
    ip daddr $VIP tcp dport 80 counter name "forwarded"
    ip saddr $VIP tcp sport 80 counter name "replies_out"
    ip6 daddr $VIP6 tcp dport 80 counter name "forwarded6"
    ip6 saddr $VIP6 tcp sport 80 counter name "replies_out6"
  }
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr $VIP tcp dport 80 counter name "local_in"
    ip6 daddr $VIP6 tcp dport 80 counter name "local_in6"
  }
  chain output {
    type filter hook output priority 0; policy accept;
    ip saddr $VIP tcp sport 80 counter name "replies_out"
    ip6 saddr $VIP6 tcp sport 80 counter name "replies_out6"
  }
}
EOF
  local rs
  for rs in "${REAL_SERVERS[@]}"; do
    in_ns "$rs" nft -f - <<EOF
table netdev $NFT_TABLE { }
delete table netdev $NFT_TABLE
table netdev $NFT_TABLE {
  counter requests { }
  counter from_director { }
  counter requests6 { }
  counter from_director6 { }
  chain ingress {
    type filter hook ingress device "eth0" priority 0; policy accept;
    ip daddr $VIP tcp dport 80 counter name "requests"
    ether saddr ${MAC[director]} ip daddr $VIP tcp dport 80 counter name "from_director"
    ip6 daddr $VIP6 tcp dport 80 counter name "requests6"
    ether saddr ${MAC[director]} ip6 daddr $VIP6 tcp dport 80 counter name "from_director6"
  }
}
EOF
  done
  in_ns client nft -f - <<EOF
table netdev $NFT_TABLE { }
delete table netdev $NFT_TABLE
table netdev $NFT_TABLE {
  counter from_director { }
  counter from_rs1 { }
  counter from_rs2 { }
  counter from_director6 { }
  counter from_rs16 { }
  counter from_rs26 { }
  chain ingress {
    type filter hook ingress device "eth0" priority 0; policy accept;
    ether saddr ${MAC[director]} ip saddr $VIP tcp sport 80 counter name "from_director"
    ether saddr ${MAC[rs1]} ip saddr $VIP tcp sport 80 counter name "from_rs1"
    ether saddr ${MAC[rs2]} ip saddr $VIP tcp sport 80 counter name "from_rs2"
    ether saddr ${MAC[director]} ip6 saddr $VIP6 tcp sport 80 counter name "from_director6"
    ether saddr ${MAC[rs1]} ip6 saddr $VIP6 tcp sport 80 counter name "from_rs16"
    ether saddr ${MAC[rs2]} ip6 saddr $VIP6 tcp sport 80 counter name "from_rs26"
  }
}
EOF
}
counter() { # counter HOST FAMILY NAME [TABLE] -> packets
  in_ns "$1" nft list counter "$2" "${4:-$NFT_TABLE}" "$3" |
    awk '{for (i = 1; i < NF; i++) if ($i == "packets") {print $(i + 1); exit}}'
}

# ---------------------------------------------------------------------------------------------
step "3. Real servers set up by hand, the way the ARP problem starts: VIPs on lo, no ARP sysctls"
for rs in "${REAL_SERVERS[@]}"; do
  in_ns "$rs" ip addr add "$VIP/32" dev lo
  in_ns "$rs" ip -6 addr add "$VIP6/128" dev lo
  # Started with `ip netns exec` directly (not through a shell function) so that $! is the
  # responder's own pid and cleanup can stop it. It answers with its name, keep-alive, IPv4 and IPv6.
  ip netns exec "$(ns "$rs")" "$PYTHON" "$TRAFFIC" serve --name "$rs" >"$TMP/http-$rs.log" 2>&1 &
  PIDS+=($!)
done
for rs in "${REAL_SERVERS[@]}"; do
  wait_until 10000 in_ns "$rs" curl -sf -o /dev/null --max-time 1 "http://${IP[$rs]}/" ||
    die "the HTTP responder on $rs did not start: $(cat "$TMP/http-$rs.log")"
  say "$rs: $VIP/32 and $VIP6/128 on lo, arp_ignore=0 arp_announce=0, HTTP responder on :80 answers \"$rs\""
done

# ---------------------------------------------------------------------------------------------
# Who answered the client's ARP or NDP probe of one phase: SEEN[arp|ndp:PHASE:host] = yes|no.
declare -A SEEN
say_seen() { # say_seen arp|ndp PHASE: one line per host
  local h
  for h in director "${REAL_SERVERS[@]}"; do
    say "$(printf '%-9s %s  %s' "$h" "${MAC[$h]}" "$(answered "$1" "$2" "$h" && echo answered || echo silent)")"
  done
}
answered() { [ "${SEEN[$1:$2:$3]}" = yes ]; } # answered arp|ndp PHASE HOST
only_director() { # only_director arp|ndp PHASE
  answered "$1" "$2" director && ! answered "$1" "$2" rs1 && ! answered "$1" "$2" rs2
}

# ARP probe from the client: broadcast requests for the VIP (-b: never switch to unicast, so every
# host that would answer gets asked), and the set of MACs that replied.
arp_probe() { # arp_probe PHASE -> fills SEEN[arp:PHASE:host]
  local phase=$1 out mac h
  out=$(in_ns client arping -b -c 3 -I eth0 "$VIP" 2>&1 || true)
  for h in "${HOSTS[@]}"; do SEEN[arp:$phase:$h]=no; done
  while read -r mac; do
    for h in "${HOSTS[@]}"; do [ "${MAC[$h]}" = "$mac" ] && SEEN[arp:$phase:$h]=yes; done
  done < <(grep -oi 'reply from [0-9.]* \[[0-9a-f:]*\]' <<<"$out" | grep -oi '[0-9a-f:]\{17\}' | tr A-F a-f | sort -u)
  say_seen arp "$phase"
}

# NDP probe from the client: neighbour solicitations for the IPv6 VIP (ndisc6, to the VIP's
# solicited-node multicast group, which every host that would answer has joined), and who
# answered: nftables counters on the client's eth0 of neighbour advertisements (ICMPv6 type 136)
# whose target is the VIP, by sender MAC. (Counters, not ndisc6's output: it reports one answer.)
VIP6_HEX=$("$PYTHON" -c 'import ipaddress, sys; print("0x" + ipaddress.IPv6Address(sys.argv[1]).packed.hex())' "$VIP6")
install_ndp_counters() {
  local h rules='' counters=''
  for h in "${HOSTS[@]}"; do
    counters+="  counter na_$h { }"$'\n'
    rules+="    ether saddr ${MAC[$h]} icmpv6 type nd-neighbor-advert @th,64,128 $VIP6_HEX counter name \"na_$h\""$'\n'
  done
  in_ns client nft -f - <<EOF
table netdev ${NFT_TABLE}_ndp { }
delete table netdev ${NFT_TABLE}_ndp
table netdev ${NFT_TABLE}_ndp {
$counters  chain ingress {
    type filter hook ingress device "eth0" priority 0; policy accept;
$rules  }
}
EOF
}
ndp_probe() { # ndp_probe PHASE -> fills SEEN[ndp:PHASE:host]
  local phase=$1 h
  install_ndp_counters
  in_ns client ndisc6 -m -r 3 -w 1000 "$VIP6" eth0 >/dev/null 2>&1 || true
  for h in "${HOSTS[@]}"; do
    SEEN[ndp:$phase:$h]=no
    (($(counter client netdev "na_$h" "${NFT_TABLE}_ndp") > 0)) && SEEN[ndp:$phase:$h]=yes
  done
  say_seen ndp "$phase"
}

step "4. Before the operator: the client ARPs for the VIP ($VIP)"
arp_probe before
check "negative control: rs1 answers ARP for the VIP before the operator (the LVS-DR ARP problem)" answered arp before rs1
check "negative control: rs2 answers ARP for the VIP before the operator" answered arp before rs2
# What combining two teams' VirtualIPs by max() used to write when one of them asked for
# arp_ignore=3: 3 answers for every address of scope link or wider on any interface, and a VIP
# put on lo by hand has scope global. `check` called this conformant.
for rs in "${REAL_SERVERS[@]}"; do
  in_ns "$rs" sysctl -qw net.ipv4.conf.all.arp_ignore=3 net.ipv4.conf.all.arp_announce=2
done
say "rs1, rs2: conf/all/arp_ignore=3 arp_announce=2 (what max(1, 3) wrote for two VirtualIPs before):"
arp_probe max3
check "negative control: with arp_ignore=3 (max of two VirtualIPs' values) rs1 still answers ARP for the VIP" \
  answered arp max3 rs1
for rs in "${REAL_SERVERS[@]}"; do
  in_ns "$rs" sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.all.arp_announce=0
done
# IPv6 has no arp_ignore, and a VIP on lo needs none: the kernel answers a neighbour solicitation
# only for addresses of the interface it arrives on (docs/arp-behaviour.md, the NDP table).
say "The client solicits the IPv6 VIP ($VIP6), VIP on lo on both real servers:"
ndp_probe before
check "IPv6, before the operator: only the director answers the solicitation (the VIP on lo is silent)" \
  only_director ndp before
# The negative control: rs1 configured the way some how-tos do it, the VIP on the NIC.
in_ns rs1 ip -6 addr del "$VIP6/128" dev lo
in_ns rs1 ip -6 addr add "$VIP6/128" dev eth0 nodad
say "rs1: ip -6 addr add $VIP6/128 dev eth0 nodad (the VIP on the NIC instead of lo):"
ndp_probe nic
check "negative control: with the IPv6 VIP on its NIC, rs1 answers the solicitation for it" answered ndp nic rs1
NIC_CHECK=$(in_ns rs1 "$BINARY" check --vip "$VIP6" --interface eth0 --no-host-route --node-name rs1 2>&1 || true)
detail "rs1: lvs-rs-operator check --vip $VIP6 --interface eth0 --no-host-route:"
detail "  $(grep "^NDP for $VIP6" <<<"$NIC_CHECK" || echo "(no NDP line)")"
check "negative control: lvs-rs-operator check on rs1 reports the IPv6 VIP answered on eth0 (NDP)" \
  grep -q "^NDP for $VIP6 .*answered on eth0.*FAIL" <<<"$NIC_CHECK"
in_ns rs1 ip -6 addr del "$VIP6/128" dev eth0
in_ns rs1 ip -6 addr add "$VIP6/128" dev lo

# ---------------------------------------------------------------------------------------------
step "5. Start lvs-rs-operator (file mode) on rs1 and rs2"
cat >"$TMP/virtualip.yaml" <<EOF
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata:
  name: web
spec:
  addresses: ["$VIP", "$VIP6"]
  arp: {ignore: 1, announce: 2, scope: Global}
EOF
sed 's/^/   | /' "$TMP/virtualip.yaml"
operator_conformant() {
  in_ns "$1" "$BINARY" check --file "$TMP/virtualip.yaml" --node-name "$1" >/dev/null 2>&1
}
for rs in "${REAL_SERVERS[@]}"; do
  mkdir -p "$TMP/state-$rs"
  t0=$(now_ms)
  ip netns exec "$(ns "$rs")" "$BINARY" run --file "$TMP/virtualip.yaml" --node-name "$rs" --state-dir "$TMP/state-$rs" \
    --resync-period 500ms >"$TMP/operator-$rs.log" 2>&1 &
  PIDS+=($!)
  if wait_until 15000 operator_conformant "$rs"; then
    say "$rs: \`ip netns exec $(ns "$rs") lvs-rs-operator run --file virtualip.yaml\`, conformant after $(($(now_ms) - t0)) ms"
  else
    say "$rs: operator not conformant after 15 s; its log:"
    sed 's/^/     /' "$TMP/operator-$rs.log"
  fi
  check "lvs-rs-operator check on $rs: VIPs on lo, host routes, arp_ignore=1, arp_announce=2, neither answered" \
    operator_conformant "$rs"
  detail "$rs kernel: $(in_ns "$rs" ip -4 -o addr show dev lo to "$VIP/32" | awk '{print $4, "on", $2}');" \
    "route $(in_ns "$rs" ip route show "$VIP" | tr -s ' ' | sed 's/ $//');" \
    "conf/all arp_ignore=$(in_ns "$rs" cat /proc/sys/net/ipv4/conf/all/arp_ignore)" \
    "arp_announce=$(in_ns "$rs" cat /proc/sys/net/ipv4/conf/all/arp_announce)"
  detail "$rs kernel: $(in_ns "$rs" ip -6 -o addr show dev lo to "$VIP6/128" | awk '{print $4, "on", $2}');" \
    "route $(in_ns "$rs" ip -6 route show "$VIP6" | tr -s ' ' | sed 's/ $//')"
done

# The director's health checker, one per virtual service (the IPv4 VIP, the IPv6 VIP): it asks each
# real server's lvs-rs-operator over the network (:8472/vips/<VIP>, keepalived HTTP_GET style) every
# 200 ms and puts the real servers answering 200 into the service's scheduling map.
in_map() { grep -qw "$2" "$TMP/health/$1/slots" 2>/dev/null; }     # in_map 4|6 RS
not_in_map() { [ -f "$TMP/health/$1/slots" ] && ! in_map "$@"; } # not_in_map 4|6 RS
health_code() { cat "$TMP/health/$1/$2.code" 2>/dev/null || echo none; } # health_code 4|6 RS
health_body() { tr -d '\n' <"$TMP/health/$1/$2.body" 2>/dev/null || true; }
both_in_maps() { in_map 4 rs1 && in_map 4 rs2 && in_map 6 rs1 && in_map 6 rs2; }
for f in 4 6; do
  specs=()
  for rs in "${REAL_SERVERS[@]}"; do
    if [ "$f" = 6 ]; then addr=${IP6[$rs]}; else addr=${IP[$rs]}; fi
    specs+=("$rs=$addr=${RS_MARK[$rs]}=${WEIGHT[$rs]}")
  done
  if [ "$f" = 6 ]; then vip=$VIP6; else vip=$VIP; fi
  ip netns exec "$(ns director)" bash "$HEALTH_CHECK" --table "$DIRECTOR_TABLE" --map "sched$f" --vip "$vip" \
    --state "$TMP/health/$f" --interval 0.2 "${specs[@]}" 2>"$TMP/health-check-$f.log" &
  PIDS+=($!)
done
t0=$(now_ms)
wait_until 15000 both_in_maps || true
say "director: health checker polling http://<real server>:8472/vips/<VIP> every 200 ms (keepalived HTTP_GET)"
for f in 4 6; do
  if [ "$f" = 6 ]; then vip=$VIP6; else vip=$VIP; fi
  for rs in "${REAL_SERVERS[@]}"; do detail "  $rs /vips/$vip: $(health_code "$f" "$rs") $(health_body "$f" "$rs")"; done
  detail "  scheduling map sched$f, slot by slot: $(cat "$TMP/health/$f/slots" 2>/dev/null || echo none)"
done
HEALTHY_AFTER=$(($(now_ms) - t0))
check "director: both real servers healthy (200) for both VIPs, in the scheduling maps (after $HEALTHY_AFTER ms)" both_in_maps

# ---------------------------------------------------------------------------------------------
# Traffic: fresh neighbour caches (so every host ARPs again, and a real server's ARP request for the
# client shows whether it would advertise the VIP), then N HTTP requests, each a new TCP connection
# from a new source port, so the director's L4 hash spreads them.
declare -A SERVED # [PHASE:rs1], [PHASE:rs2], [PHASE:failed]: requests answered by each, and not
holds() { (("$1")); } # holds 'ARITHMETIC': for check, e.g. check "x" holds "a == b"
traffic_check() { # traffic_check PHASE [6]: PHASE one word; over IPv6 (VIP6) with 6, else IPv4
  local phase=$1 f=${2:-} i body line='' h served_rs1=0 served_rs2=0 failed=0 started vip url label
  if [ "$f" = 6 ]; then
    vip=$VIP6 url="http://[$VIP6]/" label="$phase, IPv6"
  else
    vip=$VIP url="http://$VIP/" label=$phase
  fi
  for h in "${HOSTS[@]}"; do in_ns "$h" ip -"${f:-4}" neigh flush dev eth0 2>/dev/null || true; done
  install_counters
  local c1_before c2_before
  c1_before=$(counter director inet "conns${f:-4}_rs1" "$DIRECTOR_TABLE")
  c2_before=$(counter director inet "conns${f:-4}_rs2" "$DIRECTOR_TABLE")
  say "$REQUESTS requests from the client: curl $url (which server answered each):"
  started=$(now_ms)
  for ((i = 1; i <= REQUESTS; i++)); do
    body=$(in_ns client curl -g -s --max-time 5 "$url" 2>/dev/null || true)
    case $body in
      rs1) served_rs1=$((served_rs1 + 1)) ;;
      rs2) served_rs2=$((served_rs2 + 1)) ;;
      *) body=FAIL failed=$((failed + 1)) ;;
    esac
    line+=$(printf '#%-2d %-5s' "$i" "$body")
    if ((i % 10 == 0 || i == REQUESTS)); then say "  $line"; line=''; fi
  done
  detail "($REQUESTS requests in $(($(now_ms) - started)) ms)"
  SERVED[$phase$f:rs1]=$served_rs1 SERVED[$phase$f:rs2]=$served_rs2 SERVED[$phase$f:failed]=$failed

  local d_in d_fwd d_local d_rin d_rout c_dir c_rs1 c_rs2 rs1_req rs1_dir rs2_req rs2_dir
  d_in=$(counter director netdev "requests_in$f")
  d_fwd=$(counter director inet "forwarded$f")
  d_local=$(counter director inet "local_in$f")
  d_rin=$(counter director netdev "replies_in$f")
  d_rout=$(counter director inet "replies_out$f")
  c_dir=$(counter client netdev "from_director$f")
  c_rs1=$(counter client netdev "from_rs1$f")
  c_rs2=$(counter client netdev "from_rs2$f")
  rs1_req=$(counter rs1 netdev "requests$f")
  rs1_dir=$(counter rs1 netdev "from_director$f")
  rs2_req=$(counter rs2 netdev "requests$f")
  rs2_dir=$(counter rs2 netdev "from_director$f")
  local sched_rs1 sched_rs2
  sched_rs1=$(($(counter director inet "conns${f:-4}_rs1" "$DIRECTOR_TABLE") - c1_before))
  sched_rs2=$(($(counter director inet "conns${f:-4}_rs2" "$DIRECTOR_TABLE") - c2_before))
  say "director: $d_in request packets in, $d_fwd forwarded, $d_local delivered locally;" \
    "reply packets seen: $d_rin in, $d_rout out; new connections scheduled: rs1 $sched_rs1, rs2 $sched_rs2"
  say "rs1: $rs1_req request packets to $vip received, $rs1_dir of them from the director's MAC; served $served_rs1 requests"
  say "rs2: $rs2_req request packets to $vip received, $rs2_dir of them from the director's MAC; served $served_rs2 requests"
  say "client: reply packets from $vip by sender MAC: rs1 $c_rs1, rs2 $c_rs2, director $c_dir"
  local neigh whose=''
  neigh=$(in_ns client ip neigh show "$vip" dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}')
  for h in "${HOSTS[@]}"; do [ "$neigh" = "${MAC[$h]}" ] && whose=" ($h)"; done
  say "client's neighbour entry for $vip: ${neigh:-none}$whose"

  check "$label: all $REQUESTS requests answered" holds "failed == 0"
  check "$label: requests reached both real servers (rs1 $served_rs1, rs2 $served_rs2)" \
    holds "served_rs1 > 0 && served_rs2 > 0"
  check "$label: the director scheduled each request once, to the server that answered it (counters)" \
    holds "sched_rs1 == served_rs1 && sched_rs2 == served_rs2"
  check "$label: the director forwarded every request packet at L2, destination IP unchanged (VIP)" \
    holds "d_in > 0 && d_fwd == d_in && d_local == 0 && rs1_dir == rs1_req && rs2_dir == rs2_req && rs1_dir + rs2_dir == d_in"
  check "$label: replies went straight from the real servers to the client (director saw 0 reply packets)" \
    holds "d_rin == 0 && d_rout == 0 && c_dir == 0 && c_rs1 > 0 && c_rs2 > 0"
  check "$label: the client's neighbour entry for the VIP is the director's MAC" [ "$neigh" = "${MAC[director]}" ]
}

step "6. With the operator: ARP for the VIP, NDP for the IPv6 VIP, then traffic over both"
arp_probe after
check "after: only the director answers ARP for the VIP" only_director arp after
say "The client solicits the IPv6 VIP ($VIP6):"
ndp_probe after
check "after: only the director answers the solicitation for the IPv6 VIP" only_director ndp after
traffic_check after
traffic_check after 6

# ---------------------------------------------------------------------------------------------
step "7. Drift: delete both VIPs on rs1, reset arp_ignore to 0 on rs2; the operator repairs all"
rs1_vip_present() { [ -n "$(in_ns rs1 ip -4 -o addr show dev lo to "$VIP/32")" ]; }
rs2_arp_ignore_set() { [ "$(in_ns rs2 cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 1 ]; }
rs1_vip6_present() { [ -n "$(in_ns rs1 ip -6 -o addr show dev lo to "$VIP6/128")" ]; }
t0=$(now_ms)
in_ns rs1 ip addr del "$VIP/32" dev lo
in_ns rs1 ip -6 addr del "$VIP6/128" dev lo
in_ns rs2 sysctl -qw net.ipv4.conf.all.arp_ignore=0
say "rs1: ip addr del $VIP/32 dev lo; ip -6 addr del $VIP6/128 dev lo;  rs2: sysctl net.ipv4.conf.all.arp_ignore=0"
REPAIR_RS1='' REPAIR_RS2='' REPAIR_RS1_6=''
deadline=$((t0 + 15000))
while [ -z "$REPAIR_RS1" ] || [ -z "$REPAIR_RS2" ] || [ -z "$REPAIR_RS1_6" ]; do
  [ -z "$REPAIR_RS1" ] && rs1_vip_present && REPAIR_RS1=$(($(now_ms) - t0))
  [ -z "$REPAIR_RS2" ] && rs2_arp_ignore_set && REPAIR_RS2=$(($(now_ms) - t0))
  [ -z "$REPAIR_RS1_6" ] && rs1_vip6_present && REPAIR_RS1_6=$(($(now_ms) - t0))
  (($(now_ms) < deadline)) || break
  sleep 0.02
done
say "rs1: VIP back on lo after ${REPAIR_RS1:-never (>15000)} ms"
say "rs1: IPv6 VIP back on lo after ${REPAIR_RS1_6:-never (>15000)} ms"
say "rs2: conf/all/arp_ignore back to 1 after ${REPAIR_RS2:-never (>15000)} ms"
# The operator's own account, from its Prometheus endpoint (default :8470 inside each namespace);
# shown for the reader, not checked here (the metrics have their own tests).
for rs in "${REAL_SERVERS[@]}"; do
  repairs=$(in_ns "$rs" curl -s --max-time 2 "http://127.0.0.1:8470/metrics" 2>/dev/null |
    awk '/^lvs_rs_drift_repairs_total/ && $NF != 0 {sub(/^lvs_rs_drift_repairs_total/, ""); printf "%s ", $0}' || true)
  detail "$rs lvs_rs_drift_repairs_total: ${repairs:-n/a}"
done
check "drift: the operator restored the VIP on rs1" [ -n "$REPAIR_RS1" ]
check "drift: the operator restored the IPv6 VIP on rs1" [ -n "$REPAIR_RS1_6" ]
check "drift: the operator restored arp_ignore=1 on rs2" [ -n "$REPAIR_RS2" ]
for rs in "${REAL_SERVERS[@]}"; do
  check "drift: lvs-rs-operator check on $rs is conformant again" operator_conformant "$rs"
done
arp_probe repaired
check "repaired: only the director answers ARP for the VIP" only_director arp repaired
ndp_probe repaired
check "repaired: only the director answers the solicitation for the IPv6 VIP" only_director ndp repaired
traffic_check repaired
traffic_check repaired 6

# ---------------------------------------------------------------------------------------------
step "8. Two teams: VirtualIP \`other\` (VIP $VIP2) arrives next to web and asks arp: {ignore: 3}"
# web decides first (older: earlier in the file). Whether other's value is safe is decided per
# node, by what the kernel would do: rs2 still has web's VIP as it was added by hand (scope
# global), which arp_ignore=3 answers, so rs2 refuses other, naming web's VIP; rs1's VIP was
# re-added by the operator in step 7 (host scope, which 3 does not answer), so rs1 applies other
# and keeps writing 1, the value of the two that answers least. Neither answers ARP for any VIP.
{
  cat "$TMP/virtualip.yaml"
  printf -- '---\napiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata:\n  name: other\n'
  printf 'spec:\n  addresses: ["%s"]\n  arp: {ignore: 3}\n' "$VIP2"
} >"$TMP/virtualip.yaml.new"
mv "$TMP/virtualip.yaml.new" "$TMP/virtualip.yaml"
sed -n '/^---$/,$p' "$TMP/virtualip.yaml" | sed 's/^/   | /'
check_json() { in_ns "$1" "$BINARY" check --output json --file "$TMP/virtualip.yaml" --node-name "$1" 2>/dev/null || true; }
# Captured first: `grep -q` on a pipe would end the writer with SIGPIPE, which pipefail reports.
refused_other() { local out; out=$(check_json "$1"); grep -q '"actual": "refused: .*'"$VIP" <<<"$out"; }
other_applied() { [ -n "$(in_ns "$1" ip -4 -o addr show dev lo to "$VIP2/32")" ]; }
detail "rs1 VIP scope: $(in_ns rs1 ip -4 -o addr show dev lo to "$VIP/32" | grep -o 'scope [a-z]*');" \
  "rs2 VIP scope: $(in_ns rs2 ip -4 -o addr show dev lo to "$VIP/32" | grep -o 'scope [a-z]*')"
wait_until 10000 refused_other rs2 || true
wait_until 10000 other_applied rs1 || true
for rs in "${REAL_SERVERS[@]}"; do
  reason=$(check_json "$rs" | grep -o '"actual": "refused: [^"]*' | head -1 | sed 's/^"actual": "//' || true)
  detail "$rs check: VirtualIP other ${reason:-applied}"
  check "two teams: $rs keeps conf/all/arp_ignore=1 (not max(1, 3))" \
    [ "$(in_ns "$rs" cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 1 ]
done
check "two teams: rs2 (web's VIP by hand, scope global) refuses VirtualIP other, naming web's VIP $VIP" \
  refused_other rs2
check "two teams: rs2 does not configure other's VIP $VIP2" eval '! other_applied rs2'
check "two teams: rs1 (web's VIP from the operator, host scope) applies other: $VIP2 on lo" other_applied rs1
out=$(in_ns client arping -b -c 2 -w 2 -I eth0 "$VIP2" 2>&1 || true)
check "two teams: nobody answers ARP for other's VIP $VIP2 (rs1 holds it)" eval '! grep -qi "reply from" <<<"$out"'
arp_probe teams
check "two teams: only the director answers ARP for web's VIP" only_director arp teams
traffic_check teams

# ---------------------------------------------------------------------------------------------
# Drain (steps 9 to 12): rs1 is taken out the way an SRE does before a kernel upgrade, with
# `lvs-rs-operator drain` in its namespace, while the client keeps a long-lived connection on rs1
# and a steady stream of new requests goes to the VIP. Everything below is read from counters and
# the kernel: the director's health checker (rs1's endpoint, the scheduling map), the director's
# nft counters of connections scheduled per real server, the client's counts of answered and
# failed requests, `ip -j addr` on rs1, and HAProxy's stats socket.
write_virtualips() { # write_virtualips [DRAIN_TIMEOUT]: web (drainTimeout when given) and other
  {
    printf 'apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata:\n  name: web\nspec:\n'
    printf '  addresses: ["%s", "%s"]\n  arp: {ignore: 1, announce: 2, scope: Global}\n' "$VIP" "$VIP6"
    [ -z "${1:-}" ] || printf '  drainTimeout: %s\n' "$1"
    printf -- '---\napiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata:\n  name: other\n'
    printf 'spec:\n  addresses: ["%s"]\n  arp: {ignore: 3}\n' "$VIP2"
  } >"$TMP/virtualip.yaml.new"
  mv "$TMP/virtualip.yaml.new" "$TMP/virtualip.yaml"
}
# The end of rs1's operator's last pass or poll, from its metrics (unix ms); two turns of its loop
# after a write of the file, the file has been read again (the loop polls it every turn).
last_turn_ms() {
  in_ns "$1" curl -s --max-time 2 "http://127.0.0.1:8470/metrics" 2>/dev/null |
    awk '/^lvs_rs_last_reconcile_timestamp_seconds / {printf "%.0f", $2 * 1000}' || true
}
turned_since() { local t; t=$(last_turn_ms "$1"); [ -n "$t" ] && ((t > $2)) && TURN_MS=$t; }
wait_reread() { # wait_reread RS: after write_virtualips, until RS's operator has read the file
  local since
  since=$(now_ms)
  wait_until 10000 turned_since "$1" "$since" && wait_until 10000 turned_since "$1" "$TURN_MS"
}
set_drain_timeout() { # set_drain_timeout VALUE: web's drainTimeout, read by rs1's operator
  write_virtualips "$1"
  wait_reread rs1 || say "rs1's operator did not turn its loop in 10 s after the file changed"
  say "VirtualIP web: spec.drainTimeout: $1 (virtualip.yaml rewritten, read again by rs1's operator)"
}
vip_on() { in_ns "$1" ip -j addr show dev lo | grep -q "\"local\":\"$VIP\""; } # vip_on RS: ip -j
vip_gone() { ! vip_on "$1"; }
rs1_drain() { # rs1_drain [--undo]: the command an SRE types on the node
  local out
  out=$(in_ns rs1 "$BINARY" drain --state-dir "$TMP/state-rs1" "$@" 2>&1) || say "drain $* failed: $out"
  detail "rs1\$ lvs-rs-operator drain --state-dir <rs1 state dir> $*${out:+: ${out//$'\n'/ }}"
}
checker_saw() { # checker_saw RS up|down SINCE_MS: ms from SINCE to the checker's first such verdict
  awk -v rs="$1" -v v="$2" -v t="$3" '$1 >= t && $2 == rs && $3 == v {print $1 - t; found = 1; exit}
    END {if (!found) print "never"}' "$TMP/health/4/transitions"
}
rs1_reports() { [ "$(health_code 4 rs1)" = "$1" ] && [[ $(health_body 4 rs1) == "$2"* ]]; } # CODE WORD
rs1_check_lines() { # what `lvs-rs-operator check` on rs1 says about draining (its drain state is in the state dir)
  in_ns rs1 "$BINARY" check --file "$TMP/virtualip.yaml" --node-name rs1 --state-dir "$TMP/state-rs1" 2>&1 |
    grep -E "^ *(node drain|drain $VIP )" | tr -s ' ' || true
}

# HAProxy 2.6, a real director-side client of the agent protocol: agent-check against each real
# server's :8473, sending the VIP as the line the agent answers for; its stats socket tells the state.
haproxy_status() { # haproxy_status RS -> the status column of HAProxy's `show stat` (UP, DRAIN...)
  "$PYTHON" - "$TMP/haproxy.sock" "$1" <<'PY' 2>/dev/null || echo "n/a"
import csv, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
for row in csv.DictReader(data.decode().lstrip("# ").splitlines()):
    if row["pxname"] == "web" and row["svname"] == sys.argv[2]:
        print(row["status"])
PY
}
haproxy_says() { [[ $(haproxy_status "$1") == "$2"* ]]; } # haproxy_says RS UP|DRAIN
start_haproxy() {
  {
    printf 'global\n  stats socket %s mode 600 level admin\n' "$TMP/haproxy.sock"
    printf 'defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n'
    printf 'backend web\n'
    for rs in "${REAL_SERVERS[@]}"; do
      printf '  server %s %s:80 check inter 200ms agent-check agent-port 8473 agent-inter 200ms agent-send "%s\\n"\n' \
        "$rs" "${IP[$rs]}" "$VIP"
    done
  } >"$TMP/haproxy.cfg"
  sed 's/^/   | /' "$TMP/haproxy.cfg" | grep 'server rs1'
  ip netns exec "$(ns director)" haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 &
  PIDS+=($!)
  wait_until 10000 haproxy_says rs1 UP && wait_until 10000 haproxy_says rs2 UP ||
    say "HAProxy: rs1 $(haproxy_status rs1), rs2 $(haproxy_status rs2) after 10 s; its log: $(tail -3 "$TMP/haproxy.log")"
}

# The client's traffic: the stream of new requests (one process for steps 9 to 12) and a
# long-lived connection on rs1 per step. Both report counters in files (lab/traffic.py).
field() { awk -v k="$2" '$1 == k {print $2; exit}' "$1" 2>/dev/null; } # field FILE KEY
stream_count() { local v; v=$(field "$TMP/stream.out" "$1"); echo "${v:-0}"; }
HOLD_PID='' HOLD_OUT=''
hold_open() { # a long-lived connection that landed on rs1
  HOLD_OUT=$TMP/hold-$1.out
  ip netns exec "$(ns client)" "$PYTHON" "$TRAFFIC" hold --host "$VIP" --want rs1 --out "$HOLD_OUT" \
    2>>"$TMP/hold.log" &
  HOLD_PID=$!
  PIDS+=("$HOLD_PID")
  wait_until 10000 hold_is open || say "the long-lived connection did not open: $(tr '\n' ' ' <"$HOLD_OUT")"
}
hold_is() { [ "$(field "$HOLD_OUT" state)" = "$1" ]; }
hold_broken() { case $(field "$HOLD_OUT" state) in reset | no-answer | eof) true ;; *) false ;; esac; }
hold_ok() { local v; v=$(field "$HOLD_OUT" ok); echo "${v:-0}"; }
hold_close() { # a clean close by the client (FIN), then the process ends
  kill -TERM "$HOLD_PID" 2>/dev/null || true
  wait_until 5000 eval '! hold_is open' || true
}
conns() { counter director inet "conns4_$1" "$DIRECTOR_TABLE"; } # connections scheduled to RS

# One row of what was seen at a moment of a drain step; one line per step for the summary.
ROWS=()
DRAIN_SUMMARY=()
summarise() { # summarise STEP SAID_DRAIN_MS OUT_OF_MAP_MS FAILED VIP_LEFT HELD HAPROXY
  DRAIN_SUMMARY+=("$(printf '%-32s %-11s %-11s %-8s %-22s %-32s %s' "$@")")
}
snapshot() { # snapshot WHAT T0_MS
  local code body word vip map hap
  code=$(health_code 4 rs1)
  body=$(health_body 4 rs1)
  word=${body%% *}
  [[ $body =~ ([0-9]+)\ connection ]] && word+=" ${BASH_REMATCH[1]} conn"
  vip=gone
  vip_on rs1 && vip="on lo"
  map=out
  in_map 4 rs1 && map=in
  hap=$(haproxy_status rs1)
  ROWS+=("$(printf '%-30s %6s  %-3s %-13s %-6s %-4s %4s/%-4s  %4s %-9s  %5s/%-3s  %s' "$1" "$(($(now_ms) - $2))" \
    "$code" "${word:--}" "$vip" "$map" "$(conns rs1)" "$(conns rs2)" "$(hold_ok)" "$(field "$HOLD_OUT" state)" \
    "$(($(stream_count rs1) + $(stream_count rs2)))" "$(stream_count failed)" "$hap")")
}
print_rows() {
  say "$(printf '%-30s %6s  %-17s %-6s %-4s %-9s  %-14s  %-9s  %s' "what was seen" "t ms" "rs1 :8472/vips/VIP" \
    "rs1 VIP" "map" "new conns" "held conn" "requests" "HAProxy")"
  say "$(printf '%-30s %6s  %-17s %-6s %-4s %-9s  %-14s  %-9s  %s' "" "" "(director's check)" "ip -j" "rs1" \
    "rs1/rs2" "answers state" "ok/failed" "rs1")"
  local r
  for r in "${ROWS[@]}"; do say "$r"; done
  ROWS=()
}

step "9. Drain rs1 (lvs-rs-operator drain) under load: a long-lived connection on rs1, new requests streaming"
start_haproxy
ip netns exec "$(ns client)" "$PYTHON" "$TRAFFIC" stream --host "$VIP" --interval 0.05 --out "$TMP/stream.out" \
  2>"$TMP/stream.log" &
STREAM_PID=$!
PIDS+=("$STREAM_PID")
hold_open a
wait_until 5000 eval '(($(stream_count rs1) > 0 && $(stream_count rs2) > 0))' || true
say "client: a stream of new requests to $VIP (a new connection every 50 ms), and one long-lived" \
  "keep-alive connection on rs1 (a request every 200 ms); VirtualIP web: default drainTimeout (30s)"
t0=$(now_ms)
snapshot "before the drain" "$t0"
failed_before=$(stream_count failed)
t0=$(now_ms)
rs1_drain
DRAIN_SEEN_MS=never OUT_OF_MAP_MS=never WITHDRAWN_AFTER_CLOSE_MS=never
# The checker's own timestamps (it updates the map right after a verdict): the lab's polling and
# its snapshots would only add their own latency.
wait_until 5000 rs1_reports 503 drain && DRAIN_SEEN_MS=$(checker_saw rs1 down "$t0")
wait_until 5000 not_in_map 4 rs1 && OUT_OF_MAP_MS=$(checker_saw rs1 down "$t0")
snapshot "rs1 drains: out of the map" "$t0"
detail "rs1 /vips/$VIP: $(health_code 4 rs1) $(health_body 4 rs1)"
conns_rs1_out=$(conns rs1) conns_rs2_out=$(conns rs2) hold_ok_out=$(hold_ok)
wait_until 5000 haproxy_says rs1 DRAIN || true
HAPROXY_DRAIN_9=$(haproxy_status rs1)
snapshot "HAProxy: rs1 ${HAPROXY_DRAIN_9%% *}" "$t0"
sleep 2 # new requests keep coming for two seconds, the connection on rs1 keeps being used
snapshot "2 s of new requests on" "$t0"
conns_rs1_later=$(conns rs1) conns_rs2_later=$(conns rs2) hold_ok_later=$(hold_ok)
vip_on rs1 && vip_while_draining=yes || vip_while_draining=no
check_draining=$(rs1_check_lines)
detail "rs1 check: ${check_draining//$'\n'/ }"
t_close=$(now_ms)
hold_close
wait_until 15000 vip_gone rs1 && WITHDRAWN_AFTER_CLOSE_MS=$(($(now_ms) - t_close))
snapshot "connection closed, VIP gone" "$t0"
detail "rs1 /vips/$VIP: $(health_code 4 rs1) $(health_body 4 rs1)"
detail "rs1 check: $(rs1_check_lines | tr '\n' ' ')"
failed_during_9=$(($(stream_count failed) - failed_before))
rs1_drain --undo
wait_until 10000 vip_on rs1 || true
wait_until 5000 in_map 4 rs1 || true
# shellcheck disable=SC2034 # read by the eval'd arithmetic
conns_rs1_undo=$(conns rs1)
wait_until 5000 eval '(($(conns rs1) > conns_rs1_undo))' || true
snapshot "drain --undo, serving again" "$t0"
print_rows
summarise "(a, b) the connection closes" "$DRAIN_SEEN_MS" "$OUT_OF_MAP_MS" "$failed_during_9" \
  "${WITHDRAWN_AFTER_CLOSE_MS} after the close" "worked, closed by client" "${HAPROXY_DRAIN_9%% *}"
check "(a) rs1 reports drain: its endpoint answered 503 drain (${DRAIN_SEEN_MS} ms after \`drain\`)" \
  [ "$DRAIN_SEEN_MS" != never ]
check "(a) the director's checker took rs1 out of the scheduling map (${OUT_OF_MAP_MS} ms after \`drain\`)" \
  [ "$OUT_OF_MAP_MS" != never ]
check "(a) no new connection to rs1 for 2 s of new requests (nft: rs1 $conns_rs1_out -> $conns_rs1_later, rs2 $conns_rs2_out -> $conns_rs2_later)" \
  holds "conns_rs1_later == conns_rs1_out && conns_rs2_later > conns_rs2_out"
check "(a) every new request succeeded through the drain ($failed_during_9 failed)" holds "failed_during_9 == 0"
check "(b) the long-lived connection on rs1 kept working while draining ($hold_ok_out -> $hold_ok_later answers)" \
  holds "hold_ok_later > hold_ok_out"
check "(b) the VIP stayed on rs1 while the connection was open (ip -j)" [ "$vip_while_draining" = yes ]
check "(b) lvs-rs-operator check on rs1 shows the VIP draining" grep -q "drain $VIP " <<<"$check_draining"
check "(b) once the connection closed, the VIP left rs1 (ip -j), ${WITHDRAWN_AFTER_CLOSE_MS} ms later" \
  [ "$WITHDRAWN_AFTER_CLOSE_MS" != never ]
check "(e) HAProxy agent-check showed rs1 as DRAIN while it drained ($HAPROXY_DRAIN_9)" [ "${HAPROXY_DRAIN_9%% *}" = DRAIN ]
check "drain --undo: the VIP is back on rs1 and the director schedules new connections to it again" \
  eval 'vip_on rs1 && (($(conns rs1) > conns_rs1_undo))'

step "10. Drain rs1 and undo it before it completes: HAProxy follows, the VIP never leaves rs1"
# Every address change on rs1's lo during this step, from the kernel (rtnetlink), not sampled.
ip netns exec "$(ns rs1)" ip monitor address dev lo >"$TMP/monitor-10.txt" 2>&1 &
MONITOR_PID=$!
PIDS+=("$MONITOR_PID")
hold_open e
t0=$(now_ms)
snapshot "before the drain" "$t0"
rs1_drain
HAPROXY_DRAIN_10=never HAPROXY_UP_10=never SEEN_10=never OUT_10=never
failed_before=$(stream_count failed)
wait_until 5000 rs1_reports 503 drain && SEEN_10=$(checker_saw rs1 down "$t0")
wait_until 5000 not_in_map 4 rs1 && OUT_10=$SEEN_10
wait_until 5000 haproxy_says rs1 DRAIN && HAPROXY_DRAIN_10=$(($(now_ms) - t0))
snapshot "drained, HAProxy sees it" "$t0"
hold_ok_before_undo=$(hold_ok)
t_undo=$(now_ms)
rs1_drain --undo
wait_until 5000 haproxy_says rs1 UP && HAPROXY_UP_10=$(($(now_ms) - t_undo))
wait_until 5000 in_map 4 rs1 || true
snapshot "drain --undo" "$t0"
conns_rs1_undo=$(conns rs1)
wait_until 5000 eval '(($(conns rs1) > conns_rs1_undo))' || true
snapshot "new connections to rs1 again" "$t0"
hold_ok_after_undo=$(hold_ok)
hold_close
kill -TERM "$MONITOR_PID" 2>/dev/null || true
print_rows
grep -q "^Deleted.*$VIP/" "$TMP/monitor-10.txt" && left_10="left (ip monitor)" || left_10="never (ip monitor)"
summarise "(e) drain --undo before the end" "$SEEN_10" "$OUT_10" "$(($(stream_count failed) - failed_before))" \
  "$left_10" "kept working" "DRAIN, UP after undo"
check "(e) HAProxy agent-check shows rs1 DRAIN while it drains (${HAPROXY_DRAIN_10} ms after \`drain\`)" \
  [ "$HAPROXY_DRAIN_10" != never ]
check "(e) HAProxy shows rs1 UP again after \`drain --undo\` (${HAPROXY_UP_10} ms after it)" [ "$HAPROXY_UP_10" != never ]
check "undo before completion: the VIP never left rs1 (ip monitor: no address deleted on lo)" \
  eval '! grep -q "^Deleted.*$VIP/" "$TMP/monitor-10.txt"'
check "undo before completion: the long-lived connection kept working ($hold_ok_before_undo -> $hold_ok_after_undo answers)" \
  holds "hold_ok_after_undo > hold_ok_before_undo"
check "undo before completion: the director schedules new connections to rs1 again" holds "$(conns rs1) > conns_rs1_undo"

step "11. A connection that never closes: the VIP leaves rs1 at the drain timeout"
set_drain_timeout 3s
hold_open c
failed_before=$(stream_count failed)
t0=$(now_ms)
snapshot "before the drain" "$t0"
rs1_drain
SEEN_11=never OUT_11=never
wait_until 5000 rs1_reports 503 drain && SEEN_11=$(checker_saw rs1 down "$t0")
wait_until 5000 not_in_map 4 rs1 && OUT_11=$SEEN_11
snapshot "rs1 drains: out of the map" "$t0"
detail "rs1 /vips/$VIP: $(health_code 4 rs1) $(health_body 4 rs1)"
detail "rs1 check: $(rs1_check_lines | tr '\n' ' ')"
TIMEOUT_GONE_MS=never hold_state_at_timeout=''
wait_until 15000 vip_gone rs1 && TIMEOUT_GONE_MS=$(($(now_ms) - t0)) hold_state_at_timeout=$(field "$HOLD_OUT" state)
snapshot "drain timeout, VIP gone" "$t0"
detail "rs1 /vips/$VIP: $(health_code 4 rs1) $(health_body 4 rs1)"
detail "rs1 check: $(rs1_check_lines | tr '\n' ' ')"
wait_until 5000 hold_broken || true
snapshot "held connection broken?" "$t0"
failed_during_11=$(($(stream_count failed) - failed_before))
hold_close
rs1_drain --undo
wait_until 10000 vip_on rs1 || true
wait_until 5000 in_map 4 rs1 || true
snapshot "drain --undo, serving again" "$t0"
print_rows
summarise "(c) drainTimeout 3s, held open" "$SEEN_11" "$OUT_11" "$failed_during_11" "$TIMEOUT_GONE_MS (timeout 3000)" \
  "$hold_state_at_timeout until then, then $(field "$HOLD_OUT" state)" "-"
check "(c) the VIP left rs1 at the drain timeout, with the connection still open ($TIMEOUT_GONE_MS ms after \`drain\`, drainTimeout 3s)" \
  eval '[ "$TIMEOUT_GONE_MS" != never ] && ((TIMEOUT_GONE_MS >= 3000)) && [ "$hold_state_at_timeout" = open ]'
check "(c) every new request succeeded ($failed_during_11 failed): the director had stopped sending rs1 new ones" \
  holds "failed_during_11 == 0"

step "12. Negative control: drainTimeout 0 withdraws at once, and the long-lived connection breaks"
set_drain_timeout 0s
hold_open d
failed_before=$(stream_count failed)
t0=$(now_ms)
snapshot "before the drain" "$t0"
rs1_drain
NOW_GONE_MS=never
wait_until 5000 vip_gone rs1 && NOW_GONE_MS=$(($(now_ms) - t0))
snapshot "VIP gone" "$t0"
wait_until 5000 hold_broken || true
snapshot "held connection broken?" "$t0"
hold_end_12="$(field "$HOLD_OUT" state) ($(sed -n 's/^detail //p' "$HOLD_OUT"))"
hold_broken && hold_broke_12=yes || hold_broke_12=no
failed_during_12=$(($(stream_count failed) - failed_before))
hold_close
rs1_drain --undo
wait_until 10000 vip_on rs1 || true
wait_until 5000 in_map 4 rs1 || true
snapshot "drain --undo, serving again" "$t0"
print_rows
say "new requests that failed in this step: $failed_during_12 (sent to rs1 before the checker saw it go)"
summarise "(d) drainTimeout 0s, held open" "-" "-" "$failed_during_12" "$NOW_GONE_MS (at once)" "$(field "$HOLD_OUT" state)" "-"
check "(d) with drainTimeout 0 the VIP left rs1 at once ($NOW_GONE_MS ms after \`drain\`)" [ "$NOW_GONE_MS" != never ]
check "(d) negative control: the long-lived connection on rs1 broke: $hold_end_12" [ "$hold_broke_12" = yes ]
kill -TERM "$STREAM_PID" 2>/dev/null || true

# ---------------------------------------------------------------------------------------------
step "Summary"
cell() { answered "$@" && echo answers || echo silent; } # cell arp|ndp PHASE HOST
printf '   %-27s %-10s %-10s %-10s %-10s %-10s\n' "who answered ARP" "before" "max(1,3)" "operator" "repaired" "two teams"
for h in director "${REAL_SERVERS[@]}"; do
  printf '   %-27s %-10s %-10s %-10s %-10s %-10s\n' "$h ${MAC[$h]}" "$(cell arp before "$h")" "$(cell arp max3 "$h")" \
    "$(cell arp after "$h")" "$(cell arp repaired "$h")" "$(cell arp teams "$h")"
done
printf '\n   %-27s %-10s %-10s %-10s %-10s\n' "who answered NDP (IPv6 VIP)" "before" "rs1 NIC" "operator" "repaired"
for h in director "${REAL_SERVERS[@]}"; do
  printf '   %-27s %-10s %-10s %-10s %-10s\n' "$h ${MAC[$h]}" "$(cell ndp before "$h")" "$(cell ndp nic "$h")" \
    "$(cell ndp after "$h")" "$(cell ndp repaired "$h")"
done
printf '\n   %-27s %-10s %-10s %-10s %-10s %-10s\n' "requests served by" "operator" "repaired" "two teams" \
  "IPv6 op." "IPv6 rep."
for h in "${REAL_SERVERS[@]}" failed; do
  printf '   %-27s %-10s %-10s %-10s %-10s %-10s\n' "$h" "${SERVED[after:$h]}" "${SERVED[repaired:$h]}" \
    "${SERVED[teams:$h]}" "${SERVED[after6:$h]}" "${SERVED[repaired6:$h]}"
done
printf '\n   %-32s %-11s %-11s %-8s %-22s %-32s %s\n' "drain of rs1, ms after \`drain\`" "said drain" "out of map" "failed" "VIP left rs1 (ip -j)" "long-lived connection" "HAProxy rs1"
for r in "${DRAIN_SUMMARY[@]}"; do say "$r"; done
printf '\n   time to repair: rs1 VIP %s ms, rs1 IPv6 VIP %s ms, rs2 arp_ignore %s ms (resync period 500 ms)\n' \
  "${REPAIR_RS1:-never}" "${REPAIR_RS1_6:-never}" "${REPAIR_RS2:-never}"

FINISHED=1
failed=0
for i in "${!CHECK_RESULTS[@]}"; do
  [ "${CHECK_RESULTS[$i]}" = PASS ] || { failed=$((failed + 1)); printf '   %sFAIL%s  %s\n' "$R" "$N" "${CHECK_NAMES[$i]}"; }
done
if ((failed)); then
  printf '\n%s%d of %d checks failed%s\n' "$R$B" "$failed" "${#CHECK_RESULTS[@]}" "$N"
  exit 1
fi
printf '\n%sall %d checks passed%s\n' "$G$B" "${#CHECK_RESULTS[@]}" "$N"
