#include "squeeze/gui/timeline_data.hpp"

#include <algorithm>
#include <map>

#include "squeeze/core/trace_reader.hpp"

namespace squeeze::gui {

namespace {

// Merges neighbouring spans of one lane while the gap between them is below `gap_us`, until the
// lane count fits. Busy time is kept (a merged span covers its first start to its last end).
std::vector<TimelineSpan> merge_lane(std::vector<TimelineSpan> lane, double gap_us) {
  std::vector<TimelineSpan> out;
  for (auto& s : lane) {
    if (!out.empty()) {
      auto& last = out.back();
      const double last_end = last.start_us + last.duration_us;
      if (s.start_us - last_end <= gap_us) {
        last.duration_us = std::max(last_end, s.start_us + s.duration_us) - last.start_us;
        last.merged += s.merged;
        last.name.clear();
        if (last.layer != s.layer) last.layer = -1;
        continue;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

TimelineData build_timeline(std::int64_t run_id, int step, std::vector<core::KernelRecord> kernels,
                            std::vector<StepSummary> steps, std::size_t max_drawn) {
  TimelineData t;
  t.run_id = run_id;
  t.step = step;
  t.steps = std::move(steps);
  t.kernels_in_step = static_cast<std::int64_t>(kernels.size());
  if (kernels.empty()) return t;
  std::sort(kernels.begin(), kernels.end(),
            [](const auto& a, const auto& b) { return a.start_ns < b.start_ns; });
  const auto t0 = kernels.front().start_ns;
  std::int64_t t1 = t0;
  std::map<std::string, int> op_index;
  std::vector<std::vector<TimelineSpan>> lanes;
  for (auto& k : kernels) {
    auto [it, inserted] = op_index.emplace(k.op.empty() ? "other" : k.op, static_cast<int>(t.ops.size()));
    if (inserted) {
      t.ops.push_back(it->first);
      t.op_totals.push_back({it->first, 0, 0});
      lanes.emplace_back();
    }
    const int oi = it->second;
    t.op_totals[static_cast<std::size_t>(oi)].kernels += 1;
    t.op_totals[static_cast<std::size_t>(oi)].busy_us += static_cast<double>(k.duration_ns) / 1e3;
    t1 = std::max(t1, k.start_ns + k.duration_ns);
    lanes[static_cast<std::size_t>(oi)].push_back({static_cast<double>(k.start_ns - t0) / 1e3,
                                                   static_cast<double>(k.duration_ns) / 1e3, oi,
                                                   k.layer, 1, std::move(k.name)});
  }
  t.step_span_us = static_cast<double>(t1 - t0) / 1e3;
  // Merge with a growing gap until everything fits: a drawn span narrower than a pixel says
  // nothing that its merged neighbours do not.
  std::size_t count = kernels.size();
  double gap = t.step_span_us / static_cast<double>(std::max<std::size_t>(max_drawn, 1));
  while (count > max_drawn && gap <= t.step_span_us) {
    count = 0;
    for (auto& lane : lanes) {
      lane = merge_lane(std::move(lane), gap);
      count += lane.size();
    }
    t.downsampled = true;
    gap *= 2;
  }
  for (auto& lane : lanes)
    for (auto& s : lane) t.spans.push_back(std::move(s));
  std::sort(t.spans.begin(), t.spans.end(),
            [](const auto& a, const auto& b) { return a.start_us < b.start_us; });
  return t;
}

core::Result<TimelineData> load_timeline(const std::string& path, std::int64_t run_id, int step,
                                         std::size_t max_drawn) {
  SQZ_TRY(reader, core::TraceReader::open(path));
  struct Extent { std::int64_t n = 0, first = 0, last = 0; };
  std::map<int, Extent> extents;
  std::vector<core::KernelRecord> chosen;
  const int wanted = step < 0 ? 1 : step;
  SQZ_CHECK(reader.visit_kernels(run_id, [&](const core::KernelRecord& k) {
    auto& e = extents[k.step];
    if (e.n == 0) e.first = k.start_ns;
    e.first = std::min(e.first, k.start_ns);
    e.last = std::max(e.last, k.start_ns + k.duration_ns);
    ++e.n;
    if (k.step == wanted) chosen.push_back(k);
    return true;
  }));
  if (extents.empty())
    return core::make_error(path + ": run " + std::to_string(run_id) + " has no kernel records");
  int picked = wanted;
  if (chosen.empty()) {
    if (step >= 0)
      return core::make_error("run " + std::to_string(run_id) + " has no kernels in step " +
                              std::to_string(step));
    // No decode step 1: take the first step that has kernels (second pass, that step only).
    picked = extents.begin()->first;
    SQZ_CHECK(reader.visit_kernels(run_id, [&](const core::KernelRecord& k) {
      if (k.step == picked) chosen.push_back(k);
      return true;
    }));
  }
  std::vector<StepSummary> steps;
  for (const auto& [s, e] : extents)
    steps.push_back({s, e.n, static_cast<double>(e.last - e.first) / 1e3});
  return build_timeline(run_id, picked, std::move(chosen), std::move(steps), max_drawn);
}

}  // namespace squeeze::gui
