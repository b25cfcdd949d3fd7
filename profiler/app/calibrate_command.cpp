// squeeze-profile calibrate: GEMM and decode-attention timings for a model's shapes on the GPU,
// appended to a trace (created when missing) for the simulator's cost model.
#include <fmt/format.h>

#include "commands.hpp"
#include "squeeze/profiler/cuda/cuda_capture.hpp"
#include "squeeze/profiler/device_info.hpp"
#include "squeeze/profiler/model_loader.hpp"

namespace squeeze::profiler::cli {

namespace {

struct CalibrateArgs {
  std::string model = "random:llama-2-7b";
  std::string out;
};

int run_calibrate(const CalibrateArgs& args) {
  if (!cuda_built())
    return report(core::make_error("calibrate needs the CUDA backend; this build has none "
                                   "(build with -DSQUEEZE_BUILD_CUDA=ON)", 2));
#ifdef SQUEEZE_HAVE_CUDA
  core::ModelConfig cfg;
  if (args.model.rfind("random:", 0) == 0) {
    auto c = random_model_shape(args.model.substr(7));
    if (!c.ok()) return report(c.error());
    cfg = *c;
  } else {
    auto w = load_model(args.model);  // only the config is used
    if (!w.ok()) return report(w.error());
    cfg = w->config;
  }
  if (auto s = run_cuda_calibrate(cfg, args.out, stdout); !s.ok()) return report(s.error());
  return 0;
#else
  (void)args;
  return 2;  // unreachable: cuda_built() is false
#endif
}

}  // namespace

void add_calibrate_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CalibrateArgs>();
  auto* cmd = app.add_subcommand("calibrate", "GEMM and decode-attention timings of a model's shapes (CUDA)");
  cmd->add_option("--model", args->model, "model path or random:llama-2-7b[-gqa]")->capture_default_str();
  cmd->add_option("--out", args->out, "trace to append to (created when missing)")->required();
  cmd->callback([args, &exit_code] { exit_code = run_calibrate(*args); });
}

}  // namespace squeeze::profiler::cli
