// The state file: original values of the ARP sysctls the operator changed, so that they can be
// restored when no VIP remains (or on `cleanup`), and never on a mere restart.
// <state-dir>/sysctl-originals.json, replaced atomically (write, fsync, rename).
#pragma once

#include <string>

#include "reconcile/plan.h"

namespace lvsrs {

// Where the Reconciler keeps the originals. SysctlRecordFile is the real one; unit tests use a fake
// that can fail a save (tests/support/fake_kernel.h).
class SysctlRecordStore {
 public:
  virtual ~SysctlRecordStore() = default;
  // Throws std::runtime_error naming the file when it exists but cannot be read or parsed:
  // losing the originals silently would make a later restore impossible.
  virtual SysctlRecord Load() const = 0;
  // Throws std::runtime_error on failure; the caller must not write sysctls then.
  virtual void Save(const SysctlRecord& record) const = 0;
};

class SysctlRecordFile : public SysctlRecordStore {
 public:
  explicit SysctlRecordFile(std::string state_dir);
  SysctlRecord Load() const override;
  void Save(const SysctlRecord& record) const override;
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace lvsrs
