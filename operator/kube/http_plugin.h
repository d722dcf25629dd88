// The HTTP client (http_api_client.h: cpprestsdk, OpenSSL, Boost.Asio, and through them brotli and
// zlib) is a plugin, lvs-rs-operator-http.so, loaded only when Kubernetes mode starts. Linked into
// the executable, those libraries cost every start of the binary ~12,000 relocations (about three
// quarters of `run --file ... --once` on 10 VIPs, BENCHMARKS.md "Start-up"), although file mode,
// `check --file` and `cleanup` never use them. systemd loads its optional libraries the same way.
//
// The plugin is built in the same tree, with the same compiler and these headers, and is
// self-contained: it carries its own copies of the stateless pieces it needs (the watch-stream
// decoder, EncodeJsonBody, TokenSource) and nothing with global state (it does not log). The
// executable exports nothing to it.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "kube/api_client.h"
#include "kube/kube_config.h"

namespace lvsrs::kube {

inline constexpr const char* kHttpPluginFile = "lvs-rs-operator-http.so";

// The one symbol the plugin exports. The number changes whenever the call below, KubeConfig,
// ApiClient or the types it passes change incompatibly; a plugin from another build then lacks
// the symbol and is refused by name. HttpPluginLayout catches a layout change nobody numbered.
inline constexpr const char* kHttpPluginEntry = "lvsrs_http_api_clients_v1";

struct HttpPluginLayout {
  std::size_t kube_config = sizeof(KubeConfig);
  std::size_t factory = sizeof(ApiClientFactory);
  std::size_t timeouts = sizeof(ApiClientTimeouts);
  std::size_t response = sizeof(ApiResponse);
  std::size_t watch_result = sizeof(WatchResult);
  std::size_t watch_expectation = sizeof(WatchExpectation);

  bool operator==(const HttpPluginLayout&) const = default;
};

// The entry point: sizes cpprestsdk's thread pool (once per process) and sets *factory to a
// factory of HttpApiClients for `config`. Returns false with *error set when it cannot (the
// layouts differ, or cpprestsdk threw). Never throws.
using HttpPluginEntry = bool (*)(const HttpPluginLayout* layout, const KubeConfig* config, ApiClientFactory* factory,
                                 std::string* error);

// A plugin that cannot be found or loaded: Kubernetes mode cannot start. Reported like a bad
// kubeconfig.
struct PluginError : ConfigError {
  using ConfigError::ConfigError;
};

// Where the executable looks for the plugin: when it runs from the directory it was installed for
// (LVSRS_INSTALL_SBINDIR, e.g. /usr/sbin for the .deb and the image), in LVSRS_PLUGIN_DIR (e.g.
// /usr/lib/lvs-rs-operator); anywhere else (the build tree, a copy), next to the executable
// (the directory of /proc/self/exe). `exe` is that path.
std::string HttpPluginPath(const std::string& exe);

// A factory of HttpApiClients for the cluster of `config`: loads the plugin on first use (and
// keeps it loaded for the life of the process). Throws PluginError naming the path and dlerror().
ApiClientFactory HttpApiClients(const KubeConfig& config);

}  // namespace lvsrs::kube
