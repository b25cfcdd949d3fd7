// squeeze-sim info: what a trace holds (model, device, prompts, runs, kernels, calibration), as
// text or JSON. Reading is core's (trace_reader.hpp); this file only summarises and prints.
#include <fmt/format.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "squeeze/core/trace_model_json.hpp"
#include "squeeze/core/trace_reader.hpp"

namespace squeeze::sim::cli {
namespace {

// 260K, 135M, 6.74B: three significant figures whatever the model's size (stories260K is real).
std::string human_count(std::int64_t n) {
  const double v = static_cast<double>(n);
  if (v >= 1e9) return fmt::format("{:.3g}B", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.3g}K", v / 1e3);
  return fmt::format("{}", n);
}

}  // namespace

namespace {

using nlohmann::json;

struct InfoOptions {
  std::string trace;
  bool json = false;
};

struct InfoData {
  core::TraceMeta meta;
  core::TraceCounts counts;
  std::vector<core::RunRecord> runs;
  std::vector<core::CaptureStat> stats;
  int format_version = 0;
};

core::Result<InfoData> load(const std::string& path) {
  SQZ_TRY(trace, core::TraceReader::open(path));
  InfoData d;
  d.format_version = trace.format_version();
  SQZ_TRY(meta, trace.meta());
  d.meta = std::move(meta);
  SQZ_TRY(counts, trace.counts());
  d.counts = counts;
  SQZ_TRY(runs, trace.runs());
  d.runs = std::move(runs);
  SQZ_TRY(stats, trace.capture_stats());
  d.stats = std::move(stats);
  return d;
}

std::string budget_text(const core::RunRecord& r) {
  switch (r.budget_unit) {
    case core::BudgetUnit::None:
      return "full";
    case core::BudgetUnit::Fraction:
      return fmt::format("{:g} x prompt", r.budget_value);
    case core::BudgetUnit::Tokens:
      return fmt::format("{:g} tokens", r.budget_value);
  }
  return "?";
}

double gib(std::int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

json to_json(const std::string& path, const InfoData& d) {
  const auto& m = d.meta;
  json runs = json::array();
  for (const auto& r : d.runs) {
    runs.push_back({{"id", r.id},
                    {"label", r.label},
                    {"policy", r.policy},
                    {"budget_unit", core::budget_unit_name(r.budget_unit)},
                    {"budget_value", r.budget_value},
                    {"p", r.p},
                    {"batch", r.batch},
                    {"prompt_len", r.prompt_len},
                    {"gen_len", r.gen_len},
                    {"mode", r.mode},
                    {"tokens_per_s", r.tokens_per_s},
                    {"prefill_ms", r.prefill_ms},
                    {"decode_step_ms_mean", r.decode_step_ms_mean},
                    {"peak_bytes", r.peak_bytes},
                    {"kv_bytes", r.kv_bytes},
                    {"weights_bytes", r.weights_bytes},
                    {"status", r.status}});
  }
  json stats = json::array();
  for (const auto& s : d.stats) {
    stats.push_back({{"run_id", s.run_id ? json(*s.run_id) : json(nullptr)},
                     {"name", s.name},
                     {"value", s.value}});
  }
  return json{
      {"path", path},
      {"format_version", d.format_version},
      {"tool", m.tool},
      {"tool_version", m.tool_version},
      {"created_utc", m.created_utc},
      {"host", m.host},
      {"device_kind", m.device_kind},
      {"synthetic", m.device_kind == "synthetic"},
      {"notes", m.notes},
      {"model", m.model ? json::parse(core::model_config_to_json(*m.model)) : json(nullptr)},
      {"model_source", m.model_source},
      {"gpu",
       {{"name", m.gpu_name},
        {"sm_count", m.sm_count},
        {"memory_bytes", m.gpu_memory_bytes},
        {"driver", m.driver},
        {"copy_bandwidth_bytes_per_s", m.copy_bandwidth_bytes_per_s}}},
      {"prompts", d.counts.prompts},
      {"similarity_values", d.counts.similarities},
      {"runs", d.counts.runs},
      {"run_steps", d.counts.run_steps},
      {"kernels", d.counts.kernels},
      {"calibration_points", d.counts.calibration},
      {"run_list", runs},
      {"capture_stats", stats},
      {"meta_extra", m.extra},
  };
}

void print_text(const std::string& path, const InfoData& d) {
  const auto& m = d.meta;
  fmt::print("trace        {} (format version {})\n", path, d.format_version);
  if (m.device_kind == "synthetic")
    fmt::print("             SYNTHETIC: nothing in it was measured\n");
  fmt::print("tool         {} {}, created {} on {}\n", m.tool, m.tool_version, m.created_utc,
             m.host.empty() ? "?" : m.host);
  fmt::print("device       {}: {}", m.device_kind.empty() ? "?" : m.device_kind,
             m.gpu_name.empty() ? "-" : m.gpu_name);
  if (m.sm_count > 0) fmt::print(", {} SMs", m.sm_count);
  if (m.gpu_memory_bytes > 0) fmt::print(", {:.1f} GiB", gib(m.gpu_memory_bytes));
  if (m.copy_bandwidth_bytes_per_s > 0) {
    fmt::print(", copy {:.0f} GB/s", m.copy_bandwidth_bytes_per_s / 1e9);
  }
  if (!m.driver.empty()) fmt::print(", driver {}", m.driver);
  fmt::print("\n");
  if (m.model) {
    const auto& c = *m.model;
    fmt::print(
        "model        {}: {} layers, hidden {}, {} heads / {} KV heads, head_dim {}, "
        "intermediate {}, vocab {}, weights {} ({} parameters)\n",
        c.name, c.n_layers, c.hidden, c.n_heads, c.n_kv_heads, c.head_dim, c.intermediate, c.vocab,
        core::dtype_name(c.weight_dtype), human_count(c.parameter_count()));
  } else {
    fmt::print("model        (none recorded)\n");
  }
  if (!m.model_source.empty()) fmt::print("source       {}\n", m.model_source);
  if (!m.notes.empty()) fmt::print("notes        {}\n", m.notes);
  fmt::print("prompts      {} ({} layer similarity values)\n", d.counts.prompts,
             d.counts.similarities);
  fmt::print("runs         {} ({} step timings)\n", d.counts.runs, d.counts.run_steps);
  if (!d.runs.empty()) {
    fmt::print("  {:>4}  {:<32} {:<9} {:<14} {:>5} {:>5} {:>6} {:>5} {:>10} {:>9} {:>9}  {}\n",
               "id", "label", "policy", "budget", "p", "batch", "prompt", "gen", "tok/s", "step ms",
               "peak GiB", "status");
    for (const auto& r : d.runs) {
      fmt::print(
          "  {:>4}  {:<32} {:<9} {:<14} {:>5.2f} {:>5} {:>6} {:>5} {:>10.1f} {:>9.3f} "
          "{:>9.2f}  {}\n",
          r.id, r.label, r.policy, budget_text(r), r.p, r.batch, r.prompt_len, r.gen_len,
          r.tokens_per_s, r.decode_step_ms_mean, gib(r.peak_bytes), r.status);
    }
  }
  fmt::print("kernels      {}\n", d.counts.kernels);
  fmt::print("calibration  {} points\n", d.counts.calibration);
  for (const auto& s : d.stats) {
    fmt::print("stat         {}{} = {:g}\n", s.name,
               s.run_id ? fmt::format(" (run {})", *s.run_id) : "", s.value);
  }
}

int run_info(const InfoOptions& opts) {
  auto data = load(opts.trace);
  if (!data.ok()) {
    fmt::print(stderr, "squeeze-sim info: {}\n", data.error().message);
    return data.error().code;
  }
  if (opts.json) {
    fmt::print("{}\n", to_json(opts.trace, *data).dump(2));
  } else {
    print_text(opts.trace, *data);
  }
  return 0;
}

}  // namespace

void add_info_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand(
      "info", "Summarise a trace: model, GPU, prompts, runs, kernel records, format version");
  cmd->add_option("trace", opts->trace, "Trace file (.sqz)")->required();
  cmd->add_flag("--json", opts->json, "Print JSON instead of text");
  cmd->callback([opts, &exit_code] { exit_code = run_info(*opts); });
}

}  // namespace squeeze::sim::cli
