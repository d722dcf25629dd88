#include "reconcile/audit.h"

#include <gtest/gtest.h>

#include "observed_builder.h"
#include "reconcile/plan.h"

namespace lvsrs {
namespace {

using testing::BasicNode;
using testing::Ip;
using testing::MakeVip;

const NodeInfo kNode{"rs1", {}};

ObservedState Converged(const std::vector<VirtualIp>& vips) { return testing::Converged(vips, kNode); }

TEST(Audit, ListsEachManualStepWithExpectedAndActual) {
  const std::vector<VirtualIp> vips = {MakeVip("web", {"192.0.2.10"})};
  const auto o = BasicNode();
  const auto lines = Audit(BuildDesiredState(vips, kNode, o), o);
  EXPECT_FALSE(AllOk(lines));
  const auto text = AuditText(lines);
  EXPECT_NE(text.find("sysctl net.ipv4.conf.all.arp_ignore"), std::string::npos);
  EXPECT_NE(text.find("address 192.0.2.10/32 on lo"), std::string::npos);
  EXPECT_NE(text.find("host route 192.0.2.10/32 dev lo"), std::string::npos);
  EXPECT_NE(text.find("NOT conformant"), std::string::npos);
  const auto j = AuditJson(lines);
  EXPECT_FALSE(j["conformant"].get<bool>());
  EXPECT_EQ(j["checks"][0]["expected"], "1");
  EXPECT_EQ(j["checks"][0]["actual"], "0");
}

TEST(Audit, AnExtraRouteElsewhereDoesNotHideTheRightOne) {
  const std::vector<VirtualIp> vips = {MakeVip("web", {"192.0.2.10"})};
  auto o = Converged(vips);
  o.routes.push_back(KernelRoute{Ip("192.0.2.10"), 32, 2, kMainTable, 4});  // admin's, via eth0, other metric
  for (const auto& l : Audit(BuildDesiredState(vips, kNode, o), o)) {
    if (l.step != "host route 192.0.2.10/32 dev lo") continue;
    EXPECT_TRUE(l.ok);
    EXPECT_EQ(l.actual, "present");
  }
}

}  // namespace
}  // namespace lvsrs
