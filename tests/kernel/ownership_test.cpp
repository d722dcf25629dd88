// Never delete or change what the operator did not create; adopt identical state. Its own
// addresses are recognised after a restart on every kernel: through IFA_PROTO where the kernel
// keeps it (this one), through the state directory's record and the addresses' properties where it
// does not (this kernel with IFA_PROTO dropped from the binary's requests, as Linux before 5.18 does).
#include <filesystem>

#include "kernel_fixture.h"
#include "support/files.h"
#include "support/observe_in_netns.h"

namespace lvsrs::testing {
namespace {

const std::string kLongName = "lvsrs-long-nic0";

class Ownership : public KernelTest {
 protected:
  // The binary on "a kernel before 5.18": LD_PRELOAD of support/drop_ifa_proto.cpp. Under the
  // sanitizers ASan must accept a library loaded before its runtime.
  CommandResult OnOldKernel(const std::string& args) const {
    return lvsrs::testing::Run("ip netns exec " + ns_->name() + " env LD_PRELOAD=" + LVSRS_DROP_IFA_PROTO +
                               " ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 " +
                               OperatorBinary() + " " + args);
  }
  std::string RecordPath() const { return StateDir() + "/owned-addresses.json"; }
  // IFA_PROTO as the operator reads it, or -1 when the address is not there.
  int ProtocolOf(const std::string& ip) const {
    for (const auto& a : ObserveIn(ns_->name()).addresses)
      if (a.ip.ToString() == ip) return a.proto;
    return -1;
  }
  // `check`'s verdict on the VIP's address: "present" (the operator's), "present (not created by
  // the operator)" (adopted), "absent".
  std::string CheckSays(const std::string& file, const std::string& cidr, const std::string& dev) const {
    const auto r = ns_->Operator("check --output json --node-name rs1 --state-dir " + StateDir() + " --file " + file);
    const auto checks = nlohmann::json::parse(r.output)["checks"];
    for (const auto& c : checks)
      if (c["step"] == "address " + cidr + " on " + dev) return c["actual"];
    return "no such line in: " + r.output;
  }
  // A veth without ARP (this kernel has no dummy driver), so that a VIP on it is not exposed.
  void AddLongNamedInterface() const {
    ASSERT_EQ(ns_->Exec("ip link add " + kLongName + " type veth peer name lvsrs-p0 && ip link set " + kLongName +
                        " arp off up && ip link set lvsrs-p0 up")
                  .exit_code,
              0);
  }
  // addr_info of ip as `ip -j addr` shows it, or null.
  nlohmann::json AddrInfo(const std::string& ip) const {
    for (const auto& link : ns_->IpJson("addr show"))
      for (const auto& a : link.value("addr_info", nlohmann::json::array()))
        if (a.value("local", "") == ip) return a;
    return nullptr;
  }
};

// A VIP on lo for each family, and an IPv4 VIP on an interface whose name leaves no room for the
// owner label ("lvsrs-long-nic0:lvsrs" is longer than IFNAMSIZ allows).
std::string ThreeVips() {
  return VipDoc("web", "\"192.0.2.10\", \"2001:db8::10\"") + "---\n" +
         VipDoc("nic", "\"192.0.2.30\"", "  interface: " + kLongName + "\n");
}

TEST_F(Ownership, OnThisKernelTheMarkIsIfaProtoAndNoRecordIsKept) {
  AddLongNamedInterface();
  const auto file = WriteFile("vips.yaml", ThreeVips());
  const auto r = ns_->Operator(Run("run --once --file " + file));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("addresses are marked with IFA_PROTO 245"), std::string::npos) << r.output;
  for (const char* ip : {"192.0.2.10", "2001:db8::10", "192.0.2.30"}) EXPECT_EQ(ProtocolOf(ip), 245) << ip;
  EXPECT_FALSE(std::filesystem::exists(RecordPath())) << "the kernel keeps the mark: nothing to record";
  EXPECT_EQ(CheckSays(file, "2001:db8::10/128", "lo"), "present");
  EXPECT_EQ(CheckSays(file, "192.0.2.30/32", kLongName), "present");

  WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  EXPECT_FALSE(HasAddress("lo", "2001:db8::10/128")) << "removed with its VirtualIP address";
  EXPECT_FALSE(HasAddress(kLongName, "192.0.2.30/32"));
  ASSERT_EQ(ns_->Operator("cleanup --state-dir " + StateDir()).exit_code, 0);
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32"));
}

TEST_F(Ownership, OnAKernelThatDropsIfaProtoTheRecordIsTheMarkAcrossRestarts) {
  AddLongNamedInterface();
  const auto file = WriteFile("vips.yaml", ThreeVips());
  const auto r = OnOldKernel(Run("run --once --file " + file));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The probe saw the kernel drop the mark, and so did the adds.
  EXPECT_NE(r.output.find("does not keep IFA_PROTO"), std::string::npos) << r.output;
  for (const char* ip : {"192.0.2.10", "2001:db8::10", "192.0.2.30"}) EXPECT_EQ(ProtocolOf(ip), 0) << ip;
  const auto record = nlohmann::json::parse(ReadFile(RecordPath()));
  EXPECT_EQ(record["addresses"].size(), 3u) << record.dump();

  // A restart recognises all three as the operator's, not as adopted: the record, and the flags.
  EXPECT_EQ(CheckSays(file, "2001:db8::10/128", "lo"), "present");
  EXPECT_EQ(CheckSays(file, "192.0.2.30/32", kLongName), "present");
  const auto v6 = AddrInfo("2001:db8::10");
  EXPECT_TRUE(v6.value("nodad", false) && v6.value("noprefixroute", false)) << v6.dump();

  // VirtualIP addresses deleted, by a new process: their addresses and their entries go.
  WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  const auto removed = OnOldKernel(Run("run --once --file " + file));
  ASSERT_EQ(removed.exit_code, 0) << removed.output;
  EXPECT_FALSE(HasAddress("lo", "2001:db8::10/128"));
  EXPECT_FALSE(HasAddress(kLongName, "192.0.2.30/32"));
  EXPECT_EQ(nlohmann::json::parse(ReadFile(RecordPath()))["addresses"].size(), 1u);

  // cleanup, by yet another process.
  const auto c = OnOldKernel("cleanup --state-dir " + StateDir());
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_NE(c.output.find("remove address 192.0.2.10/32 on lo"), std::string::npos) << c.output;
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_EQ(nlohmann::json::parse(ReadFile(RecordPath()))["addresses"].size(), 0u);
}

TEST_F(Ownership, OnAKernelThatDropsIfaProtoAnIdenticalLookingAddressWithoutRecordIsNeverRemoved) {
  AddLongNamedInterface();
  // Everything the operator would give them, added by hand: only the record is missing.
  ASSERT_EQ(ns_->Exec("ip -6 addr add 2001:db8::10/128 dev lo nodad noprefixroute preferred_lft 0 && "
                      "ip addr add 192.0.2.30/32 dev " +
                      kLongName + " scope host noprefixroute")
                .exit_code,
            0);
  const auto file = WriteFile("vips.yaml", ThreeVips());
  ASSERT_EQ(OnOldKernel(Run("run --once --file " + file)).exit_code, 0);
  EXPECT_EQ(CheckSays(file, "2001:db8::10/128", "lo"), "present (not created by the operator)");
  EXPECT_EQ(CheckSays(file, "192.0.2.30/32", kLongName), "present (not created by the operator)");
  EXPECT_EQ(CheckSays(file, "192.0.2.10/32", "lo"), "present");

  WriteFile("vips.yaml", "");
  ASSERT_EQ(OnOldKernel(Run("run --once --file " + file)).exit_code, 0);
  ASSERT_EQ(OnOldKernel("cleanup --state-dir " + StateDir()).exit_code, 0);
  EXPECT_TRUE(HasAddress("lo", "2001:db8::10/128"));
  EXPECT_TRUE(HasAddress(kLongName, "192.0.2.30/32"));
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32")) << "the operator's own one goes";
}

TEST_F(Ownership, ForeignAddressesRoutesAndSettingsSurviveEverything) {
  ASSERT_EQ(ns_->Exec("ip addr add 203.0.113.5/32 dev lo label lo:admin && "
                      "ip -6 addr add 2001:db8::5/128 dev lo && "
                      "ip route add 203.0.113.0/24 via 198.51.100.1 proto static && "
                      "ip route add 192.0.2.99/32 dev lo")
                .exit_code,
            0);
  ns_->SetSysctl("net.ipv4.conf.eth0.arp_ignore", 2);
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  // eth0's own arp_ignore=2 makes its effective value 2, not 1: stricter, the VIP stays
  // unanswered, so conformant (and the operator leaves the admin's value alone).
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  WriteFile("vips.yaml", "");
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  ASSERT_EQ(ns_->Operator("cleanup --state-dir " + StateDir()).exit_code, 0);

  for (const char* a : {"127.0.0.1/8", "::1/128", "203.0.113.5/32", "2001:db8::5/128"})
    EXPECT_TRUE(HasAddress("lo", a)) << a;
  EXPECT_TRUE(HasAddress("eth0", "198.51.100.7/24"));
  EXPECT_FALSE(Route("203.0.113.0/24").is_null());
  EXPECT_FALSE(Route("192.0.2.99").is_null());
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.eth0.arp_ignore"), 2);
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32"));
}

TEST_F(Ownership, AdminsManualSetupIsAdoptedNotDuplicatedNorRemoved) {
  // The traditional rc.local lines.
  ASSERT_EQ(ns_->Exec("ip addr add 192.0.2.10/32 dev lo label lo:1 && ip route add 192.0.2.10/32 dev lo").exit_code, 0);
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  EXPECT_EQ(CountAddress("192.0.2.10"), 1);
  EXPECT_EQ(ns_->Routes(4).size(), 2u);  // eth0 subnet + the admin's host route, no second one
  ASSERT_EQ(ns_->Operator("cleanup --state-dir " + StateDir()).exit_code, 0);
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_FALSE(Route("192.0.2.10").is_null());
}

TEST_F(Ownership, TheNodesOwnAddressIsRefusedAndTheOtherVipsStillConverge) {
  const auto file =
      WriteFile("vips.yaml", VipDoc("oops", "\"198.51.100.7\"") + "---\n" + VipDoc("web", "\"192.0.2.10\""));
  const auto r = ns_->Operator(Run("run --once --file " + file));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("VirtualIP oops refused: 198.51.100.7 is already an address of this node on eth0"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_FALSE(HasAddress("lo", "198.51.100.7/32"));
  EXPECT_TRUE(HasAddress("eth0", "198.51.100.7/24"));
  const auto check = ns_->Operator("check --file " + file + " --node-name rs1");
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.output.find("refused"), std::string::npos) << check.output;
}

TEST_F(Ownership, NodeSelectorDecidesWithFileModeLabels) {
  const auto file = WriteFile(
      "vips.yaml",
      VipDoc("web", "\"192.0.2.10\"", "  nodeSelector:\n    matchLabels: {lvsdr.io/real-server: \"true\"}\n"));
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
  ASSERT_EQ(ns_->Operator(Run("run --once --node-labels lvsdr.io/real-server=true --file " + file)).exit_code, 0);
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
}

}  // namespace
}  // namespace lvsrs::testing
