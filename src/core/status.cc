#include "core/status.h"

namespace touchpoint {

std::string Status::ToString() const {
  if (ok()) return "OK";
  return message_;
}

}  // namespace touchpoint
