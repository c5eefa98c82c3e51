// Catalog and spend uploads (POST /api/v1/catalog, /api/v1/spend, `touchpoint import`): every
// input goes to each parser, JSON and CSV, and to the RFC 4180 splitter under them.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format/catalog_file.h"
#include "fuzz_checks.h"

namespace touchpoint::fuzz {
namespace {

void CheckCatalog(const StatusOr<Catalog>& cat) {
  if (!cat.ok()) return;
  TP_FUZZ_CHECK(format::ValidateCatalog(cat.value()).ok());
  CheckCatalogRoundTrip(cat.value());
}

void CheckSpend(const StatusOr<std::vector<SpendRow>>& rows) {
  if (!rows.ok()) return;
  for (const auto& r : rows.value()) {
    TP_FUZZ_CHECK(!r.ad_id.empty());
    TP_FUZZ_CHECK(std::isfinite(r.spend) && r.spend >= 0);
    TP_FUZZ_CHECK(r.day_ms % kDayMs == 0);
  }
}

}  // namespace
}  // namespace touchpoint::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace touchpoint;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  fuzz::CheckCatalog(format::ParseCatalogJson(body));
  fuzz::CheckCatalog(format::ParseCatalogCsv(body));
  fuzz::CheckCatalog(format::ParseCatalog(body));
  fuzz::CheckSpend(format::ParseSpendCsv(body));
  fuzz::CheckSpend(format::ParseSpendJson(body));
  fuzz::CheckSpend(format::ParseSpend(body));
  if (auto rows = format::ParseCsv(body); rows.ok()) {
    size_t bytes = 0;
    for (const auto& row : *rows) {
      TP_FUZZ_CHECK(!row.empty());
      for (const auto& field : row) bytes += field.size();
    }
    // Quotes and separators are dropped, never invented.
    TP_FUZZ_CHECK(bytes <= body.size());
  }
  return 0;
}
