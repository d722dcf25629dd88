// Holds the ARP model (reconcile/arp_behaviour.h) against the real kernel, cell by cell: a real
// server namespace `rs` (eth0 192.0.2.11/24) and a neighbour namespace `nb` (veth 192.0.2.10/24)
// on one veth pair. For every sysctl combination the test places VIPs in rs, asks the wire with the
// real `arping` from nb (answered or not) or counts, with nftables counters on nb, the sender
// address of rs's own ARP requests (announced or not), reads rs the way the operator does
// (RtnlKernel::Observe inside rs) and asserts the model's verdict equals the wire's. The whole
// table goes to stdout; docs/arp-behaviour.md keeps a copy.
#include <map>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>

#include "reconcile/arp_behaviour.h"
#include "wire_support.h"

namespace lvsrs::testing {
namespace {

// One VIP of the lab: where it sits in rs, and the two neighbours rs sends to from it when the
// test looks at announcements (one inside eth0's subnet, one outside every subnet of eth0, reached
// by an on-link route: inet_select_addr prefers an address whose subnet holds the target).
struct VipCell {
  std::string what;  // "lo global"
  std::string ip;
  std::string dev;
  std::string scope;
  std::string target_in;
  std::string target_out;
};

const std::vector<VipCell> kVips = {
    {"lo global", "192.0.2.101", "lo", "global", "192.0.2.21", "203.0.113.21"},
    {"lo host", "192.0.2.102", "lo", "host", "192.0.2.22", "203.0.113.22"},
    {"eth0 global", "192.0.2.103", "eth0", "global", "192.0.2.23", "203.0.113.23"},
    {"eth0 host", "192.0.2.104", "eth0", "host", "192.0.2.24", "203.0.113.24"},
    {"eth0 global, other subnet", "198.51.100.5", "eth0", "global", "192.0.2.25", "203.0.113.25"},
    {"eth0 host, other subnet", "198.51.100.6", "eth0", "host", "192.0.2.26", "203.0.113.26"},
};

// The lab: two namespaces on a veth pair, removed with the object on every way out.
class ArpLab {
 public:
  ArpLab() : rs_("lvsrs-aw-rs"), nb_("lvsrs-aw-nb") {
    Must(rs_.Exec("ip link add eth0 type veth peer name veth netns " + nb_.name() +
                  " && ip addr add 192.0.2.11/24 dev eth0 && ip link set eth0 up"),
         "rs setup");
    std::string nb_setup = "ip addr add 192.0.2.10/24 dev veth && ip link set veth up";
    for (const auto& v : kVips)
      nb_setup += " && ip addr add " + v.target_in + "/24 dev veth && ip addr add " + v.target_out + "/24 dev veth";
    Must(nb_.Exec(nb_setup), "nb setup");
    // Counters of the ARP requests nb receives: by sender address (rs's VIPs and its own address)
    // and by target (to prove that each connection made rs ask).
    std::ostringstream nft;
    nft << "table arp lvsrs_arpwire {\n";
    for (const auto& v : kVips) nft << "  counter from_" << Id(v.ip) << " {}\n";
    nft << "  counter from_own {}\n";
    for (const auto& v : kVips)
      nft << "  counter to_" << Id(v.target_in) << " {}\n  counter to_" << Id(v.target_out) << " {}\n";
    nft << "  chain in {\n    type filter hook input priority 0; policy accept;\n";
    for (const auto& v : kVips)
      nft << "    arp operation request arp saddr ip " << v.ip << " counter name from_" << Id(v.ip) << "\n";
    nft << "    arp operation request arp saddr ip 192.0.2.11 counter name from_own\n";
    for (const auto& v : kVips) {
      nft << "    arp operation request arp daddr ip " << v.target_in << " counter name to_" << Id(v.target_in) << "\n";
      nft << "    arp operation request arp daddr ip " << v.target_out << " counter name to_" << Id(v.target_out)
          << "\n";
    }
    nft << "  }\n}\n";
    Must(nb_.Exec("printf '%s' " + Quote(nft.str()) + " | nft -f -"), "nft setup");
    Must(nb_.Exec("arping -q -c 1 -w 2 -I veth 192.0.2.11"), "first contact nb -> rs");
  }

  static std::string Id(const std::string& ip) {
    std::string s = ip;
    for (auto& c : s) c = c == '.' ? '_' : c;
    return s;
  }

  void PlaceVips() {
    std::string cmd = "true";
    for (const auto& v : kVips) cmd += " && ip addr add " + v.ip + "/32 dev " + v.dev + " scope " + v.scope;
    Must(rs_.Exec(cmd), "place VIPs");
  }
  void Sysctl(const std::string& conf, const std::string& key, int value) {
    rs_.SetSysctl("net.ipv4.conf." + conf + "." + key, value);
  }
  ObservedState Observe() const { return ObserveIn(rs_.name()); }
  const TestNetns& rs() const { return rs_; }

  // Whether nb's arping for each VIP gets a reply, all VIPs at once.
  std::map<std::string, bool> ArpingAll(const std::vector<VipCell>& vips) {
    std::string cmd;
    for (const auto& v : vips)
      cmd += "( arping -q -c 1 -w 1 -s 192.0.2.10 -I veth " + v.ip + "; echo \"" + v.ip + " $?\" ) & ";
    cmd += "wait";
    const auto out = Must(nb_.Exec(cmd), "arping");
    std::map<std::string, bool> answered;
    std::istringstream in(out);
    for (std::string ip; in >> ip;) {
      int rc = -1;
      in >> rc;
      if (rc != 0 && rc != 1) throw std::runtime_error("arping " + ip + " exited " + std::to_string(rc) + ": " + out);
      answered[ip] = rc == 0;
    }
    for (const auto& v : vips)
      if (!answered.count(v.ip)) throw std::runtime_error("no arping result for " + v.ip + ": " + out);
    return answered;
  }

  // rs opens a TCP connection (curl, bound to the VIP: a packet whose source is the VIP, as a real
  // server's DR replies are) from each VIP to its two targets with an empty neighbour cache; returns the
  // number of ARP requests nb saw per sender address.
  std::map<std::string, long> SendFromVips(const std::vector<VipCell>& vips) {
    Must(rs_.Exec("ip neigh flush dev eth0"), "flush neighbours");
    Must(nb_.Exec("nft reset counters table arp lvsrs_arpwire >/dev/null"), "reset counters");
    std::string cmd;
    for (const auto& v : vips)
      for (const auto& t : {v.target_in, v.target_out})
        cmd += "curl -s -o /dev/null --connect-timeout 1 --interface " + v.ip + " http://" + t + ":9/ & ";
    cmd += "wait";
    rs_.Exec(cmd);  // a TCP SYN from the VIP; no answer needed: the ARP request is what is looked at
    std::map<std::string, long> from;
    for (const auto& v : kVips) from[v.ip] = Counter("from_" + Id(v.ip));
    from["192.0.2.11"] = Counter("from_own");
    for (const auto& v : vips)
      for (const auto& t : {v.target_in, v.target_out})
        if (Counter("to_" + Id(t)) == 0)
          throw std::runtime_error("rs sent no ARP request for " + t + " (connection from " + v.ip + ")");
    return from;
  }

  long Counter(const std::string& name) { return NftCounter(nb_, "arp lvsrs_arpwire", name); }

 private:
  TestNetns rs_;
  TestNetns nb_;
};

const int kIgnoreValues[] = {0, 1, 2, 3, 8};

TEST(ArpBehaviourWire, AnswersEqualWhatArpingSees) {
  ArpLab lab;
  lab.PlaceVips();
  Table table("arp_ignore: is a neighbour's ARP request for the VIP, arriving on eth0, answered?");
  auto check = [&](const std::string& settings, const std::vector<VipCell>& vips) {
    const ObservedState observed = lab.Observe();
    const ArpBehaviour model(observed);
    const Link* eth0 = observed.LinkByName("eth0");
    ASSERT_NE(eth0, nullptr);
    const auto wire = lab.ArpingAll(vips);
    for (const auto& v : vips) {
      const auto why = model.Answers(*IpAddress::Parse(v.ip), *eth0);
      table.Row(settings, v.what + " " + v.ip, Verdict(wire.at(v.ip), "answered"),
                Verdict(why.has_value(), "answered"));
      EXPECT_EQ(wire.at(v.ip), why.has_value())
          << settings << ", VIP " << v.what << " " << v.ip << ": wire " << Verdict(wire.at(v.ip), "answered")
          << ", model " << (why ? *why : std::string("not answered"));
    }
  };
  for (int all : kIgnoreValues) {
    for (int dev : kIgnoreValues) {
      lab.Sysctl("all", "arp_ignore", all);
      lab.Sysctl("eth0", "arp_ignore", dev);
      check("arp_ignore all=" + std::to_string(all) + " eth0=" + std::to_string(dev), kVips);
    }
  }
  // route_localnet makes host scope count as link scope for the addresses of the device it is set
  // on (or of all): arp_ignore 3 then answers for host-scope VIPs there.
  std::vector<VipCell> host_vips;
  for (const auto& v : kVips)
    if (v.scope == "host") host_vips.push_back(v);
  lab.Sysctl("eth0", "arp_ignore", 0);
  lab.Sysctl("all", "arp_ignore", 3);
  for (const char* conf : {"all", "lo", "eth0"}) {
    lab.Sysctl(conf, "route_localnet", 1);
    check(std::string("arp_ignore 3, route_localnet ") + conf + "=1", host_vips);
    lab.Sysctl(conf, "route_localnet", 0);
  }
}

TEST(ArpBehaviourWire, AnnouncementsEqualTheSenderOfTheNodesOwnRequests) {
  ArpLab lab;
  lab.PlaceVips();
  Must(lab.rs().Exec("ip route add 203.0.113.0/24 dev eth0"), "on-link route outside eth0's subnet");
  Table table(
      "arp_announce: does rs's own ARP request on eth0 carry the VIP as sender, when rs sends from the VIP "
      "(to a neighbour inside eth0's subnet and one outside)?");
  auto check = [&](const std::string& settings) {
    const ObservedState observed = lab.Observe();
    const ArpBehaviour model(observed);
    const Link* eth0 = observed.LinkByName("eth0");
    ASSERT_NE(eth0, nullptr);
    const auto from = lab.SendFromVips(kVips);
    for (const auto& v : kVips) {
      const bool wire = from.at(v.ip) > 0;
      const auto why = model.Announces(*IpAddress::Parse(v.ip), *eth0);
      table.Row(settings, v.what + " " + v.ip, Verdict(wire, "announced"), Verdict(why.has_value(), "announced"));
      EXPECT_EQ(wire, why.has_value()) << settings << ", VIP " << v.what << " " << v.ip << ": wire "
                                       << Verdict(wire, "announced") << ", model "
                                       << (why ? *why : std::string("not announced"));
    }
  };
  for (int all : {0, 1, 2}) {
    for (int dev : {0, 1, 2}) {
      lab.Sysctl("all", "arp_announce", all);
      lab.Sysctl("eth0", "arp_announce", dev);
      check("arp_announce all=" + std::to_string(all) + " eth0=" + std::to_string(dev));
    }
  }
  // route_localnet lets inet_select_addr take a host-scope address of eth0 itself.
  lab.Sysctl("eth0", "arp_announce", 0);
  lab.Sysctl("all", "arp_announce", 2);
  lab.Sysctl("all", "route_localnet", 1);
  check("arp_announce 2, route_localnet all=1");
}

// eth0 without an IPv4 address of its own: inet_select_addr falls back to the first address of
// scope global of any interface, lo first.
TEST(ArpBehaviourWire, AnnouncementsWhenEth0HasNoAddressOfItsOwn) {
  ArpLab lab;
  const std::vector<VipCell> vips = {kVips[0], kVips[1]};  // lo global, lo host
  std::string place =
      "ip addr flush dev eth0 && ip route add 192.0.2.0/24 dev eth0 && "
      "ip route add 203.0.113.0/24 dev eth0";
  for (const auto& v : vips) place += " && ip addr add " + v.ip + "/32 dev " + v.dev + " scope " + v.scope;
  Must(lab.rs().Exec(place), "eth0 without address");
  Table table("arp_announce, eth0 without an IPv4 address of its own (VIPs on lo only)");
  for (int route_localnet : {0, 1}) {
    for (int announce : {0, 1, 2}) {
      lab.Sysctl("all", "arp_announce", announce);
      lab.Sysctl("all", "route_localnet", route_localnet);
      const std::string settings =
          "no address, arp_announce " + std::to_string(announce) + ", route_localnet " + std::to_string(route_localnet);
      const ObservedState observed = lab.Observe();
      const ArpBehaviour model(observed);
      const Link* eth0 = observed.LinkByName("eth0");
      ASSERT_NE(eth0, nullptr);
      const auto from = lab.SendFromVips(vips);
      for (const auto& v : vips) {
        const bool wire = from.at(v.ip) > 0;
        const auto why = model.Announces(*IpAddress::Parse(v.ip), *eth0);
        table.Row(settings, v.what + " " + v.ip, Verdict(wire, "announced"), Verdict(why.has_value(), "announced"));
        EXPECT_EQ(wire, why.has_value()) << settings << ", VIP " << v.what << ": wire " << Verdict(wire, "announced")
                                         << ", model " << (why ? *why : std::string("not announced"));
      }
    }
  }
}

}  // namespace
}  // namespace lvsrs::testing
