// libFuzzer target: arbitrary bytes as a watch response body -> WatchStreamDecoder, the framing
// and decoding HttpApiClient::Watch runs on every chunk it receives. The bytes are fed in pieces
// whose sizes come from the input itself, since chunk boundaries are the server's (or a proxy's)
// choice and must not change what is decoded.
// Beyond "no crash, no sanitizer report" it checks the decoder's promises: feeding in pieces gives
// the same events as feeding at once; an Event always carries a type and an object with metadata, of
// the expected kind and with a name unless it is a BOOKMARK; nothing is decoded after a Malformed event.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kube/watch_stream.h"

namespace {

using lvsrs::kube::WatchEvent;
using lvsrs::kube::WatchExpectation;
using lvsrs::kube::WatchStreamDecoder;

std::vector<WatchEvent> Decode(std::string_view body, std::string_view cuts, std::size_t max_line) {
  WatchStreamDecoder d(WatchExpectation{"lvsdr.io/v1alpha1", "VirtualIP"}, max_line);
  std::vector<WatchEvent> out;
  std::size_t at = 0, cut = 0;
  while (at < body.size()) {
    const std::size_t n = cuts.empty() ? body.size() : 1 + static_cast<unsigned char>(cuts[cut++ % cuts.size()]);
    for (auto& e : d.Feed(body.substr(at, n))) out.push_back(std::move(e));
    at += n;
  }
  if (auto last = d.Finish()) out.push_back(std::move(*last));
  return out;
}

void Check(const std::vector<WatchEvent>& events) {
  bool spoiled = false;
  for (const auto& e : events) {
    if (spoiled) __builtin_trap();  // nothing after a malformed line
    switch (e.kind) {
      case WatchEvent::Kind::Event: {
        if (!e.event.is_object() || !e.event["type"].is_string() || !e.event["object"].is_object()) __builtin_trap();
        const auto& obj = e.event["object"];
        if (!obj["metadata"].is_object()) __builtin_trap();
        if (e.event["type"] == "BOOKMARK") break;
        if (obj.value("kind", "") != "VirtualIP" || obj.value("apiVersion", "") != "lvsdr.io/v1alpha1")
          __builtin_trap();
        if (!obj["metadata"]["name"].is_string() || obj["metadata"]["name"].get<std::string>().empty())
          __builtin_trap();
        break;
      }
      case WatchEvent::Kind::Malformed: spoiled = true; [[fallthrough]];
      case WatchEvent::Kind::Gone:
      case WatchEvent::Kind::Error:
        if (e.detail.empty() || e.detail.size() > 1024) __builtin_trap();  // a bounded log line
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Layout: <cut sizes>\x00<body>; without a NUL, the whole input is the body fed at once.
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto sep = in.find('\0');
  const std::string_view cuts =
      sep == std::string_view::npos ? std::string_view() : in.substr(0, std::min<std::size_t>(sep, 64));
  const std::string_view body = sep == std::string_view::npos ? in : in.substr(sep + 1);
  // A small line cap so that the overflow path is reached too.
  for (std::size_t max_line : {WatchStreamDecoder::kMaxLine, std::size_t{512}}) {
    const auto whole = Decode(body, {}, max_line);
    const auto pieces = Decode(body, cuts, max_line);
    Check(whole);
    Check(pieces);
    if (whole.size() != pieces.size()) __builtin_trap();
    for (std::size_t i = 0; i < whole.size(); ++i)
      if (whole[i].kind != pieces[i].kind || whole[i].event != pieces[i].event) __builtin_trap();
  }
  return 0;
}
