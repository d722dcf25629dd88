// The fake kernel's own promises (support/fake_kernel.h), so the Reconciler tests rest on them.
#include "support/fake_kernel.h"

#include <gtest/gtest.h>

#include <cerrno>

#include "observed_builder.h"

namespace lvsrs {
namespace {

using testing::ApplyToState;
using testing::BasicNode;
using testing::Ip;

Plan AddVip(const char* ip) {
  Plan p;
  p.add_addresses.push_back(AddressChange{Ip(ip), 1, "lo"});
  p.add_routes.push_back(RouteChange{Ip(ip), 1, "lo"});
  return p;
}

TEST(FakeKernel, AddingWhatIsThereAndRemovingWhatIsGoneSucceedWithoutChange) {
  ObservedState o = BasicNode();
  EXPECT_TRUE(ApplyToState(o, AddVip("192.0.2.10")).ok());
  const auto once = o;
  const auto again = ApplyToState(o, AddVip("192.0.2.10"));  // EEXIST
  EXPECT_TRUE(again.ok());
  EXPECT_EQ(again.writes_ok, 2u);
  EXPECT_EQ(o.addresses.size(), once.addresses.size());
  EXPECT_EQ(o.routes.size(), once.routes.size());
  Plan rm;
  rm.remove_routes.push_back(RouteChange{Ip("192.0.2.99"), 1, "lo"});       // ESRCH
  rm.remove_addresses.push_back(AddressChange{Ip("192.0.2.99"), 1, "lo"});  // EADDRNOTAVAIL
  EXPECT_TRUE(ApplyToState(o, rm).ok());
}

// As the kernel: RTM_DELROUTE matches the protocol it carries, RTM_DELADDR names only the address
// and its interface. Foreign addresses are kept safe by the plan, never by the delete.
TEST(FakeKernel, RemovesRoutesOnlyWithTheMarkAndAddressesWhateverTheirMark) {
  ObservedState o = BasicNode();
  Plan rm;
  rm.remove_routes.push_back(RouteChange{Ip("198.51.100.0"), 2, "eth0"});
  rm.remove_addresses.push_back(AddressChange{Ip("192.0.2.10"), 1, "lo"});
  o.addresses.push_back(KernelAddress{Ip("192.0.2.10"), 32, 1, "lo:admin", 0, kScopeUniverse, false});
  ApplyToState(o, rm);
  EXPECT_EQ(o.routes.size(), BasicNode().routes.size());
  EXPECT_EQ(o.addresses.size(), BasicNode().addresses.size());
}

TEST(FakeKernel, InjectedFailuresAndMissingInterfacesAreErrorsOfTheirItemOnly) {
  ObservedState o = BasicNode();
  Plan p = AddVip("192.0.2.10");
  p.add_addresses.push_back(AddressChange{Ip("192.0.2.11"), 9, "eth9"});
  p.set_sysctls.push_back(SysctlChange{SysctlKey{"all", ArpKey::Ignore}, 1, 0, 0});
  const auto r = ApplyToState(o, p, {{ItemKey::OfRoute(Ip("192.0.2.10")), EPERM}});
  EXPECT_EQ(r.errors.size(), 2u);
  EXPECT_TRUE(r.Failed(ItemKey::OfRoute(Ip("192.0.2.10"))));
  EXPECT_NE(r.errors.at(ItemKey::OfAddress(Ip("192.0.2.11"))).find("No such device"), std::string::npos);
  EXPECT_EQ(r.writes_ok, 2u);
  EXPECT_EQ(o.sysctls.at(SysctlKey{"all", ArpKey::Ignore}), 1);
}

TEST(FakeKernel, FailingObserveThrowsAKernelError) {
  testing::FakeKernel k(BasicNode());
  k.FailObserve("boom");
  EXPECT_THROW(k.Observe(), KernelError);
  EXPECT_THROW(k.ObserveSysctls({SysctlKey{"all", ArpKey::Ignore}}), KernelError);
  k.FailObserve(std::nullopt);
  EXPECT_EQ(k.Observe().links.size(), 2u);
}

}  // namespace
}  // namespace lvsrs
