// squeeze-sim sweep: a grid of hardware x policy x budget x p x batch x prompt x gen, evaluated
// with precomputed per-layer tables; rows as CSV or JSON, or a best-per-GPU summary as text.
#include <chrono>
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "squeeze/sim/report_json.hpp"
#include "squeeze/sim/sweep.hpp"

namespace squeeze::sim::cli {
namespace {

struct SweepArgs {
  SessionOptions session;
  std::string hardware = "a100-40gb,a100-80gb,h100-sxm,h200";
  std::string policies = "full,window,h2o";
  std::string budgets = "0.1,0.2,0.4";
  std::string ps = "0.3,0.35,0.4";
  std::string batches = "1,8,32,64,max";
  std::string prompt_lens = "512";
  std::string gen_lens = "128";
  std::string mode = "online";
  int chunk = 512;
  int tp = 1;
  bool json = false;
  bool csv = false;
};

std::string budget_text(const SweepSpec& spec, const SweepRow& r) {
  return r.budget < 0 ? "none" : budget_label(spec.budgets[static_cast<std::size_t>(r.budget)]);
}

int run_sweep(const SweepArgs& args) {
  auto fail = [](const core::Error& e) {
    fmt::print(stderr, "squeeze-sim sweep: {}\n", e.message);
    return e.code;
  };
  SweepSpec spec;
  spec.hardware = split_list(args.hardware);
  auto policies = parse_policy_list(args.policies);
  if (!policies.ok()) return fail(policies.error());
  auto budgets = parse_budget_list(args.budgets);
  if (!budgets.ok()) return fail(budgets.error());
  auto ps = parse_p_list(args.ps);
  if (!ps.ok()) return fail(ps.error());
  auto batches = parse_batch_list(args.batches);
  if (!batches.ok()) return fail(batches.error());
  auto prompts = parse_length_list(args.prompt_lens, "--prompt-len");
  if (!prompts.ok()) return fail(prompts.error());
  auto gens = parse_length_list(args.gen_lens, "--gen-len");
  if (!gens.ok()) return fail(gens.error());
  auto mode = parse_cache_mode(args.mode);
  if (!mode.ok()) return fail(mode.error());
  spec.policies = *policies;
  spec.budgets = *budgets;
  spec.ps = *ps;
  spec.batches = *batches;
  spec.prompt_lens = *prompts;
  spec.gen_lens = *gens;
  spec.mode = *mode;
  spec.prefill_chunk = args.chunk;
  spec.tp = args.tp;
  for (const auto& name : spec.hardware) {
    auto gpu = find_gpu(name);
    if (!gpu.ok()) return fail(gpu.error());
  }
  auto session = open_session(args.session);
  if (!session.ok()) return fail(session.error());
  auto engine = SweepEngine::create(*session, spec);
  if (!engine.ok()) return fail(engine.error());

  std::vector<SweepRow> rows;
  rows.reserve(static_cast<std::size_t>(engine->row_count()));
  const auto start = std::chrono::steady_clock::now();
  auto status = engine->run([&](const SweepRow& r) { rows.push_back(r); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!status.ok()) return fail(status.error());

  auto hw_name = [&](const SweepRow& r) { return spec.hardware[static_cast<std::size_t>(r.hardware)]; };
  if (args.csv) {
    std::cout << "hardware,allocation,policy,budget,uniform_budget_tokens,p,batch,prompt_len,gen_len,fits,"
                 "max_batch,kv_bytes,peak_bytes,step_ms,tokens_per_s,ttft_ms\n";
    for (const auto& r : rows)
      std::cout << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g}\n", hw_name(r),
                               allocation_name(r.allocation), core::policy_name(r.policy), budget_text(spec, r),
                               r.uniform_budget_tokens, r.p, r.batch, r.prompt_len, r.gen_len, r.fits ? 1 : 0,
                               r.max_batch, r.kv_bytes, r.peak_bytes, r.step_ms, r.tokens_per_s, r.ttft_ms);
    return 0;
  }
  if (args.json) {
    nlohmann::json out = session_json(*session, args.hardware);
    out["configurations"] = rows.size();
    out["seconds"] = seconds;
    out["rows"] = nlohmann::json::array();
    for (const auto& r : rows)
      out["rows"].push_back({{"hardware", hw_name(r)},
                             {"allocation", allocation_name(r.allocation)},
                             {"policy", core::policy_name(r.policy)},
                             {"budget", budget_text(spec, r)},
                             {"uniform_budget_tokens", r.uniform_budget_tokens},
                             {"p", r.p},
                             {"batch", r.batch},
                             {"prompt_len", r.prompt_len},
                             {"gen_len", r.gen_len},
                             {"fits", r.fits},
                             {"max_batch", r.max_batch},
                             {"kv_bytes", r.kv_bytes},
                             {"peak_bytes", r.peak_bytes},
                             {"step_ms", r.step_ms},
                             {"tokens_per_s", r.tokens_per_s},
                             {"ttft_ms", r.ttft_ms}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  fmt::print("{} configurations in {:.3f} s ({:.0f} per second) for {} on {} (calibrated on {})\n", rows.size(),
             seconds, rows.size() / std::max(seconds, 1e-9), session->target.name, args.hardware,
             session->fitted.profiled_gpu.name);
  for (const auto& note : session->notes) fmt::print("note: {}\n", note);
  // Best fitting configuration per (GPU, allocation): what a planner looks for first.
  std::map<std::pair<int, int>, const SweepRow*> best;
  for (const auto& r : rows) {
    if (!r.fits) continue;
    auto& slot = best[{r.hardware, static_cast<int>(r.allocation)}];
    if (slot == nullptr || r.tokens_per_s > slot->tokens_per_s) slot = &r;
  }
  fmt::print("\nbest tokens/s that fits, per GPU and allocation (--csv or --json for every row):\n");
  fmt::print("{:<10} {:<8} {:<9} {:>6} {:>5} {:>6} {:>6} {:>5} {:>9} {:>11} {:>9}\n", "hardware", "alloc",
             "policy", "budget", "p", "batch", "prompt", "gen", "step ms", "tokens/s", "TTFT ms");
  for (const auto& [key, r] : best)
    fmt::print("{:<10} {:<8} {:<9} {:>6} {:>5.2f} {:>6} {:>6} {:>5} {:>9.3f} {:>11.1f} {:>9.1f}\n", hw_name(*r),
               allocation_name(r->allocation), core::policy_name(r->policy), budget_text(spec, *r), r->p,
               r->batch, r->prompt_len, r->gen_len, r->step_ms, r->tokens_per_s, r->ttft_ms);
  return 0;
}

}  // namespace

void add_sweep_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SweepArgs>();
  auto* cmd = app.add_subcommand("sweep", "Evaluate a grid of hardware x policy x budget x p x batch x prompt x gen");
  cmd->add_option("trace", args->session.trace_path, "Trace (.sqz) with calibration tables")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--model", args->session.model_config_path, "Hugging Face config.json of the model to plan");
  cmd->add_option("--similarity-from", args->session.similarity_trace_path,
                  "Trace whose per-layer similarities set the squeeze budgets (e.g. a CPU capture "
                  "of the real model); default: the calibration trace's own")
      ->check(CLI::ExistingFile);
  cmd->add_option("--trace-hardware", args->session.trace_hardware, "Hardware-table name of the trace's GPU");
  cmd->add_option("--hardware", args->hardware, "Comma-separated GPUs")->capture_default_str();
  cmd->add_option("--policy", args->policies, "Comma-separated: full, window, streaming, h2o")->capture_default_str();
  cmd->add_option("--budget", args->budgets, "Comma-separated budgets: fractions (0.2) or tokens (512t)")
      ->capture_default_str();
  cmd->add_option("--p", args->ps, "Comma-separated squeeze p values (uniform is always included)")
      ->capture_default_str();
  cmd->add_option("--batch", args->batches, "Comma-separated batches; 'max' = each configuration's max batch")
      ->capture_default_str();
  cmd->add_option("--prompt-len", args->prompt_lens, "Comma-separated prompt lengths")->capture_default_str();
  cmd->add_option("--gen-len", args->gen_lens, "Comma-separated generation lengths")->capture_default_str();
  cmd->add_option("--mode", args->mode, "online or calibrated")->capture_default_str();
  cmd->add_option("--chunk", args->chunk, "Calibrated mode: prefill chunk in tokens")->capture_default_str();
  cmd->add_option("--tp", args->tp, "Tensor-parallel GPUs")->capture_default_str();
  cmd->add_option("--reserve", args->session.reserve_fraction, "Fraction of GPU memory kept free")
      ->capture_default_str();
  auto* json = cmd->add_flag("--json", args->json, "JSON output (every row)");
  cmd->add_flag("--csv", args->csv, "CSV output (every row)")->excludes(json);
  cmd->callback([args, &exit_code] { exit_code = run_sweep(*args); });
}

}  // namespace squeeze::sim::cli
