// HTTPS: the listener speaking TLS with a certificate and key from files, reloading them, and the
// client (the CLI's) verifying the server. Certificates are made for each test by the openssl
// command (a self-signed P-256 certificate naming 127.0.0.1 and localhost, unless said).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "server/http_client.h"
#include "server/http_server.h"
#include "sim/child_process.h"

namespace touchpoint::testing {
namespace {

namespace fs = std::filesystem;
using server::HttpClient;
using server::HttpRequest;
using server::HttpResponse;
using server::Responder;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Hello : public server::Handler {
 public:
  void Handle(HttpRequest req, Responder respond) override {
    HttpResponse r;
    r.content_type = "text/plain";
    r.body = "hello " + req.method + " " + req.path;
    respond(std::move(r));
  }
};

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tp-tls-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (http_) http_->Stop();
    fs::remove_all(dir_);
  }

  // A self-signed certificate and its key, as NAME.crt and NAME.key; `san` is the
  // subjectAltName list.
  void MakeCert(const std::string& name, const std::string& san = "DNS:localhost,IP:127.0.0.1") {
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=" +
        name + " -addext subjectAltName=" + san + " -keyout " + (dir_ / (name + ".key")).string() +
        " -out " + (dir_ / (name + ".crt")).string() + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  fs::path Crt(const std::string& name) const { return dir_ / (name + ".crt"); }
  fs::path Key(const std::string& name) const { return dir_ / (name + ".key"); }

  // The server reads its certificate and key from serving.crt / serving.key.
  void Serve(const std::string& name) {
    fs::copy_file(Crt(name), dir_ / "serving.crt", fs::copy_options::overwrite_existing);
    fs::copy_file(Key(name), dir_ / "serving.key", fs::copy_options::overwrite_existing);
    server::HttpServerOptions o;
    o.port = 0;
    o.tls_cert_file = (dir_ / "serving.crt").string();
    o.tls_key_file = (dir_ / "serving.key").string();
    http_ = std::make_unique<server::HttpServer>(o, &handler_);
    Status st = http_->Start();
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_TRUE(http_->tls());
  }
  std::string Url() const { return "https://127.0.0.1:" + std::to_string(http_->port()); }

  fs::path dir_;
  Hello handler_;
  std::unique_ptr<server::HttpServer> http_;
};

TEST_F(TlsTest, ClientTrustingTheCertificateGetsAnswersOverOneConnection) {
  MakeCert("a");
  Serve("a");
  HttpClient client(Url(), {.ca_file = Crt("a").string()});
  for (int i = 0; i < 3; ++i) {  // keep-alive over TLS
    auto res = client.Request("GET", "/x" + std::to_string(i));
    ASSERT_TRUE(res.ok()) << res.status().message();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "hello GET /x" + std::to_string(i));
  }
  auto post = client.Request("POST", "/p", std::string(100000, 'z'));
  ASSERT_TRUE(post.ok()) << post.status().message();
  EXPECT_EQ(post->body, "hello POST /p");
}

TEST_F(TlsTest, ClientRefusesAnUntrustedCertificateAndSaysHowToTrustIt) {
  MakeCert("a");
  Serve("a");
  HttpClient client(Url());  // the system's authorities only
  auto res = client.Request("GET", "/");
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("self-signed"), std::string::npos)
      << res.status().message();
  EXPECT_NE(res.status().message().find("--ca-file"), std::string::npos);
}

TEST_F(TlsTest, ClientRefusesACertificateForAnotherHost) {
  MakeCert("other", "DNS:other.example");
  Serve("other");
  HttpClient client(Url(), {.ca_file = Crt("other").string()});  // trusted, but not 127.0.0.1
  auto res = client.Request("GET", "/");
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("TLS handshake"), std::string::npos)
      << res.status().message();
}

TEST_F(TlsTest, PlainHttpToTheTlsListenerGetsNoAnswer) {
  MakeCert("a");
  Serve("a");
  HttpClient plain("http://127.0.0.1:" + std::to_string(http_->port()));
  auto res = plain.Request("GET", "/");
  EXPECT_FALSE(res.ok() && res->status == 200);
  // ...and the listener is not hurt by it.
  HttpClient client(Url(), {.ca_file = Crt("a").string()});
  auto ok = client.Request("GET", "/after");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->body, "hello GET /after");
}

TEST_F(TlsTest, ReloadServesTheNewCertificateToNewConnectionsOnly) {
  MakeCert("a");
  MakeCert("b");
  Serve("a");
  HttpClient old_conn(Url(), {.ca_file = Crt("a").string()});
  ASSERT_TRUE(old_conn.Request("GET", "/").ok());

  fs::copy_file(Crt("b"), dir_ / "serving.crt", fs::copy_options::overwrite_existing);
  fs::copy_file(Key("b"), dir_ / "serving.key", fs::copy_options::overwrite_existing);
  Status st = http_->ReloadTls();
  ASSERT_TRUE(st.ok()) << st.message();

  HttpClient trusts_b(Url(), {.ca_file = Crt("b").string()});
  auto res = trusts_b.Request("GET", "/new");
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->body, "hello GET /new");
  HttpClient trusts_a(Url(), {.ca_file = Crt("a").string()});
  EXPECT_FALSE(trusts_a.Request("GET", "/").ok());  // a new connection gets b's certificate
  auto kept = old_conn.Request("GET", "/kept");     // the open connection keeps a's
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_EQ(kept->body, "hello GET /kept");
}

TEST_F(TlsTest, AFailedReloadNamesTheFileAndKeepsTheCurrentCertificate) {
  MakeCert("a");
  MakeCert("b");
  Serve("a");
  // b's certificate with a's key: they do not match.
  fs::copy_file(Crt("b"), dir_ / "serving.crt", fs::copy_options::overwrite_existing);
  Status st = http_->ReloadTls();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("serving.key"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("does not match"), std::string::npos) << st.message();
  { std::ofstream(dir_ / "serving.key") << "not a key\n"; }
  st = http_->ReloadTls();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("--tls-key: "), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("serving.key: not a PEM private key"), std::string::npos)
      << st.message();

  HttpClient client(Url(), {.ca_file = Crt("a").string()});
  auto res = client.Request("GET", "/still");
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->body, "hello GET /still");
}

TEST_F(TlsTest, StartRefusesAKeyThatDoesNotMatch) {
  MakeCert("a");
  MakeCert("b");
  server::HttpServerOptions o;
  o.port = 0;
  o.tls_cert_file = Crt("a").string();
  o.tls_key_file = Key("b").string();
  server::HttpServer http(o, &handler_);
  Status st = http.Start();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("does not match the certificate in " + Crt("a").string()),
            std::string::npos)
      << st.message();
}

TEST(HttpUrlTest, SplitsHttpAndHttpsWithTheirDefaultPorts) {
  std::string host, port;
  bool tls = false;
  ASSERT_TRUE(server::SplitHttpUrl("https://example.com", host, port, &tls));
  EXPECT_EQ(host, "example.com");
  EXPECT_EQ(port, "443");
  EXPECT_TRUE(tls);
  ASSERT_TRUE(server::SplitHttpUrl("http://10.0.0.1:8080/x", host, port, &tls));
  EXPECT_EQ(host, "10.0.0.1");
  EXPECT_EQ(port, "8080");
  EXPECT_FALSE(tls);
  ASSERT_TRUE(server::SplitHttpUrl("https://[::1]:8443", host, port, &tls));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, "8443");
  EXPECT_FALSE(server::SplitHttpUrl("ftp://x", host, port, &tls));
  HttpClient bad("htp://x");
  auto res = bad.Request("GET", "/");
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("--server: must be http://HOST:PORT or https://"),
            std::string::npos)
      << res.status().message();
}

// The real binary: `serve --tls-cert --tls-key`, the CLI's report over https:// with --ca-file,
// and SIGHUP reloading the certificate.
TEST_F(TlsTest, ServeSpeaksHttpsToTheCliAndReloadsOnSighup) {
  ASSERT_FALSE(sim::testing::TouchpointBinary().empty());
  MakeCert("a");
  MakeCert("b");
  fs::copy_file(Crt("a"), dir_ / "serving.crt");
  fs::copy_file(Key("a"), dir_ / "serving.key");
  const fs::path data = dir_ / "data", log = dir_ / "serve.log";
  sim::testing::ChildProcess serve(
      {sim::testing::TouchpointBinary(), "serve", "--data", data.string(), "--listen",
       "127.0.0.1:0", "--port-file", (dir_ / "port").string(), "--admin-token", "tpa_tls_test",
       "--tls-cert", (dir_ / "serving.crt").string(), "--tls-key", (dir_ / "serving.key").string()},
      log.string());
  const std::string port =
      sim::testing::WaitForFile((dir_ / "port").string(), std::chrono::seconds(60));
  ASSERT_FALSE(port.empty()) << ReadFile(log);
  const std::string url = "https://127.0.0.1:" + port;
  EXPECT_NE(ReadFile(log).find("Touchpoint is running at " + url), std::string::npos)
      << ReadFile(log);

  {  // (the query side loads in the background: wait for it)
    HttpClient trusts_a(url, {.ca_file = Crt("a").string()});
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
      auto h = trusts_a.Request("GET", "/healthz");
      ASSERT_TRUE(h.ok()) << h.status().message();
      if (h->status == 200 && h->body.find("loading") == std::string::npos) break;
      ASSERT_LT(std::chrono::steady_clock::now(), until) << h->body;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // The CLI: a report over https, trusting a's certificate.
  const std::string out = (dir_ / "report.out").string();
  EXPECT_EQ(sim::testing::Run({sim::testing::TouchpointBinary(), "report", "--server", url,
                               "--admin-token", "tpa_tls_test", "--ca-file", Crt("a").string()},
                              out),
            0)
      << ReadFile(out);
  // Without --ca-file it refuses the self-signed certificate.
  const std::string refused = (dir_ / "refused.out").string();
  EXPECT_NE(sim::testing::Run({sim::testing::TouchpointBinary(), "report", "--server", url,
                               "--admin-token", "tpa_tls_test"},
                              refused),
            0);
  EXPECT_NE(ReadFile(refused).find("self-signed"), std::string::npos) << ReadFile(refused);

  // SIGHUP: b's certificate from now on.
  fs::copy_file(Crt("b"), dir_ / "serving.crt", fs::copy_options::overwrite_existing);
  fs::copy_file(Key("b"), dir_ / "serving.key", fs::copy_options::overwrite_existing);
  serve.Signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ReadFile(log).find("reloaded the TLS certificate") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_NE(ReadFile(log).find("reloaded the TLS certificate"), std::string::npos) << ReadFile(log);
  HttpClient trusts_b(url, {.ca_file = Crt("b").string()});
  auto health = trusts_b.Request("GET", "/healthz");
  ASSERT_TRUE(health.ok()) << health.status().message();
  EXPECT_EQ(health->status, 200) << health->body;
  HttpClient trusts_a(url, {.ca_file = Crt("a").string()});
  EXPECT_FALSE(trusts_a.Request("GET", "/healthz").ok());

  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(), 0) << ReadFile(log);
}

}  // namespace
}  // namespace touchpoint::testing
