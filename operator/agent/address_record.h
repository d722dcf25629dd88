// The address record: on kernels that drop IFA_PROTO (KernelApi::KeepsAddressProtocol), the
// addresses the operator added, so that they are recognised as its own after a restart
// (reconcile/address_ownership.h says when an address counts as recorded). Saved before each
// add, so a crash right after the add still finds it on disk; an entry is dropped once its
// address is deleted or no longer has the operator's properties.
//
// <state-dir>/owned-addresses.json, replaced atomically like the sysctl originals (state_file.h):
//   {"version": 1, "addresses": [{"address": "2001:db8::10", "ifindex": 1, "interface": "lo"}]}
// The interface name is escaped as in sysctl-originals.json (EscapeInterfaceName); the ifindex
// decides, the name is for people reading the file.
#pragma once

#include <string>

#include "reconcile/address_ownership.h"

namespace lvsrs {

// Where the Reconciler keeps the record. AddressRecordFile is the real one; unit tests use a fake
// that can fail a save (tests/support/fake_kernel.h).
class AddressRecordStore {
 public:
  virtual ~AddressRecordStore() = default;
  // Throws std::runtime_error naming the file when it exists but cannot be read or parsed, or was
  // written by a newer version: without it the operator's addresses would look foreign and stay.
  virtual AddressRecord Load() const = 0;
  // Throws std::runtime_error on failure; the caller must not add addresses then.
  virtual void Save(const AddressRecord& record) const = 0;
};

class AddressRecordFile : public AddressRecordStore {
 public:
  static constexpr int kVersion = 1;

  explicit AddressRecordFile(std::string state_dir);
  AddressRecord Load() const override;
  void Save(const AddressRecord& record) const override;
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace lvsrs
