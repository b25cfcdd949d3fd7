#include "squeeze/sim/sweep.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <tuple>

#include <fmt/format.h>

namespace squeeze::sim {

struct SweepEngine::Impl {
  struct Hardware {
    Predictor predictor;
    const StepTimer* timers[2] = {nullptr, nullptr};  // [h2o scoring]
    std::map<int, DecodeBatchTable> decode[2];        // by batch
    std::map<std::pair<int, int>, double> prefill_us; // by (batch, prompt)
  };
  std::vector<Hardware> hardware;
  std::map<std::tuple<int, int, double, int>, core::Result<KvPlan>> plans;  // (alloc, budget, p, prompt)
  std::vector<double> durations, finish;
  std::vector<double> similarity;
  int n_layers = 0;
  int max_kv = 0;

  const core::Result<KvPlan>& plan(const SweepSpec& spec, Allocation allocation, core::PolicyKind policy,
                                   int budget, double p, int prompt) {
    const auto key = std::tuple{static_cast<int>(allocation), budget, p, prompt};
    auto it = plans.find(key);
    if (it != plans.end()) return it->second;
    Scenario s;
    s.allocation = allocation;
    s.policy = policy;
    if (budget >= 0) s.budget = spec.budgets[static_cast<std::size_t>(budget)];
    s.p = p;
    s.prompt_len = prompt;
    return plans.emplace(key, plan_kv(s, n_layers, similarity)).first->second;
  }

  const DecodeBatchTable& decode_table(Hardware& hw, bool h2o, int batch) {
    auto& tables = hw.decode[h2o ? 1 : 0];
    auto it = tables.find(batch);
    if (it == tables.end()) it = tables.emplace(batch, hw.timers[h2o ? 1 : 0]->decode_table(batch, max_kv)).first;
    return it->second;
  }

  double prefill_us(Hardware& hw, int batch, int prompt) {
    auto [it, inserted] = hw.prefill_us.try_emplace({batch, prompt}, 0.0);
    if (inserted) it->second = hw.timers[0]->prefill_us(batch, prompt);
    return it->second;
  }
};

SweepEngine::SweepEngine(std::unique_ptr<Impl> impl, SweepSpec spec)
    : impl_(std::move(impl)), spec_(std::move(spec)) {}
SweepEngine::SweepEngine(SweepEngine&&) noexcept = default;
SweepEngine& SweepEngine::operator=(SweepEngine&&) noexcept = default;
SweepEngine::~SweepEngine() = default;

core::Result<SweepEngine> SweepEngine::create(const PlanningSession& session, SweepSpec spec) {
  auto bad = [](std::string m) { return core::make_error(std::move(m), 2); };
  if (spec.hardware.empty()) return bad("--hardware needs at least one GPU");
  if (spec.policies.empty()) return bad("--policy needs at least one policy");
  if (spec.batches.empty() || spec.prompt_lens.empty() || spec.gen_lens.empty())
    return bad("--batch, --prompt-len and --gen-len need at least one value each");
  const bool budgeted = std::any_of(spec.policies.begin(), spec.policies.end(),
                                    [](core::PolicyKind k) { return k != core::PolicyKind::Full; });
  if (budgeted && spec.budgets.empty()) return bad("--budget needs at least one value for budgeted policies");
  for (double p : spec.ps)
    if (!(p > 0 && p <= 1)) return bad(fmt::format("p must be in (0, 1], got {}", p));
  if (spec.tp < 1) return bad(fmt::format("--tp must be at least 1, got {}", spec.tp));
  if (session.target.n_heads % spec.tp != 0)
    return bad(fmt::format("--tp {} does not divide the model's {} attention heads", spec.tp,
                           session.target.n_heads));
  auto impl = std::make_unique<Impl>();
  impl->similarity = session.similarity;
  impl->n_layers = session.target.n_layers;
  for (int prompt : spec.prompt_lens)
    for (int gen : spec.gen_lens) impl->max_kv = std::max(impl->max_kv, prompt + gen);
  for (const auto& name : spec.hardware) {
    SQZ_TRY(predictor, session.predictor(name));
    impl->hardware.push_back(Impl::Hardware{std::move(predictor), {nullptr, nullptr}, {}, {}});
  }
  for (auto& hw : impl->hardware) {
    SQZ_TRY(plain, hw.predictor.timer(spec.tp, false));
    SQZ_TRY(h2o, hw.predictor.timer(spec.tp, true));
    hw.timers[0] = plain;
    hw.timers[1] = h2o;
  }
  const int nodes = std::max(impl->hardware.front().timers[0]->node_count(),
                             impl->hardware.front().timers[1]->node_count());
  impl->durations.resize(static_cast<std::size_t>(nodes));
  impl->finish.resize(static_cast<std::size_t>(nodes));
  return SweepEngine(std::move(impl), std::move(spec));
}

std::int64_t SweepEngine::row_count() const {
  std::int64_t per_shape = 0;
  for (core::PolicyKind k : spec_.policies)
    per_shape += k == core::PolicyKind::Full ? 1 : std::int64_t(spec_.budgets.size()) * (1 + std::int64_t(spec_.ps.size()));
  return per_shape * std::int64_t(spec_.hardware.size()) * std::int64_t(spec_.batches.size()) *
         std::int64_t(spec_.prompt_lens.size()) * std::int64_t(spec_.gen_lens.size());
}

core::Status SweepEngine::run(const std::function<void(const SweepRow&)>& emit) {
  Impl& im = *impl_;
  // (allocation, budget index, p) triples each policy expands to.
  struct Variant { Allocation allocation; int budget; double p; };
  std::vector<Variant> budgeted;
  for (int b = 0; b < static_cast<int>(spec_.budgets.size()); ++b) {
    budgeted.push_back({Allocation::Uniform, b, 1.0});
    for (double p : spec_.ps) budgeted.push_back({Allocation::Squeeze, b, p});
  }
  const std::vector<Variant> full_only{{Allocation::Full, -1, 1.0}};
  for (int h = 0; h < static_cast<int>(im.hardware.size()); ++h) {
    Impl::Hardware& hw = im.hardware[static_cast<std::size_t>(h)];
    const MemoryPlanner& memory = hw.predictor.memory();
    const GpuSpec& gpu = hw.predictor.gpu();
    const auto usable = static_cast<std::int64_t>(double(gpu.memory_bytes) * (1.0 - memory.reserve_fraction()));
    for (core::PolicyKind policy : spec_.policies) {
      const bool is_full = policy == core::PolicyKind::Full;
      const bool h2o = policy == core::PolicyKind::H2O;
      for (const Variant& v : is_full ? full_only : budgeted) {
        for (int prompt : spec_.prompt_lens) {
          const core::Result<KvPlan>& plan = im.plan(spec_, v.allocation, policy, v.budget, v.p, prompt);
          for (int gen : spec_.gen_lens) {
            Scenario s;
            s.allocation = v.allocation;
            s.policy = policy;
            s.p = v.p;
            s.prompt_len = prompt;
            s.gen_len = gen;
            s.mode = spec_.mode;
            s.prefill_chunk = spec_.prefill_chunk;
            s.tp = spec_.tp;
            SweepRow row;
            row.hardware = h;
            row.allocation = v.allocation;
            row.policy = policy;
            row.budget = v.budget;
            row.p = v.p;
            row.prompt_len = prompt;
            row.gen_len = gen;
            int max_batch = 0;
            if (plan.ok()) {
              row.uniform_budget_tokens = plan->uniform_budget;
              max_batch = memory.max_batch(s, plan->caps, gpu);
            }
            for (int requested : spec_.batches) {
              row.max_batch = max_batch;
              row.batch = requested == 0 ? max_batch : requested;
              row.fits = false;
              row.kv_bytes = row.peak_bytes = 0;
              row.step_ms = row.tokens_per_s = row.ttft_ms = 0;
              if (!plan.ok() || row.batch == 0) {
                emit(row);
                continue;
              }
              s.batch = row.batch;
              const MemoryBreakdown peak = memory.peak(s, plan->caps);
              row.peak_bytes = peak.total_bytes;
              row.kv_bytes = decode_kv_tokens(plan->caps, prompt, gen) *
                             kv_bytes_per_token_layer(hw.predictor.model(), spec_.tp) * row.batch;
              row.fits = peak.total_bytes <= usable;
              const DecodeBatchTable& table = im.decode_table(hw, h2o && !is_full, row.batch);
              const double step_us = hw.timers[h2o && !is_full ? 1 : 0]->mean_decode_step_us(
                  table, plan->caps, prompt, gen, im.durations, im.finish);
              row.step_ms = step_us / 1000.0;
              row.tokens_per_s = step_us > 0 ? row.batch * 1e6 / step_us : 0.0;
              row.ttft_ms = im.prefill_us(hw, row.batch, prompt) / 1000.0;
              emit(row);
            }
          }
        }
      }
    }
  }
  return {};
}

core::Result<std::vector<core::PolicyKind>> parse_policy_list(const std::string& text) {
  std::vector<core::PolicyKind> out;
  for (const auto& item : split_list(text)) {
    auto kind = core::parse_policy(item);
    if (!kind.ok()) return core::make_error(kind.error().message, 2);
    if (std::find(out.begin(), out.end(), *kind) == out.end()) out.push_back(*kind);
  }
  if (out.empty()) return core::make_error("--policy needs at least one of full, window, streaming, h2o", 2);
  return out;
}

core::Result<std::vector<BudgetSpec>> parse_budget_list(const std::string& text) {
  std::vector<BudgetSpec> out;
  for (const auto& item : split_list(text)) {
    SQZ_TRY(budget, parse_budget(item));
    out.push_back(budget);
  }
  return out;
}

core::Result<std::vector<double>> parse_p_list(const std::string& text) {
  std::vector<double> out;
  for (const auto& item : split_list(text)) {
    char* end = nullptr;
    const double p = std::strtod(item.c_str(), &end);
    if (end == nullptr || *end != '\0') return core::make_error(fmt::format("p '{}' is not a number", item), 2);
    if (!(p > 0 && p <= 1)) return core::make_error(fmt::format("p must be in (0, 1], got {}", item), 2);
    out.push_back(p);
  }
  return out;
}

core::Result<std::vector<int>> parse_length_list(const std::string& text, const char* what) {
  std::vector<int> out;
  for (const auto& item : split_list(text)) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || v < 1 || v > (1 << 22))
      return core::make_error(fmt::format("{} '{}' must be a whole number of tokens >= 1", what, item), 2);
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) return core::make_error(fmt::format("{} needs at least one value", what), 2);
  return out;
}

}  // namespace squeeze::sim
