#include "server/http_client.h"

#include "core/ascii.h"
#include "server/asio.h"

namespace touchpoint::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string ClientResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

bool SplitHttpUrl(std::string_view url, std::string& host, std::string& port) {
  if (url.rfind("http://", 0) != 0) return false;
  std::string_view rest = url.substr(7);
  size_t slash = rest.find('/');
  rest = rest.substr(0, slash);
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    host = std::string(rest);
    port = "80";
  } else {
    host = std::string(rest.substr(0, colon));
    port = std::string(rest.substr(colon + 1));
  }
  return !host.empty() && !port.empty();
}

struct HttpClient::Impl {
  std::string host, port;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
};

HttpClient::HttpClient(std::string base_url) : impl_(new Impl) {
  SplitHttpUrl(base_url, impl_->host, impl_->port);
}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;

StatusOr<ClientResponse> HttpClient::Request(
    std::string_view method, std::string_view target, std::string_view body,
    std::vector<std::pair<std::string, std::string>> headers) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    beast::error_code ec;
    if (!impl_->stream) {
      tcp::resolver resolver(impl_->ioc);
      auto results = resolver.resolve(impl_->host, impl_->port, ec);
      if (ec) return Unavailable("resolve " + impl_->host + ": " + ec.message());
      impl_->stream.emplace(impl_->ioc);
      impl_->stream->connect(results, ec);
      if (ec) {
        impl_->stream.reset();
        return Unavailable("connect " + impl_->host + ":" + impl_->port + ": " + ec.message());
      }
      impl_->buffer.clear();
    }
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, impl_->host);
    req.set(http::field::user_agent, "touchpoint-client");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = std::string(body);
    req.prepare_payload();
    req.keep_alive(true);
    http::write(impl_->stream->socket(), req, ec);
    const bool written = !ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    if (!ec) http::read(impl_->stream->socket(), impl_->buffer, parser, ec);
    if (ec) {
      impl_->stream.reset();
      // A kept-alive connection the server had closed: reconnect once. A POST that was fully
      // written may have been processed, so it is not sent again (no silent duplicates).
      const bool idempotent = method == "GET" || method == "HEAD" || method == "PUT";
      if (attempt == 0 && (idempotent || !written) &&
          (ec == http::error::end_of_stream || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::error::eof))
        continue;
      return Unavailable(std::string(method) + " " + std::string(target) + ": " + ec.message());
    }
    auto res = parser.release();
    ClientResponse out;
    out.status = res.result_int();
    out.body = std::move(res.body());
    for (const auto& f : res) {
      std::string name(f.name_string());
      AsciiLowerInPlace(name);
      out.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    if (!res.keep_alive()) impl_->stream.reset();
    return out;
  }
  return Unavailable("request failed");
}

}  // namespace touchpoint::server
