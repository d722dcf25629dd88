#include "kube/kube_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "model/yaml_documents.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;

constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

std::string ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read " + what + " " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// kubeconfig paths are relative to the kubeconfig file's directory.
std::string Resolve(const std::string& base_file, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  const auto slash = base_file.rfind('/');
  return slash == std::string::npos ? path : base_file.substr(0, slash + 1) + path;
}

const json& Named(const json& list, const std::string& name, const std::string& what) {
  if (list.is_array())
    for (const auto& item : list)
      if (item.is_object() && item.value("name", "") == name) return item;
  throw ConfigError("kubeconfig has no " + what + " named \"" + name + "\"");
}

}  // namespace

std::string Base64Decode(const std::string& text) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0;
  unsigned value = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    const auto pos = chars.find(c);
    if (pos == std::string::npos) throw ConfigError("invalid base64 data");
    value = (value << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return out;
}

namespace {

KubeConfig ParseKubeconfig(const std::string& path) {
  std::vector<json> docs;
  try {
    docs = ParseYamlDocuments(ReadFile(path, "kubeconfig"));
  } catch (const YamlError& e) {
    throw ConfigError("kubeconfig " + path + ": " + e.what());
  }
  if (docs.size() != 1 || !docs[0].is_object()) throw ConfigError("kubeconfig " + path + ": not a kubeconfig");
  const json& doc = docs[0];
  const std::string context_name = doc.value("current-context", "");
  if (context_name.empty()) throw ConfigError("kubeconfig " + path + ": no current-context");
  const json context = Named(doc.value("contexts", json()), context_name, "context").value("context", json::object());
  const json cluster =
      Named(doc.value("clusters", json()), context.value("cluster", ""), "cluster").value("cluster", json::object());
  const json user = Named(doc.value("users", json()), context.value("user", ""), "user").value("user", json::object());

  KubeConfig c;
  c.origin = "kubeconfig " + path;
  c.server = cluster.value("server", "");
  if (c.server.rfind("https://", 0) != 0)
    throw ConfigError("kubeconfig " + path + ": cluster server must be an https:// URL, got \"" +
                      (c.server.size() > 64 ? c.server.substr(0, 64) + "..." : c.server) + "\"");
  if (cluster.contains("insecure-skip-tls-verify") && cluster["insecure-skip-tls-verify"] == true)
    throw ConfigError("kubeconfig " + path + ": insecure-skip-tls-verify is not supported; give a CA");
  if (auto data = cluster.value("certificate-authority-data", ""); !data.empty())
    c.ca_pem = Base64Decode(data);
  else if (auto file = cluster.value("certificate-authority", ""); !file.empty())
    c.ca_pem = ReadFile(Resolve(path, file), "certificate authority");
  // The cluster's CA is the only trust anchor (SECURITY.md): no fallback to the system store.
  if (c.ca_pem.empty())
    throw ConfigError("kubeconfig " + path +
                      ": cluster has no certificate-authority or certificate-authority-data; the API server's "
                      "certificate is verified against the cluster's CA only");
  c.token = user.value("token", "");
  if (auto file = user.value("tokenFile", ""); !file.empty()) c.token_file = Resolve(path, file);
  if (c.token.empty() && c.token_file.empty())
    throw ConfigError("kubeconfig " + path + ": user \"" + context.value("user", "") +
                      "\" has no token or tokenFile (client certificates are not supported)");
  return c;
}

}  // namespace

KubeConfig LoadKubeconfig(const std::string& path) {
  // A field of the wrong type (`server: 5`) is a bad kubeconfig, not a crash.
  try {
    return ParseKubeconfig(path);
  } catch (const json::exception& e) {
    throw ConfigError("kubeconfig " + path + ": a field has the wrong type (" + std::string(e.what()) + ")");
  }
}

KubeConfig InClusterConfig() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    throw ConfigError("not in a cluster: KUBERNETES_SERVICE_HOST/PORT are unset; give --kubeconfig");
  KubeConfig c;
  c.origin = "in-cluster service account";
  const std::string h = host;
  c.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  c.ca_pem = ReadFile(std::string(kServiceAccountDir) + "/ca.crt", "service account CA");
  c.token_file = std::string(kServiceAccountDir) + "/token";
  return c;
}

KubeConfig ResolveConfig(const std::string& kubeconfig_flag) {
  if (!kubeconfig_flag.empty()) return LoadKubeconfig(kubeconfig_flag);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string first = env;
    first = first.substr(0, first.find(':'));
    return LoadKubeconfig(first);
  }
  return InClusterConfig();
}

}  // namespace lvsrs::kube
