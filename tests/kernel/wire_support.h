// Shared by the wire tests of the neighbour models (ARP and NDP): reading a namespace the way the
// operator does, and the table each prints of wire and model side by side.
#pragma once

#include <array>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/netns.h"
#include "support/observe_in_netns.h"  // ObserveIn

namespace lvsrs::testing {

inline std::string Must(const CommandResult& r, const std::string& what) {
  if (r.exit_code != 0) throw std::runtime_error(what + " failed (" + std::to_string(r.exit_code) + "): " + r.output);
  return r.output;
}

// Packets the nftables counter `name` of `table` ("arp lvsrs_arpwire") in ns has counted.
inline long NftCounter(const TestNetns& ns, const std::string& table, const std::string& name) {
  const auto j =
      nlohmann::json::parse(Must(ns.Exec("nft -j list counter " + table + " " + name), "read counter " + name));
  for (const auto& e : j["nftables"])
    if (e.contains("counter")) return e["counter"]["packets"].get<long>();
  throw std::runtime_error("no counter " + name);
}

inline std::string Verdict(bool yes, const char* what) { return yes ? what : std::string("not ") + what; }

// The printed table: one line per cell.
class Table {
 public:
  explicit Table(std::string title) : title_(std::move(title)) {}
  void Row(const std::string& settings, const std::string& vip, const std::string& wire, const std::string& model) {
    rows_.push_back({settings, vip, wire, model});
  }
  ~Table() {
    std::ostringstream out;
    out << "\n" << title_ << "\n";
    out << std::left << std::setw(50) << "| settings" << std::setw(44) << " | VIP" << std::setw(16) << " | wire"
        << std::setw(16) << " | model"
        << " |\n";
    out << "|" << std::string(49, '-') << "|" << std::string(43, '-') << "|" << std::string(15, '-') << "|"
        << std::string(15, '-') << "|\n";
    for (const auto& r : rows_) {
      const bool same = r[2] == r[3];
      out << std::left << std::setw(50) << ("| " + r[0]) << std::setw(44) << (" | " + r[1]) << std::setw(16)
          << (" | " + r[2]) << std::setw(16) << (" | " + r[3]) << " |" << (same ? "" : " MISMATCH") << "\n";
    }
    std::cout << out.str() << std::flush;
  }

 private:
  std::string title_;
  std::vector<std::array<std::string, 4>> rows_;
};

}  // namespace lvsrs::testing
