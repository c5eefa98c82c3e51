#include "server/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <filesystem>

namespace touchpoint::server {

namespace ssl = boost::asio::ssl;

namespace {

// The most recent OpenSSL error as text (cleared), or `fallback`.
std::string OpenSslError(const boost::system::error_code& ec) {
  std::string what = ec.message();
  unsigned long e = ERR_get_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    what = buf;
  }
  ERR_clear_error();
  return what;
}

Status CheckReadable(const char* flag, const std::string& file) {
  std::error_code ec;
  if (file.empty()) return InvalidArgument(flag, ": no file given");
  if (!std::filesystem::is_regular_file(file, ec))
    return InvalidArgument(flag, ": " + file + ": not a readable file");
  return OkStatus();
}

}  // namespace

StatusOr<std::shared_ptr<ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                             const std::string& key_file) {
  if (Status st = CheckReadable("--tls-cert", cert_file); !st.ok()) return st;
  if (Status st = CheckReadable("--tls-key", key_file); !st.ok()) return st;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec)
    return InvalidArgument("--tls-cert", ": " + cert_file + ": not a PEM certificate chain (" +
                                             OpenSslError(ec) + ")");
  // The key is read first, so that "not a key" and "not this certificate's key" are told apart.
  EVP_PKEY* key = nullptr;
  if (BIO* bio = BIO_new_file(key_file.c_str(), "r")) {
    key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
  }
  if (key == nullptr)
    return InvalidArgument("--tls-key",
                           ": " + key_file + ": not a PEM private key (" + OpenSslError(ec) + ")");
  const bool matches = SSL_CTX_use_PrivateKey(ctx->native_handle(), key) == 1 &&
                       SSL_CTX_check_private_key(ctx->native_handle()) == 1;
  EVP_PKEY_free(key);
  ERR_clear_error();
  if (!matches)
    return InvalidArgument("--tls-key",
                           ": " + key_file + ": does not match the certificate in " + cert_file);
  return ctx;
}

StatusOr<std::shared_ptr<ssl::context>> MakeClientTlsContext(const std::string& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec) return Unavailable("TLS: cannot read the system's trusted authorities: " + ec.message());
  if (!ca_file.empty()) {
    if (Status st = CheckReadable("--ca-file", ca_file); !st.ok()) return st;
    ctx->load_verify_file(ca_file, ec);
    if (ec)
      return InvalidArgument("--ca-file",
                             ": " + ca_file + ": not a PEM certificate (" + OpenSslError(ec) + ")");
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace touchpoint::server
