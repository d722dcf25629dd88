// Drain state that must outlive the agent (reconcile/drain.h):
//  - <state-dir>/draining.json: the VIPs draining and their deadlines, replaced atomically (as the
//    sysctl originals are) whenever a drain starts or ends, before the pass reports it, so that a
//    restarted agent continues each drain with the same deadline instead of withdrawing the VIP at
//    once or starting over.
//      {"version": 1, "draining": [{"address": "192.0.2.10", "virtualIP": "web", "interface": "lo",
//        "hostRoute": true, "reason": "...", "startedUnixMs": ..., "deadlineUnixMs": ...,
//        "deadline": "2026-12-02T11:00:30Z"}]}
//    ("deadline" is for people; "deadlineUnixMs" decides.)
//  - <state-dir>/drain-requested: exists while `lvs-rs-operator drain` asks this node to drain
//    (removed by `drain --undo`); its content is for people.
#pragma once

#include <string>

#include "reconcile/drain.h"

namespace lvsrs {

// Where the Reconciler keeps drains and finds the node's drain request. DrainFile is the real one;
// unit tests use a fake.
class DrainStore {
 public:
  virtual ~DrainStore() = default;
  // Empty when there is no file. Throws std::runtime_error naming the file when it cannot be read
  // or parsed, or was written by a newer version.
  virtual Drains Load() const = 0;
  // Throws std::runtime_error naming the file; the previous file then stays as it was.
  virtual void Save(const Drains& drains) const = 0;
  // Whether the drain request file exists.
  virtual bool Requested() const = 0;
  // The directory whose entries to watch (inotify) for the request file to appear or go away;
  // empty: none, the loop looks every second.
  virtual std::string RequestDir() const { return {}; }
};

class DrainFile : public DrainStore {
 public:
  static constexpr int kVersion = 1;
  explicit DrainFile(std::string state_dir);
  Drains Load() const override;
  void Save(const Drains& drains) const override;
  bool Requested() const override;
  std::string RequestDir() const override { return dir_; }
  const std::string& path() const { return path_; }
  const std::string& request_path() const { return request_path_; }

  // `lvs-rs-operator drain`: creates the request file (durably, as the state files are written);
  // `drain --undo`: removes it (no error when it is not there). Throw std::runtime_error naming
  // the file.
  void Request(const std::string& text) const;
  void Undo() const;

 private:
  std::string dir_;
  std::string path_;
  std::string request_path_;
};

// Whether two drain sets differ in what draining.json holds (connection counts are not saved:
// they change every count and are counted again after a restart).
bool SameRecord(const Drains& a, const Drains& b);

}  // namespace lvsrs
