#include "support/held_connection.h"

#include <fstream>

#include "support/files.h"

namespace lvsrs::testing {
namespace {

// Files in its directory drive it: "connected" once it is up; "pingN" asks for one round trip,
// answered by "pongN" (it worked) or "broken" (it did not within 3 s); "close" closes both ends.
constexpr const char* kScript = R"(
import os, socket, sys, time
d, vip, source, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
family = socket.AF_INET6 if ":" in vip else socket.AF_INET
srv = socket.socket(family)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((vip, port))
srv.listen(1)
cli = socket.create_connection((vip, port), timeout=3, source_address=(source, 0))
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
open(d + "/closed", "w").close()
)";

}  // namespace

HeldConnection::HeldConnection(const TestNetns& ns, const std::filesystem::path& dir, const std::string& vip,
                               const std::string& source, int port)
    : dir_(dir) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "held_connection.py") << kScript;
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"ip", "netns", "exec", ns.name(), "python3", (dir_ / "held_connection.py").string(),
                               dir_.string(), vip, source, std::to_string(port)},
      (dir_ / "log").string());
  connected_ = Eventually([&] { return std::filesystem::exists(dir_ / "connected"); });
}

HeldConnection::~HeldConnection() = default;  // Process stops it

bool HeldConnection::RoundTrip() {
  const std::string n = std::to_string(round_trips_++);
  std::ofstream(dir_ / ("ping" + n)).close();
  Eventually([&] { return std::filesystem::exists(dir_ / ("pong" + n)) || std::filesystem::exists(dir_ / "broken"); });
  return std::filesystem::exists(dir_ / ("pong" + n));
}

void HeldConnection::Close() {
  std::ofstream(dir_ / "close").close();
  Eventually([&] { return std::filesystem::exists(dir_ / "closed"); });
}

std::string HeldConnection::Log() const {
  return ReadFile((dir_ / "log").string()) + ReadFile((dir_ / "broken").string());
}

}  // namespace lvsrs::testing
