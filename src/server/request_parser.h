#pragma once
// The HTTP/1.1 request parser of the listener (http_server.cc): Beast's parser, with callbacks
// that fill an HttpRequest. Its own header so that a fuzz target can drive it on raw bytes
// (fuzz/http_request_fuzz.cc).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/ascii.h"
#include "server/asio.h"
#include "server/http_server.h"

namespace touchpoint::server {

// The memory of request bodies being received, summed over all connections, against one limit
// (HttpServerOptions::max_inflight_body_bytes). Thread-safe; never goes past the limit.
class BodyBudget {
 public:
  explicit BodyBudget(size_t limit_bytes) : limit_(limit_bytes) {}

  // Takes `n` bytes; false, taking nothing, when that would pass the limit.
  bool TryTake(size_t n) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used > limit_ || n > limit_ - used) return false;
    } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }
  void Give(size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

// Parses one request straight into an HttpRequest: Beast's parser calls back with the request
// line, each header and each piece of the body (chunked or not), and they go where the handler
// reads them, without a Beast message (a node allocated per header) copied over afterwards.
//
// Framing that could be read two ways is refused (parsing stops with an error and
// `refused_status` set): a Transfer-Encoding whose last coding is not chunked (400, RFC 9112
// §6.3: the body's length cannot be known, and reading none would take the body for the next
// request), codings before chunked (501: not implemented here), and Transfer-Encoding in an
// HTTP/1.0 request (400). Content-Length together with Transfer-Encoding is refused by Beast
// itself (bad_transfer_encoding / bad_content_length).
class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  RequestParser() = default;
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;
  ~RequestParser() override {
    if (budget_ && taken_ > 0) budget_->Give(taken_);
  }

  HttpRequest request;
  int version = 11;
  int refused_status = 0;      // 400 / 501 when the framing was refused (see above)
  std::string refused_reason;  // what was refused, naming the header
  bool over_budget = false;    // the body did not fit in the budget: parsing stopped

  // The body's memory is taken from `budget` (may be null: unbounded but for body_limit()): a
  // declared length up front, a chunked body as it grows; it is given back when the parser is
  // destroyed. Past the budget, parsing stops with `over_budget` set. Before any input.
  void set_budget(BodyBudget* budget) { budget_ = budget; }
  // Bytes of the request received so far (head and body), for the minimum-rate check.
  size_t bytes_received() const { return head_bytes_ + request.body.size(); }

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
    head_bytes_ += method.size() + target.size() + 11;  // " ", " HTTP/1.1\r\n"
  }
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(boost::beast::http::field, boost::beast::string_view name,
                     boost::beast::string_view value, boost::beast::error_code&) override {
    std::string lower(name.data(), name.size());
    AsciiLowerInPlace(lower);
    request.headers.emplace_back(std::move(lower), std::string(value.data(), value.size()));
    head_bytes_ += name.size() + value.size() + 4;  // ": ", "\r\n"
  }
  void on_header_impl(boost::beast::error_code& ec) override {
    CheckTransferEncoding(ec);
    // A declared length is taken here, at the end of the head, not when the body's first bytes
    // come (on_body_init_impl): a client that sends only the head is refused at once.
    if (!ec && content_length()) Take(static_cast<size_t>(*content_length()), ec);
  }
  void CheckTransferEncoding(boost::beast::error_code& ec) {
    // All Transfer-Encoding lines together form one list of codings (RFC 9110 §5.3).
    std::string codings;
    for (const auto& [name, value] : request.headers)
      if (name == "transfer-encoding") (codings += codings.empty() ? "" : ",") += value;
    if (codings.empty() && !has_transfer_encoding()) return;
    if (version < 11) return Refuse(400, "Transfer-Encoding: not allowed in HTTP/1.0", ec);
    std::string last;
    int n = 0;
    for (size_t start = 0; start <= codings.size();) {
      size_t comma = std::min(codings.find(',', start), codings.size());
      std::string_view c(codings.data() + start, comma - start);
      while (!c.empty() && (c.front() == ' ' || c.front() == '\t')) c.remove_prefix(1);
      while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.remove_suffix(1);
      if (!c.empty()) {
        last = AsciiLowered(c);
        ++n;
      }
      start = comma + 1;
    }
    if (last != "chunked")
      return Refuse(400, "Transfer-Encoding: the last coding must be chunked", ec);
    if (n > 1) return Refuse(501, "Transfer-Encoding: only chunked is supported", ec);
  }
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         boost::beast::error_code&) override {
    // The parser has checked a declared length against body_limit(), and on_header_impl has
    // taken it from the budget.
    if (content_length) request.body.reserve(static_cast<size_t>(*content_length));
  }
  size_t on_body_impl(boost::beast::string_view piece, boost::beast::error_code& ec) override {
    // A declared length was taken up front; only a body longer than declared (not possible
    // through Beast) would grow here.
    if (!Grow(piece.size(), ec)) return 0;
    request.body.append(piece.data(), piece.size());
    return piece.size();
  }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view piece,
                            boost::beast::error_code& ec) override {
    if (!Grow(piece.size(), ec)) return 0;
    request.body.append(piece.data(), piece.size());
    return piece.size();
  }
  void on_finish_impl(boost::beast::error_code&) override {}

  void Refuse(int status, std::string reason, boost::beast::error_code& ec) {
    refused_status = status;
    refused_reason = std::move(reason);
    ec = boost::beast::http::error::bad_transfer_encoding;
  }
  bool Take(size_t n, boost::beast::error_code& ec) {
    if (!budget_) return true;
    if (!budget_->TryTake(n)) {
      over_budget = true;
      ec = boost::asio::error::no_buffer_space;
      return false;
    }
    taken_ += n;
    return true;
  }
  // Makes room for `n` more body bytes, growing the string (and what is taken for it) by at
  // least doubling, so that what is taken is what is allocated.
  bool Grow(size_t n, boost::beast::error_code& ec) {
    const size_t need = request.body.size() + n;
    if (need <= request.body.capacity()) return true;
    const size_t cap = std::max(need, 2 * request.body.capacity());
    if (budget_ && cap > taken_ && !Take(cap - taken_, ec)) return false;
    request.body.reserve(cap);
    return true;
  }
  bool has_transfer_encoding() const {
    for (const auto& h : request.headers)
      if (h.first == "transfer-encoding") return true;
    return false;
  }

  BodyBudget* budget_ = nullptr;
  size_t taken_ = 0;
  size_t head_bytes_ = 0;
};

}  // namespace touchpoint::server
