#include "sim/store_loader.h"

#include "ingest/ad_events.h"
#include "ingest/events_api.h"

namespace touchpoint::sim {

namespace {
constexpr size_t kWriteBatch = 20000;  // events per store commit
constexpr size_t kMaxInFlight = 2;     // commits queued while the next batch is parsed
}  // namespace

StatusOr<std::unique_ptr<StoreLoader>> StoreLoader::Open(const std::string& data_dir,
                                                         const std::string& pixel_name) {
  std::unique_ptr<StoreLoader> loader(new StoreLoader());
  store::StoreOptions opts;
  opts.data_dir = data_dir;
  opts.synchronous_full = false;
  opts.max_queued_events = (kMaxInFlight + 1) * kWriteBatch;
  auto store = store::EventStore::Open(opts, &loader->clock_);
  if (!store.ok()) return store.status();
  loader->store_ = std::move(*store);
  for (const auto& p : loader->store_->ListPixels()) {
    if (p.name == pixel_name) {
      loader->pixel_id_ = p.pixel_id;
      break;
    }
  }
  if (loader->pixel_id_.empty()) {
    auto pixel = loader->store_->CreatePixel(pixel_name, {});
    if (!pixel.ok()) return pixel.status();
    loader->pixel_id_ = pixel->pixel.pixel_id;
    loader->created_pixel_ = true;
  }
  return loader;
}

StoreLoader::~StoreLoader() {
  if (store_) store_->Close();
}

Status StoreLoader::Begin(const Simulator& sim) {
  // Ages are measured against the simulated end, as if the events arrived then; the whole
  // simulated period is admitted (a running server would apply --max-event-age-days).
  ctx_.now_ms = sim.end_ms();
  ctx_.limits.max_event_age_ms = (int64_t{sim.options().days} + 2) * kDayMs;
  return store_->PutCatalog(sim.catalog());
}

Status StoreLoader::FirstError() const {
  std::lock_guard lock(mu_);
  return error_;
}

Status StoreLoader::Deliver(const Batch& batch) {
  TP_RETURN_IF_ERROR(FirstError());
  const size_t n = batch.events.size();
  {
    std::lock_guard lock(mu_);
    summary_.sent += n;
  }
  auto reject_all = [&](const std::string& message) {
    std::lock_guard lock(mu_);
    summary_.Reject(message, n);
  };
  std::string body = batch.Body();
  if (batch.channel == Channel::kAdEvents) {
    auto parsed = ingest::ParseAdEvents(body, ctx_);
    if (!parsed.ok()) {
      reject_all(parsed.status().message());
    } else {
      for (auto& e : *parsed) {
        if (e.status.ok()) {
          pending_.emplace_back(std::move(*e.event));
        } else {
          std::lock_guard lock(mu_);
          summary_.Reject(e.status.message());
        }
      }
    }
  } else if (!store_->FindPixel(batch.pixel_id)) {
    // As the server answers a batch for a pixel it does not know.
    reject_all("event_source_id: unknown pixel " + batch.pixel_id);
  } else {
    auto parsed = ingest::ParseEventsApi2(body, ctx_);
    if (!parsed.ok()) {
      reject_all(parsed.status().message());
    } else {
      for (auto& e : parsed->events) {
        if (!e.status.ok()) {
          std::lock_guard lock(mu_);
          summary_.Reject(e.status.message());
          continue;
        }
        if (batch.channel == Channel::kPixel) e.event->source = "pixel";
        pending_.emplace_back(std::move(*e.event));
      }
    }
  }
  return pending_.size() >= kWriteBatch ? SubmitPending() : OkStatus();
}

Status StoreLoader::SubmitPending() {
  if (pending_.empty()) return OkStatus();
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ < kMaxInFlight; });
    if (!error_.ok()) return error_;
    ++in_flight_;
  }
  std::vector<store::StoredEvent> events;
  events.swap(pending_);
  pending_.reserve(kWriteBatch + kAdBatch);
  Status st = store_->Submit(std::move(events), [this](store::WriteResult wr) {
    std::lock_guard lock(mu_);
    if (!wr.status.ok()) {
      if (error_.ok()) error_ = wr.status;
    } else {
      for (auto o : wr.outcomes)
        (o == store::WriteOutcome::kAccepted ? summary_.accepted : summary_.duplicate)++;
    }
    --in_flight_;
    cv_.notify_all();
  });
  if (!st.ok()) {
    std::lock_guard lock(mu_);
    --in_flight_;
    return st;
  }
  return OkStatus();
}

Status StoreLoader::Finish(const Simulator& sim) {
  TP_RETURN_IF_ERROR(SubmitPending());
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
    if (!error_.ok()) return error_;
  }
  TP_RETURN_IF_ERROR(store_->PutSpend(sim.Spend()));
  store_->Close();
  return OkStatus();
}

DeliverySummary StoreLoader::summary() const {
  std::lock_guard lock(mu_);
  return summary_;
}

}  // namespace touchpoint::sim
