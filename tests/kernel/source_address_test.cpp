// VIPs are never a source address: IPv6 VIPs are added deprecated (preferred lifetime 0, valid
// forever), IPv4 VIPs with host scope, and `check`, `run --once` and the status verify with
// RTM_GETROUTE (as `ip route get`) that the node's own traffic to the world does not leave from a
// VIP. Each topology below is one where the kernel *would* pick a VIP that is held otherwise; the
// tests first ask `ip route get` themselves, so they show what the kernel does, not what we think.
#include "kernel_fixture.h"

namespace lvsrs::testing {
namespace {

class SourceAddress : public KernelTest {
 protected:
  // A node whose routes make the kernel consider lo's addresses for its own traffic:
  //  - IPv4: the default route leaves through eth1, which has no IPv4 address, so inet_select_addr
  //    takes the first address of scope global on any interface, lo (index 1) first;
  //  - IPv6: the node's own address is on lo (a routed host: 2001:db8:1::7/128) and the uplink eth0
  //    has link-local addresses only. A VIP on lo then ties with the node's address on every rule of
  //    RFC 6724 except rule 3 (avoid deprecated), and the later-added address comes first.
  void SetUpRoutedNode() const {
    ASSERT_EQ(ns_->Exec("ip link add eth1 type veth peer name peer1 && ip link set eth1 up && ip link set peer1 up && "
                        "ip route add default dev eth1 && "
                        "ip -6 addr add 2001:db8:1::7/128 dev lo && ip -6 route add default via fe80::1 dev eth0")
                  .exit_code,
              0);
  }
  // The source `ip route get` shows for dst.
  std::string SourceTowards(const std::string& dst) const {
    const auto r = ns_->IpJson("route get " + dst);
    return r.empty() ? "" : r[0].value("prefsrc", "");
  }
  // The `check` line about the source towards dst.
  nlohmann::json CheckLine(const std::string& file, const std::string& dst) const {
    const auto r = ns_->Operator("check --output json --node-name rs1 --state-dir " + StateDir() + " --file " + file);
    const auto checks = nlohmann::json::parse(r.output)["checks"];
    for (const auto& c : checks)
      if (c["step"] == "source address towards " + dst) return c;
    return nullptr;
  }
  nlohmann::json AddrInfo(const std::string& ip) const {
    for (const auto& link : ns_->IpJson("addr show"))
      for (const auto& a : link.value("addr_info", nlohmann::json::array()))
        if (a.value("local", "") == ip) return a;
    return nullptr;
  }
};

const std::string kV4 = "8.8.8.8", kV6 = "2001:4860:4860::8888";  // SourceCheckDestinations()

TEST_F(SourceAddress, Ipv6VipsAreDeprecatedForeverAndStaySo) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\", \"2001:db8::10\""));
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  const auto v6 = AddrInfo("2001:db8::10");
  ASSERT_FALSE(v6.is_null());
  EXPECT_TRUE(v6.value("deprecated", false)) << v6.dump();
  EXPECT_EQ(v6["preferred_life_time"], 0) << v6.dump();
  EXPECT_EQ(v6["valid_life_time"], 4294967295U) << "forever: " << v6.dump();
  // IPv4 is kept from being a source by its scope, not by a lifetime.
  const auto v4 = AddrInfo("192.0.2.10");
  EXPECT_EQ(v4["scope"], "host") << v4.dump();
  EXPECT_FALSE(v4.value("deprecated", false)) << v4.dump();

  // The kernel's lifetime check runs when an address with a finite lifetime arrives: the VIP stays,
  // deprecated, valid forever, and the operator sees nothing to repair.
  ASSERT_EQ(ns_->Exec("ip -6 addr add 2001:db8::99/128 dev lo valid_lft 100 preferred_lft 50").exit_code, 0);
  const auto after = AddrInfo("2001:db8::10");
  EXPECT_TRUE(after.value("deprecated", false)) << after.dump();
  EXPECT_EQ(after["valid_life_time"], 4294967295U) << after.dump();
  const auto dry = ns_->Operator(Run("run --dry-run --file " + file));
  EXPECT_NE(dry.output.find("nothing to do"), std::string::npos) << dry.output;
}

TEST_F(SourceAddress, TheOperatorsVipsAreNeverChosen) {
  SetUpRoutedNode();
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\", \"2001:db8::10\""));
  const auto r = ns_->Operator(Run("run --once --file " + file));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(HasAddress("lo", "2001:db8::10/128"));
  EXPECT_EQ(SourceTowards(kV4), "198.51.100.7");
  EXPECT_EQ(SourceTowards(kV6), "2001:db8:1::7");
  for (const auto& dst : {kV4, kV6}) {
    const auto line = CheckLine(file, dst);
    ASSERT_FALSE(line.is_null()) << dst;
    EXPECT_TRUE(line["ok"].get<bool>()) << line.dump();
  }
  EXPECT_EQ(ns_->Operator("check --node-name rs1 --file " + file).exit_code, 0);
}

TEST_F(SourceAddress, VipsAnAdminAddedThatTheKernelPicksAreReported) {
  SetUpRoutedNode();
  // The rc.local way: scope global, preferred. The operator adopts them and never changes them.
  ASSERT_EQ(ns_->Exec("ip addr add 192.0.2.10/32 dev lo && ip -6 addr add 2001:db8::10/128 dev lo nodad").exit_code, 0);
  ASSERT_EQ(SourceTowards(kV4), "192.0.2.10") << "the topology must make the kernel pick them";
  ASSERT_EQ(SourceTowards(kV6), "2001:db8::10");

  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\", \"2001:db8::10\""));
  const auto r = ns_->Operator(Run("run --once --file " + file));
  EXPECT_EQ(r.exit_code, 1) << "not conformant: " << r.output;
  EXPECT_NE(r.output.find("192.0.2.10 is the source address the kernel picks for this node's own traffic to 8.8.8.8 "
                          "(via eth1): it has scope global"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("2001:db8::10 is the source address the kernel picks for this node's own traffic to " + kV6 +
                          " (via eth0): it is a preferred address"),
            std::string::npos)
      << r.output;
  for (const auto& [dst, src] : {std::pair{kV4, "192.0.2.10 via eth1"}, std::pair{kV6, "2001:db8::10 via eth0"}}) {
    const auto line = CheckLine(file, dst);
    ASSERT_FALSE(line.is_null()) << dst;
    EXPECT_FALSE(line["ok"].get<bool>()) << line.dump();
    EXPECT_EQ(line["actual"], src);
  }
  EXPECT_EQ(ns_->Operator("check --node-name rs1 --file " + file).exit_code, 1);
}

// Deprecation is no help where the node has no IPv6 address of its own with global scope: RFC 6724
// prefers a deprecated global source to a link-local one. The operator cannot fix that; it says so.
TEST_F(SourceAddress, ANodeWithoutAGlobalIpv6AddressOfItsOwnIsReportedEvenWithDeprecatedVips) {
  ASSERT_EQ(ns_->Exec("ip -6 route add default via fe80::1 dev eth0").exit_code, 0);
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"2001:db8::10\""));
  const auto r = ns_->Operator(Run("run --once --file " + file));
  ASSERT_EQ(SourceTowards(kV6), "2001:db8::10");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("although it is deprecated"), std::string::npos) << r.output;
  ASSERT_EQ(ns_->Exec("ip -6 addr add 2001:db8:1::7/64 dev eth0 nodad").exit_code, 0);
  EXPECT_EQ(SourceTowards(kV6), "2001:db8:1::7");
  EXPECT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
}

}  // namespace
}  // namespace lvsrs::testing
