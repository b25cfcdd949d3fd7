#include "squeeze/gui/analysis.hpp"

namespace squeeze::gui {

AnalysisParams params_from_trace(const TraceSnapshot& s, AnalysisParams p) {
  if (const int len = s.typical_prompt_len(); len > 0) p.prompt_len = len;
  for (const auto& r : s.runs) {
    if (r.p <= 0 || r.budget_unit == core::BudgetUnit::None || r.policy == "full") continue;
    p.policy = r.policy;
    p.p = r.p;
    if (r.mode == "online" || r.mode == "calibrated") p.mode = r.mode;
    if (r.budget_unit == core::BudgetUnit::Fraction) {
      p.unit = AnalysisParams::BudgetUnit::Fraction;
      p.budget_fraction = r.budget_value;
    } else {
      p.unit = AnalysisParams::BudgetUnit::Tokens;
      p.budget_tokens = static_cast<int>(r.budget_value);
    }
    if (r.prompt_len > 0) p.prompt_len = r.prompt_len;
    if (r.gen_len > 0) p.gen_len = r.gen_len;
    break;
  }
  if (auto gpu = find_gpu(s.meta.gpu_name); gpu.ok()) p.gpu = gpu->name;
  return p;
}

}  // namespace squeeze::gui
