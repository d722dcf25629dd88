// The state file (the recorded sysctl originals) against the real binary and kernel: restore only
// what still holds the operator's value, interface names that are not UTF-8, format versions and
// concurrent writers, and the state dir's lock.
#include <signal.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "kernel_fixture.h"
#include "support/files.h"

namespace lvsrs::testing {
namespace {

class StateFile : public KernelTest {
 protected:
  std::string StatePath() const { return StateDir() + "/sysctl-originals.json"; }
  std::string PerInterfaceVip() {
    return WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"", "  arp:\n    scope: PerInterface\n"));
  }
};

TEST_F(StateFile, CleanupLeavesASysctlThatAnotherToolChangedSinceAndSaysSo) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  ASSERT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_announce"), 2);
  ns_->SetSysctl("net.ipv4.conf.all.arp_announce", 1);  // an admin (or kube-proxy) after us

  const auto r = ns_->Operator("cleanup --state-dir " + StateDir());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("leave net.ipv4.conf.all.arp_announce=1: changed by someone else"), std::string::npos)
      << r.output;
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_announce"), 1);  // theirs, left alone
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 0);    // ours, restored
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.default.arp_announce"), 0);
  // Nothing left to restore: a second cleanup does nothing.
  const auto again = ns_->Operator("cleanup --state-dir " + StateDir());
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.output, "nothing owned by lvs-rs-operator here\n");
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_announce"), 1);
}

TEST_F(StateFile, RemovingTheLastVipLeavesASysctlThatAnotherToolChangedAndLogsIt) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  ns_->SetSysctl("net.ipv4.conf.all.arp_ignore", 2);
  WriteFile("vips.yaml", "");
  const auto r = ns_->Operator(Run("run --once --file " + file));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("net.ipv4.conf.all.arp_ignore=2: changed by someone else since lvs-rs-operator wrote 1"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 2);
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_announce"), 0);
}

TEST_F(StateFile, AnInterfaceNameThatIsNotUtf8IsRecordedAndRestored) {
  const std::string dev = "\xff\xfe";
  ASSERT_EQ(ns_->Exec("ip link add " + Quote(dev) + " type veth peer name peer1 && ip link set " + Quote(dev) + " up")
                .exit_code,
            0);
  const std::string key = "net.ipv4.conf." + dev + ".arp_ignore";
  ns_->SetSysctl(key, 0);
  const auto file = PerInterfaceVip();
  const auto r = ns_->Operator(Run("run --once --file " + file));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ns_->Sysctl(key), 1);
  // The state file stays valid JSON (UTF-8) and names the interface escaped.
  const auto state = nlohmann::json::parse(ReadFile(StatePath()));
  EXPECT_EQ(state.at("version"), 2);
  EXPECT_TRUE(state.at("sysctls").contains("net.ipv4.conf.%FF%FE.arp_ignore")) << state.dump();

  const auto c = ns_->Operator("cleanup --state-dir " + StateDir());
  EXPECT_EQ(c.exit_code, 0) << c.output;
  EXPECT_EQ(ns_->Sysctl(key), 0);
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.eth0.arp_ignore"), 0);
}

TEST_F(StateFile, AVersionOneFileIsReadAndRestored) {
  // The format of the releases before the written value was recorded.
  ns_->SetSysctl("net.ipv4.conf.all.arp_ignore", 1);
  std::filesystem::create_directories(StateDir());
  ReplaceFile(StatePath(), R"({"version": 1, "sysctls": {"net.ipv4.conf.all.arp_ignore": 0}})");
  const auto r = ns_->Operator("cleanup --state-dir " + StateDir());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("restore net.ipv4.conf.all.arp_ignore=0"), std::string::npos) << r.output;
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
}

TEST_F(StateFile, ANewerVersionIsAClearErrorNamingTheFileAndNothingChanges) {
  ns_->SetSysctl("net.ipv4.conf.all.arp_ignore", 1);
  std::filesystem::create_directories(StateDir());
  const std::string text =
      R"({"version": 9, "sysctls": {"net.ipv4.conf.all.arp_ignore": {"original": 0, "written": 1, "by": "x"}}})";
  ReplaceFile(StatePath(), text);
  for (const std::string& cmd : {"cleanup --state-dir " + StateDir(),
                                 Run("run --once --file " + WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"")))}) {
    const auto r = ns_->Operator(cmd);
    EXPECT_NE(r.exit_code, 0) << cmd;
    EXPECT_NE(r.output.find(StatePath() + " has version 9"), std::string::npos) << r.output;
  }
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_EQ(ReadFile(StatePath()), text);
}

TEST_F(StateFile, ConcurrentCleanupAndRunNeverLeaveABrokenOrStrayFile) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"", "  arp:\n    scope: PerInterface\n"));
  // Each `run --once` records and writes; each `cleanup` restores and drops: both rewrite the file.
  const std::string run = OperatorBinary() + " " + Run("run --once --file " + file);
  const std::string cleanup = OperatorBinary() + " cleanup --state-dir " + StateDir();
  // `wait` returns once every background `run` has ended too.
  const auto r =
      ns_->Exec("for i in $(seq 20); do " + run + " >/dev/null 2>&1 & " + cleanup + " >/dev/null 2>&1; done; wait");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Whatever the interleaving: a file the next cleanup reads, and no temporary files left over.
  // owned-addresses.json only on kernels before 5.18.
  const std::set<std::string> ours = {"sysctl-originals.json", "owned-addresses.json", "last-good-virtualips.json",
                                      "lock"};
  for (const auto& e : std::filesystem::directory_iterator(StateDir()))
    EXPECT_TRUE(ours.count(e.path().filename().string())) << e.path();
  const auto c = ns_->Operator("cleanup --state-dir " + StateDir());
  EXPECT_EQ(c.exit_code, 0) << c.output;
  if (std::filesystem::exists(StatePath())) {
    EXPECT_NO_THROW(nlohmann::json::parse(ReadFile(StatePath())));
  }
}

// One run or cleanup at a time in a state dir (StateDirLock): cleanup next to a running agent is
// refused at once, naming the lock file and the agent's pid, and changes nothing; a second run
// waits for the first to end and then does its work; a killed agent leaves no stale lock.
TEST_F(StateFile, ASecondRunOrCleanupWaitsForOrNamesTheHolderOfTheStateDir) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  const std::string log = (dir_ / "agent.log").string();
  auto agent = std::make_unique<Process>(
      std::vector<std::string>{"ip", "netns", "exec", ns_->name(), OperatorBinary(), "run", "--file", file,
                               "--state-dir", StateDir(), "--node-name", "rs1", "--metrics-bind-address", "0",
                               "--health-probe-bind-address", "0"},
      log);
  ASSERT_TRUE(Eventually([&] { return HasAddress("lo", "192.0.2.10/32"); })) << ReadFile(log);
  const std::string records = ReadFile(StatePath());

  const auto c = ns_->Operator("cleanup --state-dir " + StateDir());
  EXPECT_EQ(c.exit_code, 1) << c.output;
  EXPECT_NE(
      c.output.find(StateDir() + "/lock is locked by pid " + std::to_string(agent->pid()) + " (lvs-rs-operator run)"),
      std::string::npos)
      << c.output;
  EXPECT_NE(c.output.find("stop the agent on this node first"), std::string::npos) << c.output;
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32")) << "cleanup went ahead next to the agent";
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  EXPECT_EQ(ReadFile(StatePath()), records);
  // Reading is no writing: a dry run goes ahead.
  const auto dry = ns_->Operator("cleanup --dry-run --state-dir " + StateDir());
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("192.0.2.10"), std::string::npos) << dry.output;

  // A second run (another file) waits, says for whom, and goes ahead once the first is gone, even
  // killed without a chance to clean up.
  const auto other = WriteFile("other.yaml", VipDoc("web", "\"192.0.2.20\""));
  const std::string second_log = (dir_ / "second.log").string();
  Process second({"ip", "netns", "exec", ns_->name(), OperatorBinary(), "run", "--once", "--file", other, "--state-dir",
                  StateDir(), "--node-name", "rs1"},
                 second_log);
  ASSERT_TRUE(Eventually([&] {
    return ReadFile(second_log)
               .find("is locked by pid " + std::to_string(agent->pid()) + " (lvs-rs-operator run); waiting") !=
           std::string::npos;
  })) << ReadFile(second_log);
  EXPECT_FALSE(HasAddress("lo", "192.0.2.20/32")) << "the second run did not wait";
  agent->Signal(SIGKILL);
  agent->Wait(std::chrono::seconds(5));
  EXPECT_EQ(second.Wait(std::chrono::seconds(30)), 0) << ReadFile(second_log);
  EXPECT_TRUE(HasAddress("lo", "192.0.2.20/32"));
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32"));

  const auto after = ns_->Operator("cleanup --state-dir " + StateDir());
  EXPECT_EQ(after.exit_code, 0) << after.output;
  EXPECT_FALSE(HasAddress("lo", "192.0.2.20/32"));
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
}

}  // namespace
}  // namespace lvsrs::testing
