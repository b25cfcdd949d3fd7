// squeeze-sim headline: on each GPU, full cache vs uniform budget vs SqueezeAttention budgets,
// each at its own max batch: KV memory saved and tokens/s gained.
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "squeeze/sim/headline.hpp"
#include "squeeze/sim/report_json.hpp"

namespace squeeze::sim::cli {
namespace {

struct HeadlineArgs {
  SessionOptions session;
  std::string hardware = "a100-40gb,a100-80gb,h100-sxm,h200";
  std::string modes = "online,calibrated";
  std::string policy = "h2o";
  std::string budget = "0.2";
  std::string uniform_budget;  // empty: same as --budget
  double p = 0.35;
  int prompt_len = 1024;
  int gen_len = 256;
  int chunk = 512;
  int tp = 1;
  bool json = false;
  bool csv = false;
};

int run_headline(const HeadlineArgs& args) {
  auto fail = [](const core::Error& e) {
    fmt::print(stderr, "squeeze-sim headline: {}\n", e.message);
    return e.code;
  };
  HeadlineSpec spec;
  spec.hardware = split_list(args.hardware);
  for (const auto& name : spec.hardware)
    if (auto gpu = find_gpu(name); !gpu.ok()) return fail(gpu.error());
  spec.modes.clear();
  for (const auto& m : split_list(args.modes)) {
    auto mode = parse_cache_mode(m);
    if (!mode.ok()) return fail(mode.error());
    spec.modes.push_back(*mode);
  }
  if (spec.modes.empty()) return fail(core::make_error("--mode needs online and/or calibrated", 2));
  auto policy = core::parse_policy(args.policy);
  if (!policy.ok() || *policy == core::PolicyKind::Full)
    return fail(core::make_error(fmt::format("--policy '{}': expected window, streaming or h2o", args.policy), 2));
  spec.policy = *policy;
  auto budget = parse_budget(args.budget);
  if (!budget.ok()) return fail(budget.error());
  spec.squeeze_budget = *budget;
  auto uniform = parse_budget(args.uniform_budget.empty() ? args.budget : args.uniform_budget);
  if (!uniform.ok()) return fail(uniform.error());
  spec.uniform_budget = *uniform;
  spec.p = args.p;
  spec.prompt_len = args.prompt_len;
  spec.gen_len = args.gen_len;
  spec.prefill_chunk = args.chunk;
  spec.tp = args.tp;
  auto session = open_session(args.session);
  if (!session.ok()) return fail(session.error());
  auto entries = compute_headline(*session, spec);
  if (!entries.ok()) return fail(entries.error());

  if (args.json) {
    nlohmann::json out = session_json(*session, args.hardware);
    out["entries"] = nlohmann::json::array();
    for (const auto& e : *entries)
      out["entries"].push_back({{"hardware", e.hardware},
                                {"mode", cache_mode_name(e.mode)},
                                {"kv_saved_vs_full", e.kv_saved_vs_full},
                                {"kv_saved_vs_uniform", e.kv_saved_vs_uniform},
                                {"speedup_vs_full", e.speedup_vs_full},
                                {"speedup_vs_uniform", e.speedup_vs_uniform},
                                {"full", prediction_json(e.full)},
                                {"uniform", prediction_json(e.uniform)},
                                {"squeeze", prediction_json(e.squeeze)}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (args.csv) {
    std::cout << "hardware,mode,full_max_batch,uniform_max_batch,squeeze_max_batch,full_tokens_per_s,"
                 "uniform_tokens_per_s,squeeze_tokens_per_s,kv_saved_vs_full,kv_saved_vs_uniform,"
                 "speedup_vs_full,speedup_vs_uniform\n";
    for (const auto& e : *entries)
      std::cout << fmt::format("{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.4f},{:.4f},{:.4f},{:.4f}\n", e.hardware,
                               cache_mode_name(e.mode), e.full.memory.max_batch, e.uniform.memory.max_batch,
                               e.squeeze.memory.max_batch, e.full.tokens_per_s, e.uniform.tokens_per_s,
                               e.squeeze.tokens_per_s, e.kv_saved_vs_full, e.kv_saved_vs_uniform,
                               e.speedup_vs_full, e.speedup_vs_uniform);
    return 0;
  }
  fmt::print("{} | prompt {} + gen {} | {} | squeeze B={} p={} vs uniform B={}\n", session->target.name,
             spec.prompt_len, spec.gen_len, core::policy_name(spec.policy), budget_label(spec.squeeze_budget),
             spec.p, budget_label(spec.uniform_budget));
  for (const auto& note : session->notes) fmt::print("note: {}\n", note);
  fmt::print("\n{:<10} {:<10} {:>22} {:>28} {:>14} {:>18}\n", "hardware", "mode", "max batch full/uni/sqz",
             "tokens/s full/uni/sqz", "KV saved f/u", "speedup f/u");
  for (const auto& e : *entries)
    fmt::print("{:<10} {:<10} {:>8}/{:>6}/{:>6} {:>10.0f}/{:>8.0f}/{:>8.0f} {:>6.1f}%/{:>5.1f}% {:>8.2f}x/{:>6.2f}x\n",
               e.hardware, cache_mode_name(e.mode), e.full.memory.max_batch, e.uniform.memory.max_batch,
               e.squeeze.memory.max_batch, e.full.tokens_per_s, e.uniform.tokens_per_s, e.squeeze.tokens_per_s,
               100 * e.kv_saved_vs_full, 100 * e.kv_saved_vs_uniform, e.speedup_vs_full, e.speedup_vs_uniform);
  for (const auto& e : *entries)
    for (const Prediction* p : {&e.full, &e.uniform, &e.squeeze})
      if (p->memory.max_batch == 0)
        fmt::print("{} {} {}: {}\n", e.hardware, cache_mode_name(e.mode), allocation_name(p->scenario.allocation),
                   p->memory.limit);
  return 0;
}

}  // namespace

void add_headline_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<HeadlineArgs>();
  auto* cmd = app.add_subcommand("headline",
                                 "KV memory saved and tokens/s gained by squeeze vs uniform vs full, each at "
                                 "its max batch on each GPU");
  cmd->add_option("trace", args->session.trace_path, "Trace (.sqz) with calibration tables")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--model", args->session.model_config_path, "Hugging Face config.json of the model to plan");
  cmd->add_option("--similarity-from", args->session.similarity_trace_path,
                  "Trace whose per-layer similarities set the squeeze budgets (e.g. a CPU capture "
                  "of the real model); default: the calibration trace's own")
      ->check(CLI::ExistingFile);
  cmd->add_option("--trace-hardware", args->session.trace_hardware, "Hardware-table name of the trace's GPU");
  cmd->add_option("--hardware", args->hardware, "Comma-separated GPUs")->capture_default_str();
  cmd->add_option("--mode", args->modes, "Comma-separated: online, calibrated")->capture_default_str();
  cmd->add_option("--policy", args->policy, "Eviction policy: window, streaming, h2o")->capture_default_str();
  cmd->add_option("--budget", args->budget, "Squeeze's uniform budget B (fraction or tokens)")->capture_default_str();
  cmd->add_option("--uniform-budget", args->uniform_budget,
                  "Budget of the uniform baseline (default: --budget); the paper matches accuracy at a larger one");
  cmd->add_option("--p", args->p, "SqueezeAttention p, in (0, 1]")->capture_default_str();
  cmd->add_option("--prompt-len", args->prompt_len, "Prompt tokens per sequence")->capture_default_str();
  cmd->add_option("--gen-len", args->gen_len, "Generated tokens per sequence")->capture_default_str();
  cmd->add_option("--chunk", args->chunk, "Calibrated mode: prefill chunk in tokens")->capture_default_str();
  cmd->add_option("--tp", args->tp, "Tensor-parallel GPUs")->capture_default_str();
  cmd->add_option("--reserve", args->session.reserve_fraction, "Fraction of GPU memory kept free")
      ->capture_default_str();
  auto* json = cmd->add_flag("--json", args->json, "JSON output");
  cmd->add_flag("--csv", args->csv, "CSV output")->excludes(json);
  cmd->callback([args, &exit_code] { exit_code = run_headline(*args); });
}

}  // namespace squeeze::sim::cli
