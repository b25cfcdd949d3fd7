#include "squeeze/sim/report_json.hpp"

#include <fmt/format.h>

namespace squeeze::sim {

int display_cap(int cap) { return cap >= kUnboundedCap ? -1 : cap; }

nlohmann::json prediction_json(const Prediction& p) {
  const Scenario& s = p.scenario;
  nlohmann::json caps = nlohmann::json::array();
  for (int c : p.kv.caps) caps.push_back(display_cap(c));
  nlohmann::json by_op = nlohmann::json::object();
  for (const auto& [op, ms] : p.decode_ms_by_op) by_op[op] = ms;
  const MemoryBreakdown& m = p.memory.peak;
  return {
      {"allocation", allocation_name(s.allocation)},
      {"policy", core::policy_name(s.policy)},
      {"budget", s.allocation == Allocation::Full ? "none" : budget_label(s.budget)},
      {"uniform_budget_tokens", p.kv.uniform_budget},
      {"p", s.allocation == Allocation::Squeeze ? s.p : 1.0},
      {"batch", s.batch},
      {"prompt_len", s.prompt_len},
      {"gen_len", s.gen_len},
      {"mode", cache_mode_name(s.mode)},
      {"tp", s.tp},
      {"fits", p.memory.fits},
      {"max_batch", p.memory.max_batch},
      {"limit", p.memory.limit},
      {"memory",
       {{"weights_bytes", m.weights_bytes},
        {"kv_bytes", m.kv_bytes},
        {"activation_bytes", m.activation_bytes},
        {"workspace_bytes", m.workspace_bytes},
        {"peak_bytes", m.total_bytes},
        {"prefill_is_peak", m.prefill_is_peak},
        {"decode_kv_bytes", p.memory.decode_kv_bytes},
        {"usable_bytes", p.memory.usable_bytes}}},
      {"step_ms", p.step_ms},
      {"tpot_ms", p.step_ms},
      {"tokens_per_s", p.tokens_per_s},
      {"ttft_ms", p.ttft_ms},
      {"layer_budgets", caps},
      {"unimportant_layers", p.kv.unimportant},
      {"decode_ms_by_op", by_op},
  };
}

nlohmann::json session_json(const PlanningSession& s, const std::string& hardware) {
  const core::ModelConfig& m = s.target;
  return {
      {"trace", s.input.trace_path},
      {"synthetic_trace", s.input.synthetic},
      {"model",
       {{"name", m.name},
        {"layers", m.n_layers},
        {"hidden", m.hidden},
        {"heads", m.n_heads},
        {"kv_heads", m.n_kv_heads},
        {"head_dim", m.head_dim},
        {"intermediate", m.intermediate},
        {"vocab", m.vocab},
        {"parameters", m.parameter_count()}}},
      {"profiled_model", s.input.model.name},
      {"profiled_hardware", s.fitted.profiled_gpu.name},
      {"hardware", hardware},
      {"similarity_source", s.similarity_source},
      {"calibration",
       {{"points", s.input.calibration.size()},
        {"launch_gap_us", s.fitted.cost.launch_gap_us()},
        {"gap_runs_used", s.fitted.gap_runs_used},
        {"workspace_bytes", s.fitted.workspace.constant_bytes},
        {"workspace_per_sequence_bytes", s.fitted.workspace.per_sequence_bytes},
        {"workspace_per_token_bytes", s.fitted.workspace.per_token_bytes},
        {"workspace_runs_used", s.fitted.workspace.runs_used},
        {"engine_history", engine_history_name(s.fitted.engine_history)}}},
      {"reserve_fraction", s.reserve_fraction},
      {"notes", s.notes},
  };
}

std::string prediction_csv_header() {
  return "hardware,allocation,policy,budget,uniform_budget_tokens,p,batch,prompt_len,gen_len,mode,"
         "tp,fits,max_batch,weights_bytes,kv_bytes,peak_bytes,step_ms,tokens_per_s,ttft_ms";
}

std::string prediction_csv_row(const Prediction& p, const std::string& hardware) {
  const Scenario& s = p.scenario;
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g}", hardware,
                     allocation_name(s.allocation), core::policy_name(s.policy),
                     s.allocation == Allocation::Full ? "none" : budget_label(s.budget),
                     p.kv.uniform_budget, s.allocation == Allocation::Squeeze ? s.p : 1.0, s.batch,
                     s.prompt_len, s.gen_len, cache_mode_name(s.mode), s.tp, p.memory.fits ? 1 : 0,
                     p.memory.max_batch, p.memory.peak.weights_bytes, p.memory.peak.kv_bytes,
                     p.memory.peak.total_bytes, p.step_ms, p.tokens_per_s, p.ttft_ms);
}

}  // namespace squeeze::sim
