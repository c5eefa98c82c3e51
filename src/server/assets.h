#pragma once
// Static files from web/public, embedded in the binary at build time (cmake/embed_assets.cmake).
#include <string_view>
#include <vector>

namespace touchpoint::server {

struct EmbeddedAsset {
  std::string_view path;  // "/tp.js", "/index.html", ...
  std::string_view data;
};

const std::vector<EmbeddedAsset>& EmbeddedAssets();
const EmbeddedAsset* FindAsset(std::string_view path);
std::string_view ContentTypeFor(std::string_view path);

}  // namespace touchpoint::server
