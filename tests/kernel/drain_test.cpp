// Drain, then withdraw, against the real kernel: a real TCP connection to the VIP inside the test's
// namespace (a listener on the VIP and a client from the node's own address, one python3 process)
// keeps the VIP on the node after its VirtualIP leaves the file, and keeps working; the VIP goes
// when the connection closes, or at drainTimeout; drainTimeout 0 resets it as before; a restart
// continues the drain; `drain --undo` before the end serves again with nothing removed.
#include <signal.h>

#include <fstream>
#include <thread>

#include "kernel_fixture.h"

namespace lvsrs::testing {
namespace {

// One established connection to 192.0.2.10:8080. Files in its directory drive it: "connected"
// once it is up; "pingN" asks for one round trip, answered by "pongN" (it worked) or "broken"
// (it did not, within 3 s); "close" closes both ends and ends the process.
constexpr const char* kConnection = R"(
import os, socket, sys, time
d = sys.argv[1]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("192.0.2.10", 8080))
srv.listen(1)
cli = socket.create_connection(("192.0.2.10", 8080), timeout=3, source_address=("198.51.100.7", 0))
conn, _ = srv.accept()
conn.settimeout(3)
srv.close()
open(d + "/connected", "w").close()
n = 0
while not os.path.exists(d + "/close"):
    if os.path.exists(d + "/ping%d" % n):
        try:
            cli.sendall(b"x")
            assert conn.recv(1) == b"x"
            conn.sendall(b"y")
            assert cli.recv(1) == b"y"
            open(d + "/pong%d" % n, "w").close()
        except Exception as e:
            open(d + "/broken", "w").write(repr(e))
        n += 1
    time.sleep(0.02)
cli.close()
conn.close()
)";

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
  bool Exists(const std::string& name) { return std::filesystem::exists(dir_ / "conn" / name); }
  void Touch(const std::string& name) { std::ofstream(dir_ / "conn" / name).close(); }

  // The connection, up: its process ends when the test does (or at "close").
  std::unique_ptr<Process> Connect() {
    std::filesystem::create_directories(dir_ / "conn");
    std::ofstream(dir_ / "conn.py") << kConnection;
    auto p = std::make_unique<Process>(std::vector<std::string>{"ip", "netns", "exec", ns_->name(), "python3",
                                                                (dir_ / "conn.py").string(), (dir_ / "conn").string()},
                                       (dir_ / "conn.log").string());
    EXPECT_TRUE(Eventually([&] { return Exists("connected"); })) << Read("conn.log");
    return p;
  }
  // One round trip over the connection: true when it worked.
  bool RoundTrip(int n) {
    Touch("ping" + std::to_string(n));
    Eventually([&] { return Exists("pong" + std::to_string(n)) || Exists("broken"); });
    return Exists("pong" + std::to_string(n));
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
  ASSERT_TRUE(RoundTrip(0));

  WriteFile("vips.yaml", "# web is gone\n");
  ASSERT_TRUE(Eventually([&] { return Draining(file, "1 connection"); })) << Check(file);
  EXPECT_TRUE(VipInPlace());
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  EXPECT_TRUE(RoundTrip(1)) << Read("conn/broken");
  EXPECT_TRUE(VipInPlace());

  Touch("close");
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
  ASSERT_TRUE(RoundTrip(0));
  WriteFile("vips.yaml", "# web is gone\n");
  EXPECT_TRUE(Eventually([&] { return VipGone(); }));
  EXPECT_FALSE(RoundTrip(1));
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
  EXPECT_TRUE(RoundTrip(0)) << Read("conn/broken");
  EXPECT_TRUE(VipInPlace());
  EXPECT_EQ(record()["draining"][0]["deadlineUnixMs"].get<std::int64_t>(), deadline);
  EXPECT_TRUE(Draining(file, "1 connection")) << Check(file);

  Touch("close");
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
  EXPECT_TRUE(RoundTrip(0)) << Read("conn/broken");
  op.reset();
  const std::string log = Read("operator.log");
  EXPECT_EQ(log.find("withdrawn"), std::string::npos) << log;
  EXPECT_EQ(log.find("repaired"), std::string::npos) << "nothing was removed, so nothing came back: " << log;

  // And with the connection closed, a drain ends at once.
  auto op2 = Start(file, "operator2.log");
  Touch("close");
  ASSERT_EQ(ns_->Operator("drain --state-dir " + StateDir()).exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return VipGone(); }));
}

}  // namespace
}  // namespace lvsrs::testing
