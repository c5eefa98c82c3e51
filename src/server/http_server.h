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
  // The answer to a request refused before its body was read because the bodies in flight are at
  // HttpServerOptions::max_inflight_body_bytes. `head` has the method, path, query and headers
  // (no body); `why` names the limit. Called on an I/O thread: answer at once, without blocking.
  // The server sends it with `Connection: close`. Default: 503, Retry-After: 1, {"error": why}.
  virtual HttpResponse Overloaded(const HttpRequest& head, const std::string& why);
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port (read it back with port())
  int threads = 2;
  size_t max_body_bytes = 4 << 20;  // one request's body (413 past it)
  int idle_timeout_s = 60;
  // All request bodies being received, over all connections: a declared Content-Length is taken
  // up front, a chunked body as it grows; given back when the request is handed to the Handler
  // or the connection closes. A body that does not fit is refused (Handler::Overloaded).
  size_t max_inflight_body_bytes = size_t{256} << 20;
  // A request being received (head and body) must bring at least this many bytes a second,
  // averaged over each window of `min_request_rate_window_s` seconds from its first byte; the
  // connection of a slower one is closed (checked by the once-a-second sweep, so up to a second
  // late). Waiting for a next request is not measured (idle_timeout_s is). 0: no minimum.
  size_t min_request_bytes_per_s = 4096;
  int min_request_rate_window_s = 5;
  // HTTPS: when both are set, every connection speaks TLS (1.2 or 1.3) with this certificate
  // chain and private key (PEM files). HttpServer::ReloadTls() reads them again (on SIGHUP).
  std::string tls_cert_file;
  std::string tls_key_file;
  int tls_handshake_timeout_s = 10;
};

// The listener's counters (HttpServer::Stats), rendered in /metrics.
struct HttpServerStats {
  uint64_t body_bytes_in_flight = 0;    // taken by bodies being received
  uint64_t body_bytes_limit = 0;        // max_inflight_body_bytes
  uint64_t bodies_refused = 0;          // refused with Handler::Overloaded
  uint64_t slow_requests_dropped = 0;   // closed below min_request_bytes_per_s
  uint64_t accept_errors_fd_limit = 0;  // accept failed with EMFILE / ENFILE
  uint64_t accept_errors_memory = 0;    // ENOBUFS / ENOMEM
  uint64_t accept_errors_other = 0;     // any other error
  uint64_t reserve_accepts = 0;         // connections accepted through the descriptor reserve
  bool accept_paused = false;           // accepting is paused, waiting to retry
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler* handler);
  ~HttpServer();

  // Binds and starts serving on background threads. With TLS, the certificate and key are read
  // first; a file that cannot be read or a key that does not match is an error naming the file.
  Status Start();
  // From any thread: reads the certificate and key files again. Connections accepted from now on
  // use them; open connections keep theirs. On error the current ones stay in use.
  Status ReloadTls();
  bool tls() const;
  uint16_t port() const;
  // From any thread, at any time after construction.
  HttpServerStats Stats() const;
  // Stops accepting, lets responses in flight finish (up to a deadline), and joins the threads.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace touchpoint::server
