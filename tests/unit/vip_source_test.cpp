// "VIPs are never a source": the judgement of what `ip route get` picks, and how it is reported.
#include "reconcile/vip_source.h"

#include <gtest/gtest.h>

#include "observed_builder.h"
#include "reconcile/audit.h"
#include "reconcile/node_status.h"

namespace lvsrs {
namespace {

using testing::Ip;
using testing::MakeVip;

const NodeInfo kNode{"rs1", {}};
const std::vector<VirtualIp> kVips = {MakeVip("web", {"192.0.2.10", "2001:db8::10"})};

// The converged node, with the kernel's answers to `ip route get` for both outside destinations.
ObservedState WithSources(const char* v4_source, const char* v6_source) {
  auto o = testing::Converged(kVips, kNode);
  o.sources = {SourceChoice{Ip("8.8.8.8"), Ip(v4_source), 2},
               SourceChoice{Ip("2001:4860:4860::8888"), Ip(v6_source), 2}};
  return o;
}

TEST(VipSource, TheNodesOwnSourcesAreConformant) {
  const auto o = WithSources("198.51.100.7", "2001:db8:1::7");
  const auto desired = BuildDesiredState(kVips, kNode, o);
  const auto st = EvaluateStatus(desired, o);
  EXPECT_TRUE(st.vips_not_source);
  EXPECT_TRUE(st.conformant()) << (st.problems.empty() ? "" : st.problems.front().text);
  const auto lines = Audit(desired, o);
  EXPECT_TRUE(AllOk(lines));
  EXPECT_NE(AuditText(lines).find("source address towards 8.8.8.8"), std::string::npos) << AuditText(lines);
}

TEST(VipSource, AVipChosenAsSourceIsAProblemNamingItAndWhy) {
  const auto o = WithSources("198.51.100.7", "2001:db8::10");
  const auto desired = BuildDesiredState(kVips, kNode, o);
  const auto st = EvaluateStatus(desired, o);
  EXPECT_FALSE(st.vips_not_source);
  EXPECT_FALSE(st.conformant());
  EXPECT_TRUE(st.vips_configured && st.arp_conformant) << "a separate condition";
  ASSERT_EQ(st.problems.size(), 1u);
  EXPECT_EQ(st.problems[0].kind, Problem::Kind::VipIsSource);
  EXPECT_EQ(st.problems[0].item, "2001:db8::10");
  // The operator's own VIP is deprecated: the kernel picked it anyway, for want of a better one.
  EXPECT_NE(st.problems[0].text.find("to 2001:4860:4860::8888 (via eth0)"), std::string::npos) << st.problems[0].text;
  EXPECT_NE(st.problems[0].text.find("although it is deprecated"), std::string::npos) << st.problems[0].text;
  const auto lines = Audit(desired, o);
  EXPECT_FALSE(AllOk(lines));
  EXPECT_NE(AuditText(lines).find("2001:db8::10 via eth0"), std::string::npos) << AuditText(lines);
}

TEST(VipSource, TheReasonFollowsHowTheVipIsHeld) {
  auto o = WithSources("192.0.2.10", "2001:db8::10");
  for (auto& a : o.addresses) {
    if (a.ip == Ip("192.0.2.10")) a.scope = kScopeUniverse;  // as `ip addr add` makes it
    if (a.ip == Ip("2001:db8::10")) a.flags &= ~kAddrFlagDeprecated;
  }
  const auto found = VipsChosenAsSource(BuildDesiredState(kVips, kNode, o), o, ObservedIndex(o));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_NE(found[0].why.find("scope global"), std::string::npos) << found[0].why;
  EXPECT_NE(found[1].why.find("preferred address"), std::string::npos) << found[1].why;
}

TEST(VipSource, AnOwnedAddressNoLongerWantedIsStillAVip) {
  auto o = WithSources("192.0.2.10", "2001:db8:1::7");
  const auto found = VipsChosenAsSource(BuildDesiredState({}, kNode, o), o, ObservedIndex(o));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].vip, Ip("192.0.2.10"));
  // The node's own addresses, and sources that are nobody's VIP, are fine.
  o.sources = {SourceChoice{Ip("8.8.8.8"), Ip("198.51.100.7"), 2}};
  EXPECT_TRUE(VipsChosenAsSource(BuildDesiredState(kVips, kNode, o), o, ObservedIndex(o)).empty());
}

}  // namespace
}  // namespace lvsrs
