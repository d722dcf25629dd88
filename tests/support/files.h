// Test support: small file and list helpers the test suites share.
#pragma once

#include <string>
#include <vector>

namespace lvsrs::testing {

// The whole file, byte for byte; empty when it cannot be read (a log not written yet).
std::string ReadFile(const std::string& path);
// Replaces the file in one step (write beside it, rename), as editors, ConfigMap updates and the
// kubelet's projected tokens do, so that a running agent never reads half a file.
void ReplaceFile(const std::string& path, const std::string& text);
bool Has(const std::vector<std::string>& items, const std::string& item);

}  // namespace lvsrs::testing
