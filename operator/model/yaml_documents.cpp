#include "model/yaml_documents.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>

namespace lvsrs {
namespace {

using nlohmann::json;

// Deeply nested input is hostile, not a VirtualIP.
constexpr std::size_t kMaxDepth = 64;

std::string At(const YAML::Mark& mark) {
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// YAML 1.2 core schema: [-+]?[0-9]+. Hand-written rather than std::regex: libstdc++'s regex
// recurses once per character and overflowed the stack on a long digit string (found by
// fuzz_yaml_documents).
bool IsInt(const std::string& s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (!IsDigit(s[i])) return false;
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsFloat(const std::string& s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  std::size_t digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == s.size();
}

json ScalarToJson(const std::string& tag, const std::string& s) {
  // A quoted scalar has the non-specific tag "!", an explicit !!str the core tag: always a string.
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return s;
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (IsInt(s)) {
    std::int64_t v = 0;
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    const auto r = std::from_chars(begin, s.data() + s.size(), v);
    // Too large for an integer: keep the text, the validator names the field.
    return r.ec == std::errc() ? json(v) : json(s);
  }
  if (IsFloat(s)) {
    // std::stod threw std::out_of_range on "1e999", which escaped the parser and stopped the
    // agent on a bad edit (found by fuzz_yaml_documents). Out of range stays text.
    errno = 0;
    const double d = std::strtod(s.c_str(), nullptr);
    if (errno == ERANGE || !std::isfinite(d)) return s;
    return d;
  }
  return s;
}

// Builds JSON straight from the parser's events instead of going through YAML::Node:
//  - yaml-cpp 0.7's LoadAll() loops forever, allocating, on input like "{}," (the parser
//    returns a document without consuming the stray token); here each round is counted.
//  - aliases are expanded into JSON copies, so "billion laughs" anchors would take all memory;
//    here the number of values is capped by the size of the input.
// Both found by fuzz_yaml_documents; see tests/fuzz/regressions.
class JsonBuilder : public YAML::EventHandler {
 public:
  explicit JsonBuilder(std::size_t max_values) : max_values_(max_values) {}

  std::vector<json> TakeDocuments() { return std::move(docs_); }
  const YAML::Mark& last_document_mark() const { return doc_mark_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    doc_mark_ = mark;
    stack_.clear();
    anchors_.clear();  // anchors are scoped to one document
    root_.reset();
  }
  void OnDocumentEnd() override {
    if (root_ && !root_->is_null()) docs_.push_back(std::move(*root_));
    root_.reset();
  }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Complete(Value{nullptr, "", false, 1, 0}, anchor, mark);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw YamlError(At(mark) + ": alias to an unknown or unfinished anchor");
    if (stack_.size() + it->second.height > kMaxDepth)
      throw YamlError(At(mark) + ": document nested deeper than 64 levels");
    Complete(it->second, YAML::NullAnchor, mark);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Complete(Value{ScalarToJson(tag, value), value, true, 1, 0}, anchor, mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(json::array(), anchor, mark);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(json::object(), anchor, mark);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Value {
    json value;
    std::string raw;  // a scalar's text, for map keys (which are text even when they look like 1)
    bool scalar = false;
    std::size_t count = 1;  // values inside, itself included: what an alias to it costs
    std::size_t height = 0;
  };
  struct Frame {
    Value v;
    YAML::anchor_t anchor;
    YAML::Mark mark;
    std::optional<std::string> key;  // maps: the key waiting for its value
    YAML::Mark key_mark;
  };

  void Count(std::size_t n, const YAML::Mark& mark) {
    values_ += n;
    if (values_ > max_values_)
      throw YamlError(At(mark) + ": aliases expand to more values than the file has bytes; refusing it");
  }
  void Open(json empty, YAML::anchor_t anchor, const YAML::Mark& mark) {
    if (stack_.size() >= kMaxDepth) throw YamlError(At(mark) + ": document nested deeper than 64 levels");
    Count(1, mark);
    stack_.push_back(Frame{Value{std::move(empty), "", false, 1, 0}, anchor, mark, std::nullopt, {}});
  }
  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    f.v.height += 1;
    Complete(std::move(f.v), f.anchor, f.mark, /*counted=*/true);
  }
  void Complete(Value v, YAML::anchor_t anchor, const YAML::Mark& mark, bool counted = false) {
    if (!counted) Count(v.count, mark);
    if (anchor != YAML::NullAnchor) anchors_[anchor] = v;
    if (stack_.empty()) {
      root_ = std::move(v.value);
      return;
    }
    Frame& parent = stack_.back();
    parent.v.count += v.count;
    parent.v.height = std::max(parent.v.height, v.height);
    if (parent.v.value.is_array()) {
      parent.v.value.push_back(std::move(v.value));
    } else if (!parent.key) {
      if (!v.scalar) throw YamlError(At(mark) + ": map keys must be strings");
      if (parent.v.value.contains(v.raw))
        throw YamlError(At(mark) + ": duplicate key \"" + (v.raw.size() > 64 ? v.raw.substr(0, 64) + "..." : v.raw) +
                        "\"");  // echo at most 64
      parent.key = std::move(v.raw);
    } else {
      parent.v.value[*parent.key] = std::move(v.value);
      parent.key.reset();
    }
  }

  const std::size_t max_values_;
  std::size_t values_ = 0;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Value> anchors_;
  std::optional<json> root_;
  std::vector<json> docs_;
  YAML::Mark doc_mark_;
};

}  // namespace

std::vector<json> ParseYamlDocuments(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  // Every value takes at least one byte of input, except what aliases repeat.
  JsonBuilder builder(text.size() + 1024);
  try {
    // A document takes at least one byte too: more rounds than bytes means the parser is
    // stuck (the yaml-cpp 0.7 loop described above).
    std::size_t rounds = 0;
    while (parser.HandleNextDocument(builder)) {
      if (++rounds > text.size() + 1)
        throw YamlError(At(builder.last_document_mark()) +
                        ": the YAML parser made no progress here (a stray character after a "
                        "flow collection, like \"{},\"?)");
    }
  } catch (const YAML::Exception& e) {
    throw YamlError(At(e.mark) + ": " + e.msg);
  }
  return builder.TakeDocuments();
}

}  // namespace lvsrs
