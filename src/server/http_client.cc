#include "server/http_client.h"

#include "core/ascii.h"
#include "server/asio.h"
#include "server/tls.h"

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

bool SplitHttpUrl(std::string_view url, std::string& host, std::string& port, bool* tls) {
  const bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) return false;
  if (tls) *tls = https;
  std::string_view rest = url.substr(https ? 8 : 7);
  size_t slash = rest.find('/');
  rest = rest.substr(0, slash);
  size_t colon = rest.rfind(':');
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (after.empty()) {
      port = https ? "443" : "80";
    } else {
      if (after.front() != ':') return false;
      port = std::string(after.substr(1));
    }
  } else if (colon == std::string_view::npos) {
    host = std::string(rest);
    port = https ? "443" : "80";
  } else {
    host = std::string(rest.substr(0, colon));
    port = std::string(rest.substr(colon + 1));
  }
  return !host.empty() && !port.empty();
}

struct HttpClient::Impl {
  std::string host, port;
  bool https = false;
  Status setup;  // a malformed URL or TLS set-up error: every request answers it
  net::io_context ioc;
  std::shared_ptr<net::ssl::context> tls_ctx;
  std::optional<beast::tcp_stream> stream;                  // http://
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;  // https://
  beast::flat_buffer buffer;

  bool connected() const { return stream.has_value() || tls.has_value(); }
  void Disconnect() {
    stream.reset();
    tls.reset();
  }
  Status Connect();
  template <class F>
  void WithStream(F&& f) {
    if (tls)
      f(*tls);
    else
      f(stream->socket());
  }
};

HttpClient::HttpClient(std::string base_url, HttpClientOptions options) : impl_(new Impl) {
  if (!SplitHttpUrl(base_url, impl_->host, impl_->port, &impl_->https)) {
    impl_->setup = InvalidArgument(
        "--server", ": must be http://HOST:PORT or https://HOST:PORT, got '" + base_url + "'");
    return;
  }
  if (impl_->https) {
    auto ctx = MakeClientTlsContext(options.ca_file);
    if (!ctx.ok())
      impl_->setup = ctx.status();
    else
      impl_->tls_ctx = std::move(*ctx);
  }
}

Status HttpClient::Impl::Connect() {
  beast::error_code ec;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, port, ec);
  if (ec) return Unavailable("resolve " + host + ": " + ec.message());
  beast::tcp_stream tcp(ioc);
  tcp.connect(results, ec);
  if (ec) return Unavailable("connect " + host + ":" + port + ": " + ec.message());
  buffer.clear();
  if (!https) {
    stream.emplace(std::move(tcp));
    return OkStatus();
  }
  tls.emplace(std::move(tcp), *tls_ctx);
  // SNI, and the certificate must name the host (a DNS name or an IP address).
  SSL_set_tlsext_host_name(tls->native_handle(), host.c_str());
  tls->set_verify_callback(net::ssl::host_name_verification(host));
  tls->handshake(net::ssl::stream_base::client, ec);
  if (ec) {
    std::string why = ec.message();
    long verify = SSL_get_verify_result(tls->native_handle());
    if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
    tls.reset();
    return Unavailable("TLS handshake with " + host + ":" + port + ": " + why +
                       " (--ca-file names a certificate to trust)");
  }
  return OkStatus();
}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;

StatusOr<ClientResponse> HttpClient::Request(
    std::string_view method, std::string_view target, std::string_view body,
    std::vector<std::pair<std::string, std::string>> headers) {
  if (!impl_->setup.ok()) return impl_->setup;
  for (int attempt = 0; attempt < 2; ++attempt) {
    beast::error_code ec;
    if (!impl_->connected()) {
      if (Status st = impl_->Connect(); !st.ok()) return st;
    }
    http::request<http::string_body> req(http::string_to_verb(method), target, 11);
    req.set(http::field::host, impl_->host);
    req.set(http::field::user_agent, "touchpoint-client");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = std::string(body);
    req.prepare_payload();
    req.keep_alive(true);
    impl_->WithStream([&](auto& s) { http::write(s, req, ec); });
    const bool written = !ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    if (!ec) impl_->WithStream([&](auto& s) { http::read(s, impl_->buffer, parser, ec); });
    if (ec) {
      impl_->Disconnect();
      // A kept-alive connection the server had closed: reconnect once. A POST that was fully
      // written may have been processed, so it is not sent again (no silent duplicates).
      const bool idempotent = method == "GET" || method == "HEAD" || method == "PUT";
      if (attempt == 0 && (idempotent || !written) &&
          (ec == http::error::end_of_stream || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::error::eof ||
           ec == net::ssl::error::stream_truncated))
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
    if (!res.keep_alive()) impl_->Disconnect();
    return out;
  }
  return Unavailable("request failed");
}

}  // namespace touchpoint::server
