// WatchStreamDecoder: the framing and decoding of watch bodies (pure; the e2e tests against the
// real API server and the stand-in in malformed_api_test.cpp show it in the client).
#include "kube/watch_stream.h"

#include <gtest/gtest.h>

namespace lvsrs::kube {
namespace {

using nlohmann::json;

const WatchExpectation kVips{"lvsdr.io/v1alpha1", "VirtualIP"};

std::string Line(const std::string& type, const std::string& name, const std::string& kind = "VirtualIP") {
  return json{{"type", type},
              {"object", {{"apiVersion", "lvsdr.io/v1alpha1"}, {"kind", kind}, {"metadata", {{"name", name}}}}}}
             .dump() +
         "\n";
}

TEST(WatchStream, EventsSplitAcrossChunksAndSeveralPerChunk) {
  const std::string body = Line("ADDED", "a") + Line("MODIFIED", "b") + Line("DELETED", "a");
  for (std::size_t cut = 1; cut < body.size(); cut += 7) {
    WatchStreamDecoder d(kVips);
    auto first = d.Feed(std::string_view(body).substr(0, cut));
    auto rest = d.Feed(std::string_view(body).substr(cut));
    first.insert(first.end(), rest.begin(), rest.end());
    ASSERT_EQ(first.size(), 3u) << cut;
    EXPECT_EQ(first[0].event["type"], "ADDED");
    EXPECT_EQ(first[1].event["object"]["metadata"]["name"], "b");
    EXPECT_EQ(first[2].event["type"], "DELETED");
    EXPECT_FALSE(d.Finish().has_value());
  }
}

TEST(WatchStream, CrLfAndBlankLinesAreFine) {
  WatchStreamDecoder d(kVips);
  std::string l = Line("ADDED", "a");
  l.insert(l.size() - 1, "\r");
  const auto events = d.Feed("\n\r\n" + l + "\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, WatchEvent::Kind::Event);
}

TEST(WatchStream, EventCutAtTheEndIsMalformed) {
  WatchStreamDecoder d(kVips);
  const std::string l = Line("ADDED", "a");
  EXPECT_TRUE(d.Feed(l.substr(0, 20)).empty());
  const auto end = d.Finish();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->kind, WatchEvent::Kind::Malformed);
  EXPECT_NE(end->detail.find("stream ended in the middle of an event"), std::string::npos) << end->detail;
}

TEST(WatchStream, GoneAndErrorEvents) {
  const auto gone = DecodeWatchLine(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old"}})", kVips);
  EXPECT_EQ(gone.kind, WatchEvent::Kind::Gone);
  EXPECT_NE(gone.detail.find("too old"), std::string::npos);
  const auto err = DecodeWatchLine(R"({"type":"ERROR","object":{"kind":"Status","code":500,"message":"boom"}})", kVips);
  EXPECT_EQ(err.kind, WatchEvent::Kind::Error);
  EXPECT_NE(err.detail.find("500"), std::string::npos);
}

TEST(WatchStream, WrongKindGarbageAndUnknownTypesAreMalformedAndSpoilTheStream) {
  for (const std::string& bad : {Line("ADDED", "a", "ConfigMap"), std::string("hello\n"), std::string("[1,2]\n"),
                                 std::string("{\"type\":\"ADDED\"}\n"), Line("EXPLODED", "a"),
                                 std::string("\x00\xff\n", 3), Line("ADDED", "")}) {
    WatchStreamDecoder d(kVips);
    const auto events = d.Feed(bad + Line("ADDED", "later"));
    ASSERT_EQ(events.size(), 1u) << bad;
    EXPECT_EQ(events[0].kind, WatchEvent::Kind::Malformed) << bad;
    EXPECT_NE(events[0].detail.find("malformed watch event"), std::string::npos);
    EXPECT_TRUE(d.spoiled());
    EXPECT_TRUE(d.Feed(Line("ADDED", "more")).empty());
  }
}

TEST(WatchStream, OverlongLineIsRefusedWithoutBufferingIt) {
  WatchStreamDecoder d(kVips, 64);
  const std::string l = Line("ADDED", std::string(100, 'x'));
  const auto events = d.Feed(l.substr(0, 50));
  EXPECT_TRUE(events.empty());
  const auto more = d.Feed(l.substr(50));
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].kind, WatchEvent::Kind::Malformed);
  EXPECT_NE(more[0].detail.find("longer than 64 bytes"), std::string::npos) << more[0].detail;
}

TEST(WatchStream, BookmarkNeedsNoName) {
  const auto b = DecodeWatchLine(
      R"({"type":"BOOKMARK","object":{"apiVersion":"lvsdr.io/v1alpha1","kind":"VirtualIP","metadata":{"resourceVersion":"9"}}})",
      kVips);
  EXPECT_EQ(b.kind, WatchEvent::Kind::Event);
}

}  // namespace
}  // namespace lvsrs::kube
