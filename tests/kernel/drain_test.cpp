// Drain, then withdraw, against the real kernel: a real TCP connection to the VIP inside the test's
// namespace (a listener on the VIP and a client from the node's own address, one python3 process)
// keeps the VIP on the node after its VirtualIP leaves the file, and keeps working; the VIP goes
// when the connection closes, or at drainTimeout; drainTimeout 0 resets it as before; a restart
// continues the drain; `drain --undo` before the end serves again with nothing removed.
#include <signal.h>

#include <fstream>

#include "kernel_fixture.h"
#include "support/held_connection.h"

namespace lvsrs::testing {
namespace {

class Drain : public KernelTest {
 protected:
  std::unique_ptr<Process> Start(const std::string& file, const std::string& log = "operator.log") {
    return std::make_unique<Process>(
        std::vector<std::string>{"ip", "netns", "exec", ns_->name(), OperatorBinary(), "run", "--file", file,
                                 "--state-dir", StateDir(), "--node-name", "rs1", "--resync-period", "200ms",
                                 "--metrics-bind-address", "0", "--health-probe-bind-address", "0"},
        (dir_ / log).string());
  }
  std::string Read(const std::string& name) {
    std::ifstream in(dir_ / name);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // One connection to the VIP from the node's own address, up.
  std::unique_ptr<HeldConnection> Connect() {
    auto c = std::make_unique<HeldConnection>(*ns_, dir_ / "conn", "192.0.2.10", "198.51.100.7");
    EXPECT_TRUE(c->connected()) << c->Log();
    return c;
  }
  std::string Check(const std::string& file) { return ns_->Operator(Run("check --file " + file)).output; }
  bool VipInPlace() { return HasAddress("lo", "192.0.2.10/32") && !Route("192.0.2.10").is_null(); }
  bool VipGone() { return !HasAddress("lo", "192.0.2.10/32") && Route("192.0.2.10").is_null(); }
  bool Draining(const std::string& file, const std::string& connections) {
    const std::string out = Check(file);
    return out.find("drain 192.0.2.10 (VirtualIP web)") != std::string::npos &&
           out.find("draining: " + connections + ",") != std::string::npos;
  }
};

TEST_F(Drain, AVipLeavingTheFileStaysUntilItsLastConnectionCloses) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"", "  drainTimeout: 1h\n"));
  auto op = Start(file);
  ASSERT_TRUE(Eventually([&] { return ns_->Operator(Run("check --file " + file)).exit_code == 0; }));
  auto conn = Connect();
  ASSERT_TRUE(conn->RoundTrip());

  WriteFile("vips.yaml", "# web is gone\n");
  ASSERT_TRUE(Eventually([&] { return Draining(file, "1 connection"); })) << Check(file);
  EXPECT_TRUE(VipInPlace());
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  EXPECT_TRUE(conn->RoundTrip()) << conn->Log();
  EXPECT_TRUE(VipInPlace());

  conn->Close();
  EXPECT_TRUE(Eventually([&] { return VipGone(); }));
  EXPECT_TRUE(Eventually([&] { return ns_->Sysctl("net.ipv4.conf.all.arp_ignore") == 0; }));
  op.reset();
  EXPECT_NE(Read("operator.log").find("192.0.2.10 is withdrawn after draining: no connections left"), std::string::npos)
      << Read("operator.log");
}

TEST_F(Drain, AConnectionThatNeverClosesEndsAtTheDrainTimeout) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"", "  drainTimeout: 3s\n"));
  auto op = Start(file);
  ASSERT_TRUE(Eventually([&] { return ns_->Operator(Run("check --file " + file)).exit_code == 0; }));
  auto conn = Connect();
  WriteFile("vips.yaml", "# web is gone\n");
  ASSERT_TRUE(Eventually([&] { return Draining(file, "1 connection"); })) << Check(file);
  EXPECT_TRUE(VipInPlace());
  EXPECT_TRUE(Eventually([&] { return VipGone(); }, std::chrono::seconds(15)));
  op.reset();
  EXPECT_NE(Read("operator.log").find("192.0.2.10 is withdrawn after draining: timeout with 1 connection"),
            std::string::npos)
      << Read("operator.log");
}

// The negative control: today's behaviour, the connection is cut with the VIP.
TEST_F(Drain, DrainTimeoutZeroWithdrawsAtOnceAndTheConnectionBreaks) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"", "  drainTimeout: 0s\n"));
  auto op = Start(file);
  ASSERT_TRUE(Eventually([&] { return ns_->Operator(Run("check --file " + file)).exit_code == 0; }));
  auto conn = Connect();
  ASSERT_TRUE(conn->RoundTrip());
  WriteFile("vips.yaml", "# web is gone\n");
  EXPECT_TRUE(Eventually([&] { return VipGone(); }));
  EXPECT_FALSE(conn->RoundTrip());
  op.reset();
  EXPECT_NE(Read("operator.log").find("withdrawn after draining: drainTimeout is 0s"), std::string::npos)
      << Read("operator.log");
}

TEST_F(Drain, ARestartDuringTheDrainKeepsTheVipAndTheDeadline) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"", "  drainTimeout: 1h\n"));
  auto op = Start(file);
  ASSERT_TRUE(Eventually([&] { return ns_->Operator(Run("check --file " + file)).exit_code == 0; }));
  auto conn = Connect();
  WriteFile("vips.yaml", "# web is gone\n");
  ASSERT_TRUE(Eventually([&] { return Draining(file, "1 connection"); })) << Check(file);
  const auto record = [&] {
    std::ifstream in(StateDir() + "/draining.json");
    return nlohmann::json::parse(in);
  };
  const auto deadline = record()["draining"][0]["deadlineUnixMs"].get<std::int64_t>();

  op->Signal(SIGKILL);
  op->Wait(std::chrono::seconds(5));
  auto again = Start(file, "operator2.log");
  ASSERT_TRUE(Eventually([&] {
    return Read("operator2.log").find("continues the drain of 192.0.2.10") != std::string::npos;
  })) << Read("operator2.log");
  // Passes of the new process: the VIP stays, the connection works, the deadline is the first one.
  EXPECT_TRUE(conn->RoundTrip()) << conn->Log();
  EXPECT_TRUE(VipInPlace());
  EXPECT_EQ(record()["draining"][0]["deadlineUnixMs"].get<std::int64_t>(), deadline);
  EXPECT_TRUE(Draining(file, "1 connection")) << Check(file);

  conn->Close();
  EXPECT_TRUE(Eventually([&] { return VipGone(); }));
}

TEST_F(Drain, DrainCommandAndUndoBeforeTheEndServeAgainWithNothingRemoved) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"", "  drainTimeout: 1h\n"));
  auto op = Start(file);
  ASSERT_TRUE(Eventually([&] { return ns_->Operator(Run("check --file " + file)).exit_code == 0; }));
  auto conn = Connect();

  const auto drain = ns_->Operator("drain --state-dir " + StateDir());
  ASSERT_EQ(drain.exit_code, 0) << drain.output;
  ASSERT_TRUE(Eventually([&] { return Draining(file, "1 connection"); })) << Check(file);
  EXPECT_NE(Check(file).find("node drain"), std::string::npos) << Check(file);
  EXPECT_TRUE(VipInPlace());

  const auto undo = ns_->Operator("drain --undo --state-dir " + StateDir());
  ASSERT_EQ(undo.exit_code, 0) << undo.output;
  EXPECT_TRUE(Eventually([&] { return Read("operator.log").find("serving again") != std::string::npos; }))
      << Read("operator.log");
  EXPECT_TRUE(Eventually([&] { return Check(file).find("drain 192.0.2.10") == std::string::npos; })) << Check(file);
  EXPECT_EQ(ns_->Operator(Run("check --file " + file)).exit_code, 0) << Check(file);
  EXPECT_TRUE(conn->RoundTrip()) << conn->Log();
  op.reset();
  const std::string log = Read("operator.log");
  EXPECT_EQ(log.find("withdrawn"), std::string::npos) << log;
  EXPECT_EQ(log.find("repaired"), std::string::npos) << "nothing was removed, so nothing came back: " << log;

  // And with the connection closed, a drain ends at once.
  auto op2 = Start(file, "operator2.log");
  conn->Close();
  ASSERT_EQ(ns_->Operator("drain --state-dir " + StateDir()).exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return VipGone(); }));
}

}  // namespace
}  // namespace lvsrs::testing
