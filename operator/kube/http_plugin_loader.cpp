#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>

#include "kube/http_plugin.h"

namespace lvsrs::kube {
namespace {

std::string ExecutablePath() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) throw PluginError(std::string("cannot find the HTTP client plugin: /proc/self/exe: ") + strerror(errno));
  return {buf, static_cast<std::size_t>(n)};
}

HttpPluginEntry LoadEntry() {
  const std::string path = HttpPluginPath(ExecutablePath());
  // RTLD_NOW: a plugin whose libraries or symbols are missing fails here, with their names,
  // rather than at the first request. RTLD_LOCAL: its symbols stay out of the global scope.
  // Never closed: the clients it makes live as long as the process.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw PluginError("cannot load the HTTP client plugin " + path + ": " + (why ? why : "unknown error"));
  }
  void* entry = dlsym(handle, kHttpPluginEntry);
  if (!entry) {
    const char* why = dlerror();
    throw PluginError("the HTTP client plugin " + path + " is from another build of lvs-rs-operator: " +
                      (why ? why : std::string("no ") + kHttpPluginEntry));
  }
  return reinterpret_cast<HttpPluginEntry>(entry);
}

}  // namespace

std::string HttpPluginPath(const std::string& exe) {
  const std::string dir = exe.substr(0, exe.rfind('/'));
  return (dir == LVSRS_INSTALL_SBINDIR ? std::string(LVSRS_PLUGIN_DIR) : dir) + "/" + kHttpPluginFile;
}

ApiClientFactory HttpApiClients(const KubeConfig& config) {
  static std::mutex mutex;
  static HttpPluginEntry entry = nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (!entry) entry = LoadEntry();  // a failure is retried (and reported) on the next call
  const HttpPluginLayout layout;
  ApiClientFactory factory;
  std::string error;
  if (!entry(&layout, &config, &factory, &error))
    throw PluginError("the HTTP client plugin " + HttpPluginPath(ExecutablePath()) + ": " + error);
  return factory;
}

}  // namespace lvsrs::kube
