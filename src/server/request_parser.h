#pragma once
// The HTTP/1.1 request parser of the listener (http_server.cc): Beast's parser, with callbacks
// that fill an HttpRequest. Its own header so that a fuzz target can drive it on raw bytes
// (fuzz/http_request_fuzz.cc).

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ascii.h"
#include "server/asio.h"
#include "server/http_server.h"

namespace touchpoint::server {

// Parses one request straight into an HttpRequest: Beast's parser calls back with the request
// line, each header and each piece of the body (chunked or not), and they go where the handler
// reads them, without a Beast message (a node allocated per header) copied over afterwards.
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  HttpRequest request;
  int version = 11;

 private:
  void on_request_impl(boost::beast::http::verb, boost::beast::string_view method,
                       boost::beast::string_view target, int http_version,
                       boost::beast::error_code&) override {
    request.method.assign(method.data(), method.size());
    const std::string_view t(target.data(), target.size());
    const size_t q = t.find('?');
    request.path.assign(t.substr(0, q));
    if (q != std::string_view::npos) request.query.assign(t.substr(q + 1));
    version = http_version;
    request.headers.reserve(8);
  }
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(boost::beast::http::field, boost::beast::string_view name,
                     boost::beast::string_view value, boost::beast::error_code&) override {
    std::string lower(name.data(), name.size());
    AsciiLowerInPlace(lower);
    request.headers.emplace_back(std::move(lower), std::string(value.data(), value.size()));
  }
  void on_header_impl(boost::beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::beast::error_code&) override {
    // The parser has checked a declared length against body_limit() before this call.
    if (content_length) request.body.reserve(static_cast<size_t>(*content_length));
  }
  size_t on_body_impl(boost::beast::string_view piece, boost::beast::error_code&) override {
    request.body.append(piece.data(), piece.size());
    return piece.size();
  }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view piece,
                            boost::beast::error_code&) override {
    request.body.append(piece.data(), piece.size());
    return piece.size();
  }
  void on_finish_impl(boost::beast::error_code&) override {}
};

}  // namespace touchpoint::server
