#pragma once
// The HTTP/1.1 listener (Boost.Beast underneath; no Beast type leaks out of this header).
// Requests are handed to a Handler with a Responder that may be called later, from any thread,
// exactly once: ingest handlers answer from the store's writer thread after the commit.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace touchpoint::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path part of the target, without the query
  std::string query;   // raw query string, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;
  std::string remote_ip;

  // The first header with this (lowercase) name, or "".
  std::string_view Header(std::string_view name) const;
};

// A response body produced piece by piece on another thread (an export), sent with chunked
// transfer encoding as the pieces come. One producer, the connection's I/O thread consumes.
// Bounded: Push() waits while `max_buffered` bytes are queued, so a slow client slows the
// producer down instead of growing memory.
class BodyStream {
 public:
  explicit BodyStream(size_t max_buffered = 1 << 20) : max_buffered_(max_buffered) {}

  // Producer. False when the client is gone (stop producing).
  bool Push(std::string piece);
  // Producer: the body is complete (ok) or cannot be completed (the connection is then closed
  // without the final chunk, so the client sees a truncated body, not a complete wrong one).
  void Finish(bool ok);

  // Consumer (the server). Takes what is queued; `done`/`ok` tell whether the end was reached.
  // When nothing is queued and the end is not reached, `on_ready` is called (once, from the
  // producer's thread) as soon as there is.
  std::vector<std::string> Take(bool& done, bool& ok, std::function<void()> on_ready);
  void Cancel();  // the client is gone

 private:
  const size_t max_buffered_;
  std::mutex mu_;
  std::condition_variable room_;
  std::vector<std::string> pieces_;
  size_t bytes_ = 0;
  bool finished_ = false, ok_ = true, cancelled_ = false;
  std::function<void()> on_ready_;
};

struct HttpResponse {
  int status = 200;
  // A static string (a literal, or from ContentTypeFor): not copied, so that building an answer
  // does not allocate for it.
  std::string_view content_type = "application/json";
  std::string body;
  // Instead of `body`, when not empty: a body that outlives the answer (a literal, an embedded
  // asset), sent without being copied. Not with `stream`.
  std::string_view static_body;
  std::vector<std::pair<std::string, std::string>> headers;
  // More header lines, pre-formatted ("Name: value\r\n" each) and static like static_body: the
  // fixed headers of a hot answer, without allocating for them.
  std::string_view static_headers;
  bool close = false;  // close the connection after this response
  // When set, the body comes from here (chunked) after `body`, which may hold the first piece.
  std::shared_ptr<BodyStream> stream;
};

using Responder = std::function<void(HttpResponse)>;

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void Handle(HttpRequest request, Responder respond) = 0;
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port (read it back with port())
  int threads = 2;
  size_t max_body_bytes = 4 << 20;
  int idle_timeout_s = 60;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler* handler);
  ~HttpServer();

  // Binds and starts serving on background threads.
  Status Start();
  uint16_t port() const;
  // Stops accepting, lets responses in flight finish (up to a deadline), and joins the threads.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace touchpoint::server
