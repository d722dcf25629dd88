// The state file: original values of the ARP sysctls the operator changed, so that they can be
// restored when no VIP remains (or on `cleanup`), and never on a mere restart.
// <state-dir>/sysctl-originals.json, replaced atomically (write, fsync, rename).
#pragma once

#include <string>

#include "reconcile/plan.h"

namespace lvsrs {

class SysctlRecordStore {
 public:
  explicit SysctlRecordStore(std::string state_dir);
  // Throws std::runtime_error naming the file when it exists but cannot be read or parsed:
  // losing the originals silently would make a later restore impossible.
  SysctlRecord Load() const;
  // Throws std::runtime_error on failure; the caller must not write sysctls then.
  void Save(const SysctlRecord& record) const;
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace lvsrs
