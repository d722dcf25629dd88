// Framing and decoding of a Kubernetes watch body, apart from any I/O so that it can be unit
// tested and fuzzed (tests/fuzz/targets/fuzz_watch_stream.cpp). The API server sends one JSON
// object per line ({"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": {...}}) in HTTP
// chunks that need not align with lines: a chunk may end in the middle of an event, or carry
// several. HttpApiClient::Watch feeds whatever bytes arrive and acts on the decoded events.
// What counts as malformed (the watch then ends and the informer re-lists, since an event may
// have been lost): a line that is not a JSON object, an unknown type, an object missing or of
// another kind/apiVersion than the collection's, a line longer than the cap, and a partial line
// at the end of the stream (an event cut in the middle).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace lvsrs::kube {

struct WatchEvent {
  enum class Kind {
    Event,      // ADDED, MODIFIED, DELETED or BOOKMARK with an object of the expected kind
    Gone,       // ERROR with code 410: the resourceVersion is too old, re-list
    Error,      // any other ERROR event (a Status object): detail has code and message
    Malformed,  // not a watch event of this collection: detail says why, with the line's start
  };
  Kind kind = Kind::Malformed;
  nlohmann::json event;  // for Event: {"type": ..., "object": ...}
  std::string detail;
};

// What the objects of the watched collection are ("lvsdr.io/v1alpha1", "VirtualIP"). Empty
// fields are not checked.
struct WatchExpectation {
  std::string api_version;
  std::string kind;
};

// Decodes one line (without its '\n'; a trailing '\r' is ignored).
WatchEvent DecodeWatchLine(std::string_view line, const WatchExpectation& expect);

class WatchStreamDecoder {
 public:
  // A VirtualIP of 1,024 addresses is far below 1 MiB; 16 MiB leaves room for any sane object
  // and bounds what a broken server can make us buffer.
  static constexpr std::size_t kMaxLine = 16u << 20;

  explicit WatchStreamDecoder(WatchExpectation expect, std::size_t max_line = kMaxLine)
      : expect_(std::move(expect)), max_line_(max_line) {}

  // Appends bytes as they arrived and returns the events of every line they complete, in
  // order. Blank lines are skipped. After a Malformed event the stream is spoiled: later
  // calls return nothing (the caller ends the watch).
  std::vector<WatchEvent> Feed(std::string_view bytes);
  // The stream ended: a partial line left over is an event cut in the middle (Malformed).
  std::optional<WatchEvent> Finish();
  bool spoiled() const { return spoiled_; }
  std::size_t pending() const { return partial_.size(); }  // bytes of an unfinished line

 private:
  WatchExpectation expect_;
  std::size_t max_line_;
  std::string partial_;
  bool spoiled_ = false;
};

}  // namespace lvsrs::kube
