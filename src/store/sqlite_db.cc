#include "store/sqlite_db.h"

#include <mutex>

namespace touchpoint::store {

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::Bind(int idx, int64_t v) {
  sqlite3_bind_int64(stmt_, idx, v);
  return *this;
}
Statement& Statement::Bind(int idx, double v) {
  sqlite3_bind_double(stmt_, idx, v);
  return *this;
}
Statement& Statement::Bind(int idx, std::string_view v) {
  sqlite3_bind_text(stmt_, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindStatic(int idx, std::string_view v) {
  sqlite3_bind_text(stmt_, idx, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}
Statement& Statement::BindNull(int idx) {
  sqlite3_bind_null(stmt_, idx);
  return *this;
}

bool Statement::Step(Status* status) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE && status)
    *status = Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return false;
}

Status Statement::Run() {
  int rc;
  while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
  }
  Status st;
  if (rc != SQLITE_DONE) st = Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  Reset();
  return st;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string_view Statement::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string_view(reinterpret_cast<const char*>(p),
                          static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

namespace {

// Process-wide settings, before SQLite's first use. Without memory statistics SQLite takes no
// global mutex around each of its allocations (we never read them): a few per cent of an insert.
// Should SQLite already be initialized (by something else in the process), this changes nothing.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

StatusOr<Database> Database::Open(const std::string& path, bool synchronous_full) {
  ConfigureSqliteOnce();
  Database d;
  int rc =
      sqlite3_open_v2(path.c_str(), &d.db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = d.db_ ? sqlite3_errmsg(d.db_) : "out of memory";
    return Internal("sqlite: cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(d.db_, 10000);
  // Big pages for a new database (ignored for an existing one): the WAL is written a page at a
  // time (two writes per page), and the events table is an append-only log of ~0.5 KB rows.
  // 16 KiB measured best with bench/http_bench.sh (4 KiB: 175k events/s; 16 KiB: 199k; 64 KiB:
  // no better for batches and slower for single-event commits).
  TP_RETURN_IF_ERROR(d.Exec("PRAGMA page_size=16384"));  // EventStore::kPageBytes
  // A new database gives the pages of deleted rows back to the file system on request (the
  // store deletes sealed rows, then runs incremental_vacuum); before the WAL mode is set, which
  // writes the first page and fixes the mode. Only for a new (empty) file: on an existing one
  // the pragma writes a transaction, which a read-only look at a damaged log must not do.
  {
    auto pages = d.Prepare("PRAGMA page_count");
    if (!pages.ok()) return pages.status();
    const bool empty = pages->Step() && pages->Int(0) == 0;
    pages = Statement();
    if (empty) TP_RETURN_IF_ERROR(d.Exec("PRAGMA auto_vacuum=INCREMENTAL"));
  }
  TP_RETURN_IF_ERROR(d.Exec("PRAGMA journal_mode=WAL"));
  TP_RETURN_IF_ERROR(
      d.Exec(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  TP_RETURN_IF_ERROR(d.Exec("PRAGMA foreign_keys=ON"));
  return d;
}

Status Database::Exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Internal("sqlite: " + msg);
  }
  return OkStatus();
}

StatusOr<Statement> Database::Prepare(std::string_view sql) const {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
  return Statement(db_, stmt);
}

}  // namespace touchpoint::store
