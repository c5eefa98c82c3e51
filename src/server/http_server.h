#pragma once
// The HTTP/1.1 listener (Boost.Beast underneath; no Beast type leaks out of this header).
// Requests are handed to a Handler with a Responder that may be called later, from any thread,
// exactly once: ingest handlers answer from the store's writer thread after the commit.

#include <cstdint>
#include <functional>
#include <memory>
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

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this response
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
