// libFuzzer target: arbitrary JSON as any object the agent reads from the API server, through the
// same decode functions the agent runs on its worker threads (where an exception would end in
// std::terminate): Node (DecodeNode), VirtualIP (ParseVirtualIp, GenerationOf), Lease
// (DecodeLease), RealServer (DecodeRealServerVips for the summary; its status as the previous
// status of BuildRealServerStatus). Nothing may throw; decoded values stay in their documented
// ranges; the status built from any previous status is sendable (EncodeJsonBody-style dump).
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "kube/object_decode.h"
#include "kube/realserver_status.h"
#include "model/virtual_ip_parse.h"

namespace {

using nlohmann::json;

lvsrs::NodeStatus SomeStatus() {
  lvsrs::NodeStatus s;
  s.vips.push_back(lvsrs::VipAddressStatus{"web", "192.0.2.10", "lo", lvsrs::VipState::Configured, "configured"});
  s.vips.push_back(lvsrs::VipAddressStatus{"db", "192.0.2.11", "lo", lvsrs::VipState::Failed, "EPERM"});
  s.interfaces.push_back(lvsrs::InterfaceArpStatus{"eth0", 1, 2, true, ""});
  return s;
}

void Check(const json& obj) {
  (void)lvsrs::kube::DecodeNode(obj);
  (void)lvsrs::kube::GenerationOf(obj);
  (void)lvsrs::ParseVirtualIp(obj);
  const auto lease = lvsrs::kube::DecodeLease(obj);
  if (lease.duration_seconds && (*lease.duration_seconds < 0 || *lease.duration_seconds > 86400)) __builtin_trap();
  (void)lvsrs::kube::DecodeRealServerVips(obj);
  const json& previous = obj.is_object() && obj.contains("status") ? obj["status"] : obj;
  const json built = lvsrs::kube::BuildRealServerStatus(SomeStatus(), {{"bad", lvsrs::SourceRefusal{"invalid", false}}},
                                                        previous, "2026-01-01T00:00:00Z", {{"sysctl:x", 3}});
  (void)built.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!built.is_object() || !built.contains("conditions")) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const json obj = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded()) return 0;
  Check(obj);
  return 0;
}
