#include "attribution/data_driven.h"

namespace touchpoint::attribution {

void PathSet::Add(std::span<const uint32_t> channels, bool converted, double value) {
  channels_.insert(channels_.end(), channels.begin(), channels.end());
  begin_.push_back(static_cast<uint32_t>(channels_.size()));
  converted_.push_back(converted);
  value_.push_back(value);
}

Status DataDrivenModel::FitPaths(const PathSet& paths, uint32_t n_channels) {
  auto sink = NewSink(n_channels);
  for (size_t i = 0; i < paths.size(); ++i)
    sink->Add(paths.Channels(i), paths.Converted(i), paths.Value(i));
  JourneySink* one = sink.get();
  return Fit(std::span<JourneySink* const>(&one, 1), n_channels);
}

void CollapseRepeats(std::span<const uint32_t> channels, std::vector<uint32_t>& out) {
  out.clear();
  for (uint32_t c : channels)
    if (out.empty() || out.back() != c) out.push_back(c);
}

bool IsDataDriven(std::string_view model) { return model == "markov" || model == "shapley"; }

StatusOr<std::unique_ptr<DataDrivenModel>> MakeDataDrivenModel(std::string_view name,
                                                               const ModelParams& params) {
  if (name == "shapley") return std::unique_ptr<DataDrivenModel>(new ShapleyModel);
  if (name == "markov") {
    if (params.markov_order < 1 || params.markov_order > 4)
      return InvalidArgument("markov_order", ": must be 1, 2, 3 or 4");
    return std::unique_ptr<DataDrivenModel>(new MarkovModel(params.markov_order));
  }
  return InvalidArgument("model", ": " + std::string(name) + " is not a data-driven model");
}

}  // namespace touchpoint::attribution
