// Holds the NDP model (reconcile/ndp_behaviour.h) against the real kernel, cell by cell: a real
// server namespace `rs` (eth0 2001:db8::11/64) and a neighbour namespace `nb` (veth
// 2001:db8::10/64) on one veth pair. For every combination of IPv6 forwarding and proxy_ndp the
// test places VIPs in rs (on lo, on eth0, behind proxy entries, as an anycast address), sends a
// neighbour solicitation for each from nb with the real `ndisc6` and counts, with nftables counters
// on nb, the neighbour advertisements (ICMPv6 type 136) that come back per target: answered or not.
// (Counters, not ndisc6's exit code: ndisc6 ignores an advertisement for a global target that
// comes from a link-local source, which is how the kernel answers for proxy entries and anycast.)
// It also counts rs's own solicitations by source address while rs sends from each VIP (announced
// or not). It reads rs the way the operator does (RtnlKernel::Observe inside rs) and asserts the
// model's verdict equals the wire's. The whole table goes to stdout; docs/ndp-behaviour.md keeps a
// copy.
#include <algorithm>
#include <iomanip>
#include <map>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "reconcile/ndp_behaviour.h"
#include "wire_support.h"

namespace lvsrs::testing {
namespace {

// One VIP of the lab: how it is placed in rs, and the neighbour rs sends to from it when the test
// looks at rs's own solicitations (empty: not sent from).
struct VipCell {
  std::string what;
  std::string ip;
  std::string place;  // commands run in rs, "%" standing for the address
  std::string target;
};

const std::vector<VipCell> kVips = {
    {"lo", "2001:db8::101", "ip addr add %/128 dev lo", "2001:db8::21"},
    {"eth0", "2001:db8::103", "ip addr add %/128 dev eth0 nodad", "2001:db8::23"},
    {"eth0, deprecated", "2001:db8::104", "ip addr add %/128 dev eth0 nodad preferred_lft 0", "2001:db8::24"},
    {"eth0, other prefix", "2001:db8:1::5", "ip addr add %/128 dev eth0 nodad", "2001:db8::25"},
    {"proxy entry on eth0", "2001:db8::105", "ip -6 neigh add proxy % dev eth0", ""},
    {"lo + proxy entry on eth0", "2001:db8::106", "ip addr add %/128 dev lo && ip -6 neigh add proxy % dev eth0",
     "2001:db8::26"},
    // The subnet-router anycast address of eth0's prefix, which the kernel joins on eth0 while
    // forwarding is on there: a VIP that happens to be it.
    {"lo, eth0 prefix anycast", "2001:db8::", "ip addr add %/128 dev lo", ""},
};

std::string Id(const std::string& ip) {
  std::string s = ip;
  for (auto& c : s) c = c == ':' ? '_' : c;
  return s;
}

// The address as nft's 128-bit raw payload value.
std::string Hex(const std::string& ip) {
  const auto a = IpAddress::Parse(ip);
  if (!a) throw std::runtime_error("bad address " + ip);
  std::ostringstream out;
  out << "0x" << std::hex << std::setfill('0');
  for (std::size_t i = 0; i < a->size(); ++i) out << std::setw(2) << static_cast<int>(a->bytes()[i]);
  return out.str();
}

std::string Replace(std::string s, const std::string& ip) {
  for (auto pos = s.find('%'); pos != std::string::npos; pos = s.find('%', pos + ip.size())) s.replace(pos, 1, ip);
  return s;
}

// The lab: two namespaces on a veth pair, removed with the object on every way out.
class NdpLab {
 public:
  NdpLab() : rs_("lvsrs-nw-rs"), nb_("lvsrs-nw-nb") {
    // No duplicate address detection in the lab: its addresses are unique by construction, and a
    // tentative link-local address would keep the kernel from sending solicitations at all.
    for (const TestNetns* n : {&rs_, &nb_})
      Must(n->Exec("sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0"), "accept_dad");
    Must(rs_.Exec("ip link add eth0 type veth peer name veth netns " + nb_.name() +
                  " && ip addr add 2001:db8::11/64 dev eth0 nodad && ip link set eth0 up"),
         "rs setup");
    std::string nb_setup = "ip addr add 2001:db8::10/64 dev veth nodad && ip link set veth up";
    for (const auto& v : kVips)
      if (!v.target.empty()) nb_setup += " && ip addr add " + v.target + "/64 dev veth nodad";
    Must(nb_.Exec(nb_setup), "nb setup");
    // Counters on nb: advertisements by target (did rs answer?), rs's solicitations by source (did
    // rs announce?) and by target (did rs ask at all?).
    std::ostringstream nft;
    nft << "table netdev lvsrs_ndpwire {\n";
    for (const auto& v : kVips) nft << "  counter na_" << Id(v.ip) << " {}\n  counter ns_from_" << Id(v.ip) << " {}\n";
    for (const auto& v : kVips)
      if (!v.target.empty()) nft << "  counter ns_to_" << Id(v.target) << " {}\n";
    nft << "  chain in {\n    type filter hook ingress device \"veth\" priority 0; policy accept;\n";
    for (const auto& v : kVips) {
      nft << "    icmpv6 type nd-neighbor-advert @th,64,128 " << Hex(v.ip) << " counter name na_" << Id(v.ip) << "\n";
      nft << "    icmpv6 type nd-neighbor-solicit ip6 saddr " << v.ip << " counter name ns_from_" << Id(v.ip) << "\n";
    }
    for (const auto& v : kVips)
      if (!v.target.empty())
        nft << "    icmpv6 type nd-neighbor-solicit @th,64,128 " << Hex(v.target) << " counter name ns_to_"
            << Id(v.target) << "\n";
    nft << "  }\n}\n";
    Must(nb_.Exec("printf '%s' " + Quote(nft.str()) + " | nft -f -"), "nft setup");
    // The veth pair takes a moment to get its carrier: ask until rs's own address is answered.
    if (!Eventually([&] { return nb_.Exec("ndisc6 -q -r 1 -w 500 2001:db8::11 veth").exit_code == 0; }))
      throw std::runtime_error("rs never answered nb's solicitation for its own address 2001:db8::11");
  }

  void PlaceVips() {
    std::string cmd = "true";
    for (const auto& v : kVips) cmd += " && " + Replace(v.place, v.ip);
    Must(rs_.Exec(cmd), "place VIPs");
  }
  // forwarding: conf/all first (the kernel copies it to every device), then the device's own.
  void Set(int fwd_all, int fwd_eth0, int proxy_all, int proxy_eth0) {
    rs_.SetSysctl("net.ipv6.conf.all.forwarding", fwd_all);
    rs_.SetSysctl("net.ipv6.conf.eth0.forwarding", fwd_eth0);
    rs_.SetSysctl("net.ipv6.conf.all.proxy_ndp", proxy_all);
    rs_.SetSysctl("net.ipv6.conf.eth0.proxy_ndp", proxy_eth0);
  }
  ObservedState Observe() const { return ObserveIn(rs_.name()); }

  // Whether rs advertises each VIP in reply to nb's solicitation, all VIPs at once. ndisc6 waits
  // 1.5 s: the kernel delays anycast and proxy answers by up to proxy_delay (0.8 s).
  std::map<std::string, bool> SolicitAll() {
    Must(nb_.Exec("nft reset counters table netdev lvsrs_ndpwire >/dev/null"), "reset counters");
    std::string cmd;
    for (const auto& v : kVips) cmd += "ndisc6 -q -r 1 -w 1500 " + v.ip + " veth >/dev/null & ";
    cmd += "wait";
    nb_.Exec(cmd);  // exit codes say nothing here (see the header comment); the counters do
    std::map<std::string, bool> answered;
    for (const auto& v : kVips) answered[v.ip] = Counter("na_" + Id(v.ip)) > 0;
    return answered;
  }

  // rs opens a TCP connection (curl bound to the VIP: a packet whose source is the VIP, as a real
  // server's DR replies are) from each VIP to its target with an empty neighbour cache; returns
  // whether any of rs's solicitations carried the VIP as source.
  std::map<std::string, bool> SendFromVips() {
    Must(rs_.Exec("ip -6 neigh flush dev eth0"), "flush neighbours");
    Must(nb_.Exec("nft reset counters table netdev lvsrs_ndpwire >/dev/null"), "reset counters");
    std::string cmd;
    for (const auto& v : kVips)
      if (!v.target.empty())
        cmd += "curl -s -o /dev/null --connect-timeout 1 --interface " + v.ip + " http://[" + v.target + "]:9/ & ";
    cmd += "wait";
    rs_.Exec(cmd);  // a TCP SYN from the VIP; no answer needed: the solicitation is what is looked at
    std::map<std::string, bool> from;
    for (const auto& v : kVips) {
      if (v.target.empty()) continue;
      if (Counter("ns_to_" + Id(v.target)) == 0)
        throw std::runtime_error("rs sent no solicitation for " + v.target + " (connection from " + v.ip + ")");
      from[v.ip] = Counter("ns_from_" + Id(v.ip)) > 0;
    }
    return from;
  }

  long Counter(const std::string& name) { return NftCounter(nb_, "netdev lvsrs_ndpwire", name); }

 private:
  TestNetns rs_;
  TestNetns nb_;
};

TEST(NdpBehaviourWire, AnswersEqualTheAdvertisementsNdisc6Gets) {
  NdpLab lab;
  lab.PlaceVips();
  Table table(
      "NDP: is a neighbour's solicitation for the VIP, arriving on eth0, answered (an advertisement with the VIP "
      "as target comes back)?");
  // forwarding (all, eth0) as written in that order, then proxy_ndp (all, eth0).
  const std::vector<std::pair<int, int>> forwarding = {{0, 0}, {1, 1}, {1, 0}, {0, 1}};
  const std::vector<std::pair<int, int>> proxy = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (const auto& [fa, fe] : forwarding) {
    for (const auto& [pa, pe] : proxy) {
      lab.Set(fa, fe, pa, pe);
      const std::string settings = "forwarding all=" + std::to_string(fa) + " eth0=" + std::to_string(fe) +
                                   ", proxy_ndp all=" + std::to_string(pa) + " eth0=" + std::to_string(pe);
      const ObservedState observed = lab.Observe();
      const NdpBehaviour model(observed);
      const Link* eth0 = observed.LinkByName("eth0");
      ASSERT_NE(eth0, nullptr);
      const auto wire = lab.SolicitAll();
      for (const auto& v : kVips) {
        const auto why = model.Answers(*IpAddress::Parse(v.ip), *eth0);
        table.Row(settings, v.what + " " + v.ip, Verdict(wire.at(v.ip), "answered"),
                  Verdict(why.has_value(), "answered"));
        EXPECT_EQ(wire.at(v.ip), why.has_value())
            << settings << ", VIP " << v.what << " " << v.ip << ": wire " << Verdict(wire.at(v.ip), "answered")
            << ", model " << (why ? *why : std::string("not answered"));
      }
    }
  }
}

TEST(NdpBehaviourWire, AnnouncementsEqualTheSourceOfTheNodesOwnSolicitations) {
  NdpLab lab;
  lab.PlaceVips();
  Table table(
      "NDP: does rs's own solicitation on eth0 carry the VIP as source, when rs sends from the VIP (to a neighbour "
      "in eth0's prefix)?");
  const ObservedState observed = lab.Observe();
  const NdpBehaviour model(observed);
  const Link* eth0 = observed.LinkByName("eth0");
  ASSERT_NE(eth0, nullptr);
  const auto wire = lab.SendFromVips();
  for (const auto& v : kVips) {
    if (v.target.empty()) continue;
    const auto why = model.Announces(*IpAddress::Parse(v.ip), *eth0);
    table.Row("forwarding 0, proxy_ndp 0", v.what + " " + v.ip, Verdict(wire.at(v.ip), "announced"),
              Verdict(why.has_value(), "announced"));
    EXPECT_EQ(wire.at(v.ip), why.has_value())
        << "VIP " << v.what << " " << v.ip << ": wire " << Verdict(wire.at(v.ip), "announced") << ", model "
        << (why ? *why : std::string("not announced"));
  }
}

// The kernel adapter reads what the model needs: forwarding and proxy_ndp per interface and for
// all, proxy entries and anycast addresses.
TEST(NdpBehaviourWire, ObserveReadsTheNdpSettingsEntriesAndAnycastAddresses) {
  NdpLab lab;
  lab.PlaceVips();
  lab.Set(0, 1, 1, 0);
  const ObservedState o = lab.Observe();
  const Link* eth0 = o.LinkByName("eth0");
  ASSERT_NE(eth0, nullptr);
  EXPECT_EQ(o.NdpSysctl("all", NdpKey::Forwarding), 0);
  EXPECT_EQ(o.NdpSysctl("eth0", NdpKey::Forwarding), 1);
  EXPECT_EQ(o.NdpSysctl("all", NdpKey::ProxyNdp), 1);
  EXPECT_EQ(o.NdpSysctl("eth0", NdpKey::ProxyNdp), 0);
  auto has = [](const std::vector<NeighbourEntry>& list, const char* ip, int ifindex) {
    return std::any_of(list.begin(), list.end(),
                       [&](const NeighbourEntry& e) { return e.ip == *IpAddress::Parse(ip) && e.ifindex == ifindex; });
  };
  EXPECT_TRUE(has(o.proxy_ndp_entries, "2001:db8::105", eth0->index));
  EXPECT_TRUE(has(o.proxy_ndp_entries, "2001:db8::106", eth0->index));
  EXPECT_EQ(o.proxy_ndp_entries.size(), 2u);
  EXPECT_TRUE(has(o.anycast, "2001:db8::", eth0->index));  // eth0 forwards: its prefix's anycast address
}

}  // namespace
}  // namespace lvsrs::testing
