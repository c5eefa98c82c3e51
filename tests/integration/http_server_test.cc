// The HTTP listener on its own, over real loopback sockets: keep-alive and pipelining, answers
// from another thread, HTTP/1.0, bodies and their limits, status codes without a body, header
// sanitising, the idle timeout and draining on Stop().
#include "server/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/http_client.h"
#include "support/raw_conn.h"

namespace touchpoint::testing {
namespace {

using server::HttpRequest;
using server::HttpResponse;
using server::Responder;

// Echoes what it parsed; "/later" answers from another thread after 50 ms; "/status/N" answers N.
class EchoHandler : public server::Handler {
 public:
  ~EchoHandler() override {
    for (auto& t : threads_) t.join();
  }
  void Handle(HttpRequest req, Responder respond) override {
    ++seen;
    HttpResponse r;
    r.content_type = "text/plain";
    r.body = req.method + " " + req.path + " q=" + req.query +
             " ua=" + std::string(req.Header("user-agent")) + " ip=" + req.remote_ip +
             " body=" + req.body;
    if (req.path == "/later") {
      std::lock_guard lock(mu_);
      threads_.emplace_back([respond, r]() mutable {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        respond(std::move(r));
      });
      return;
    }
    if (req.path == "/stream" || req.path == "/stream-fail" || req.path == "/stream-endless") {
      // The body from another thread, piece by piece: 40 pieces of 10,000 bytes ("/stream"),
      // or 5 and then a failure ("/stream-fail"), or until the reader is gone ("/stream-endless").
      auto stream =
          std::make_shared<server::BodyStream>(req.path == "/stream-endless" ? 16384 : 1 << 20);
      r.body = "first;";
      r.stream = stream;
      respond(std::move(r));
      std::lock_guard lock(mu_);
      threads_.emplace_back([this, stream, path = req.path] {
        for (int i = 0;; ++i) {
          if (path == "/stream" && i == 40) return stream->Finish(true);
          if (path == "/stream-fail" && i == 5) return stream->Finish(false);
          if (!stream->Push(std::string(10000, static_cast<char>('a' + i % 26)))) {
            producer_stopped = true;
            return stream->Finish(false);
          }
          if (i % 8 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      });
      return;
    }
    if (req.path == "/headers") {  // every header as the handler sees it, in order
      r.body = req.method + " q=" + req.query + " body=" + req.body + "\n";
      for (const auto& [name, value] : req.headers) r.body += name + "=[" + value + "]\n";
    }
    if (req.path.rfind("/status/", 0) == 0) r.status = std::stoi(req.path.substr(8));
    if (req.path == "/static" || req.path == "/status/304") {
      // A static body and header lines, as the pixel's GIF is answered (body ignored then).
      r.body = "not this";
      r.static_body = "static body bytes";
      r.static_headers = "Cache-Control: no-store\r\nX-Static: 1\r\n";
    }
    if (req.path == "/bad-header") {
      r.headers.emplace_back("X-Ok", "fine");
      r.headers.emplace_back("X-Injected", "a\r\nSet-Cookie: evil=1");
    }
    respond(std::move(r));
  }

  std::atomic<int> seen{0};
  std::atomic<bool> producer_stopped{false};

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(int idle_timeout_s = 60, size_t max_body = 1 << 20) {
    server::HttpServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.idle_timeout_s = idle_timeout_s;
    o.max_body_bytes = max_body;
    http_ = std::make_unique<server::HttpServer>(o, &handler_);
    ASSERT_TRUE(http_->Start().ok());
  }
  void TearDown() override {
    if (http_) http_->Stop();
  }
  EchoHandler handler_;
  std::unique_ptr<server::HttpServer> http_;
};

TEST_F(HttpServerTest, KeepAliveAndPipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  RawConn c(http_->port());
  ASSERT_TRUE(c.connected());
  c.Send(
      "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: UA-1\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
      "GET /later HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string got = c.ReadResponses(4);
  ASSERT_EQ(RawConn::CountComplete(got), 4) << got;
  size_t a = got.find("GET /a q=x=1 ua=UA-1 ip=127.0.0.1 body=");
  size_t b = got.find("POST /b q= ua= ip=127.0.0.1 body=hello");
  size_t l = got.find("GET /later");
  size_t d = got.find("GET /c");
  ASSERT_NE(a, std::string::npos) << got;
  ASSERT_NE(b, std::string::npos) << got;
  ASSERT_NE(l, std::string::npos) << got;
  ASSERT_NE(d, std::string::npos) << got;
  EXPECT_LT(a, b);
  EXPECT_LT(b, l);  // the slow answer (from another thread) holds back the next one
  EXPECT_LT(l, d);
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\nServer: touchpoint\r\nContent-Type: text/plain\r\n", 0),
            0u);
  EXPECT_EQ(got.find("Connection: close"), std::string::npos);
  EXPECT_FALSE(c.eof());
}

TEST_F(HttpServerTest, Http10ClosesUnlessKeepAliveIsAsked) {
  StartServer();
  {
    RawConn c(http_->port());
    c.Send("GET /x HTTP/1.0\r\n\r\n");
    std::string got = c.ReadResponses(1);
    EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
    EXPECT_TRUE(c.ClosedWithin(2000));
  }
  {
    RawConn c(http_->port());
    c.Send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    std::string got = c.ReadResponses(1);
    EXPECT_NE(got.find("Connection: keep-alive\r\n"), std::string::npos) << got;
    c.Send("GET /y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    got = c.ReadResponses(1);
    EXPECT_NE(got.find("GET /y"), std::string::npos) << got;
  }
}

TEST_F(HttpServerTest, StatusesWithoutBodyHaveNoContentLength) {
  StartServer();
  RawConn c(http_->port());
  c.Send("GET /status/204 HTTP/1.1\r\nHost: h\r\n\r\nGET /status/404 HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string got = c.ReadResponses(2);
  ASSERT_EQ(got.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u) << got;
  size_t second = got.find("HTTP/1.1 404 Not Found\r\n");
  ASSERT_NE(second, std::string::npos) << got;
  EXPECT_EQ(got.substr(0, second).find("Content-Length"), std::string::npos) << got;
  EXPECT_NE(got.substr(second).find("Content-Length: "), std::string::npos) << got;
}

TEST_F(HttpServerTest, StaticBodiesAndHeadersAreSentAsGiven) {
  StartServer();
  RawConn c(http_->port());
  c.Send(
      "GET /static HTTP/1.1\r\nHost: h\r\n\r\nGET /status/304 HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string got = c.ReadResponses(3);
  ASSERT_EQ(RawConn::CountComplete(got), 3) << got;
  const std::string first =
      "HTTP/1.1 200 OK\r\nServer: touchpoint\r\nContent-Type: text/plain\r\n"
      "Cache-Control: no-store\r\nX-Static: 1\r\nContent-Length: 17\r\n\r\nstatic body bytes";
  ASSERT_EQ(got.rfind(first, 0), 0u) << got;
  EXPECT_EQ(got.find("not this"), std::string::npos) << got;
  // A 304 carries the static headers but no body; the connection then goes on as usual.
  std::string rest = got.substr(first.size());
  ASSERT_EQ(rest.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u) << got;
  size_t third = rest.find("HTTP/1.1 200 OK\r\n");
  ASSERT_NE(third, std::string::npos) << got;
  EXPECT_NE(rest.substr(0, third).find("X-Static: 1\r\n"), std::string::npos) << got;
  EXPECT_EQ(rest.substr(0, third).find("static body"), std::string::npos) << got;
  EXPECT_EQ(rest.substr(0, third).find("Content-Length"), std::string::npos) << got;
  EXPECT_NE(rest.find("GET /a q= ua="), std::string::npos) << got;
}

TEST_F(HttpServerTest, HeaderValuesCannotSplitTheResponse) {
  StartServer();
  RawConn c(http_->port());
  c.Send("GET /bad-header HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string got = c.ReadResponses(1);
  EXPECT_NE(got.find("X-Ok: fine\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.find("evil"), std::string::npos) << got;
  EXPECT_EQ(got.find("X-Injected"), std::string::npos) << got;
}

TEST_F(HttpServerTest, RequestsReachTheHandlerAsSent) {
  StartServer(60, 32);
  RawConn c(http_->port());
  // Names lowercased, values without the whitespace around them, repeated headers kept in order;
  // a chunked body put together; then a second request on the same connection.
  c.Send(
      "POST /headers?a=1&b=%20 HTTP/1.1\r\nHost: h\r\nX-Mixed-Case:   padded value  \r\n"
      "X-Dup: 1\r\nX-Dup: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
      "GET /headers HTTP/1.1\r\nHost: h2\r\nContent-Length: 3\r\n\r\nabc");
  std::string got = c.ReadResponses(2);
  EXPECT_NE(got.find("POST q=a=1&b=%20 body=hello world\nhost=[h]\nx-mixed-case=[padded value]\n"
                     "x-dup=[1]\nx-dup=[2]\ntransfer-encoding=[chunked]\n"),
            std::string::npos)
      << got;
  EXPECT_NE(got.find("GET q= body=abc\nhost=[h2]\ncontent-length=[3]\n"), std::string::npos) << got;
  // A chunked body past the limit (32 bytes here) is refused like a declared one.
  RawConn big(http_->port());
  big.Send(
      "POST /headers HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "14\r\n" +
      std::string(20, 'x') + "\r\n14\r\n" + std::string(20, 'y') + "\r\n0\r\n\r\n");
  std::string refused = big.ReadResponses(1);
  EXPECT_EQ(refused.rfind("HTTP/1.1 413 ", 0), 0u) << refused;
}

TEST_F(HttpServerTest, OversizedBodyGets413AndMalformedGets400) {
  StartServer(60, 16);
  {
    RawConn c(http_->port());
    c.Send("POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n12345678901234567");
    std::string got = c.ReadResponses(1);
    EXPECT_EQ(got.rfind("HTTP/1.1 413 ", 0), 0u) << got;
    EXPECT_NE(got.find(R"({"error":"body: larger than 16 bytes"})"), std::string::npos) << got;
    EXPECT_TRUE(c.ClosedWithin(2000));
  }
  {
    RawConn c(http_->port());
    c.Send("NOT HTTP AT ALL\r\n\r\n");
    std::string got = c.ReadResponses(1);
    EXPECT_EQ(got.rfind("HTTP/1.1 400 ", 0), 0u) << got;
    EXPECT_TRUE(c.ClosedWithin(2000));
  }
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAfterTheIdleTimeout) {
  StartServer(/*idle_timeout_s=*/1);
  RawConn idle(http_->port());
  RawConn partial(http_->port());
  ASSERT_TRUE(idle.connected());
  partial.Send("GET /slow HTTP/1.1\r\nHost: h\r\n");  // a head that never ends
  // Swept once a second: closed after 1 to 2 s; well before 10.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(idle.ClosedWithin(10000));
  EXPECT_TRUE(partial.ClosedWithin(10000));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(900));
  // A connection in use is not closed under it.
  RawConn busy(http_->port());
  for (int i = 0; i < 3; ++i) {
    busy.Send("GET /later HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(RawConn::CountComplete(busy.ReadResponses(1)), 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

TEST_F(HttpServerTest, StreamedBodiesAreChunkedCompleteAndKeepTheConnection) {
  StartServer();
  server::HttpClient client("http://127.0.0.1:" + std::to_string(http_->port()));
  auto r = client.Request("GET", "/stream");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("transfer-encoding"), "chunked");
  EXPECT_EQ(r->Header("content-length"), "");
  std::string want = "first;";
  for (int i = 0; i < 40; ++i) want += std::string(10000, static_cast<char>('a' + i % 26));
  EXPECT_EQ(r->body.size(), want.size());
  EXPECT_TRUE(r->body == want);
  // The same connection serves the next request.
  auto next = client.Request("GET", "/after");
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_NE(next->body.find("GET /after"), std::string::npos);
}

TEST_F(HttpServerTest, AStreamThatFailsEndsWithoutItsLastChunk) {
  StartServer();
  server::HttpClient client("http://127.0.0.1:" + std::to_string(http_->port()));
  auto r = client.Request("GET", "/stream-fail");
  EXPECT_FALSE(r.ok());  // a truncated body, never a complete-looking wrong one
}

TEST_F(HttpServerTest, AReaderThatGoesAwayStopsTheProducer) {
  StartServer();
  {
    RawConn c(http_->port());
    c.Send("GET /stream-endless HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string got = c.ReadResponses(0, 200);  // a little of it, then hang up
  }
  for (int i = 0; i < 500 && !handler_.producer_stopped; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(handler_.producer_stopped);
}

TEST_F(HttpServerTest, StopDeliversAnswersOwedAndThenRefusesConnections) {
  StartServer();
  RawConn c(http_->port());
  c.Send("GET /later HTTP/1.1\r\nHost: h\r\n\r\n");
  for (int i = 0; i < 500 && handler_.seen.load() == 0; ++i)  // until it is being handled
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_EQ(handler_.seen.load(), 1);
  const uint16_t port = http_->port();
  http_->Stop();
  std::string got = c.ReadResponses(1, 2000);
  EXPECT_EQ(RawConn::CountComplete(got), 1) << got;
  RawConn after(port);
  EXPECT_FALSE(after.connected());
}

}  // namespace
}  // namespace touchpoint::testing
