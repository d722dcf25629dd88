// Where the API server is and how to authenticate to it: a kubeconfig file (--kubeconfig or
// $KUBECONFIG, as kubectl reads it) or the in-cluster service account. TLS verification is always
// on: there is no flag to turn it off.
#pragma once

#include <stdexcept>
#include <string>

namespace lvsrs::kube {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct KubeConfig {
  std::string server;      // https://host:port
  std::string ca_pem;      // trust anchors for the server certificate (PEM)
  std::string token;       // a static bearer token, or empty when token_file is used
  std::string token_file;  // re-read when it changes (service account token rotation)
  std::string origin;      // "kubeconfig /path" or "in-cluster", for logs
};

// Parses a kubeconfig: current-context -> cluster (server, certificate-authority[-data]) and user
// (token or tokenFile). Client certificates and exec plugins are not supported: the operator
// authenticates with a service-account token. Throws ConfigError naming the missing field.
KubeConfig LoadKubeconfig(const std::string& path);

// The in-cluster service account: KUBERNETES_SERVICE_HOST/PORT and the token and CA bundle under
// /var/run/secrets/kubernetes.io/serviceaccount. Throws ConfigError outside a pod.
KubeConfig InClusterConfig();

// --kubeconfig if given, else $KUBECONFIG (its first path), else in-cluster.
KubeConfig ResolveConfig(const std::string& kubeconfig_flag);

std::string Base64Decode(const std::string& text);  // throws ConfigError on bad input

}  // namespace lvsrs::kube
