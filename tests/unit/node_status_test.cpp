#include "reconcile/node_status.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "observed_builder.h"
#include "reconcile/audit.h"

namespace lvsrs {
namespace {

using testing::BasicNode;
using testing::Ip;
using testing::MakeVip;

const NodeInfo kNode{"rs1", {}};

ObservedState Converged(const std::vector<VirtualIp>& vips) { return testing::Converged(vips, kNode); }

TEST(NodeStatus, ConvergedNodeIsConformant) {
  const std::vector<VirtualIp> vips = {MakeVip("web", {"192.0.2.10"})};
  const auto o = Converged(vips);
  const auto st = EvaluateStatus(BuildDesiredState(vips, kNode, o), o);
  EXPECT_TRUE(st.conformant()) << (st.problems.empty() ? "" : st.problems.front().text);
  ASSERT_EQ(st.vips.size(), 1u);
  EXPECT_EQ(st.vips[0].state, VipState::Configured);
  ASSERT_EQ(st.interfaces.size(), 1u);  // eth0; lo answers no ARP
  EXPECT_EQ(st.interfaces[0].arp_ignore, 1);
  EXPECT_TRUE(AllOk(Audit(BuildDesiredState(vips, kNode, o), o)));
}

TEST(NodeStatus, ConformanceIsWhatTheKernelDoesNotWhatTheFilesSay) {
  const std::vector<VirtualIp> vips = {MakeVip("web", {"192.0.2.10"})};
  auto o = Converged(vips);
  // An admin's conf/eth0/arp_ignore=2 wins (max) and is stricter: the VIP stays unanswered, so
  // this is no problem although the effective value is not the one asked for.
  o.sysctls[SysctlKey{"eth0", ArpKey::Ignore}] = 2;
  auto st = EvaluateStatus(BuildDesiredState(vips, kNode, o), o);
  EXPECT_TRUE(st.arp_conformant) << (st.problems.empty() ? "" : st.problems.front().text);
  EXPECT_EQ(st.interfaces[0].arp_ignore, 2);

  // arp_ignore=3 answers for addresses of scope link or wider; the operator's VIP has host scope,
  // but kube-proxy's route_localnet=1 makes host scope count as link scope: now it is answered.
  o.sysctls[SysctlKey{"eth0", ArpKey::Ignore}] = 3;
  EXPECT_TRUE(EvaluateStatus(BuildDesiredState(vips, kNode, o), o).arp_conformant);
  o.sysctls[SysctlKey{"all", ArpKey::RouteLocalnet}] = 1;
  st = EvaluateStatus(BuildDesiredState(vips, kNode, o), o);
  EXPECT_FALSE(st.arp_conformant);
  EXPECT_TRUE(st.vips_configured);
  ASSERT_EQ(st.exposures.size(), 1u);
  EXPECT_EQ(st.exposures[0].interface, "eth0");
  EXPECT_EQ(st.exposures[0].how, ArpExposure::How::Answered);
  EXPECT_FALSE(st.interfaces[0].conformant);
  EXPECT_NE(st.interfaces[0].message.find("192.0.2.10 answered"), std::string::npos) << st.interfaces[0].message;
  EXPECT_NE(st.interfaces[0].message.find("max(conf/all, conf/eth0)"), std::string::npos);
}

// An IPv6 VIP on lo is silent; a proxy entry for it on the NIC, with forwarding and proxy_ndp on
// there, makes the node answer solicitations for it: status, check and its JSON say so.
TEST(NodeStatus, AnIpv6VipBehindAProxyEntryIsAnsweredThroughNdpAndReportedAsSuch) {
  const std::vector<VirtualIp> vips = {MakeVip("web6", {"2001:db8::10"})};
  auto o = Converged(vips);
  const auto d = BuildDesiredState(vips, kNode, o);
  EXPECT_TRUE(EvaluateStatus(d, o).conformant());
  EXPECT_TRUE(AllOk(Audit(d, o)));

  o.proxy_ndp_entries.push_back({Ip("2001:db8::10"), 2});
  o.ndp_sysctls[{"eth0", NdpKey::Forwarding}] = 1;
  o.ndp_sysctls[{"all", NdpKey::ProxyNdp}] = 0;
  o.ndp_sysctls[{"eth0", NdpKey::ProxyNdp}] = 1;
  const auto st = EvaluateStatus(d, o);
  EXPECT_TRUE(st.vips_configured);
  EXPECT_FALSE(st.arp_conformant);
  EXPECT_FALSE(st.conformant());
  ASSERT_EQ(st.exposures.size(), 1u);
  EXPECT_EQ(st.exposures[0].how, ArpExposure::How::NdpAnswered);
  EXPECT_EQ(st.exposures[0].interface, "eth0");
  ASSERT_EQ(st.interfaces.size(), 1u);
  EXPECT_FALSE(st.interfaces[0].conformant);
  EXPECT_EQ(st.interfaces[0].message, "2001:db8::10 ndp_answered");  // no arp_ignore talk: NDP has none
  ASSERT_FALSE(st.problems.empty());
  EXPECT_EQ(st.problems[0].kind, Problem::Kind::ArpExposed);
  EXPECT_NE(st.problems[0].text.find("2001:db8::10 answered (NDP) on eth0: a proxy entry"), std::string::npos)
      << st.problems[0].text;

  const auto lines = Audit(d, o);
  EXPECT_FALSE(AllOk(lines));
  const auto ndp =
      std::find_if(lines.begin(), lines.end(), [](const AuditLine& l) { return l.step == "NDP for 2001:db8::10"; });
  ASSERT_NE(ndp, lines.end());
  EXPECT_FALSE(ndp->ok);
  EXPECT_EQ(ndp->actual, "answered on eth0");
  const auto json = AuditJson(lines);
  bool seen = false;
  for (const auto& c : json["checks"]) {
    if (c["step"] != "NDP for 2001:db8::10") continue;
    seen = true;
    ASSERT_TRUE(c.contains("ndp")) << c.dump();
    EXPECT_FALSE(c.contains("arp"));
    ASSERT_EQ(c["ndp"].size(), 1u);
    EXPECT_EQ(c["ndp"][0]["interface"], "eth0");
    EXPECT_EQ(c["ndp"][0]["answered"], true);
    EXPECT_EQ(c["ndp"][0]["announced"], false);
  }
  EXPECT_TRUE(seen) << json.dump(2);
  EXPECT_FALSE(json["conformant"].get<bool>());
}

// A VirtualIP that puts an IPv6 VIP on the NIC where it already is (adopted): answered and
// announced there.
TEST(NodeStatus, AnAdoptedIpv6VipOnTheNicIsAnsweredAndAnnouncedThroughNdp) {
  auto o = BasicNode();
  o.addresses.push_back(KernelAddress{Ip("2001:db8::50"), 128, 2, "", 0, kScopeUniverse, false});
  o.routes.push_back(KernelRoute{Ip("2001:db8::50"), 128, 2, kMainTable, 4});
  auto onnic = MakeVip("onnic6", {"2001:db8::50"});
  onnic.interface = "eth0";
  const std::vector<VirtualIp> vips = {onnic};
  const auto st = EvaluateStatus(BuildDesiredState(vips, kNode, o), o);
  ASSERT_EQ(st.vips.size(), 1u);
  EXPECT_EQ(st.vips[0].state, VipState::Adopted);
  EXPECT_FALSE(st.conformant());
  ASSERT_EQ(st.exposures.size(), 2u);
  EXPECT_EQ(st.exposures[0].how, ArpExposure::How::NdpAnswered);
  EXPECT_EQ(st.exposures[1].how, ArpExposure::How::NdpAnnounced);
  EXPECT_EQ(st.interfaces[0].message, "2001:db8::50 ndp_answered, 2001:db8::50 ndp_announced");
}

TEST(NodeStatus, MissingRouteAndRefusalMakeTheNodeNotConformant) {
  const std::vector<VirtualIp> vips = {MakeVip("web", {"192.0.2.10"}), MakeVip("bad", {"127.0.0.5"})};
  auto o = Converged(vips);
  std::erase_if(o.routes, [](const KernelRoute& r) { return r.owned(); });
  const auto st = EvaluateStatus(BuildDesiredState(vips, kNode, o), o);
  EXPECT_FALSE(st.vips_configured);
  bool refused = false, pending = false;
  for (const auto& v : st.vips) {
    refused |= v.virtual_ip == "bad" && v.state == VipState::Refused;
    pending |= v.virtual_ip == "web" && v.state == VipState::Pending && v.message == "host route missing";
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE(pending);
}

// An edit this node refused: the kept spec's address is Configured as before, and one entry
// without address says EditRefused and why. The kernel is as promised: still conformant.
TEST(NodeStatus, AnEditRefusedOnThisNodeKeepsItsAddressesAndSaysWhy) {
  VirtualIp web = MakeVip("web", {"192.0.2.10"});
  web.uid = "uid-web";
  const auto o = Converged({web});
  const auto accepted = BuildDesiredState({web}, kNode, o).accepted;
  const VirtualIp edit = [&] {
    VirtualIp e = MakeVip("web", {"198.51.100.7"});  // the node's own address
    e.uid = "uid-web";
    return e;
  }();
  const auto st = EvaluateStatus(BuildDesiredState({edit}, kNode, o, accepted), o);
  EXPECT_TRUE(st.conformant()) << (st.problems.empty() ? "" : st.problems.front().text);
  ASSERT_EQ(st.vips.size(), 2u);
  EXPECT_EQ(st.vips[0].address, "192.0.2.10");
  EXPECT_EQ(st.vips[0].state, VipState::Configured);
  EXPECT_EQ(st.vips[1].virtual_ip, "web");
  EXPECT_EQ(st.vips[1].address, "");
  EXPECT_EQ(st.vips[1].state, VipState::EditRefused);
  EXPECT_NE(st.vips[1].message.find("198.51.100.7 is already an address of this node"), std::string::npos)
      << st.vips[1].message;
}

TEST(NodeStatus, AdoptedAddressesAreReportedAsSuch) {
  auto o = BasicNode();
  o.addresses.push_back(KernelAddress{Ip("192.0.2.10"), 32, 1, "lo:1", 0, kScopeUniverse, false});
  o.routes.push_back(KernelRoute{Ip("192.0.2.10"), 32, 1, kMainTable, 4});
  const std::vector<VirtualIp> vips = {MakeVip("web", {"192.0.2.10"})};
  const auto st = EvaluateStatus(BuildDesiredState(vips, kNode, o), o);
  ASSERT_EQ(st.vips.size(), 1u);
  EXPECT_EQ(st.vips[0].state, VipState::Adopted);
}

}  // namespace
}  // namespace lvsrs
