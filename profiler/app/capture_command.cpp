// squeeze-profile capture: per-prompt layer similarities of a prompt file into a trace.
#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "squeeze/profiler/capture.hpp"
#include "squeeze/profiler/device_info.hpp"
#include "squeeze/profiler/tokenizer.hpp"

namespace squeeze::profiler::cli {

namespace {

struct CaptureArgs {
  std::string device = "cpu";
  std::string model;
  std::optional<std::string> tokenizer;
  std::string prompts;
  std::string out;
  int max_prompt_tokens = 0;
  std::string field = "text";
  std::string dataset;
  int limit = 0;
  bool overwrite = false;
  CudaCaptureArgs cuda;  // --device cuda: measured runs (cuda_capture_command.cpp)
};

int run_capture(const CaptureArgs& args) {
  // Without --prompts, --device cuda measures timed runs and kernels; with --prompts, either device
  // captures per-prompt layer similarities (the CUDA engine's are checked against the CPU engine's).
  if (args.device == "cuda" && args.prompts.empty())
    return run_cuda_capture_command(args.cuda, args.model, args.out);
  if (args.model.empty() || args.prompts.empty())
    return report(core::make_error(fmt::format("capture --device {} needs --model and --prompts "
                                               "(--device cuda without --prompts: measured runs)",
                                               args.device), 2));
  if (args.max_prompt_tokens < 0 || args.limit < 0)
    return report(core::make_error("--max-prompt-tokens and --limit must be >= 0", 2));
  auto prompts = read_prompts(args.prompts, args.field, args.limit);
  if (!prompts.ok()) return report(prompts.error());
  auto engine = open_engine(args.device, args.model);
  if (!engine.ok()) return report(engine.error());
  auto tokenizer = load_tokenizer(args.model, args.tokenizer);
  if (!tokenizer.ok()) return report(tokenizer.error());
  auto writer = core::TraceWriter::create(args.out, args.overwrite);
  if (!writer.ok()) return report(writer.error());
  auto meta = capture_meta(**engine, args.model, args.device);
  if (args.device == "cuda") {
    if (auto gpus = list_gpus(); !gpus.empty()) {
      meta.gpu_name = gpus.front().name;
      meta.sm_count = gpus.front().sm_count;
      meta.gpu_memory_bytes = gpus.front().memory_bytes;
    }
  }
  if (auto s = writer->write_meta(meta); !s.ok()) return report(s.error());

  CaptureOptions options;
  options.max_prompt_tokens = args.max_prompt_tokens;
  options.dataset = args.dataset.empty() ? std::filesystem::path(args.prompts).stem().string() : args.dataset;
  options.on_prompt = [](const CaptureProgress& p) {
    fmt::print(stderr, "prompt {}/{}: {} tokens, {:.2f} s\n", p.index, p.total, p.tokens, p.seconds);
  };
  auto summary = capture_similarities(**engine, **tokenizer, *prompts, *writer, options);
  if (!summary.ok()) return report(summary.error());
  fmt::print(stderr, "{} prompts, {} tokens in {:.2f} s ({:.0f} tokens/s) -> {}\n", summary->prompts,
             summary->tokens, summary->seconds, summary->tokens / std::max(summary->seconds, 1e-9),
             args.out);
  fmt::print("mean layer similarity: {:.4f}\n", fmt::join(summary->mean_similarity, " "));
  return 0;
}

}  // namespace

void add_capture_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CaptureArgs>();
  auto* cmd = app.add_subcommand("capture", "Capture per-prompt layer similarities (cpu) or measured runs and kernels (cuda) into a trace");
  cmd->add_option("--device", args->device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--model", args->model, "llama2.c .bin, Hugging Face directory or GGUF file (cuda: also random:llama-2-7b[-gqa], the default)");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer file (default: found beside the model)");
  cmd->add_option("--prompts", args->prompts, ".txt (one prompt) or .jsonl (one per line): similarity capture on either device");
  cmd->add_option("--out", args->out, "trace file to create (.sqz)")->required();
  cmd->add_option("--max-prompt-tokens", args->max_prompt_tokens, "truncate prompts to N tokens (0: model context)");
  cmd->add_option("--field", args->field, "JSON field holding the prompt")->capture_default_str();
  cmd->add_option("--dataset", args->dataset, "dataset name recorded per prompt (default: file stem)");
  cmd->add_option("--limit", args->limit, "capture at most N prompts (0: all)");
  cmd->add_flag("--overwrite", args->overwrite, "replace an existing trace (cuda: always replaced)");
  add_cuda_capture_options(*cmd, args->cuda);
  cmd->callback([args, &exit_code] { exit_code = run_capture(*args); });
}

}  // namespace squeeze::profiler::cli
