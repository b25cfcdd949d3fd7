// squeeze-profile generate: text in, continuation out, under a KV policy and budget.
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "commands.hpp"
#include "squeeze/profiler/sampling.hpp"
#include "squeeze/profiler/tokenizer.hpp"

namespace squeeze::profiler::cli {

namespace {

struct GenerateArgs {
  std::string device = "cpu";
  std::string model;
  std::optional<std::string> tokenizer;
  std::string prompt;
  int max_new_tokens = 64;
  std::string policy = "full";
  double budget = 0;       // fraction of the prompt
  int budget_tokens = 0;   // or tokens
  double p = 1.0;
  double temperature = 0.0;
  double top_p = 1.0;
  std::uint64_t seed = 0;
};

int run_generate(const GenerateArgs& args) {
  auto kind = core::parse_policy(args.policy);
  if (!kind.ok()) return report(kind.error());
  const SamplingParams sampling{args.temperature, args.top_p, args.seed};
  if (auto s = validate_sampling(sampling); !s.ok()) return report(s.error());
  if (args.max_new_tokens < 0) return report(core::make_error("--max-new-tokens must be >= 0", 2));
  CachePlan plan;
  plan.policy.kind = *kind;
  plan.budget_fraction = args.budget;
  plan.budget_tokens = args.budget_tokens;
  plan.p = args.p;
  if (*kind != core::PolicyKind::Full && args.budget <= 0 && args.budget_tokens <= 0)
    return report(core::make_error(fmt::format("--policy {} needs a budget above 0: --budget F (a fraction "
                                               "of the prompt, in (0, 1]) or --budget-tokens N (N >= 1); "
                                               "got --budget {} --budget-tokens {}",
                                               args.policy, args.budget, args.budget_tokens), 2));
  if (*kind != core::PolicyKind::Full && args.budget > 1)
    return report(core::make_error(fmt::format("--budget is a fraction of the prompt in (0, 1], "
                                               "got {} (use --budget-tokens for tokens)", args.budget), 2));

  auto engine = open_engine(args.device, args.model);
  if (!engine.ok()) return report(engine.error());
  auto tokenizer = load_tokenizer(args.model, args.tokenizer);
  if (!tokenizer.ok()) return report(tokenizer.error());
  const auto& tok = **tokenizer;
  std::vector<int> prompt = tok.encode(args.prompt, /*add_bos=*/true);
  if (prompt.empty()) return report(core::make_error("--prompt gives no tokens", 2));
  const int context = (*engine)->config().max_seq;
  if (context > 0 && static_cast<int>(prompt.size()) + args.max_new_tokens > context)
    fmt::print(stderr, "warning: {} prompt + {} new tokens exceed the model's context of {}; "
               "positions beyond it were never trained\n", prompt.size(), args.max_new_tokens, context);
  auto seq = (*engine)->add_sequence(plan);
  if (!seq.ok()) return report(seq.error());

  const auto t0 = std::chrono::steady_clock::now();
  auto prefill = (*engine)->prefill(*seq, prompt);
  if (!prefill.ok()) return report(prefill.error());
  const auto t1 = std::chrono::steady_clock::now();
  fmt::print("{}", args.prompt);
  std::fflush(stdout);
  Sampler sampler(sampling);
  std::vector<float> logits = std::move(prefill->logits);
  int previous = prompt.back(), generated = 0;
  for (int i = 0; i < args.max_new_tokens; ++i) {
    const int next = sampler.sample(logits);
    // llama2.c models delimit stories with BOS; chat models end with EOS.
    if (next == tok.eos_id() || next == tok.bos_id()) break;
    fmt::print("{}", tok.decode_next(previous, next));
    std::fflush(stdout);
    previous = next;
    ++generated;
    if (i + 1 == args.max_new_tokens) break;
    auto step = (*engine)->decode(*seq, next);
    if (!step.ok()) return report(step.error());
    logits = std::move(step).value();
  }
  fmt::print("\n");
  const auto t2 = std::chrono::steady_clock::now();
  const double prefill_s = std::chrono::duration<double>(t1 - t0).count();
  const double decode_s = std::chrono::duration<double>(t2 - t1).count();
  fmt::print(stderr, "device {}: prompt {} tokens in {:.3f} s ({:.0f} tokens/s); generated {} tokens "
             "in {:.3f} s ({:.1f} tokens/s)\n", (*engine)->device(), prompt.size(), prefill_s,
             prompt.size() / std::max(prefill_s, 1e-9), generated, decode_s,
             generated / std::max(decode_s, 1e-9));
  if (!prefill->layer_budgets.empty())
    fmt::print(stderr, "policy {}: layer budgets {}\n", core::policy_name(*kind),
               fmt::join(prefill->layer_budgets, " "));
  return 0;
}

}  // namespace

void add_generate_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "Generate a continuation of a prompt");
  cmd->add_option("--device", args->device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--model", args->model, "llama2.c .bin, Hugging Face directory or GGUF file")->required();
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer file (default: found beside the model)");
  cmd->add_option("--prompt", args->prompt, "prompt text")->required();
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "tokens to generate")->capture_default_str();
  cmd->add_option("--policy", args->policy, "KV policy: full, window, streaming, h2o")->capture_default_str();
  cmd->add_option("--budget", args->budget, "uniform per-layer budget B as a fraction of the prompt length");
  cmd->add_option("--budget-tokens", args->budget_tokens, "uniform per-layer budget B in tokens");
  cmd->add_option("--p", args->p, "SqueezeAttention: unimportant layers get floor(p*B); 1 = uniform")->capture_default_str();
  cmd->add_option("--temperature", args->temperature, "0 = greedy")->capture_default_str();
  cmd->add_option("--top-p", args->top_p, "nucleus sampling mass")->capture_default_str();
  cmd->add_option("--seed", args->seed, "sampling seed")->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run_generate(*args); });
}

}  // namespace squeeze::profiler::cli
