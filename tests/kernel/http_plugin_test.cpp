// The HTTP client is a plugin (operator/kube/http_plugin.h) that only Kubernetes mode loads: a
// binary without it (copied alone, or with a plugin from another build) still converges and
// checks from a file, and refuses Kubernetes mode with the plugin's path and the loader's reason.
#include "kernel_fixture.h"

namespace lvsrs::testing {
namespace {

class HttpPlugin : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    // Away from the build tree: an uninstalled binary looks for the plugin next to itself.
    std::filesystem::create_directories(dir_ / "bin");
    binary_ = (dir_ / "bin" / "lvs-rs-operator").string();
    std::filesystem::copy_file(OperatorBinary(), binary_);
    kubeconfig_ = WriteFile("kubeconfig",
                            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                            "    server: https://192.0.2.1:6443\n"
                            // Read, not used: the plugin is needed before any connection.
                            "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\nusers:\n- name: "
                            "u\n  user:\n    token: t\n"
                            "contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n");
  }
  CommandResult Copy(const std::string& args) const { return ns_->Exec(binary_ + " " + args + " 2>&1"); }
  std::string PluginPath() const { return (dir_ / "bin" / "lvs-rs-operator-http.so").string(); }

  std::string binary_;
  std::string kubeconfig_;
};

TEST_F(HttpPlugin, FileModeConvergesAndChecksWithoutIt) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\", \"2001:db8::10\""));
  const auto r = Copy(Run("run --once --file " + file));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_TRUE(HasAddress("lo", "2001:db8::10/128"));
  const auto check = Copy("check --file " + file + " --node-name rs1");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("conformant"), std::string::npos) << check.output;
  const auto cleanup = Copy("cleanup --state-dir " + StateDir());
  EXPECT_EQ(cleanup.exit_code, 0) << cleanup.output;
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32"));
}

TEST_F(HttpPlugin, KubernetesModeWithoutItFailsNamingThePathAndChangesNothing) {
  const auto before = AllAddresses();
  const auto run = Copy(Run("run --once --kubeconfig " + kubeconfig_));
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("cannot load the HTTP client plugin " + PluginPath() + ": "), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("No such file or directory"), std::string::npos) << run.output;  // dlerror()
  const auto check = Copy("check --node-name rs1 --kubeconfig " + kubeconfig_);
  EXPECT_NE(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("cannot load the HTTP client plugin " + PluginPath()), std::string::npos) << check.output;
  EXPECT_EQ(AllAddresses(), before);
}

TEST_F(HttpPlugin, KubernetesModeRefusesAPluginFromAnotherBuild) {
  // A shared library without this build's entry point, where the plugin belongs.
  std::filesystem::copy_file(LVSRS_DROP_IFA_PROTO, PluginPath());
  const auto run = Copy(Run("run --once --kubeconfig " + kubeconfig_));
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("the HTTP client plugin " + PluginPath() + " is from another build"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("lvsrs_http_api_clients_v1"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace lvsrs::testing
