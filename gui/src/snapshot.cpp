#include "squeeze/gui/snapshot.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "squeeze/core/trace_reader.hpp"
#include "squeeze/sim/session.hpp"
#include "squeeze/sim/sim_input.hpp"

namespace squeeze::gui {

int TraceSnapshot::typical_prompt_len() const {
  std::vector<int> lens;
  for (const auto& p : prompts)
    if (p.token_count > 0) lens.push_back(p.token_count);
  if (lens.empty()) return 0;
  std::nth_element(lens.begin(), lens.begin() + static_cast<std::ptrdiff_t>(lens.size() / 2), lens.end());
  return lens[lens.size() / 2];
}

namespace {

// The prompts and similarity rows of `other_path`, each row resampled to `n_layers`.
core::Status adopt_similarities(TraceSnapshot& s, const std::string& other_path) {
  SQZ_TRY(other, core::TraceReader::open(other_path));
  SQZ_TRY(sims, other.similarities());
  if (sims.rows() == 0)
    return core::make_error(fmt::format("--similarity-from {}: the trace holds no layer similarities", other_path), 2);
  SQZ_TRY(prompts, other.prompts());
  SQZ_TRY(meta, other.meta());
  const int n = s.model.n_layers;
  core::SimilarityMatrix resampled;
  resampled.prompt_ids = sims.prompt_ids;
  resampled.n_layers = n;
  for (int r = 0; r < sims.rows(); ++r) {
    const std::span<const double> row(sims.values.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(sims.n_layers),
                                      static_cast<std::size_t>(sims.n_layers));
    const auto v = sim::resample_by_depth(row, n);
    resampled.values.insert(resampled.values.end(), v.begin(), v.end());
  }
  const std::string model = meta.model ? meta.model->name : std::string("unknown model");
  s.similarity_source =
      sims.n_layers == n
          ? fmt::format("{} ({}, {} prompts)", other_path, model, sims.rows())
          : fmt::format("{} ({}, {} prompts), resampled by relative depth from {} to {} layers", other_path,
                        model, sims.rows(), sims.n_layers, n);
  s.similarities = std::move(resampled);
  s.prompts = std::move(prompts);
  return {};
}

}  // namespace

core::Result<TraceSnapshot> load_snapshot(const std::string& path, const std::string& similarity_from) {
  SQZ_TRY(reader, core::TraceReader::open(path));
  TraceSnapshot s;
  s.path = path;
  SQZ_TRY(meta, reader.meta());
  s.meta = std::move(meta);
  if (!s.meta.model)
    return core::make_error(path + ": the trace has no model configuration (meta.model)");
  s.model = *s.meta.model;
  SQZ_TRY(prompts, reader.prompts());
  s.prompts = std::move(prompts);
  SQZ_TRY(sims, reader.similarities());
  s.similarities = std::move(sims);
  if (!similarity_from.empty()) SQZ_CHECK(adopt_similarities(s, similarity_from));
  SQZ_TRY(runs, reader.runs());
  s.runs = std::move(runs);
  SQZ_TRY(calibration, reader.calibration());
  s.calibration = std::move(calibration);
  SQZ_TRY(counts, reader.counts());
  s.counts = counts;
  for (const auto& run : s.runs) {
    SQZ_TRY(n, reader.kernel_count(run.id));
    if (n > 0) s.kernel_runs.push_back({run.id, run.label, n});
  }
  // Fitting reads the trace once more; that is cheap next to the kernels we never load here.
  sim::SessionOptions options;
  options.trace_path = path;
  options.similarity_trace_path = similarity_from;
  auto session = sim::open_session(options);
  if (session.ok()) s.session = std::make_shared<const sim::PlanningSession>(std::move(session).value());
  else s.session_error = session.error().message;
  return s;
}

}  // namespace squeeze::gui
