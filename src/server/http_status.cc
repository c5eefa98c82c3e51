#include "server/http_status.h"

namespace touchpoint::server {

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kResourceExhausted:
      return 503;  // with Retry-After
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

int TikTokCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return 40001;
    case StatusCode::kNotFound:
    case StatusCode::kInvalidArgument:
    case StatusCode::kTooLarge:
      return 40002;
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnavailable:
      return 40100;
    case StatusCode::kInternal:
      return 50002;
  }
  return 50002;
}

}  // namespace touchpoint::server
