#include "squeeze/sim/headline.hpp"

namespace squeeze::sim {
namespace {

// Predicts at batch 1 to learn the max batch, then again at that batch.
core::Result<Prediction> at_max_batch(const Predictor& predictor, Scenario s) {
  s.batch = 1;
  SQZ_TRY(first, predictor.predict(s));
  if (first.memory.max_batch <= 1) return first;
  s.batch = first.memory.max_batch;
  return predictor.predict(s);
}

double kv_per_sequence(const Prediction& p) {
  return p.scenario.batch > 0 ? double(p.memory.decode_kv_bytes) / p.scenario.batch : 0.0;
}

double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

}  // namespace

core::Result<std::vector<HeadlineEntry>> compute_headline(const PlanningSession& session,
                                                          const HeadlineSpec& spec) {
  if (spec.hardware.empty()) return core::make_error("--hardware needs at least one GPU", 2);
  std::vector<HeadlineEntry> entries;
  for (const auto& name : spec.hardware) {
    SQZ_TRY(predictor, session.predictor(name));
    for (CacheMode mode : spec.modes) {
      Scenario base;
      base.prompt_len = spec.prompt_len;
      base.gen_len = spec.gen_len;
      base.mode = mode;
      base.prefill_chunk = spec.prefill_chunk;
      base.tp = spec.tp;
      base.p = spec.p;
      Scenario full = base, uniform = base, squeeze = base;
      full.allocation = Allocation::Full;
      uniform.allocation = Allocation::Uniform;
      uniform.policy = spec.policy;
      uniform.budget = spec.uniform_budget;
      squeeze.allocation = Allocation::Squeeze;
      squeeze.policy = spec.policy;
      squeeze.budget = spec.squeeze_budget;
      HeadlineEntry e;
      e.hardware = predictor.gpu().name;
      e.mode = mode;
      SQZ_TRY(f, at_max_batch(predictor, full));
      SQZ_TRY(u, at_max_batch(predictor, uniform));
      SQZ_TRY(s, at_max_batch(predictor, squeeze));
      e.full = std::move(f);
      e.uniform = std::move(u);
      e.squeeze = std::move(s);
      e.kv_saved_vs_full = 1.0 - ratio(kv_per_sequence(e.squeeze), kv_per_sequence(e.full));
      e.kv_saved_vs_uniform = 1.0 - ratio(kv_per_sequence(e.squeeze), kv_per_sequence(e.uniform));
      auto served = [](const Prediction& p) { return p.memory.max_batch > 0 ? p.tokens_per_s : 0.0; };
      e.speedup_vs_full = ratio(served(e.squeeze), served(e.full));
      e.speedup_vs_uniform = ratio(served(e.squeeze), served(e.uniform));
      entries.push_back(std::move(e));
    }
  }
  return entries;
}

}  // namespace squeeze::sim
