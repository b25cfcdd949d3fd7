// squeeze-profile capture --device cuda: measured runs (policy x budget x p x batch -> tokens/s,
// step times, KV and peak bytes) and CUPTI kernel records into a trace, on the CUDA engine.
//
//   squeeze-profile capture --device cuda --model random:llama-2-7b --out t.sqz
//       --policy full,h2o --budget 256 --p 1,0.35 --batch 1,8 --prompt-len 512 --gen-tokens 32
//       [--similarity-from traces/smollm2-xsum.sqz] [--calibrate]
#include <cmath>

#include <fmt/format.h>

#include "commands.hpp"
#include "squeeze/core/trace_reader.hpp"
#include "squeeze/profiler/device_info.hpp"

namespace squeeze::profiler::cli {

namespace {

// Per-layer mean over the trace's prompts, NaN entries skipped (same rule as squeeze-sim layers).
core::Result<std::vector<double>> mean_layer_similarity(const std::string& path) {
  SQZ_TRY(reader, core::TraceReader::open(path));
  SQZ_TRY(m, reader.similarities());
  if (m.rows() == 0 || m.n_layers == 0)
    return core::make_error(fmt::format("--similarity-from {}: the trace holds no layer similarities", path), 2);
  std::vector<double> mean;
  for (int l = 0; l < m.n_layers; ++l) {
    double sum = 0;
    int count = 0;
    for (int r = 0; r < m.rows(); ++r)
      if (const double v = m.value(r, l); std::isfinite(v)) { sum += v; ++count; }
    if (count == 0)
      return core::make_error(fmt::format("--similarity-from {}: layer {} has no finite similarity", path, l), 2);
    mean.push_back(sum / count);
  }
  return mean;
}

}  // namespace

void add_cuda_capture_options(CLI::App& cmd, CudaCaptureArgs& args) {
  auto& o = args.options;
  const char* g = "CUDA (--device cuda)";
  cmd.add_option("--policy", o.policies, "policies: full, window, streaming, h2o")->delimiter(',')->group(g);
  cmd.add_option("--budget", o.budgets, "uniform budgets B in tokens")->delimiter(',')->group(g);
  cmd.add_option("--p", o.ps, "SqueezeAttention p values (1 = uniform)")->delimiter(',')->group(g);
  cmd.add_option("--batch", o.batches, "batch sizes")->delimiter(',')->group(g);
  cmd.add_option("--prompt-len", o.prompt_len, "prompt tokens (random ids)")->capture_default_str()->group(g);
  cmd.add_option("--gen-tokens", o.gen_tokens, "decode steps")->capture_default_str()->group(g);
  cmd.add_option("--kernel-runs", o.kernel_runs, "the first N runs repeated under CUPTI")->capture_default_str()->group(g);
  cmd.add_flag("--calibrate", o.calibrate, "also write the calibration table")->group(g);
  cmd.add_option("--similarity-from", args.similarity_from,
                 "trace whose per-layer mean similarity sets the squeeze (p < 1) budgets")->group(g);
}

int run_cuda_capture_command(CudaCaptureArgs args, const std::string& model, const std::string& out) {
  if (!cuda_built())
    return report(core::make_error("--device cuda: this build has no CUDA backend; use --device cpu "
                                   "or build with -DSQUEEZE_BUILD_CUDA=ON", 2));
  auto& o = args.options;
  if (o.prompt_len < 1 || o.gen_tokens < 0 || o.kernel_runs < 0)
    return report(core::make_error("--prompt-len must be >= 1, --gen-tokens and --kernel-runs >= 0", 2));
  for (int b : o.batches)
    if (b < 1) return report(core::make_error(fmt::format("--batch {}: must be >= 1", b), 2));
  for (double p : o.ps)
    if (!(p > 0 && p <= 1)) return report(core::make_error(fmt::format("--p {}: must be in (0, 1]", p), 2));
  if (!model.empty()) o.model = model;
  o.output = out;
  if (!args.similarity_from.empty()) {
    auto sim = mean_layer_similarity(args.similarity_from);
    if (!sim.ok()) return report(sim.error());
    o.layer_similarity = *sim;
    o.similarity_source = args.similarity_from;
  }
#ifdef SQUEEZE_HAVE_CUDA
  if (auto s = run_cuda_capture(o, stdout); !s.ok()) return report(s.error());
  return 0;
#else
  return 2;  // unreachable: cuda_built() is false
#endif
}

}  // namespace squeeze::profiler::cli
