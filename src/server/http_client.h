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

class HttpClient {
 public:
  // base_url: "http://host:port"
  explicit HttpClient(std::string base_url);
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;

  StatusOr<ClientResponse> Request(std::string_view method, std::string_view target,
                                   std::string_view body = {},
                                   std::vector<std::pair<std::string, std::string>> headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Splits "http://host:port" into host and port; false when malformed.
bool SplitHttpUrl(std::string_view url, std::string& host, std::string& port);

}  // namespace touchpoint::server
