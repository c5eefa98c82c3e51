#include "server/http_server.h"

#include <fcntl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "server/asio.h"
#include "server/request_parser.h"
#include "server/tls.h"

namespace touchpoint::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
namespace ssl = net::ssl;

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

HttpResponse Handler::Overloaded(const HttpRequest&, const std::string& why) {
  HttpResponse r;
  r.status = 503;
  r.body = R"({"error":")" + why + R"("})";
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

bool BodyStream::Push(std::string piece) {
  std::function<void()> notify;
  {
    std::unique_lock lock(mu_);
    room_.wait(lock, [&] { return cancelled_ || bytes_ < max_buffered_; });
    if (cancelled_) return false;
    bytes_ += piece.size();
    pieces_.push_back(std::move(piece));
    notify.swap(on_ready_);
  }
  if (notify) notify();
  return true;
}

void BodyStream::Finish(bool ok) {
  std::function<void()> notify;
  {
    std::lock_guard lock(mu_);
    finished_ = true;
    ok_ = ok;
    notify.swap(on_ready_);
  }
  if (notify) notify();
}

std::vector<std::string> BodyStream::Take(bool& done, bool& ok, std::function<void()> on_ready) {
  std::vector<std::string> out;
  {
    std::lock_guard lock(mu_);
    out.swap(pieces_);
    bytes_ = 0;
    done = finished_;
    ok = ok_;
    if (out.empty() && !finished_) on_ready_ = std::move(on_ready);
  }
  room_.notify_all();
  return out;
}

void BodyStream::Cancel() {
  std::function<void()> drop;
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    drop.swap(on_ready_);  // it may hold the connection: let it go outside the lock
  }
  room_.notify_all();
}

// How the listener spends its time (docs/architecture.md#http):
// - one io_context per I/O thread, each run by its own thread; a connection lives on one of them
//   for its whole life, so its handlers never run concurrently and need no strand;
// - no timer per read or write: each context sweeps its connections once a second and closes
//   those past their deadline (idle_timeout_s while waiting for a request, 30 s for a write);
// - answers that come from another thread (the store's writer, after the commit) are queued on
//   the connection's context and handed over by one post per burst, not one per answer;
// - a response is serialized into one header string and written with the body in one gather
//   write (one sendmsg in the common case);
// - request bodies take their memory from one budget shared by all connections (BodyBudget), and
//   the sweep also closes connections whose request arrives below the minimum rate, so that
//   clients that start bodies and never finish them cannot hold the memory;
// - when accept() fails for want of descriptors (or memory) accepting pauses and retries with a
//   backoff instead of spinning; one descriptor is kept in reserve to take one pending connection
//   at a time in that state and answer it with `Connection: close` (docs/operations.md).

namespace {

using SteadyMs = int64_t;
constexpr SteadyMs kNoDeadline = INT64_MAX;
constexpr int kWriteTimeoutS = 30;
// A connection taken through the descriptor reserve holds the last descriptor: it gets this long
// to send its request.
constexpr SteadyMs kReserveReadTimeoutMs = 2000;
// After an answer that closes the connection, what the client still sends is read and dropped for
// up to this long (or kLingerMaxBytes): closing a socket with unread data sends a reset, which can
// destroy the answer before the client has read it (a 413 or 503 sent before the body).
constexpr SteadyMs kLingerMs = 2000;
constexpr size_t kLingerMaxBytes = 1 << 20;

// What the connections share with the listener; thread-safe, and outlives every connection.
struct Shared {
  explicit Shared(size_t max_inflight_body_bytes) : budget(max_inflight_body_bytes) {}
  std::atomic<int> in_flight{0};  // requests handed over, not yet answered
  BodyBudget budget;
  std::atomic<uint64_t> bodies_refused{0}, slow_dropped{0};
  std::atomic<bool> stopping{false};
  // The TLS context new connections take (null: plain HTTP). Replaced by ReloadTls().
  std::shared_ptr<ssl::context> Tls() const {
    std::lock_guard lock(tls_mu);
    return tls;
  }
  void SetTls(std::shared_ptr<ssl::context> c) {
    std::lock_guard lock(tls_mu);
    tls = std::move(c);
  }
  mutable std::mutex tls_mu;
  std::shared_ptr<ssl::context> tls;  // guarded by tls_mu
  // Called on a connection's thread when a connection taken through the reserve has closed.
  std::function<void()> on_reserve_closed;
};

SteadyMs NowSteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class Session;

// One I/O thread's world. Touched only from its thread, except `mu_`-guarded `ready`.
struct Context {
  explicit Context(int idle_timeout_s) : ioc(1), idle_ms(int64_t{idle_timeout_s} * 1000) {}

  net::io_context ioc;  // first member: destroyed last, after everything that uses it
  net::steady_timer sweep{ioc};
  std::vector<std::weak_ptr<Session>> sessions;  // this thread's connections
  const int64_t idle_ms;

  std::mutex mu;
  std::vector<std::pair<std::shared_ptr<Session>, HttpResponse>> ready;  // guarded by mu
  bool drain_posted = false;                                             // guarded by mu
  bool stopped = false;                                                  // guarded by mu

  // From any thread: queue an answer for `session` (which lives on this context).
  void Deliver(std::shared_ptr<Session> session, HttpResponse response);
  void Drain();
  void Sweep();
  void ArmSweep() {
    sweep.expires_after(std::chrono::seconds(1));
    sweep.async_wait([this](beast::error_code ec) {
      if (ec) return;
      Sweep();
      ArmSweep();
    });
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<Context> ctx, Handler* handler,
          const HttpServerOptions& options, Shared* shared, bool from_reserve,
          std::shared_ptr<ssl::context> tls)
      : socket_(std::move(socket)),
        tls_ctx_(std::move(tls)),
        ctx_(std::move(ctx)),
        handler_(handler),
        options_(options),
        shared_(shared),
        from_reserve_(from_reserve) {}

  ~Session() {
    if (stream_) stream_->Cancel();  // a producer waiting for room must not wait forever
    if (from_reserve_) {
      // Its descriptor must be free before the listener takes the reserve back.
      beast::error_code ec;
      Sock().close(ec);
      if (!shared_->stopping && shared_->on_reserve_closed) shared_->on_reserve_closed();
    }
  }

  // On the context's thread.
  void Start() {
    ctx_->sessions.push_back(weak_from_this());
    beast::error_code ec;
    auto ep = socket_.remote_endpoint(ec);  // once per connection, not per request
    if (!ec) remote_ip_ = ep.address().to_string();
    if (!tls_ctx_) return Read();
    // TLS: the handshake first, within its own deadline (the sweep closes a stalled one).
    tls_.emplace(std::move(socket_), *tls_ctx_);
    deadline_ = NowSteadyMs() + int64_t{options_.tls_handshake_timeout_s} * 1000;
    tls_->async_handshake(ssl::stream_base::server,
                          [self = shared_from_this()](beast::error_code ec) {
                            self->deadline_ = kNoDeadline;
                            if (ec) {  // not TLS, or no common protocol: nothing to answer
                              beast::error_code ignored;
                              self->Sock().close(ignored);
                              return;
                            }
                            self->Read();
                          });
  }

  // The sweep: close when past the deadline (the pending operation ends with operation_aborted),
  // or when the request being read arrives too slowly.
  void CheckDeadline(SteadyMs now) {
    if (now < deadline_) return CheckRate(now);
    deadline_ = kNoDeadline;
    beast::error_code ec;
    Sock().close(ec);
    if (stream_) stream_->Cancel();  // (at Stop) a producer must not wait for this reader
  }

  void Write(HttpResponse r) {
    static constexpr std::string_view kCrlf = "\r\n";
    bool close = r.close || !keep_alive_ || from_reserve_;
    head_.clear();
    head_ += "HTTP/1.1 ";
    head_ += std::to_string(r.status);
    head_ += ' ';
    auto reason = http::obsolete_reason(static_cast<http::status>(r.status));
    head_.append(reason.data(), reason.size());
    head_ += "\r\nServer: touchpoint\r\n";
    auto header = [&](std::string_view name, std::string_view value) {
      // Values are ours or echo a parsed request header; never let one split the head.
      if (value.find_first_of("\r\n") != std::string_view::npos ||
          name.find_first_of("\r\n:") != std::string_view::npos)
        return;
      head_ += name;
      head_ += ": ";
      head_ += value;
      head_ += kCrlf;
    };
    if (!r.content_type.empty()) header("Content-Type", r.content_type);
    for (const auto& [k, v] : r.headers) header(k, v);
    head_ += r.static_headers;  // ours, static: checked where they are written
    const bool no_body = r.status / 100 == 1 || r.status == 204 || r.status == 304;
    const bool streamed = r.stream && !no_body;
    if (r.stream && !streamed) r.stream->Cancel();  // nothing may follow this status's head
    body_view_ = {};
    if (no_body) {
      r.body.clear();
      r.static_body = {};
    } else if (streamed) {
      head_ += "Transfer-Encoding: chunked\r\n";
    } else {
      head_ += "Content-Length: ";
      head_ += std::to_string(r.static_body.empty() ? r.body.size() : r.static_body.size());
      head_ += kCrlf;
    }
    if (close)
      head_ += "Connection: close\r\n";
    else if (http_10_)
      head_ += "Connection: keep-alive\r\n";
    head_ += kCrlf;
    close_after_ = close;
    if (streamed) {
      stream_ = std::move(r.stream);
      body_.clear();
      AppendChunk(body_, r.body);  // the first piece
    } else if (!r.static_body.empty()) {
      body_.clear();
      body_view_ = r.static_body;
    } else {
      body_ = std::move(r.body);
    }
    if (body_view_.empty()) body_view_ = body_;
    deadline_ = NowSteadyMs() + int64_t{kWriteTimeoutS} * 1000;
    std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(body_view_)};
    WithStream([&](auto& stream) {
      net::async_write(stream, buffers, [self = shared_from_this()](beast::error_code ec, size_t) {
        self->deadline_ = kNoDeadline;
        if (self->stream_) return ec ? self->EndStream(false) : self->PumpStream();
        if (ec || self->close_after_) return self->Close();
        self->Read();
      });
    });
  }

  std::atomic<int>* in_flight() const { return &shared_->in_flight; }

  // Streaming: write what the producer has queued, then come back for more; when it has nothing
  // yet, its next Push or Finish posts PumpStream to this connection's thread.
  void PumpStream() {
    if (!stream_) return;
    bool done = false, ok = true;
    // The callback keeps the connection alive while it waits for the producer (no operation is
    // pending on it then); the producer always ends with Finish(), which calls it.
    Context* ctx = ctx_.get();
    auto pieces = stream_->Take(done, ok, [self = shared_from_this(), ctx] {
      net::post(ctx->ioc, [self] { self->PumpStream(); });
    });
    if (pieces.empty() && !done) return;
    body_.clear();
    for (const auto& p : pieces) AppendChunk(body_, p);
    if (done && ok) body_ += "0\r\n\r\n";
    if (body_.empty()) return EndStream(ok);  // done, not ok, nothing left: end it here
    deadline_ = NowSteadyMs() + int64_t{kWriteTimeoutS} * 1000;
    WithStream([&](auto& stream) {
      net::async_write(stream, net::buffer(body_),
                       [self = shared_from_this(), done, ok](beast::error_code ec, size_t) {
                         self->deadline_ = kNoDeadline;
                         if (ec) return self->EndStream(false);
                         if (!done) return self->PumpStream();
                         self->EndStream(ok);
                       });
    });
  }

 private:
  // The socket under the connection (plain or under TLS).
  tcp::socket& Sock() { return tls_ ? tls_->next_layer() : socket_; }
  // Calls f with the stream to read and write: the TLS stream or the plain socket.
  template <class F>
  void WithStream(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(socket_);
  }

  static void AppendChunk(std::string& out, std::string_view piece) {
    if (piece.empty()) return;  // an empty chunk would end the body
    char size[20];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    out.append(size, static_cast<size_t>(n));
    out.append(piece);
    out += "\r\n";
  }

  // The stream is over: complete (read the next request) or not (cancel it, close).
  void EndStream(bool complete) {
    auto stream = std::move(stream_);
    if (!complete) {
      if (stream) stream->Cancel();
      return Close();
    }
    if (close_after_) return Close();
    Read();
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(16 * 1024);
    parser_->set_budget(&shared_->budget);
    const SteadyMs now = NowSteadyMs();
    deadline_ =
        now + (from_reserve_ ? std::min(ctx_->idle_ms, kReserveReadTimeoutMs) : ctx_->idle_ms);
    // The rate is measured from the request's first byte: now if it is already here (pipelined),
    // else from the first sweep that sees some.
    rate_window_start_ms_ = buffer_.size() > 0 ? now : 0;
    rate_window_bytes_ = 0;
    WithStream([&](auto& stream) {
      http::async_read(stream, buffer_, *parser_,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         self->deadline_ = kNoDeadline;
                         self->OnRead(ec);
                       });
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      HttpResponse refusal;
      const bool gone = ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
                        ec == net::error::connection_reset || ec == net::error::eof ||
                        ec == net::error::bad_descriptor || ec == ssl::error::stream_truncated ||
                        ec.category() == net::error::get_ssl_category();
      if (!gone) refusal = Refusal(ec, *parser_);
      parser_.reset();  // gives its body's memory back to the budget now
      if (gone) return Close();
      return Write(std::move(refusal));
    }
    keep_alive_ = parser_->keep_alive();
    http_10_ = parser_->version == 10;
    HttpRequest req = std::move(parser_->request);
    parser_.reset();
    req.remote_ip = remote_ip_;
    shared_->in_flight.fetch_add(1);
    // Called once, usually on the store's writer thread: it moves its reference to the
    // connection on (no reference count touched there) and reads no member of the connection,
    // whose memory another CPU last wrote.
    handler_->Handle(std::move(req),
                     [self = shared_from_this(), ctx = ctx_.get()](HttpResponse resp) mutable {
                       if (self) ctx->Deliver(std::move(self), std::move(resp));
                     });
  }

  // The answer to a request the parser stopped on (`ec`); it closes the connection.
  HttpResponse Refusal(beast::error_code ec, const RequestParser& parser) {
    HttpResponse r;
    r.close = true;
    if (parser.over_budget) {
      shared_->bodies_refused.fetch_add(1, std::memory_order_relaxed);
      r = handler_->Overloaded(
          parser.request, "max_inflight_body_bytes: request bodies in flight are at the limit of " +
                              std::to_string(shared_->budget.limit()) + " bytes; retry later");
      r.close = true;
      return r;
    }
    if (ec == http::error::body_limit) {
      r.status = 413;
      r.body = R"({"error":"body: larger than )" + std::to_string(options_.max_body_bytes) +
               R"( bytes"})";
    } else if (parser.refused_status != 0) {
      r.status = parser.refused_status;
      r.body = R"({"error":")" + parser.refused_reason + R"("})";
    } else if (ec == http::error::bad_transfer_encoding || ec == http::error::bad_content_length) {
      r.status = 400;
      r.body = R"({"error":"Content-Length, Transfer-Encoding: invalid, repeated or both given"})";
    } else {
      r.status = 400;
      r.body = R"({"error":"malformed HTTP request"})";
    }
    return r;
  }

  // A request (head and body) must keep arriving at options_.min_request_bytes_per_s, measured
  // over windows of min_request_rate_window_s from its first byte, so that a client cannot hold a
  // connection and its body's memory by trickling (or by a burst and then silence). Bytes held in
  // the read buffer count: they have arrived.
  void CheckRate(SteadyMs now) {
    if (!parser_ || options_.min_request_bytes_per_s == 0) return;
    const size_t got = buffer_.size() + parser_->bytes_received();
    if (rate_window_start_ms_ == 0) {
      if (got > 0) rate_window_start_ms_ = now, rate_window_bytes_ = 0;
      return;
    }
    const SteadyMs elapsed_ms = now - rate_window_start_ms_;
    if (elapsed_ms < int64_t{options_.min_request_rate_window_s} * 1000) return;
    const size_t arrived = got > rate_window_bytes_ ? got - rate_window_bytes_ : 0;
    if (arrived * 1000 >= options_.min_request_bytes_per_s * static_cast<size_t>(elapsed_ms)) {
      rate_window_start_ms_ = now;
      rate_window_bytes_ = got;
      return;
    }
    shared_->slow_dropped.fetch_add(1, std::memory_order_relaxed);
    deadline_ = kNoDeadline;
    beast::error_code ec;
    Sock().close(ec);
  }

  void Close() {
    beast::error_code ec;
    if (tls_) {
      // TLS: send close_notify, wait for the client's (or the linger deadline), then close.
      deadline_ = NowSteadyMs() + kLingerMs;
      tls_->async_shutdown([self = shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        self->Sock().shutdown(tcp::socket::shutdown_both, ignored);
        self->Sock().close(ignored);
      });
      return;
    }
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    deadline_ = NowSteadyMs() + kLingerMs;
    Linger(0);
  }

  // Reads and drops what the client still sends until it closes (see kLingerMs).
  void Linger(size_t dropped) {
    if (dropped > kLingerMaxBytes) {
      beast::error_code ec;
      socket_.close(ec);
      return;
    }
    socket_.async_read_some(buffer_.prepare(16 * 1024),
                            [self = shared_from_this(), dropped](beast::error_code ec, size_t n) {
                              if (!ec) self->Linger(dropped + n);
                            });
  }

  tcp::socket socket_;                     // plain HTTP; with TLS, moved into tls_ at Start()
  std::shared_ptr<ssl::context> tls_ctx_;  // null: plain HTTP
  std::optional<beast::ssl_stream<tcp::socket>> tls_;
  std::shared_ptr<Context> ctx_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  Handler* handler_;
  const HttpServerOptions& options_;
  Shared* shared_;
  const bool from_reserve_;  // taken through the descriptor reserve: one answer, then close
  SteadyMs rate_window_start_ms_ = 0;  // 0: no byte of the request seen yet
  size_t rate_window_bytes_ = 0;       // bytes received when the window started
  std::string remote_ip_;
  std::string head_;  // the response being written
  std::string body_;
  std::string_view body_view_;  // what is written after head_: body_, or a static body
  SteadyMs deadline_ = kNoDeadline;
  std::shared_ptr<BodyStream> stream_;  // the body being streamed, if any
  bool close_after_ = false;            // close once the response being written is out
  bool keep_alive_ = true;
  bool http_10_ = false;
};

void Context::Deliver(std::shared_ptr<Session> session, HttpResponse response) {
  bool post = false;
  {
    std::lock_guard lock(mu);
    if (stopped) {  // the server has stopped: nobody is left to write the answer
      if (response.stream) response.stream->Cancel();  // nor to read a streamed body
      return;
    }
    ready.emplace_back(std::move(session), std::move(response));
    if (!drain_posted) post = drain_posted = true;
  }
  if (post) net::post(ioc, [this] { Drain(); });
}

void Context::Drain() {
  std::vector<std::pair<std::shared_ptr<Session>, HttpResponse>> batch;
  {
    std::lock_guard lock(mu);
    batch.swap(ready);
    drain_posted = false;
  }
  for (auto& [session, response] : batch) {
    session->in_flight()->fetch_sub(1);
    session->Write(std::move(response));
  }
}

void Context::Sweep() {
  const SteadyMs now = NowSteadyMs();
  for (size_t i = 0; i < sessions.size();) {
    if (auto s = sessions[i].lock()) {
      s->CheckDeadline(now);
      ++i;
    } else {
      sessions[i] = std::move(sessions.back());
      sessions.pop_back();
    }
  }
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler* handler;
  std::unique_ptr<Shared> shared;  // before `contexts`: outlives the connections they hold
  std::vector<std::shared_ptr<Context>> contexts;
  size_t next_context = 0;
  std::optional<tcp::acceptor> acceptor;  // on contexts[0]
  std::vector<std::thread> threads;
  uint16_t port = 0;

  // Accepting, on contexts[0]'s thread (except the atomics, read by Stats()).
  std::optional<net::steady_timer> retry_timer;  // armed while accepting is paused
  SteadyMs retry_delay_ms = 0;                   // 0: not backing off
  int reserve_fd = -1;  // held so that one connection can be taken when descriptors run out
  SteadyMs last_error_log_ms = 0;
  uint64_t errors_not_logged = 0;
  std::atomic<uint64_t> accept_errors_fd{0}, accept_errors_memory{0}, accept_errors_other{0};
  std::atomic<uint64_t> reserve_accepts{0};
  std::atomic<bool> accept_paused{false};

  std::shared_ptr<Context> NextContext() { return contexts[next_context++ % contexts.size()]; }

  void StartSession(tcp::socket s, std::shared_ptr<Context> ctx, bool from_reserve) {
    beast::error_code nd;
    s.set_option(tcp::no_delay(true), nd);
    auto session = std::make_shared<Session>(std::move(s), ctx, handler, options, shared.get(),
                                             from_reserve, shared->Tls());
    net::post(ctx->ioc, [session] { session->Start(); });
  }

  void Accept() {
    auto ctx = NextContext();
    acceptor->async_accept(ctx->ioc, [this, ctx](beast::error_code ec, tcp::socket s) {
      if (shared->stopping) return;
      if (!ec) {
        retry_delay_ms = 0;
        accept_paused = false;
        StartSession(std::move(s), ctx, false);
      } else if (ec != net::error::operation_aborted) {
        return OnAcceptError(ec);
      }
      if (acceptor->is_open()) Accept();
    });
  }

  // accept() failing again at once would spin (the pending connection stays in the backlog and
  // keeps the socket readable): for a want of descriptors or memory, pause and retry after a
  // delay doubling from 10 ms to 1 s; log at most once a second.
  void OnAcceptError(beast::error_code ec) {
    const int e = ec.category() == boost::system::system_category() ? ec.value() : 0;
    const bool fd_limit = e == EMFILE || e == ENFILE;
    const bool memory = e == ENOBUFS || e == ENOMEM;
    (fd_limit ? accept_errors_fd
     : memory ? accept_errors_memory
              : accept_errors_other)
        .fetch_add(1, std::memory_order_relaxed);
    // Errors of one connection (it was reset before being accepted, ...): go on at once.
    const bool transient = e == ECONNABORTED || e == EPROTO || e == EINTR || e == EPERM;
    if (fd_limit) AcceptThroughReserve();
    retry_delay_ms = transient ? 0 : std::clamp<SteadyMs>(retry_delay_ms * 2, 10, 1000);
    LogAcceptError(ec);
    if (retry_delay_ms == 0) return Accept();
    accept_paused = true;
    retry_timer->expires_after(std::chrono::milliseconds(retry_delay_ms));
    // Also run when cancelled: a connection taken through the reserve has closed, retry now.
    retry_timer->async_wait([this](beast::error_code) {
      if (shared->stopping || !acceptor->is_open()) return;
      TakeReserve();
      Accept();
    });
  }

  void LogAcceptError(beast::error_code ec) {
    const SteadyMs now = NowSteadyMs();
    if (last_error_log_ms != 0 && now - last_error_log_ms < 1000) {
      ++errors_not_logged;
      return;
    }
    spdlog::warn("accept failed: {}; {} more since the last such message; retrying in {} ms",
                 ec.message(), errors_not_logged, retry_delay_ms);
    last_error_log_ms = now;
    errors_not_logged = 0;
  }

  // Out of descriptors: give the reserve up to take one pending connection, answered once with
  // `Connection: close` (so a health check still gets through). The reserve is taken back when
  // that connection has closed (ReserveClosed).
  void AcceptThroughReserve() {
    if (reserve_fd < 0) return;
    ::close(reserve_fd);
    reserve_fd = -1;
    auto ctx = NextContext();
    beast::error_code ec;
    tcp::socket s(ctx->ioc);
    acceptor->accept(s, ec);  // non-blocking: would_block when none is pending
    if (ec) return TakeReserve();
    reserve_accepts.fetch_add(1, std::memory_order_relaxed);
    StartSession(std::move(s), ctx, true);
  }

  void TakeReserve() {
    if (reserve_fd < 0) reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }

  // On any thread: a connection taken through the reserve has closed; its descriptor is free.
  void ReserveClosed() {
    net::post(contexts[0]->ioc, [this] {
      if (shared->stopping) return;
      if (accept_paused) {
        retry_timer->cancel();  // its handler takes the reserve back and accepts
      } else {
        TakeReserve();
      }
    });
  }
};

HttpServer::HttpServer(HttpServerOptions options, Handler* handler) : impl_(new Impl) {
  impl_->options = std::move(options);
  impl_->handler = handler;
  impl_->shared = std::make_unique<Shared>(impl_->options.max_inflight_body_bytes);
}

HttpServer::~HttpServer() {
  Stop();
  if (impl_->reserve_fd >= 0) ::close(impl_->reserve_fd);
}

bool HttpServer::tls() const {
  return !impl_->options.tls_cert_file.empty() || !impl_->options.tls_key_file.empty();
}

Status HttpServer::ReloadTls() {
  if (!tls()) return InvalidArgument("--tls-cert", ": TLS is not configured");
  auto ctx = MakeServerTlsContext(impl_->options.tls_cert_file, impl_->options.tls_key_file);
  if (!ctx.ok()) return ctx.status();
  impl_->shared->SetTls(std::move(*ctx));
  return OkStatus();
}

Status HttpServer::Start() {
  if (tls()) {
    if (Status st = ReloadTls(); !st.ok()) return st;
  }
  const int n = std::max(1, impl_->options.threads);
  for (int i = 0; i < n; ++i)
    impl_->contexts.push_back(std::make_shared<Context>(impl_->options.idle_timeout_s));
  beast::error_code ec;
  auto addr = net::ip::make_address(impl_->options.host, ec);
  if (ec) return InvalidArgument("--listen", ": not an IP address: " + impl_->options.host);
  tcp::endpoint ep(addr, impl_->options.port);
  impl_->acceptor.emplace(impl_->contexts[0]->ioc);
  impl_->acceptor->open(ep.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(ep, ec);
  if (!ec) impl_->acceptor->listen(net::socket_base::max_listen_connections, ec);
  // The synchronous accept through the reserve must not wait for a connection.
  if (!ec) impl_->acceptor->non_blocking(true, ec);
  if (ec)
    return Status(StatusCode::kUnavailable, "cannot listen on " + impl_->options.host + ":" +
                                                std::to_string(impl_->options.port) + ": " +
                                                ec.message());
  impl_->port = impl_->acceptor->local_endpoint().port();
  impl_->retry_timer.emplace(impl_->contexts[0]->ioc);
  impl_->TakeReserve();
  impl_->shared->on_reserve_closed = [impl = impl_.get()] { impl->ReserveClosed(); };
  impl_->Accept();
  for (auto& ctx : impl_->contexts) {
    ctx->ArmSweep();  // also keeps run() from returning while there is nothing else to do
    impl_->threads.emplace_back([c = ctx.get(), i = impl_->threads.size()] {
      pthread_setname_np(pthread_self(), ("tp-http-" + std::to_string(i)).c_str());
      c->ioc.run();
    });
  }
  return OkStatus();
}

uint16_t HttpServer::port() const { return impl_->port; }

HttpServerStats HttpServer::Stats() const {
  HttpServerStats st;
  const auto relaxed = std::memory_order_relaxed;
  st.body_bytes_in_flight = impl_->shared->budget.used();
  st.body_bytes_limit = impl_->shared->budget.limit();
  st.bodies_refused = impl_->shared->bodies_refused.load(relaxed);
  st.slow_requests_dropped = impl_->shared->slow_dropped.load(relaxed);
  st.accept_errors_fd_limit = impl_->accept_errors_fd.load(relaxed);
  st.accept_errors_memory = impl_->accept_errors_memory.load(relaxed);
  st.accept_errors_other = impl_->accept_errors_other.load(relaxed);
  st.reserve_accepts = impl_->reserve_accepts.load(relaxed);
  st.accept_paused = impl_->accept_paused.load(relaxed);
  return st;
}

void HttpServer::Stop() {
  if (!impl_ || impl_->threads.empty()) return;
  impl_->shared->stopping = true;
  net::post(impl_->contexts[0]->ioc, [this] {
    beast::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
    if (impl_->retry_timer) impl_->retry_timer->cancel();
  });
  // Drain: answers owed to clients (waiting on a commit) are still delivered.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl_->shared->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the last writes flush
  for (auto& ctx : impl_->contexts) ctx->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  for (auto& ctx : impl_->contexts) {
    std::lock_guard lock(ctx->mu);
    ctx->stopped = true;  // answers arriving from now on are dropped
    for (auto& [session, response] : ctx->ready)
      if (response.stream) response.stream->Cancel();
    ctx->ready.clear();
  }
  // Close what is still open and let the aborted operations finish here, so that no handler
  // (holding its connection, which holds its context) is left inside a context.
  impl_->acceptor.reset();
  impl_->retry_timer.reset();
  for (auto& ctx : impl_->contexts) {
    ctx->ioc.restart();
    ctx->sweep.cancel();
    ctx->Sweep();  // drops expired entries
    for (auto& weak : ctx->sessions)
      if (auto s = weak.lock()) s->CheckDeadline(INT64_MAX);
    ctx->ioc.run();
  }
}

}  // namespace touchpoint::server
