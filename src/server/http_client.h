#pragma once
// A small blocking HTTP/1.1 client over one keep-alive connection (for the CLI, the simulator's
// HTTP delivery and tests). Not for untrusted servers.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace touchpoint::server {

struct ClientResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string Header(std::string_view name) const;
};

struct HttpClientOptions {
  // https://: a PEM file of authorities trusted besides the system's (a self-signed server's
  // certificate, a private CA). The server's certificate and host name are always verified.
  std::string ca_file;
};

class HttpClient {
 public:
  // base_url: "http://host:port" or "https://host:port". A malformed URL or an unreadable
  // ca_file makes every Request answer that error.
  explicit HttpClient(std::string base_url, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;

  StatusOr<ClientResponse> Request(std::string_view method, std::string_view target,
                                   std::string_view body = {},
                                   std::vector<std::pair<std::string, std::string>> headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits "http://host:port" or "https://host:port" into host and port (80 or 443 by default);
// false when malformed. `tls` (when given) says whether it is https.
bool SplitHttpUrl(std::string_view url, std::string& host, std::string& port, bool* tls = nullptr);

}  // namespace touchpoint::server
