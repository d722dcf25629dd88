#include "director/director_listeners.h"

#include <stdexcept>

#include "agent/log.h"
#include "director/director_protocols.h"
#include "metrics/health_server.h"

namespace lvsrs {
namespace {

std::int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool SamePort(const BindAddress& a, const BindAddress& b) {
  return !a.disabled && !b.disabled && a.port == b.port && (a.host == b.host || a.host.empty() || b.host.empty());
}

}  // namespace

DirectorOptions DirectorOptions::Disabled() {
  DirectorOptions o;
  o.http.disabled = true;
  o.agent_check.disabled = true;
  return o;
}

bool DirectorOptionsFromFlags(const std::optional<std::string>& http_bind,
                              const std::optional<std::string>& agent_check_bind,
                              const std::vector<std::pair<std::string, BindAddress>>& taken,
                              std::chrono::milliseconds live_within, DirectorOptions& out, std::string& error) {
  // "" disables, as "0" does (the DaemonSet can blank a listener without knowing the convention).
  const auto text = [](const std::optional<std::string>& flag, const char* fallback) {
    const std::string v = flag.value_or(fallback);
    return v.empty() ? std::string("0") : v;
  };
  std::string why;
  const auto http = ParseBindAddress(text(http_bind, kDefaultDirectorHealthBindAddress), why);
  if (!http) {
    error = "--director-health-bind-address " + why;
    return false;
  }
  const auto agent = ParseBindAddress(text(agent_check_bind, kDefaultAgentCheckBindAddress), why);
  if (!agent) {
    error = "--agent-check-bind-address " + why;
    return false;
  }
  std::vector<std::pair<std::string, BindAddress>> all = taken;
  all.emplace_back("--director-health-bind-address", *http);
  all.emplace_back("--agent-check-bind-address", *agent);
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j < all.size(); ++j)
      if (SamePort(all[i].second, all[j].second)) {
        error = all[i].first + " and " + all[j].first + " must use different ports";
        return false;
      }
  out.http = *http;
  out.agent_check = *agent;
  out.live_within = live_within;
  return true;
}

DirectorListeners::DirectorListeners(const DirectorOptions& options, const VipHealthBoard& board,
                                     const AgentHealth& health)
    : board_(board), health_(health), live_within_(options.live_within), started_unix_ms_(NowUnixMs()) {
  const AnswerLookup answer = [this](const IpAddress& ip) { return Answer(ip); };
  if (!options.http.disabled) {
    ListenerLimits limits;  // a request head in 2 s
    try {
      http_ = std::make_unique<BoundedTcpServer>(
          "director health (HTTP)", options.http, limits,
          [answer](const Exchange& e) { return HttpExchange(e.received, e.ended, e.local, answer); });
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(std::string("--director-health-bind-address: ") + e.what());
    }
    LogInfo("serving director health (GET /vips/ADDRESS, GET /) on " + options.http.ToString());
  }
  if (!options.agent_check.disabled) {
    ListenerLimits limits;
    limits.deadline = std::chrono::milliseconds(1000);  // the agent-send line within 1 s
    limits.max_request_bytes = 256;
    const auto is_vip = [this](const IpAddress& ip) {
      const auto table = board_.Current();
      return table && table->count(ip) > 0;
    };
    try {
      agent_ = std::make_unique<BoundedTcpServer>(
          "HAProxy agent-check", options.agent_check, limits, [answer, is_vip](const Exchange& e) {
            return AgentCheckExchange(e.received, e.ended, e.local, is_vip, answer);
          });
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(std::string("--agent-check-bind-address: ") + e.what());
    }
    LogInfo("serving HAProxy agent-check on " + options.agent_check.ToString());
  }
}

DirectorListeners::~DirectorListeners() = default;

DirectorAnswer DirectorListeners::Answer(const IpAddress& address) const {
  const ProbeResult live = Liveness(NowUnixMs(), health_.last_loop_unix_ms.load(), started_unix_ms_, live_within_);
  const auto table = board_.Current();
  return AnswerFor(table.get(), address, live.ok ? "" : live.body);
}

}  // namespace lvsrs
