// The two ways a director asks about a VIP, as pure functions of the bytes received so far: the
// BoundedTcpServer feeds them, `answer` looks an address up (reconcile/vip_health.h AnswerFor).
//
// HTTP (keepalived HTTP_GET, ldirectord, curl):
//   GET /vips/<address>  200 "up <address> <virtualip>\n"; 503 "drain|down <address> ...: <reason>\n";
//                        404 when the address is not a VIP of this node
//   GET /                the same for the address the client connected to, so a check sent
//                        through the VIP itself (the DR path) fails when the VIP is not there
//   HEAD                 the same without the body; any other method 405, any other path 404.
// HAProxy agent-check (raw TCP): when the client connected to one of this node's VIPs, the answer
//   comes at once; otherwise the first line the client sends (agent-send "198.51.100.10\n") names
//   the VIP. One line back: "up ready\n", "drain #<reason>\n" or "down #<reason>\n".
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "model/ip_address.h"
#include "reconcile/vip_health.h"

namespace lvsrs {

using AnswerLookup = std::function<DirectorAnswer(const IpAddress&)>;

// nullopt while the request head is incomplete and more may come.
std::optional<std::string> HttpExchange(std::string_view received, bool ended, const IpAddress& local,
                                        const AnswerLookup& answer);

// is_vip: whether an address is in the current table (the local address of the connection).
std::optional<std::string> AgentCheckExchange(std::string_view received, bool ended, const IpAddress& local,
                                              const std::function<bool(const IpAddress&)>& is_vip,
                                              const AnswerLookup& answer);

}  // namespace lvsrs
