// squeeze-sim predict: memory, max batch, step time, tokens/s, TTFT and TPOT of full cache,
// uniform budget and SqueezeAttention budgets side by side, for a list of batch sizes.
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "squeeze/sim/report_json.hpp"
#include "squeeze/sim/session.hpp"

namespace squeeze::sim::cli {
namespace {

struct PredictArgs {
  SessionOptions session;
  std::string hardware;
  std::string policy = "window";
  std::string budget = "0.2";
  double p = 0.35;
  std::string batches = "1,8,32,max";
  int prompt_len = 512;
  int gen_len = 128;
  std::string mode = "online";
  int chunk = 512;
  int tp = 1;
  bool side_stream = false;
  bool json = false;
  bool csv = false;
};

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

void print_table(const PlanningSession& session, const std::string& hardware,
                 const std::vector<Prediction>& rows) {
  fmt::print("model {} ({} layers) on {}  |  calibrated on {} ({})\n", session.target.name,
             session.target.n_layers, hardware, session.input.model.name, session.fitted.profiled_gpu.name);
  fmt::print("similarity: {}\n", session.similarity_source);
  for (const auto& note : session.notes) fmt::print("note: {}\n", note);
  fmt::print("\n{:<8} {:<9} {:>6} {:>6} {:>9} {:>9} {:>5} {:>6} {:>9} {:>11} {:>9}\n", "alloc",
             "policy", "budget", "batch", "KV GiB", "peak GiB", "fits", "max_b", "step ms",
             "tokens/s", "TTFT ms");
  for (const auto& p : rows) {
    const Scenario& s = p.scenario;
    fmt::print("{:<8} {:<9} {:>6} {:>6} {:>9.2f} {:>9.2f} {:>5} {:>6} {:>9.3f} {:>11.1f} {:>9.1f}\n",
               allocation_name(s.allocation), core::policy_name(s.policy),
               s.allocation == Allocation::Full ? "-" : budget_label(s.budget), s.batch,
               double(p.memory.decode_kv_bytes) / kGiB, double(p.memory.peak.total_bytes) / kGiB,
               p.memory.fits ? "yes" : "NO", p.memory.max_batch, p.step_ms, p.tokens_per_s, p.ttft_ms);
  }
  for (const auto& p : rows)
    if (p.memory.max_batch == 0) {
      fmt::print("\n{}: {}\n", allocation_name(p.scenario.allocation), p.memory.limit);
      break;
    }
}

int run_predict(const PredictArgs& args) {
  auto fail = [](const core::Error& e) {
    fmt::print(stderr, "squeeze-sim predict: {}\n", e.message);
    return e.code;
  };
  auto session = open_session(args.session);
  if (!session.ok()) return fail(session.error());
  auto predictor = session->predictor(args.hardware);
  if (!predictor.ok()) return fail(predictor.error());
  auto policy = core::parse_policy(args.policy);
  if (!policy.ok()) return fail(core::make_error(policy.error().message, 2));
  if (*policy == core::PolicyKind::Full)
    return fail(core::make_error("--policy names the eviction policy of the budgeted runs: "
                                 "window, streaming or h2o (full cache is always shown)", 2));
  auto budget = parse_budget(args.budget);
  if (!budget.ok()) return fail(budget.error());
  auto mode = parse_cache_mode(args.mode);
  if (!mode.ok()) return fail(mode.error());
  auto batches = parse_batch_list(args.batches);
  if (!batches.ok()) return fail(batches.error());

  std::vector<Prediction> rows;
  for (int batch : *batches) {
    for (Allocation allocation : {Allocation::Full, Allocation::Uniform, Allocation::Squeeze}) {
      Scenario s;
      s.allocation = allocation;
      s.policy = allocation == Allocation::Full ? core::PolicyKind::Full : *policy;
      s.budget = *budget;
      s.p = args.p;
      s.batch = batch == 0 ? 1 : batch;
      s.prompt_len = args.prompt_len;
      s.gen_len = args.gen_len;
      s.mode = *mode;
      s.prefill_chunk = args.chunk;
      s.tp = args.tp;
      s.h2o_side_stream = args.side_stream;
      auto prediction = predictor->predict(s);
      if (!prediction.ok()) return fail(prediction.error());
      // "max": every allocation at its own largest batch that fits.
      if (batch == 0 && prediction->memory.max_batch > 0 && prediction->memory.max_batch != s.batch) {
        s.batch = prediction->memory.max_batch;
        prediction = predictor->predict(s);
        if (!prediction.ok()) return fail(prediction.error());
      }
      rows.push_back(std::move(*prediction));
    }
  }
  const std::string hardware = predictor->gpu().name;
  if (args.json) {
    nlohmann::json out = session_json(*session, hardware);
    out["predictions"] = nlohmann::json::array();
    for (const auto& p : rows) out["predictions"].push_back(prediction_json(p));
    std::cout << out.dump(2) << "\n";
  } else if (args.csv) {
    std::cout << prediction_csv_header() << "\n";
    for (const auto& p : rows) std::cout << prediction_csv_row(p, hardware) << "\n";
  } else {
    print_table(*session, hardware, rows);
  }
  // A model that does not fit is an answer (max batch 0), not a failure.
  return 0;
}

}  // namespace

void add_predict_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<PredictArgs>();
  auto* cmd = app.add_subcommand(
      "predict", "Predict memory, max batch, step time, tokens/s, TTFT and TPOT of full cache, "
                 "uniform budget and SqueezeAttention budgets side by side");
  cmd->add_option("trace", args->session.trace_path, "Trace (.sqz) with calibration tables")
      ->required()->check(CLI::ExistingFile);
  cmd->add_option("--model", args->session.model_config_path,
                  "Hugging Face config.json (or its directory) of the model to plan; default: the trace's model");
  cmd->add_option("--similarity-from", args->session.similarity_trace_path,
                  "Trace whose per-layer similarities set the squeeze budgets (e.g. a CPU capture "
                  "of the real model); default: the calibration trace's own")
      ->check(CLI::ExistingFile);
  cmd->add_option("--hardware", args->hardware, "GPU to plan for (a100-40gb, a100-80gb, h100-sxm, h200); default: the trace's");
  cmd->add_option("--trace-hardware", args->session.trace_hardware,
                  "Hardware-table name of the GPU the trace was captured on, when its name is not recognised");
  cmd->add_option("--policy", args->policy, "Eviction policy of the budgeted runs: window, streaming, h2o")
      ->capture_default_str();
  cmd->add_option("--budget", args->budget, "Uniform budget B: a fraction of the prompt (0.2) or tokens (512t)")
      ->capture_default_str();
  cmd->add_option("--p", args->p, "SqueezeAttention fraction for the unimportant cluster, in (0, 1]")
      ->capture_default_str();
  cmd->add_option("--batch", args->batches, "Comma-separated batch sizes; 'max' = each allocation's max batch")
      ->capture_default_str();
  cmd->add_option("--prompt-len", args->prompt_len, "Prompt tokens per sequence")->capture_default_str();
  cmd->add_option("--gen-len", args->gen_len, "Generated tokens per sequence")->capture_default_str();
  cmd->add_option("--mode", args->mode, "online (prefill with full cache) or calibrated (budgets during chunked prefill)")
      ->capture_default_str();
  cmd->add_option("--chunk", args->chunk, "Calibrated mode: prefill chunk in tokens")->capture_default_str();
  cmd->add_option("--tp", args->tp, "Tensor-parallel GPUs")->capture_default_str();
  cmd->add_flag("--h2o-side-stream", args->side_stream,
                "Model H2O score accumulation on a second CUDA stream, overlapping the next layer");
  cmd->add_option("--reserve", args->session.reserve_fraction, "Fraction of GPU memory kept free")
      ->capture_default_str();
  auto* json = cmd->add_flag("--json", args->json, "JSON output");
  cmd->add_flag("--csv", args->csv, "CSV output")->excludes(json);
  cmd->callback([args, &exit_code] { exit_code = run_predict(*args); });
}

}  // namespace squeeze::sim::cli
