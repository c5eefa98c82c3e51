// `touchpoint simulate`: generate a world with known ground truth and write, load or send it.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/time.h"
#include "sim/file_writer.h"
#include "sim/http_sender.h"
#include "sim/progress.h"
#include "sim/simulator.h"
#include "sim/store_loader.h"

namespace touchpoint::cli {

namespace {

StatusOr<int64_t> ParseEnd(const std::string& end) {
  int64_t now = SystemClock().NowMs();
  if (end == "now") return now / 1000 * 1000;
  if (end == "today") return now / kDayMs * kDayMs;
  if (auto d = ParseDateMs(end)) return *d;
  if (auto t = ParseIso8601Ms(end)) return *t;
  return InvalidArgument("--end",
                         ": must be today, now, YYYY-MM-DD or ISO 8601 (got '" + end + "')");
}

std::string Plural(uint64_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

int Simulate(const SimulateFlags& flags) {
  auto fail = [](const Status& st) {
    std::cerr << "error: " << st.message() << "\n";
    return 1;
  };
  int targets = !flags.out_dir.empty() + !flags.data_dir.empty() + !flags.server.empty();
  if (targets == 0) {
    std::cerr
        << "error: say where the world goes: --out DIR, --to-data DIR and/or --to-server URL\n";
    return 2;
  }
  if (!flags.data_dir.empty() && !flags.server.empty()) {
    std::cerr << "error: --to-data and --to-server: pick one\n";
    return 2;
  }
  auto scenario = sim::LoadScenario(flags.scenario);
  if (!scenario.ok()) return fail(scenario.status());
  auto end = ParseEnd(flags.end);
  if (!end.ok()) return fail(end.status());

  sim::SimOptions opts;
  opts.scenario = std::move(*scenario);
  opts.seed = flags.seed;
  opts.users = flags.users;
  opts.days = flags.days;
  opts.campaigns = flags.campaigns;
  opts.end_ms = *end;
  if (!flags.pixel_id.empty()) opts.pixel_id = flags.pixel_id;

  // Open the destinations first: they decide the pixel id written into the events.
  std::unique_ptr<sim::StoreLoader> loader;
  std::unique_ptr<sim::HttpSender> sender;
  std::unique_ptr<sim::FileWriter> writer;
  std::vector<sim::DeliverySink*> sinks;
  if (!flags.data_dir.empty()) {
    auto l = sim::StoreLoader::Open(flags.data_dir, flags.pixel_name);
    if (!l.ok()) return fail(l.status());
    loader = std::move(*l);
    opts.pixel_id = loader->pixel_id();
    std::cerr << (loader->created_pixel() ? "created" : "using") << " pixel " << loader->pixel_id()
              << " (" << flags.pixel_name << ") in " << flags.data_dir << "\n";
  }
  if (!flags.server.empty()) {
    sim::HttpSenderOptions hopts;
    hopts.url = flags.server;
    hopts.admin_token = flags.admin_token;
    hopts.ca_file = CaFile(flags.ca_file);
    hopts.pixel_name = flags.pixel_name;
    hopts.pixel_id = flags.pixel_id;
    hopts.pixel_route = flags.pixel_via == "beacon"       ? sim::PixelRoute::kBeacon
                        : flags.pixel_via == "events-api" ? sim::PixelRoute::kEventsApi
                                                          : sim::PixelRoute::kAuto;
    auto s = sim::HttpSender::Connect(hopts);
    if (!s.ok()) return fail(s.status());
    sender = std::move(*s);
    opts.pixel_id = sender->pixel_id();
    std::cerr << (sender->created_pixel() ? "created" : "using") << " pixel " << sender->pixel_id()
              << " on " << flags.server << "\n";
  }
  if (!flags.out_dir.empty()) {
    auto w = sim::FileWriter::Open(flags.out_dir);
    if (!w.ok()) return fail(w.status());
    writer = std::move(*w);
    sinks.push_back(writer.get());
  }
  if (loader) sinks.push_back(loader.get());
  if (sender) sinks.push_back(sender.get());

  auto simulator = sim::Simulator::Create(std::move(opts));
  if (!simulator.ok()) return fail(simulator.status());
  sim::Simulator& world = **simulator;
  const auto& o = world.options();
  // Within an hour of the limit, the first events age past it while the world is being sent.
  if (sender && world.start_ms() < SystemClock().NowMs() - 28 * kDayMs + kHourMs)
    std::cerr << "note: the period starts " << FormatIso8601Ms(world.start_ms()).substr(0, 10)
              << "; a server with the default --max-event-age-days 28 rejects older events\n";
  std::cerr << "simulating scenario " << o.scenario.name << ": " << Plural(o.users, "user") << ", "
            << Plural(o.days, "day") << " to " << FormatIso8601Ms(o.end_ms) << ", "
            << Plural(o.campaigns, "campaign") << " (" << world.catalog().AdCount()
            << " ads), seed " << o.seed << "\n";

  sim::ProgressLine progress(stderr, isatty(STDERR_FILENO) == 1, static_cast<uint64_t>(o.users));
  auto current = [&]() -> std::optional<sim::DeliverySummary> {
    if (loader) return loader->summary();
    if (sender) return sender->summary();
    return std::nullopt;
  };
  auto on_block = [&](uint64_t users_done) {
    if (flags.quiet) return;
    auto s = current();
    progress.Update(users_done, s ? &*s : nullptr, world.totals().events);
  };
  sim::TeeSink tee(sinks);
  Status st = world.Run(tee, on_block);
  if (!flags.quiet) {
    // After Finish: the store has committed (and counted) everything.
    auto s = current();
    if (st.ok())
      progress.Update(static_cast<uint64_t>(o.users), s ? &*s : nullptr, world.totals().events,
                      true);
    progress.Done();
  }
  if (!st.ok()) return fail(st);

  const auto& t = world.totals();
  std::cout << "simulated " << Plural(t.users, "user") << ": " << t.events << " events in "
            << t.batches << " batches\n";
  for (const auto& [channel, n] : t.events_by_channel)
    std::cout << "  " << channel << ": " << n << "\n";
  std::cout << "  invalid (planted): " << t.invalid_events
            << ", in retried batches: " << t.retried_events << "\n";
  std::cout << "  conversions (true cause):";
  for (const auto& [touch, n] : t.conversions_by_touch)
    std::cout << " " << touch << " " << n << ";";
  std::cout << "\n";
  if (writer)
    std::cout << "wrote " << flags.out_dir
              << "/{catalog.json,spend.csv,site_events.ndjson,ad_events.ndjson,truth.json}\n";
  auto summary = current();
  if (summary) {
    std::cout << (loader ? "loaded into " + flags.data_dir : "sent to " + flags.server) << ":\n"
              << summary->ToText();
    if (!summary->Balanced()) return 1;
  }
  return 0;
}

}  // namespace touchpoint::cli
