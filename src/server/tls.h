#pragma once
// TLS contexts for the listener and the client (OpenSSL through Asio). Internal to server/: the
// Asio types do not leave it.
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>
#include <string>

#include "core/status.h"
#include "server/asio.h"

namespace touchpoint::server {

// A server context: TLS 1.2 and 1.3 only, the certificate chain and private key from PEM files.
// Errors name the file and what is wrong with it (unreadable, not PEM, key not matching).
StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file);

// A client context that verifies the server: the system's trusted authorities (and OpenSSL's
// SSL_CERT_FILE / SSL_CERT_DIR), plus `ca_file` when given. The host name is checked per
// connection (SetClientHostName).
StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(
    const std::string& ca_file);

}  // namespace touchpoint::server
