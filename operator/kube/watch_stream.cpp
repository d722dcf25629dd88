#include "kube/watch_stream.h"

#include <algorithm>

namespace lvsrs::kube {
namespace {

using nlohmann::json;

// Enough of the offending line to recognise it in a log, with control bytes made visible.
std::string Excerpt(std::string_view line) {
  std::string out;
  for (unsigned char c : line.substr(0, 120)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (line.size() > 120) out += "...(" + std::to_string(line.size()) + " bytes)";
  return "\"" + out + "\"";
}

WatchEvent Malformed(const std::string& why, std::string_view line) {
  return {WatchEvent::Kind::Malformed, nullptr, "malformed watch event (" + why + "): " + Excerpt(line)};
}

std::string StringField(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

WatchEvent DecodeWatchLine(std::string_view line, const WatchExpectation& expect) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  json event = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (!event.is_object()) return Malformed("not a JSON object", line);
  const std::string type = StringField(event, "type");
  const auto obj = event.find("object");
  if (obj == event.end() || !obj->is_object()) return Malformed("no object", line);
  if (type == "ERROR") {
    // The object is a Status: {"kind": "Status", "code": 410, "reason": "Expired", ...}.
    const auto code_it = obj->find("code");
    const int code = code_it != obj->end() && code_it->is_number_integer()
                         ? static_cast<int>(std::clamp<std::int64_t>(code_it->get<std::int64_t>(), -1, 999))
                         : 0;
    const std::string message = StringField(*obj, "message");
    const std::string reason = StringField(*obj, "reason");
    // 410 Gone, or reason Expired/Gone without a code: the resourceVersion is history.
    if (code == 410 || (code == 0 && (reason == "Expired" || reason == "Gone")))
      return {WatchEvent::Kind::Gone, nullptr, "watch expired (410): " + message.substr(0, 300)};
    return {WatchEvent::Kind::Error, nullptr,
            "watch error " + std::to_string(code) + (reason.empty() ? "" : " " + reason.substr(0, 64)) + ": " +
                message.substr(0, 300)};
  }
  if (type != "ADDED" && type != "MODIFIED" && type != "DELETED" && type != "BOOKMARK")
    return Malformed("unknown type", line);
  // A bookmark carries only a resourceVersion; every other event must be about this collection's
  // kind, or it could store (or delete) something that is not a VirtualIP under a VirtualIP's name.
  if (type != "BOOKMARK" && !expect.kind.empty() && StringField(*obj, "kind") != expect.kind)
    return Malformed("object is not a " + expect.kind, line);
  if (type != "BOOKMARK" && !expect.api_version.empty() && StringField(*obj, "apiVersion") != expect.api_version)
    return Malformed("object is not " + expect.api_version, line);
  const auto meta = obj->find("metadata");
  if (meta == obj->end() || !meta->is_object()) return Malformed("object without metadata", line);
  // Every event but a bookmark names its object; a nameless one cannot be stored or deleted.
  if (type != "BOOKMARK" && StringField(*meta, "name").empty()) return Malformed("object without a name", line);
  return {WatchEvent::Kind::Event, std::move(event), ""};
}

std::vector<WatchEvent> WatchStreamDecoder::Feed(std::string_view bytes) {
  std::vector<WatchEvent> out;
  while (!spoiled_ && !bytes.empty()) {
    const auto nl = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, nl);
    if (partial_.size() + piece.size() > max_line_) {
      spoiled_ = true;
      out.push_back(Malformed("line longer than " + std::to_string(max_line_) + " bytes",
                              partial_.empty() ? piece : std::string_view(partial_)));
      partial_.clear();
      break;
    }
    if (nl == std::string_view::npos) {
      partial_.append(piece);
      break;
    }
    bytes.remove_prefix(nl + 1);
    std::string_view line = piece;
    if (!partial_.empty()) {
      partial_.append(piece);
      line = partial_;
    }
    if (!IsBlank(line)) {
      WatchEvent e = DecodeWatchLine(line, expect_);
      if (e.kind == WatchEvent::Kind::Malformed) spoiled_ = true;
      out.push_back(std::move(e));
    }
    partial_.clear();
  }
  return out;
}

std::optional<WatchEvent> WatchStreamDecoder::Finish() {
  if (spoiled_ || IsBlank(partial_)) return std::nullopt;
  spoiled_ = true;
  WatchEvent e = Malformed("stream ended in the middle of an event", partial_);
  partial_.clear();
  return e;
}

}  // namespace lvsrs::kube
