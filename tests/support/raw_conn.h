#pragma once
// A raw loopback TCP connection for tests that need to send bytes no HTTP client would (partial
// heads, pipelined requests, oversized bodies) or to read the response exactly as sent.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace touchpoint::testing {

class RawConn {
 public:
  explicit RawConn(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawConn() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& s) {
    ASSERT_EQ(::send(fd_, s.data(), s.size(), 0), ssize_t(s.size()));
  }
  // Sends what the socket takes without waiting (and without SIGPIPE once the server has
  // closed); returns how many bytes, 0 when none or on an error.
  size_t SendSome(std::string_view s) {
    ssize_t k = ::send(fd_, s.data(), s.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    return k > 0 ? static_cast<size_t>(k) : 0;
  }
  int fd() const { return fd_; }
  // Reads until `n` complete responses (by Content-Length; no body for 204/304) or EOF/timeout.
  std::string ReadResponses(int n, int timeout_ms = 5000) {
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (CountComplete(got) < n) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) break;
      char buf[4096];
      ssize_t k = ::recv(fd_, buf, sizeof buf, 0);
      if (k <= 0) {
        eof_ = true;
        break;
      }
      got.append(buf, static_cast<size_t>(k));
    }
    return got;
  }
  // True when the server closes the connection within `timeout_ms`.
  bool ClosedWithin(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        char buf[256];
        if (::recv(fd_, buf, sizeof buf, 0) <= 0) return true;
      }
    }
    return false;
  }
  // Everything until the server closes the connection (or `timeout_ms` passes).
  std::string ReadAll(int timeout_ms = 5000) { return ReadResponses(INT32_MAX, timeout_ms); }
  bool eof() const { return eof_; }

  static int CountComplete(const std::string& s) {
    int n = 0;
    size_t pos = 0;
    for (;;) {
      size_t end = s.find("\r\n\r\n", pos);
      if (end == std::string::npos) return n;
      std::string head = s.substr(pos, end - pos);
      size_t len = 0;
      size_t cl = head.find("Content-Length: ");
      if (cl != std::string::npos) len = std::stoul(head.substr(cl + 16));
      if (s.size() < end + 4 + len) return n;
      pos = end + 4 + len;
      ++n;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
};

}  // namespace touchpoint::testing
