// --metrics-bind-address / --health-probe-bind-address / --director-health-bind-address /
// --agent-check-bind-address values, checked before anything starts
// (a typo is a usage error, not a silent listener on the wrong address).
//   ":8470"         every address of the node: one IPv6 dual-stack socket (IPv4 too), or IPv4
//                   alone where the node has no IPv6
//   "127.0.0.1:8470", "[::1]:8470"   one address
//   "0"             disabled (the director-facing flags take "" too: DirectorOptionsFromFlags)
#pragma once

#include <optional>
#include <string>

namespace lvsrs {

struct BindAddress {
  bool disabled = false;
  std::string host;  // IP literal, "" for every address
  int port = 0;
  std::string ToString() const;
};

// nullopt with error set when text is not one of the forms above.
std::optional<BindAddress> ParseBindAddress(const std::string& text, std::string& error);

}  // namespace lvsrs
