// Tokens kept as digests only, their rotation, and a data directory that is its owner's alone
// (issue 17, point 8).

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "sim/child_process.h"
#include "support/test_server.h"

namespace touchpoint::testing {
namespace {

namespace fs = std::filesystem;
using store::EventStore;
using store::StoreOptions;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every file under `dir` in which `needle` occurs.
std::vector<std::string> FilesHolding(const fs::path& dir, const std::string& needle) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && ReadFile(e.path()).find(needle) != std::string::npos)
      out.push_back(e.path().filename().string());
  return out;
}

mode_t ModeOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

fs::path TempDir(const std::string& name) {
  return fs::temp_directory_path() / ("tp_tokens_" + name + std::to_string(std::random_device{}()));
}

std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

class TokensTest : public ::testing::Test {
 protected:
  struct Pixel {
    std::string id, token;
  };
  Pixel CreatePixel() {
    auto r =
        srv_.Client().Request("POST", "/api/v1/pixels", R"({"name":"shop"})", Bearer(kAdminToken));
    EXPECT_EQ(r->status, 201) << r->body;
    Json j(r->body);
    return {std::string(j["pixel_id"].get_string().value()),
            std::string(j["access_token"].get_string().value())};
  }
  // The Events API's HTTP status for one event sent with `token`.
  int Track(const Pixel& p, const std::string& token) {
    std::string body = R"({"event_source":"web","event_source_id":")" + p.id +
                       R"(","data":[{"event":"ViewContent","event_time":)" +
                       std::to_string(srv_.now_s()) + "}]}";
    auto r = srv_.Client().Request("POST", "/api/v1/events", body, {{"Access-Token", token}});
    return r->status;
  }
  int AdminStatus(const std::string& token) {
    return srv_.Client().Request("GET", "/api/v1/pixels", "", Bearer(token))->status;
  }
  std::string Issue(const std::string& target, const std::string& body, int want = 201) {
    auto r = srv_.Client().Request("POST", target, body, Bearer(kAdminToken));
    EXPECT_EQ(r->status, want) << r->body;
    return r->body;
  }
  static std::string Field(const std::string& body, const char* key) {
    return std::string(Json(body)[key].get_string().value());
  }

  TestServer srv_;
};

TEST_F(TokensTest, TheDataDirectoryHoldsNoTokenInClear) {
  Pixel p = CreatePixel();
  const std::string second = Field(
      Issue("/api/v1/pixels/" + p.id + "/tokens", R"({"keep_existing":true})"), "access_token");
  const std::string admin = Field(Issue("/api/v1/admin/tokens", ""), "admin_token");
  EXPECT_EQ(Track(p, p.token), 200);
  EXPECT_EQ(Track(p, second), 200);
  EXPECT_EQ(AdminStatus(admin), 200);
  const fs::path dir = srv_.store().data_dir();
  srv_.store().Close();  // everything checkpointed into the database file too
  for (const std::string& token : {p.token, second, admin, std::string(kAdminToken)})
    EXPECT_TRUE(FilesHolding(dir, token).empty()) << token << " in " << FilesHolding(dir, token)[0];
}

TEST_F(TokensTest, ListingShowsPrefixesNeverTokens) {
  Pixel p = CreatePixel();
  auto r = srv_.Client().Request("GET", "/api/v1/pixels", "", Bearer(kAdminToken));
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body.find(p.token), std::string::npos) << r->body;
  EXPECT_EQ(r->body.find("access_token"), std::string::npos) << r->body;
  Json j(r->body);
  auto tokens = j["pixels"].at(0)["tokens"].get_array().value();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(std::string(tokens.at(0)["prefix"].get_string().value()), p.token.substr(0, 8));
  EXPECT_TRUE(tokens.at(0)["expires_at_ms"].is_null());
}

TEST_F(TokensTest, ARotatedPixelTokenWorksThroughTheGracePeriodThenStops) {
  Pixel p = CreatePixel();
  const std::string body = Issue("/api/v1/pixels/" + p.id + "/tokens", "");
  const std::string fresh = Field(body, "access_token");
  EXPECT_NE(fresh, p.token);
  Json j(body);
  ASSERT_EQ(j["previous"].get_array().value().size(), 1u);
  const int64_t expires = j["previous"].at(0)["expires_at_ms"].get_int64().value();
  EXPECT_EQ(expires, srv_.clock().NowMs() + 24 * 3600 * 1000);  // the documented default grace
  EXPECT_EQ(Track(p, p.token), 200);
  EXPECT_EQ(Track(p, fresh), 200);
  srv_.clock().Set(expires - 1);
  EXPECT_EQ(Track(p, p.token), 200);
  srv_.clock().Set(expires);
  EXPECT_EQ(Track(p, p.token), 401);
  EXPECT_EQ(Track(p, fresh), 200);
  // The listing keeps only the valid one.
  auto list = srv_.Client().Request("GET", "/api/v1/pixels", "", Bearer(kAdminToken));
  EXPECT_EQ(Json(list->body)["pixels"].at(0)["tokens"].get_array().value().size(), 1u);
}

TEST_F(TokensTest, ZeroGraceRevokesAtOnceAndKeepExistingAddsATokenThatMayExpire) {
  Pixel p = CreatePixel();
  const std::string extra = Field(
      Issue("/api/v1/pixels/" + p.id + "/tokens", R"({"keep_existing":true,"expires_in_hours":2})"),
      "access_token");
  EXPECT_EQ(Track(p, p.token), 200);
  EXPECT_EQ(Track(p, extra), 200);
  srv_.clock().Advance(2 * 3600 * 1000);
  EXPECT_EQ(Track(p, extra), 401);  // its own lifetime
  EXPECT_EQ(Track(p, p.token), 200);
  const std::string only =
      Field(Issue("/api/v1/pixels/" + p.id + "/tokens", R"({"grace_hours":0})"), "access_token");
  EXPECT_EQ(Track(p, p.token), 401);  // revoked
  EXPECT_EQ(Track(p, only), 200);
}

TEST_F(TokensTest, TokenRequestsAreCheckedAndNamed) {
  Pixel p = CreatePixel();
  auto anon = srv_.Client().Request("POST", "/api/v1/pixels/" + p.id + "/tokens", "");
  EXPECT_EQ(anon->status, 401);
  auto with_pixel_token =
      srv_.Client().Request("POST", "/api/v1/admin/tokens", "", Bearer(p.token));
  EXPECT_EQ(with_pixel_token->status, 401);
  EXPECT_EQ(Issue("/api/v1/pixels/TPNOPE/tokens", "", 404),
            R"({"error":"pixel_id: unknown pixel TPNOPE"})");
  EXPECT_EQ(Issue("/api/v1/pixels/" + p.id + "/tokens", R"({"grace_hours":-1})", 400),
            R"({"error":"grace_hours: must be a number of hours from 0 to 8784"})");
  EXPECT_EQ(Issue("/api/v1/pixels/" + p.id + "/tokens", R"({"grace":1})", 400),
            R"x({"error":"grace: unknown field (grace_hours, keep_existing, expires_in_hours)"})x");
  EXPECT_EQ(Issue("/api/v1/admin/tokens", R"({"keep_existing":true})", 400),
            R"x({"error":"keep_existing: not for the admin token (one at a time)"})x");
  EXPECT_EQ(Track(p, p.token), 200);  // nothing was rotated by the refused requests
}

TEST_F(TokensTest, TheAdminTokenRotatesWithAGracePeriod) {
  const std::string body = Issue("/api/v1/admin/tokens", R"({"grace_hours":1})");
  const std::string fresh = Field(body, "admin_token");
  EXPECT_EQ(fresh.rfind("tpa_", 0), 0u) << fresh;
  EXPECT_EQ(AdminStatus(fresh), 200);
  EXPECT_EQ(AdminStatus(kAdminToken), 200);
  srv_.clock().Advance(3600 * 1000);
  EXPECT_EQ(AdminStatus(kAdminToken), 401);
  EXPECT_EQ(AdminStatus(fresh), 200);
  // Handed to serve again, the rotated token is refused, naming it; the current one is fine.
  auto stale = srv_.store().UseAdminToken(kAdminToken);
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.status().message().find("the admin token given (test-adm...) was rotated"),
            std::string::npos)
      << stale.status().message();
  EXPECT_EQ(*srv_.store().UseAdminToken(fresh), store::AdminTokenUse::kKnown);
  // A token the database never saw replaces the others at once (the operator changed it).
  EXPECT_EQ(*srv_.store().UseAdminToken("tpa_operator_set"), store::AdminTokenUse::kReplaced);
  EXPECT_EQ(AdminStatus(fresh), 401);
  EXPECT_EQ(AdminStatus("tpa_operator_set"), 200);
}

TEST_F(TokensTest, APixelKeepsAGivenIdAndTokenSoExistingCodeWorksUnchanged) {
  const std::string token = "ttk_0123456789abcdef0123456789abcdef";
  auto r = srv_.Client().Request(
      "POST", "/api/v1/pixels",
      R"({"name":"from tiktok","pixel_id":"C4TIKTOKCODE123","access_token":")" + token + R"("})",
      Bearer(kAdminToken));
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(Field(r->body, "pixel_id"), "C4TIKTOKCODE123");
  EXPECT_EQ(Field(r->body, "access_token"), token);
  EXPECT_EQ(Track({"C4TIKTOKCODE123", token}, token), 200);
  auto create = [&](const std::string& body) {
    auto a = srv_.Client().Request("POST", "/api/v1/pixels", body, Bearer(kAdminToken));
    return std::to_string(a->status) + " " + a->body;
  };
  EXPECT_EQ(create(R"({"name":"x","pixel_id":"C4TIKTOKCODE123"})"),
            R"(400 {"error":"pixel_id: a pixel with this id exists already"})");
  EXPECT_EQ(create(R"({"name":"x","access_token":")" + token + R"("})"),
            R"(400 {"error":"access_token: already in use"})");
  EXPECT_EQ(
      create(R"({"name":"x","pixel_id":"has space"})"),
      R"x(400 {"error":"pixel_id: letters, digits, '_', '-' and '.' only (e.g. TikTok's pixel code)"})x");
  EXPECT_EQ(create(R"({"name":"x","access_token":"short"})"),
            R"(400 {"error":"access_token: at least 16 printable characters without spaces"})");
  EXPECT_TRUE(FilesHolding(srv_.store().data_dir(), token).empty());
}

// A database written before tokens were digests: pixels.access_token in clear.
TEST(TokenMigrationTest, ClearTokensOfAnOlderDatabaseBecomeDigestsAndLeaveTheFiles) {
  const fs::path dir = TempDir("old");
  fs::create_directories(dir);
  const std::string token = "0123456789abcdef0123456789abcdef01234567";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "touchpoint.db").c_str(), &db), SQLITE_OK);
    const char* sql =
        "PRAGMA journal_mode=WAL;"
        "CREATE TABLE pixels(pixel_id TEXT PRIMARY KEY, name TEXT NOT NULL, access_token TEXT NOT "
        "NULL UNIQUE, created_ms INTEGER NOT NULL, allowed_origins TEXT NOT NULL DEFAULT '');"
        "INSERT INTO pixels VALUES('TPOLD', 'old shop', '0123456789abcdef0123456789abcdef01234567',"
        " 1600000000000, 'https://shop.example');"
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);";
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  ASSERT_FALSE(FilesHolding(dir, token).empty());  // the premise: it is there in clear
  ManualClock clock(1700000000000);
  StoreOptions options;
  options.data_dir = dir.string();
  options.synchronous_full = false;
  {
    auto s = EventStore::Open(options, &clock);
    ASSERT_TRUE(s.ok()) << s.status().message();
    auto pixel = (*s)->FindPixelByToken(token);
    ASSERT_NE(pixel, nullptr);
    EXPECT_EQ(pixel->pixel_id, "TPOLD");
    EXPECT_EQ(pixel->allowed_origins, std::vector<std::string>{"https://shop.example"});
    EXPECT_EQ((*s)->ListPixelTokens("TPOLD").at(0).prefix, "01234567");
    EXPECT_TRUE(FilesHolding(dir, token).empty()) << FilesHolding(dir, token)[0];
  }
  EXPECT_TRUE(FilesHolding(dir, token).empty()) << FilesHolding(dir, token)[0];
  auto s = EventStore::Open(options, &clock);  // and again: nothing left to move
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ((*s)->FindPixelByToken(token)->pixel_id, "TPOLD");
  (*s)->Close();
  fs::remove_all(dir);
}

TEST(DataDirectoryTest, TheDirectoryAndItsFilesAreTheOwnersFromCreation) {
  const mode_t old_umask = ::umask(022);  // a usual umask: files would be world-readable
  const fs::path dir = TempDir("perm");
  ManualClock clock(1700000000000);
  StoreOptions options;
  options.data_dir = dir.string();
  {
    auto s = EventStore::Open(options, &clock);
    ASSERT_TRUE(s.ok()) << s.status().message();
    SiteEvent e;
    e.pixel_id = "P";
    e.event = "ViewContent";
    e.event_time_ms = clock.NowMs();
    ASSERT_TRUE((*s)->Write({e}).status.ok());
    ASSERT_TRUE((*s)->SealNow().ok());  // a segment file too
    EXPECT_EQ(ModeOf(dir), 0700u);
    size_t files = 0;
    for (const auto& f : fs::recursive_directory_iterator(dir)) {
      EXPECT_EQ(ModeOf(f.path()), f.is_directory() ? 0700u : 0600u) << f.path();
      files += f.is_regular_file();
    }
    EXPECT_GE(files, 4u);  // the database, its WAL and shared memory, the marker, a segment
    EXPECT_TRUE(fs::is_directory(dir / "segments"));
  }
  // An older install's files, readable by others, are tightened at the next open.
  ::chmod(dir.c_str(), 0755);
  ::chmod((dir / "touchpoint.db").c_str(), 0644);
  {
    auto s = EventStore::Open(options, &clock);
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_EQ(ModeOf(dir), 0700u);
    EXPECT_EQ(ModeOf(dir / "touchpoint.db"), 0600u);
  }
  ::umask(old_umask);
  fs::remove_all(dir);
}

// The real binary: a generated admin token is written 0600, a rotation through the API
// replaces it in the file, and the next start uses the new one.
TEST(ServeAdminTokenTest, GeneratedTokenFileIsPrivateAndFollowsRotation) {
  const mode_t old_umask = ::umask(022);
  const fs::path dir = TempDir("serve");
  const fs::path log = dir.string() + ".log";
  ::unsetenv("TOUCHPOINT_ADMIN_TOKEN");  // the token must come from the data directory
  auto start = [&] {
    fs::remove(dir / "port");
    auto child = std::make_unique<sim::testing::ChildProcess>(
        std::vector<std::string>{sim::testing::TouchpointBinary(), "serve", "--data", dir.string(),
                                 "--listen", "127.0.0.1:0", "--port-file", (dir / "port").string()},
        log.string());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(dir / "port") && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_TRUE(fs::exists(dir / "port")) << ReadFile(log);
    std::string port = ReadFile(dir / "port");
    return std::pair{std::move(child), "http://127.0.0.1:" + port.substr(0, port.find('\n'))};
  };
  auto stop = [](sim::testing::ChildProcess& child) {
    child.Signal(SIGTERM);
    EXPECT_EQ(child.Wait(), 0);
  };
  auto token_in_file = [&] {
    std::string t = ReadFile(dir / "admin_token");
    return t.substr(0, t.find('\n'));
  };

  auto [pid, url] = start();
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir / "admin_token"), 0600u);
  const std::string first = token_in_file();
  EXPECT_EQ(first.rfind("tpa_", 0), 0u) << first;
  server::HttpClient client(url);
  auto rotated =
      client.Request("POST", "/api/v1/admin/tokens", R"({"grace_hours":0})", Bearer(first));
  ASSERT_EQ(rotated->status, 201) << rotated->body;
  const std::string second(Json(rotated->body)["admin_token"].get_string().value());
  EXPECT_EQ(token_in_file(), second);
  EXPECT_EQ(ModeOf(dir / "admin_token"), 0600u);
  EXPECT_EQ(client.Request("GET", "/api/v1/pixels", "", Bearer(first))->status, 401);
  EXPECT_EQ(client.Request("GET", "/api/v1/pixels", "", Bearer(second))->status, 200);
  stop(*pid);
  EXPECT_TRUE(FilesHolding(dir, first).empty());  // not even the old one, after the rename

  auto [pid2, url2] = start();  // with the file's (new) token
  server::HttpClient client2(url2);
  EXPECT_EQ(client2.Request("GET", "/api/v1/pixels", "", Bearer(second))->status, 200);
  stop(*pid2);
  ::umask(old_umask);
  fs::remove_all(dir);
  fs::remove(log);
}

}  // namespace
}  // namespace touchpoint::testing
