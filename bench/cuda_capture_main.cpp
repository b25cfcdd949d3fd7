// squeeze-cuda-capture: the CUDA backend's capture and calibrate commands, standalone until
// squeeze-profile (profiler/app, owned by the CPU-engine work) routes `capture --device cuda` and
// `calibrate` here. Same options as there.
//
//   squeeze-cuda-capture capture --model random:llama-2-7b --out t.sqz --policy full,h2o
//       --budget 256 --p 1,0.35 --batch 1,8 --prompt-len 512 --gen-tokens 32 [--calibrate]
//   squeeze-cuda-capture calibrate --model random:llama-2-7b --out t.sqz
#include <CLI/CLI.hpp>
#include <cstdio>

#include "squeeze/profiler/cuda/cuda_capture.hpp"
#include "squeeze/profiler/model_loader.hpp"

int main(int argc, char** argv) {
  using namespace squeeze;
  CLI::App app{"squeeze CUDA capture"};
  app.require_subcommand(1);
  profiler::CudaCaptureOptions opt;
  auto* cap = app.add_subcommand("capture", "measured runs + CUPTI kernels into a trace");
  cap->add_option("--model", opt.model, "model path or random:llama-2-7b[-gqa]")->capture_default_str();
  cap->add_option("--out", opt.output, "trace file (.sqz), overwritten")->required();
  cap->add_option("--policy", opt.policies, "full, window, streaming, h2o")->delimiter(',');
  cap->add_option("--budget", opt.budgets, "uniform budget B in tokens")->delimiter(',');
  cap->add_option("--p", opt.ps, "SqueezeAttention p (1 = uniform)")->delimiter(',');
  cap->add_option("--batch", opt.batches, "batch sizes")->delimiter(',');
  cap->add_option("--prompt-len", opt.prompt_len)->capture_default_str();
  cap->add_option("--gen-tokens", opt.gen_tokens)->capture_default_str();
  cap->add_option("--kernel-runs", opt.kernel_runs, "first N runs repeated under CUPTI")->capture_default_str();
  cap->add_flag("--calibrate", opt.calibrate, "also write the calibration table");
  std::string cal_model = "random:llama-2-7b", cal_out;
  auto* cal = app.add_subcommand("calibrate", "GEMM and decode-attention timings for a model's shapes");
  cal->add_option("--model", cal_model)->capture_default_str();
  cal->add_option("--out", cal_out)->required();
  CLI11_PARSE(app, argc, argv);
  core::Status st;
  if (cap->parsed()) {
    st = profiler::run_cuda_capture(opt, stdout);
  } else {
    core::ModelConfig cfg;
    if (cal_model.rfind("random:", 0) == 0) {
      auto c = profiler::random_model_shape(cal_model.substr(7));
      if (!c.ok()) { std::fprintf(stderr, "error: %s\n", c.error().message.c_str()); return c.error().code; }
      cfg = *c;
    } else {
      auto w = profiler::load_model(cal_model);
      if (!w.ok()) { std::fprintf(stderr, "error: %s\n", w.error().message.c_str()); return w.error().code; }
      cfg = w->config;
    }
    st = profiler::run_cuda_calibrate(cfg, cal_out, stdout);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.error().message.c_str());
    return st.error().code;
  }
  return 0;
}
