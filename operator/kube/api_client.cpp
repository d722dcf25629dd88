#include "kube/api_client.h"

#include <cctype>
#include <cstdio>

namespace lvsrs::kube {

using nlohmann::json;

std::string EncodeJsonBody(const json& body) {
  // Interface names are bytes, not text (the kernel allows any byte but '/', ':' and
  // whitespace), and they reach status messages: nlohmann's default handler throws on invalid
  // UTF-8, which would lose the whole status write. Such bytes become U+FFFD instead.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string UrlEncode(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace lvsrs::kube
