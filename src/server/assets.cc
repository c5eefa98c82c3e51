#include "server/assets.h"

namespace touchpoint::server {

const EmbeddedAsset* FindAsset(std::string_view path) {
  for (const auto& a : EmbeddedAssets())
    if (a.path == path) return &a;
  return nullptr;
}

std::string_view ContentTypeFor(std::string_view path) {
  auto ends = [&](std::string_view s) {
    return path.size() >= s.size() && path.substr(path.size() - s.size()) == s;
  };
  if (ends(".js") || ends(".mjs")) return "application/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".json")) return "application/json";
  if (ends(".gz")) return "application/gzip";
  return "application/octet-stream";
}

}  // namespace touchpoint::server
