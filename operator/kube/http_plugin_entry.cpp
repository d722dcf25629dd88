// The entry point of lvs-rs-operator-http.so (http_plugin.h).
#include <mutex>
#include <utility>  // before pplx: Boost.Asio 1.74 uses std::exchange without it

#include <pplx/threadpool.h>

#include "kube/http_api_client.h"
#include "kube/http_plugin.h"

namespace lvsrs::kube {
namespace {

// cpprestsdk's shared thread pool starts 40 threads by default. Ours only run asio I/O and
// cpprestsdk's own continuations: every blocking .get() happens on the informer, reporter and
// summariser threads, so a few are plenty. Each idle thread still costs stack pages and a
// scheduler entry, on every node of the fleet. Sized before the first client exists.
void SizeCpprestThreadPool() {
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      crossplat::threadpool::initialize_with_threads(4);
    } catch (const std::exception&) {  // already started by an earlier user: keep its size
    }
  });
}

}  // namespace
}  // namespace lvsrs::kube

extern "C" __attribute__((visibility("default"))) bool lvsrs_http_api_clients_v1(
    const lvsrs::kube::HttpPluginLayout* layout, const lvsrs::kube::KubeConfig* config,
    lvsrs::kube::ApiClientFactory* factory, std::string* error) {
  using namespace lvsrs::kube;
  if (!(*layout == HttpPluginLayout{})) {
    *error = "built from other sources than the executable (type layouts differ); reinstall both together";
    return false;
  }
  try {
    SizeCpprestThreadPool();
    *factory = [c = *config](const ApiClientTimeouts& timeouts) {
      return std::make_unique<HttpApiClient>(c, timeouts);
    };
    return true;
  } catch (const std::exception& e) {
    *error = std::string("cpprestsdk: ") + e.what();
    return false;
  }
}
