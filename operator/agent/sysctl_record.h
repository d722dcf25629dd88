// The state file: per ARP sysctl the operator changed, the value found before the first write
// and the value the operator wrote, so that the original is restored when no VIP remains (or on
// `cleanup`), only if the key still holds our value, and never on a mere restart.
// <state-dir>/sysctl-originals.json, replaced atomically (ReplaceStateFile in state_file.h): written to a temporary
// file with a unique name (a concurrent `cleanup` and `run` never write the same one), fsynced and renamed over the old
// one, so a crash leaves the old file or the new one, never a torn one. The directory is not
// fsynced (Persist::kUntilReboot): a node crash that loses the rename also reverts the sysctls.
//
// Format (version 2):
//   {"version": 2, "sysctls": {"net.ipv4.conf.<dev>.arp_ignore": {"original": 0, "written": 1}}}
// <dev> is the interface name with each byte that is not part of valid UTF-8, and '%', written
// as %XX (the kernel allows any bytes but '/', ':' and whitespace in a name; JSON needs UTF-8).
// Version 1 (and files without a version) map each key to the original only; they are read.
#pragma once

#include <string>

#include "reconcile/plan.h"

namespace lvsrs {

// Where the Reconciler keeps the originals. SysctlRecordFile is the real one; unit tests use a fake
// that can fail a save (tests/support/fake_kernel.h).
class SysctlRecordStore {
 public:
  virtual ~SysctlRecordStore() = default;
  // Throws std::runtime_error naming the file when it exists but cannot be read or parsed, or
  // was written by a newer version: losing the originals silently would make a later restore
  // impossible.
  virtual SysctlRecord Load() const = 0;
  // Throws std::runtime_error on failure; the caller must not write sysctls then.
  virtual void Save(const SysctlRecord& record) const = 0;
};

class SysctlRecordFile : public SysctlRecordStore {
 public:
  static constexpr int kVersion = 2;

  explicit SysctlRecordFile(std::string state_dir);
  SysctlRecord Load() const override;
  void Save(const SysctlRecord& record) const override;
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

// The interface-name escaping of the state file (exposed for tests).
std::string EscapeInterfaceName(const std::string& name);
bool UnescapeInterfaceName(const std::string& text, std::string& name);

}  // namespace lvsrs
