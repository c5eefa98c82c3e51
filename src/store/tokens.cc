#include "store/tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>

namespace touchpoint::store {

namespace {

constexpr const char* kTokenSchema = R"sql(
CREATE TABLE IF NOT EXISTS tokens(
  digest TEXT PRIMARY KEY,          -- HMAC-SHA256(token_key, token), hex
  kind INTEGER NOT NULL,            -- 0 pixel (Events API), 1 admin
  owner TEXT NOT NULL,              -- the pixel id; '' for admin tokens
  prefix TEXT NOT NULL,             -- the token's first characters, to tell tokens apart
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL DEFAULT 0  -- 0: no expiry
);
)sql";

constexpr const char* kKeyMeta = "token_key";
constexpr char kHex[] = "0123456789abcdef";

std::string Hex(const unsigned char* data, size_t n) {
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 15];
  }
  return out;
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) std::abort();  // no entropy
  return Hex(buf.data(), buf.size());
}

std::string PrefixOf(std::string_view token) {
  return std::string(token.substr(0, TokenTable::kPrefixChars));
}

Status InsertRow(Database& db, std::string_view digest, TokenKind kind, std::string_view owner,
                 const TokenInfo& info) {
  auto ins = db.Prepare(
      "INSERT INTO tokens(digest, kind, owner, prefix, created_ms, expires_ms) "
      "VALUES (?,?,?,?,?,?)");
  if (!ins.ok()) return ins.status();
  ins->Bind(1, digest).Bind(2, int64_t{static_cast<int>(kind)}).Bind(3, owner);
  ins->Bind(4, std::string_view(info.prefix)).Bind(5, info.created_ms).Bind(6, info.expires_ms);
  return ins->Run();
}

}  // namespace

std::string TokenTable::NewToken(TokenKind kind) {
  return kind == TokenKind::kAdmin ? "tpa_" + RandomHex(24) : RandomHex(20);
}

std::string TokenTable::Digest(std::string_view token) const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(), md, &len);
  return Hex(md, len);
}

Status TokenTable::Open(Database& db) {
  TP_RETURN_IF_ERROR(db.Exec(kTokenSchema));
  {
    auto key = db.Prepare("SELECT value FROM meta WHERE key = ?");
    if (!key.ok()) return key.status();
    key->Bind(1, std::string_view(kKeyMeta));
    if (key->Step()) key_ = std::string(key->Text(0));
  }
  if (key_.empty()) {
    key_ = RandomHex(32);
    auto put = db.Prepare("INSERT INTO meta(key, value) VALUES (?, ?)");
    if (!put.ok()) return put.status();
    put->Bind(1, std::string_view(kKeyMeta)).Bind(2, std::string_view(key_));
    TP_RETURN_IF_ERROR(put->Run());
  }

  // An older database kept each pixel's token in clear in pixels.access_token.
  auto old = db.Prepare("SELECT 1 FROM pragma_table_info('pixels') WHERE name = 'access_token'");
  if (!old.ok()) return old.status();
  if (old->Step()) {
    old->Reset();
    // Freed pages are zeroed, not just unlinked, so the clear tokens leave the file.
    TP_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete = ON"));
    TP_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    auto migrate = [&]() -> StatusOr<int> {
      auto q = db.Prepare("SELECT pixel_id, access_token, created_ms FROM pixels");
      if (!q.ok()) return q.status();
      int moved = 0;
      Status st;
      while (q->Step(&st)) {
        std::string_view token = q->Text(1);
        TokenInfo info{PrefixOf(token), q->Int(2), 0};
        TP_RETURN_IF_ERROR(InsertRow(db, Digest(token), TokenKind::kPixel, q->Text(0), info));
        ++moved;
      }
      TP_RETURN_IF_ERROR(st);
      TP_RETURN_IF_ERROR(db.Exec(
          "CREATE TABLE pixels_new(pixel_id TEXT PRIMARY KEY, name TEXT NOT NULL, "
          "created_ms INTEGER NOT NULL, allowed_origins TEXT NOT NULL DEFAULT '');"
          "INSERT INTO pixels_new SELECT pixel_id, name, created_ms, allowed_origins FROM pixels;"
          "DROP TABLE pixels;"
          "ALTER TABLE pixels_new RENAME TO pixels;"));
      return moved;
    };
    auto moved = migrate();
    if (!moved.ok()) {
      (void)db.Exec("ROLLBACK");
      return Internal("moving clear pixel tokens to digests: " + moved.status().message());
    }
    TP_RETURN_IF_ERROR(db.Exec("COMMIT"));
    // The WAL holds the old pages until it is copied back and emptied.
    TP_RETURN_IF_ERROR(db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    TP_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete = OFF"));
    spdlog::info("moved {} pixel access tokens out of clear text (kept as HMAC digests)", *moved);
  }

  auto q = db.Prepare("SELECT digest, kind, owner, prefix, created_ms, expires_ms FROM tokens");
  if (!q.ok()) return q.status();
  std::unique_lock lock(mu_);
  Status st;
  while (q->Step(&st)) {
    Entry e{q->Int(1) == 1 ? TokenKind::kAdmin : TokenKind::kPixel, std::string(q->Text(2)),
            TokenInfo{std::string(q->Text(3)), q->Int(4), q->Int(5)}};
    by_digest_.emplace(std::string(q->Text(0)), std::move(e));
  }
  return st;
}

StatusOr<IssuedToken> TokenTable::Issue(Database& db, TokenKind kind, std::string_view owner,
                                        std::string token, const IssueOptions& options,
                                        int64_t now_ms) {
  IssuedToken out;
  out.info = TokenInfo{PrefixOf(token), now_ms, options.ttl_ms > 0 ? now_ms + options.ttl_ms : 0};
  const std::string digest = Digest(token);
  // The new expiry of each of the owner's other tokens that the rotation shortens.
  std::vector<std::pair<std::string, int64_t>> shortened;
  {
    std::shared_lock lock(mu_);
    if (by_digest_.count(digest)) return Internal("token: already issued");
    const int64_t until = now_ms + std::max<int64_t>(options.grace_ms, 0);
    for (const auto& [d, e] : by_digest_) {
      if (e.kind != kind || e.owner != owner || !e.info.ValidAt(now_ms)) continue;
      TokenInfo info = e.info;
      if (!options.keep_existing && (info.expires_ms == 0 || info.expires_ms > until)) {
        info.expires_ms = until;
        shortened.emplace_back(d, until);
      }
      out.previous.push_back(info);
    }
  }
  TP_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  Status st = InsertRow(db, digest, kind, owner, out.info);
  if (st.ok()) {
    auto upd = db.Prepare("UPDATE tokens SET expires_ms = ? WHERE digest = ?");
    st = upd.status();
    for (size_t i = 0; st.ok() && i < shortened.size(); ++i) {
      upd->Bind(1, shortened[i].second).Bind(2, std::string_view(shortened[i].first));
      st = upd->Run();
    }
  }
  if (st.ok()) st = db.Exec("COMMIT");
  if (!st.ok()) {
    (void)db.Exec("ROLLBACK");
    return st;
  }
  std::unique_lock lock(mu_);
  for (const auto& [d, until] : shortened) by_digest_[d].info.expires_ms = until;
  by_digest_.emplace(digest, Entry{kind, std::string(owner), out.info});
  std::sort(out.previous.begin(), out.previous.end(),
            [](const TokenInfo& a, const TokenInfo& b) { return a.created_ms < b.created_ms; });
  out.token = std::move(token);
  return out;
}

std::optional<TokenTable::Found> TokenTable::Find(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  const std::string digest = Digest(token);
  std::shared_lock lock(mu_);
  auto it = by_digest_.find(digest);
  if (it == by_digest_.end()) return std::nullopt;
  // The map's key compare already matched; the digest is a keyed hash, so how long that took
  // says nothing about the token. Compared once more in constant time all the same.
  if (CRYPTO_memcmp(it->first.data(), digest.data(), digest.size()) != 0) return std::nullopt;
  return Found{it->second.kind, it->second.owner, it->second.info};
}

std::optional<std::string> TokenTable::Check(std::string_view token, TokenKind kind,
                                             int64_t now_ms) const {
  auto found = Find(token);
  if (!found || found->kind != kind || !found->info.ValidAt(now_ms)) return std::nullopt;
  return std::move(found->owner);
}

std::vector<TokenInfo> TokenTable::List(TokenKind kind, std::string_view owner) const {
  std::vector<TokenInfo> out;
  std::shared_lock lock(mu_);
  for (const auto& [d, e] : by_digest_)
    if (e.kind == kind && e.owner == owner) out.push_back(e.info);
  std::sort(out.begin(), out.end(), [](const TokenInfo& a, const TokenInfo& b) {
    return a.created_ms < b.created_ms || (a.created_ms == b.created_ms && a.prefix < b.prefix);
  });
  return out;
}

bool TokenTable::HasAny(TokenKind kind) const {
  std::shared_lock lock(mu_);
  return std::any_of(by_digest_.begin(), by_digest_.end(),
                     [kind](const auto& kv) { return kv.second.kind == kind; });
}

}  // namespace touchpoint::store
