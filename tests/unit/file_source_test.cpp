// LoadVirtualIpFile reads exactly what the file holds, whatever its size up to the 16 MiB limit
// (the badinput tests cover the refusals: not a regular file, larger than the limit).
#include "agent/file_source.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace lvsrs {
namespace {

class VipFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "lvsrs-file-source-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& text) {
    const auto path = (dir_ / "vips.yaml").string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

std::string Documents(int n) {
  std::string text;
  for (int i = 0; i < n; ++i)
    text += "---\napiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata:\n  name: vip-" + std::to_string(i) +
            "\nspec:\n  addresses: [\"198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + "\"]\n";
  return text;
}

TEST_F(VipFile, EveryDocumentOfAFileOfAnySizeIsRead) {
  for (const int n : {1, 10, 1000}) {  // 0.1 KB to 110 KB
    const auto vips = LoadVirtualIpFile(Write(Documents(n)));
    ASSERT_EQ(vips.size(), static_cast<std::size_t>(n));
    EXPECT_EQ(vips.back().name, "vip-" + std::to_string(n - 1));
  }
}

TEST_F(VipFile, AnEmptyFileHoldsNoVirtualIps) { EXPECT_TRUE(LoadVirtualIpFile(Write("")).empty()); }

}  // namespace
}  // namespace lvsrs
