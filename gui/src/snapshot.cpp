#include "squeeze/gui/snapshot.hpp"

#include <algorithm>

#include "squeeze/core/trace_reader.hpp"
#include "squeeze/sim/session.hpp"

namespace squeeze::gui {

int TraceSnapshot::typical_prompt_len() const {
  std::vector<int> lens;
  for (const auto& p : prompts)
    if (p.token_count > 0) lens.push_back(p.token_count);
  if (lens.empty()) return 0;
  std::nth_element(lens.begin(), lens.begin() + static_cast<std::ptrdiff_t>(lens.size() / 2), lens.end());
  return lens[lens.size() / 2];
}

core::Result<TraceSnapshot> load_snapshot(const std::string& path) {
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
  auto session = sim::open_session(sim::SessionOptions{path, "", "", 0.05, ""});
  if (session.ok()) s.session = std::make_shared<const sim::PlanningSession>(std::move(session).value());
  else s.session_error = session.error().message;
  return s;
}

}  // namespace squeeze::gui
