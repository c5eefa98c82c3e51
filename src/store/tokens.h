#pragma once
// Access tokens (a pixel's Events API tokens and the admin tokens), kept as HMAC-SHA256 digests
// only: the database never holds a token in clear (docs/operations.md#security).
//
// The HMAC key is 32 random bytes made when the database is created (meta key `token_key`).
// Tokens are 160-bit (pixel) or 192-bit (admin) random strings, so a stolen database cannot be
// brute-forced back to them with or without the key; the key only makes the digests of one
// database useless against another. A token is looked up by its digest, so the time a lookup
// takes depends on the digest, never on how much of a guessed token is right.
//
// A token is valid until its expiry (0: none). Issuing a token with rotation gives the owner's
// other tokens a grace period, after which they stop working; expired tokens stay in the table
// (so that a rotated admin token handed to `serve` again is recognised and refused).
//
// Thread-safe: lookups take a shared lock on the in-memory map; changes are written to the
// database (through the connection the caller passes, serialised by the caller) before the map.

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/sqlite_db.h"

namespace touchpoint::store {

enum class TokenKind : uint8_t { kPixel = 0, kAdmin = 1 };

struct TokenInfo {
  std::string prefix;  // the token's first kPrefixChars characters, to tell tokens apart
  int64_t created_ms = 0;
  int64_t expires_ms = 0;  // 0: no expiry

  bool ValidAt(int64_t now_ms) const { return expires_ms == 0 || now_ms < expires_ms; }
};

struct IssueOptions {
  // The owner's other tokens stay valid this long after the new one is issued (0: they stop at
  // once: a revocation). Tokens that would expire sooner keep their expiry.
  int64_t grace_ms = int64_t{24} * 3600 * 1000;
  // Leave the owner's other tokens as they are (an extra token, e.g. for a second backend).
  bool keep_existing = false;
  // The new token's own lifetime (0: no expiry).
  int64_t ttl_ms = 0;
};

struct IssuedToken {
  std::string token;  // in clear: shown once, never stored
  TokenInfo info;
  std::vector<TokenInfo> previous;  // the owner's other tokens still valid, with their expiry
};

class TokenTable {
 public:
  static constexpr size_t kPrefixChars = 8;

  // Creates the table and the key when missing, moves clear tokens of an older database (a
  // `pixels.access_token` column) into the table as digests, rebuilds `pixels` without them
  // with secure_delete on, and truncates the WAL, so that no clear token is left in the files.
  // Then loads every token.
  Status Open(Database& db);

  // A new random token for this kind of owner (pixel: 40 hex digits; admin: "tpa_" + 48).
  static std::string NewToken(TokenKind kind);

  // Stores `token` for `owner` (a pixel id; "" for admin tokens) as a digest and applies the
  // rotation rule to the owner's other tokens. `db` is the caller's connection (serialised).
  StatusOr<IssuedToken> Issue(Database& db, TokenKind kind, std::string_view owner,
                              std::string token, const IssueOptions& options, int64_t now_ms);

  struct Found {
    TokenKind kind;
    std::string owner;
    TokenInfo info;
  };
  // The token's entry whether or not it expired; nullopt when it was never issued.
  std::optional<Found> Find(std::string_view token) const;
  // The owner of a valid token of this kind ("" for an admin token); nullopt otherwise.
  std::optional<std::string> Check(std::string_view token, TokenKind kind, int64_t now_ms) const;
  // The owner's tokens, valid or not, oldest first.
  std::vector<TokenInfo> List(TokenKind kind, std::string_view owner) const;
  bool HasAny(TokenKind kind) const;

 private:
  std::string Digest(std::string_view token) const;

  struct Entry {
    TokenKind kind;
    std::string owner;
    TokenInfo info;
  };
  mutable std::shared_mutex mu_;
  std::string key_;                                   // set once by Open
  std::unordered_map<std::string, Entry> by_digest_;  // raw 32-byte digests
};

}  // namespace touchpoint::store
