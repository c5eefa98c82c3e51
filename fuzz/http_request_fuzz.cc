// The listener's request parser (server/request_parser.h: Beast's HTTP/1.1 parser with our
// callbacks filling an HttpRequest) on raw bytes from a client, fed in pieces as a socket would
// deliver them. The first input byte sets the piece size (1..64), so that every state of the
// parser is also met at a piece boundary. Beyond "no crash, no UB": a request is either refused
// with an error or complete and within its limits, its header names lowercase, its path without
// the query, and a declared Content-Length matches the body.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.h"
#include "server/request_parser.h"

namespace touchpoint::fuzz {
namespace {

constexpr size_t kBodyLimit = 4096;
constexpr unsigned kHeaderLimit = 2048;

void ParseRequests(std::string_view input, size_t piece) {
  namespace http = boost::beast::http;
  boost::beast::flat_buffer buffer;
  size_t offset = 0;
  // Up to a few requests on one connection, as keep-alive clients send them.
  for (int n = 0; n < 4; ++n) {
    server::RequestParser parser;
    parser.body_limit(kBodyLimit);
    parser.header_limit(kHeaderLimit);
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      if (buffer.size() > 0) {
        size_t used = parser.put(buffer.data(), ec);
        buffer.consume(used);
        if (ec == http::error::need_more) {
          ec = {};
        } else if (ec) {
          return;  // refused: the server answers 400/413 and closes
        } else if (used > 0) {
          continue;
        }
      }
      if (offset == input.size()) {
        if (!parser.got_some()) return;  // the client closed between requests
        parser.put_eof(ec);
        if (ec || !parser.is_done()) return;
        break;
      }
      size_t take = std::min(piece, input.size() - offset);
      auto space = buffer.prepare(take);
      std::copy_n(input.data() + offset, take, static_cast<char*>(space.data()));
      buffer.commit(take);
      offset += take;
    }
    const server::HttpRequest& req = parser.request;
    TP_FUZZ_CHECK(!req.method.empty());
    TP_FUZZ_CHECK(req.path.find('?') == std::string::npos);
    TP_FUZZ_CHECK(req.body.size() <= kBodyLimit);
    TP_FUZZ_CHECK(parser.version == 10 || parser.version == 11);
    for (const auto& [name, value] : req.headers) {
      TP_FUZZ_CHECK(!name.empty());
      for (char c : name) TP_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
    }
    if (auto length = parser.content_length(); length && !parser.chunked())
      TP_FUZZ_CHECK(req.body.size() == *length);
    if (!parser.keep_alive()) return;  // the server closes after this answer
  }
}

}  // namespace
}  // namespace touchpoint::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;
  touchpoint::fuzz::ParseRequests(
      std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), piece);
  return 0;
}
