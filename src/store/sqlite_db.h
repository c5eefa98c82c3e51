#pragma once
// A thin RAII layer over the SQLite C API: a connection and prepared statements.
// Errors come back as Status with SQLite's message.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace touchpoint::store {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int idx, int64_t v);
  Statement& Bind(int idx, double v);
  Statement& Bind(int idx, std::string_view v);
  // Binds without copying: `v` must stay valid until the statement is reset.
  Statement& BindStatic(int idx, std::string_view v);
  Statement& BindNull(int idx);
  // Steps once: true when a row is available; false when done (status says whether it failed).
  bool Step(Status* status = nullptr);
  Status Run();  // steps to completion, then resets
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string_view Text(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  Database() = default;
  Database(Database&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  Database& operator=(Database&& o) noexcept {
    std::swap(db_, o.db_);
    return *this;
  }
  ~Database();

  // Opens (creating if needed) with WAL journaling and the given synchronous level.
  static StatusOr<Database> Open(const std::string& path, bool synchronous_full);
  Status Exec(std::string_view sql);
  StatusOr<Statement> Prepare(std::string_view sql) const;
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  std::string ErrorMessage() const { return sqlite3_errmsg(db_); }
  sqlite3* raw() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace touchpoint::store
