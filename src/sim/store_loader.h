#pragma once
// --to-data DIR: bulk-loads the simulated world straight into a data directory, for benchmarks
// and `make run`. Events go through the same parsers as over HTTP (so the planted invalid ones
// are rejected with the server's own messages), then to EventStore in large batches, with the
// next batch parsed while the store commits the previous one. No fsync per commit: a bulk load
// that is cut short is simply run again.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/time.h"
#include "ingest/limits.h"
#include "sim/delivery_summary.h"
#include "sim/simulator.h"
#include "store/event_store.h"

namespace touchpoint::sim {

class StoreLoader final : public DeliverySink {
 public:
  // Opens (creating) the data directory and finds the pixel named `pixel_name`, creating it if
  // there is none.
  static StatusOr<std::unique_ptr<StoreLoader>> Open(const std::string& data_dir,
                                                     const std::string& pixel_name);
  ~StoreLoader() override;

  const std::string& pixel_id() const { return pixel_id_; }
  bool created_pixel() const { return created_pixel_; }

  Status Begin(const Simulator& sim) override;
  Status Deliver(const Batch& batch) override;
  Status Conversions(const std::vector<std::string>&) override { return OkStatus(); }
  Status Finish(const Simulator& sim) override;

  // A consistent copy (the store's writer thread updates the counts).
  DeliverySummary summary() const;

 private:
  StoreLoader() = default;
  Status SubmitPending();
  Status FirstError() const;

  SystemClock clock_;
  std::unique_ptr<store::EventStore> store_;
  std::string pixel_id_;
  bool created_pixel_ = false;
  ingest::ParseContext ctx_;
  std::vector<store::StoredEvent> pending_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t in_flight_ = 0;
  Status error_;
  DeliverySummary summary_;
};

}  // namespace touchpoint::sim
