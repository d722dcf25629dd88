// The saved last good specs (agent/last_good_specs.h) in a temporary directory: what a restarted
// agent reads back, what it refuses to read, and that a pass writes the file only on a change.
#include "agent/last_good_specs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "observed_builder.h"

namespace lvsrs {
namespace {

using testing::MakeVip;

class LastGoodSpecsTest : public ::testing::Test {
 protected:
  LastGoodSpecsTest() {
    std::filesystem::create_directories(dir_);
    web_.uid = "uid-web";
    web_.generation = 3;
    web_.creation_timestamp = "2026-01-02T03:04:05Z";
    web_.node_selector.match_labels["lvsdr.io/real-server"] = "true";
    web_.arp.scope = ArpScope::PerInterface;
  }
  ~LastGoodSpecsTest() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void Write(const std::string& text) { std::ofstream(file_.path()) << text; }
  std::filesystem::file_time_type Stamp() const { return std::filesystem::last_write_time(file_.path()); }

  const std::string dir_ =
      (std::filesystem::temp_directory_path() / ("lvsrs-lastgood-" + std::to_string(getpid()) + "-" +
                                                 ::testing::UnitTest::GetInstance()->current_test_info()->name()))
          .string();
  const LastGoodFile file_{dir_};
  VirtualIp web_ = MakeVip("web", {"192.0.2.10", "2001:db8::10"});
  VirtualIp plain_ = MakeVip("plain", {"192.0.2.11"});  // file mode: no uid
};

TEST_F(LastGoodSpecsTest, WhatIsSavedReadsBackAsTheSameSpecs) {
  EXPECT_TRUE(file_.Load().applied.empty()) << "no file: nothing remembered";
  file_.Save({{"uid-web", web_}}, {{"uid-web", web_}, {ObjectIdentity(plain_), plain_}});
  std::vector<std::string> skipped;
  const LastGoodSpecs back = file_.Load(&skipped);
  EXPECT_TRUE(skipped.empty()) << skipped.front();
  EXPECT_EQ(back.validated, (std::map<std::string, VirtualIp>{{"uid-web", web_}}));
  EXPECT_EQ(back.applied, (std::map<std::string, VirtualIp>{{"uid-web", web_}, {"name:plain", plain_}}));
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename(), "last-good-virtualips.json") << "a temporary file was left behind";
}

TEST_F(LastGoodSpecsTest, AnEntryThatIsNoValidSpecOfItsKeyIsLeftOut) {
  file_.Save({}, {{"uid-web", web_}});
  Write(R"({"version": 1, "applied": {
    "uid-web": {"apiVersion": "lvsdr.io/v1alpha1", "kind": "VirtualIP", "metadata": {"name": "web", "uid": "uid-web"},
                "spec": {"addresses": ["192.0.2.10"]}},
    "uid-other": {"apiVersion": "lvsdr.io/v1alpha1", "kind": "VirtualIP", "metadata": {"name": "web", "uid": "uid-web"},
                  "spec": {"addresses": ["192.0.2.12"]}},
    "uid-bad": {"apiVersion": "lvsdr.io/v1alpha1", "kind": "VirtualIP", "metadata": {"name": "bad", "uid": "uid-bad"},
                "spec": {"addresses": ["2001:DB8::1"]}}}})");
  std::vector<std::string> skipped;
  const LastGoodSpecs back = file_.Load(&skipped);
  EXPECT_EQ(back.applied.size(), 1u);
  EXPECT_TRUE(back.applied.count("uid-web"));
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_NE(skipped[0].find("applied \"uid-bad\": spec.addresses[0]"), std::string::npos) << skipped[0];
  EXPECT_NE(skipped[1].find("applied \"uid-other\": is VirtualIP web of another uid"), std::string::npos) << skipped[1];
}

TEST_F(LastGoodSpecsTest, ACorruptOrNewerFileIsAnErrorNamingIt) {
  for (const char* text :
       {"{\"version\": 1, \"applied\": {", "[]", "{\"applied\": {}}", "{\"version\": 1, \"applied\": []}"}) {
    Write(text);
    try {
      file_.Load();
      ADD_FAILURE() << "read " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(file_.path()), std::string::npos) << e.what();
    }
  }
  Write(R"({"version": 2, "applied": {}})");
  try {
    file_.Load();
    ADD_FAILURE() << "read a newer version";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(file_.path() + " has version 2, written by a newer lvs-rs-operator"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(LastGoodSpecsTest, ThePassesSaveOnlyWhatChanged) {
  LastGoodRecorder recorder(file_, {});
  ReconcileOutcome o;
  o.desired.accepted = {{"uid-web", web_}};
  o.source_validated = std::make_shared<const std::map<std::string, VirtualIp>>(o.desired.accepted);
  recorder.Observe(o);
  ASSERT_EQ(file_.Load().applied, o.desired.accepted);
  const auto stamp = Stamp();
  std::filesystem::last_write_time(file_.path(), stamp - std::chrono::hours(1));
  recorder.Observe(o);  // the same specs
  EXPECT_EQ(Stamp(), stamp - std::chrono::hours(1)) << "rewritten without a change";

  ReconcileOutcome failed;  // a pass that could not read the kernel decided nothing
  failed.error = "netlink: dump interrupted";
  recorder.Observe(failed);
  EXPECT_EQ(file_.Load().applied, o.desired.accepted);

  o.desired.accepted.clear();  // deleted
  o.source_validated = std::make_shared<const std::map<std::string, VirtualIp>>();
  recorder.Observe(o);
  const LastGoodSpecs back = file_.Load();
  EXPECT_TRUE(back.applied.empty());
  EXPECT_TRUE(back.validated.empty());
}

TEST_F(LastGoodSpecsTest, AFailedSaveIsNotFatalAndIsRetriedAfterTheNextPass) {
  const LastGoodFile unwritable(dir_ + "/not-a-dir/x");
  std::ofstream(dir_ + "/not-a-dir") << "a file where the directory should be";
  LastGoodRecorder recorder(unwritable, {});
  ReconcileOutcome o;
  o.desired.accepted = {{"uid-web", web_}};
  EXPECT_NO_THROW(recorder.Observe(o));
  std::filesystem::remove(dir_ + "/not-a-dir");
  recorder.Observe(o);
  EXPECT_EQ(unwritable.Load().applied, o.desired.accepted);
}

}  // namespace
}  // namespace lvsrs
