// The bad-input corpus (tests/badinput/corpus/*.yaml, plus a few generated files too large to
// keep in the repo) through `run --file --once`, a long-running `run --file` that gets the bad
// file as an edit, and `check`. Each file holds a good VirtualIP ("good", 192.0.2.10) and a bad
// one; its header says what must happen:
//   # expect: reject   the file is invalid: exit 2, the message names file, document and field,
//                      nothing in the kernel changes (and a running agent keeps its last good
//                      state: nothing is withdrawn)
//   # expect: refuse   valid, but this node must not take the VIP: the bad VirtualIP is refused
//                      on its own (logged, FAIL in check) while "good" converges
//   # expect: keep     an edit of the live VirtualIP "keep" that this node refuses: refused like
//                      `refuse` where nothing was accepted before (run --once on a fresh node,
//                      check), while a running agent keeps serving keep's earlier spec
//   # message: ...     a substring the output must contain
//   # absent: ADDR/LEN an address that must not appear on lo
// Kernel state is asserted in a fresh network namespace per test (with eth0 = 198.51.100.1/24,
// so that "the node's own IP" and "its subnet's broadcast" are real).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "support/files.h"
#include "support/netns.h"

namespace lvsrs::testing {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;
  std::string path;  // a copy in the test's temporary directory
  bool reject = true;
  bool keep = false;  // refused as an edit of a live VirtualIP, "keep"
  std::string message;
  std::string absent;
};

// Copies of the corpus, generated files, state dirs and logs; removed when the process ends.
const fs::path kTempDir = fs::temp_directory_path() / ("lvsrs-badinput-" + std::to_string(getpid()));
struct RemoveTempDir {
  ~RemoveTempDir() {
    std::error_code ec;
    fs::remove_all(kTempDir, ec);
  }
} remove_temp_dir;

fs::path TempDir() {
  fs::create_directories(kTempDir);
  return kTempDir;
}

void WriteFile(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

const char* kGood =
    "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata: {name: good}\n"
    "spec: {addresses: [192.0.2.10]}\n---\n";

Case FromText(const std::string& name, const std::string& text) {
  Case c;
  c.name = name;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line) && line.rfind("# ", 0) == 0) {
    if (line.rfind("# expect: ", 0) == 0) {
      c.reject = line.substr(10) == "reject";
      c.keep = line.substr(10) == "keep";
    }
    if (line.rfind("# message: ", 0) == 0) c.message = line.substr(11);
    if (line.rfind("# absent: ", 0) == 0) c.absent = line.substr(10);
  }
  c.path = (TempDir() / (name + ".yaml")).string();
  WriteFile(c.path, text);
  return c;
}

std::vector<Case> Corpus() {
  std::vector<Case> cases;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(SourceDir() + "/tests/badinput/corpus"))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) cases.push_back(FromText(f.stem().string(), ReadFile(f)));

  // Generated: too large (or too silly) to keep in the repo.
  std::string many =
      "# expect: reject\n# message: document 2 (VirtualIP \"bad\"): spec.addresses: 10000 "
      "addresses, at most 1024 per VirtualIP\n";
  many += kGood;
  many += "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata: {name: bad}\nspec:\n  addresses:\n";
  for (int i = 0; i < 10000; ++i)
    many += "  - 198.18." + std::to_string(i / 256) + "." + std::to_string(i % 256) + "\n";
  cases.push_back(FromText("generated-10000-addresses", many));

  const std::string huge(1 << 20, 'a');
  cases.push_back(FromText("generated-huge-name",
                           "# expect: reject\n# message: document 2 (VirtualIP "
                           "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"): "
                           "metadata.name: required, a DNS subdomain\n" +
                               std::string(kGood) +
                               "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata: {name: " + huge +
                               "}\nspec: {addresses: [192.0.2.20]}\n"));
  cases.push_back(FromText("generated-huge-address",
                           "# expect: reject\n# message: document 2 (VirtualIP \"bad\"): spec.addresses[0]: \"aaaa\n" +
                               std::string(kGood) +
                               "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata: {name: bad}\n"
                               "spec: {addresses: [" +
                               huge + "]}\n"));
  cases.push_back(FromText("generated-huge-unknown-key",
                           "# expect: reject\n# message: document 2 (VirtualIP \"bad\"): spec.aaaa\n" +
                               std::string(kGood) +
                               "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata: {name: bad}\n"
                               "spec:\n  addresses: [192.0.2.20]\n  ? " +
                               huge + "\n  : 1\n"));
  cases.push_back(FromText("generated-huge-duplicate-key",
                           "# expect: reject\n# message: duplicate key \"" + std::string(64, 'a') + "...\"\n" +
                               std::string(kGood) +
                               "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata: {name: bad}\n"
                               "spec:\n  addresses: [192.0.2.20]\n  ? " +
                               huge + "\n  : 1\n  ? " + huge + "\n  : 2\n"));
  std::string deep = "# expect: reject\n# message: nested deeper than 64 levels\n" + std::string(kGood) +
                     "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata: {name: bad}\nspec: {addresses: " +
                     std::string(500, '[') + std::string(500, ']') + "}\n";
  cases.push_back(FromText("generated-deep-nesting", deep));
  return cases;
}

// Test names and failure messages show the case's name, not its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class BadInput : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    // The node's own address and subnet, on a veth (no dummy interfaces on this kernel).
    const auto r = ns_.Exec(
        "ip link add eth0 type veth peer name eth1 && ip addr add 198.51.100.1/24 dev eth0 && "
        "ip link set eth0 up && ip link set eth1 up");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    state_dir_ = (TempDir() / ("state-" + ns_.name())).string();
  }

  bool HasAddress(const std::string& a) const {
    const auto addrs = ns_.Addresses("lo");
    return std::find(addrs.begin(), addrs.end(), a) != addrs.end();
  }
  bool HasRoute(const std::string& dst) const {
    for (const auto& r : ns_.Routes(4))
      if (r.rfind(dst + " dev lo proto 245", 0) == 0) return true;
    return false;
  }
  // Only the addresses every lo starts with: nothing was configured.
  void ExpectUntouched() const {
    auto addrs = ns_.Addresses("lo");
    std::sort(addrs.begin(), addrs.end());
    EXPECT_EQ(addrs, (std::vector<std::string>{"127.0.0.1/8", "::1/128"}));
    for (const auto& r : ns_.Routes(4)) {
      EXPECT_EQ(r.find("proto 245"), std::string::npos) << r;
    }
    EXPECT_EQ(ns_.Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
    EXPECT_EQ(ns_.Sysctl("net.ipv4.conf.lo.arp_announce"), 0);
  }
  void ExpectGoodOnlyConverged(const Case& c) const {
    EXPECT_TRUE(HasAddress("192.0.2.10/32"));
    EXPECT_TRUE(HasRoute("192.0.2.10"));
    EXPECT_FALSE(HasAddress("192.0.2.20/32")) << "the refused VirtualIP's other address was applied";
    if (!c.absent.empty()) {
      EXPECT_FALSE(HasAddress(c.absent));
    }
    EXPECT_EQ(ns_.Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  }
  // Hostile input must give readable output, not megabytes of echo.
  static void ExpectBoundedOutput(const std::string& out) { EXPECT_LT(out.size(), 16u * 1024) << out.substr(0, 2000); }

  std::string Common() const { return " --state-dir " + Quote(state_dir_) + " --node-name node-a"; }

  TestNetns ns_{"lvsrs-r"};
  std::string state_dir_;
};

TEST_P(BadInput, RunOnce) {
  const Case& c = GetParam();
  const auto r = ns_.Operator("run --once --file " + Quote(c.path) + Common());
  ExpectBoundedOutput(r.output);
  EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output.substr(0, 4000);
  if (c.reject) {
    EXPECT_EQ(r.exit_code, 2) << r.output.substr(0, 4000);
    EXPECT_NE(r.output.find(c.path + ": "), std::string::npos) << "message does not name the file";
    ExpectUntouched();
  } else {
    EXPECT_EQ(r.exit_code, 1) << r.output;  // not conformant: a VirtualIP is refused
    ExpectGoodOnlyConverged(c);
  }
}

TEST_P(BadInput, Check) {
  const Case& c = GetParam();
  if (c.reject) {
    const auto r = ns_.Operator("check --file " + Quote(c.path) + " --node-name node-a");
    ExpectBoundedOutput(r.output);
    EXPECT_EQ(r.exit_code, 2) << r.output.substr(0, 4000);
    EXPECT_NE(r.output.find(c.path + ": "), std::string::npos);
    EXPECT_NE(r.output.find(c.message), std::string::npos) << r.output.substr(0, 4000);
    ExpectUntouched();
    return;
  }
  ns_.Operator("run --once --file " + Quote(c.path) + Common());
  const auto r = ns_.Operator("check --file " + Quote(c.path) + " --node-name node-a");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  // "VirtualIP bad refused: why" in the log is "VirtualIP bad ... refused: why ... FAIL" here.
  const auto refused = c.message.find(" refused: ");
  ASSERT_NE(refused, std::string::npos);
  const std::string vip_line = c.message.substr(0, refused);
  const std::string why = c.message.substr(refused + 1);
  bool found = false;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(vip_line + " ", 0) == 0 && line.find(why) != std::string::npos &&
        line.find("FAIL") != std::string::npos)
      found = true;
  }
  EXPECT_TRUE(found) << r.output;
  EXPECT_NE(r.output.find("address 192.0.2.10/32 on lo"), std::string::npos) << r.output;
}

TEST_P(BadInput, RunningAgentKeepsLastGoodState) {
  const Case& c = GetParam();
  const fs::path file = TempDir() / ("live-" + ns_.name() + ".yaml");
  // The last good state has one VirtualIP more than the bad file: a withdrawal would show.
  WriteFile(file, std::string(kGood) +
                      "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata: {name: keep}\n"
                      "spec: {addresses: [203.0.113.10]}\n");
  const fs::path log = TempDir() / ("live-" + ns_.name() + ".log");
  Process agent({"ip", "netns", "exec", ns_.name(), OperatorBinary(), "run", "--file", file.string(), "--state-dir",
                 state_dir_, "--node-name", "node-a", "--resync-period", "200ms"},
                log.string());
  ASSERT_TRUE(Eventually([&] { return HasAddress("192.0.2.10/32") && HasAddress("203.0.113.10/32"); }))
      << ReadFile(log);

  ReplaceFile(file, ReadFile(c.path));
  if (c.keep) {
    // The edit is refused here; keep's spec from before stays in force, next to good.
    const std::string why = c.message.substr(c.message.find(" refused: ") + 10);
    ASSERT_TRUE(Eventually([&] {
      return ReadFile(log).find("VirtualIP keep: edit refused on this node, still serving the spec accepted before: " +
                                why) != std::string::npos;
    })) << ReadFile(log).substr(0, 4000);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));  // several resync periods
    EXPECT_EQ(agent.Wait(std::chrono::milliseconds(0)), -1) << "the agent exited on a refused edit";
    EXPECT_TRUE(HasAddress("192.0.2.10/32"));
    EXPECT_TRUE(HasAddress("203.0.113.10/32")) << "the live VIP was withdrawn";
    EXPECT_TRUE(HasRoute("203.0.113.10"));
    EXPECT_FALSE(HasAddress(c.absent));
    EXPECT_EQ(ns_.Sysctl("net.ipv4.conf.all.arp_announce"), 2);
  } else if (c.reject) {
    ASSERT_TRUE(Eventually([&] { return ReadFile(log).find(c.message) != std::string::npos; }))
        << ReadFile(log).substr(0, 4000);
    EXPECT_NE(ReadFile(log).find("keeping the last good VirtualIPs"), std::string::npos);
    // Several resync periods later: still the last good state, nothing withdrawn.
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    EXPECT_EQ(agent.Wait(std::chrono::milliseconds(0)), -1) << "the agent exited on a bad edit";
    EXPECT_TRUE(HasAddress("192.0.2.10/32"));
    EXPECT_TRUE(HasAddress("203.0.113.10/32"));
    EXPECT_TRUE(HasRoute("203.0.113.10"));
    EXPECT_FALSE(HasAddress("192.0.2.20/32"));
    EXPECT_EQ(ns_.Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  } else {
    // The edit is valid: "keep" goes away as asked, the refused VirtualIP never arrives.
    ASSERT_TRUE(Eventually([&] {
      return !HasAddress("203.0.113.10/32") && ReadFile(log).find(c.message) != std::string::npos;
    })) << ReadFile(log);
    EXPECT_EQ(agent.Wait(std::chrono::milliseconds(0)), -1) << "the agent exited";
    ExpectGoodOnlyConverged(c);
  }
  ExpectBoundedOutput(ReadFile(log));
}

// Inputs that are not a VirtualIP file at all, and flags out of range: refused before anything is
// read without bound or changed, with a message that names the input.
class BadFileOrFlag : public ::testing::Test {
 protected:
  TestNetns ns_{"lvsrs-r"};
  std::string state_dir_ = (TempDir() / ("state-" + ns_.name())).string();
  std::string Common() const { return " --once --state-dir " + Quote(state_dir_) + " --node-name node-a"; }
  void ExpectRefused(const std::string& args, const std::string& message) {
    const auto r = ns_.Operator("run " + args + Common());
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output.substr(0, 4000);
    EXPECT_NE(r.output.find(message), std::string::npos) << args << "\n" << r.output.substr(0, 4000);
    EXPECT_LT(r.output.size(), 16u * 1024);
    const auto addrs = ns_.Addresses("lo");
    EXPECT_EQ(addrs.size(), 2u) << "something was configured";
    EXPECT_EQ(ns_.Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
  }
};

TEST_F(BadFileOrFlag, EndlessOrOversizedFilesAreRefusedBeforeReading) {
  // /dev/zero never ends: reading it "to check the size afterwards" would eat all memory.
  ExpectRefused("--file /dev/zero", "/dev/zero: not a regular file");
  const fs::path fifo = TempDir() / ("fifo-" + ns_.name());
  ASSERT_EQ(lvsrs::testing::Run("mkfifo " + Quote(fifo.string())).exit_code, 0);
  ExpectRefused("--file " + Quote(fifo.string()), fifo.string() + ": not a regular file");
  ExpectRefused("--file " + Quote(TempDir().string()), TempDir().string() + ": not a regular file");
  // 17 MiB (sparse: nothing to write) of a file that would otherwise be read in full.
  const fs::path big = TempDir() / ("big-" + ns_.name() + ".yaml");
  WriteFile(big, kGood);
  fs::resize_file(big, 17u << 20);
  ExpectRefused("--file " + Quote(big.string()), big.string() + ": larger than 16 MiB");
}

TEST_F(BadFileOrFlag, DurationsTooLongToHoldAreRefusedNotWrapped) {
  const fs::path file = TempDir() / ("good-" + ns_.name() + ".yaml");
  WriteFile(file, kGood);
  for (const char* flag : {"--resync-period", "--full-resync-period"})
    for (const char* value : {"1000000h", "1001h", "9223372036854775807ms", "99999999999999999999h"})
      ExpectRefused("--file " + Quote(file.string()) + " " + flag + " " + value,
                    std::string(flag) + " must be a duration from 100ms to 1000h");
  // Kubernetes mode checks the flag before it reads any kubeconfig.
  for (const char* value : {"1000000h", "2000h"})
    ExpectRefused(std::string("--kubeconfig /nonexistent --watch-timeout ") + value,
                  "--watch-timeout must be a duration from 1s to 1000h");
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.name;
  for (auto& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadInput, ::testing::ValuesIn(Corpus()), CaseName);

}  // namespace
}  // namespace lvsrs::testing
