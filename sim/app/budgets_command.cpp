// squeeze-sim budgets: SqueezeAttention layer budgets from per-layer similarities, as a table or
// JSON. The algorithm is core's (layer_budget.hpp); this file only parses and prints.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "squeeze/core/layer_budget.hpp"

namespace squeeze::sim::cli {

namespace {

struct BudgetsOptions {
  std::string similarity;
  std::optional<int> budget_tokens;
  std::optional<double> budget_fraction;
  std::optional<int> prompt_len;
  double p = 0.0;
  int clusters = 3;
  bool json = false;
};

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\n") - first + 1);
}

// "0.91, 0.95,0.97" -> values; every item must be a whole finite number.
core::Result<std::vector<double>> parse_similarities(const std::string& text) {
  std::vector<double> values;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string item = trim(text.substr(start, comma == std::string::npos ? std::string::npos
                                                                                 : comma - start));
    const std::size_t layer = values.size();
    if (item.empty())
      return core::make_error(fmt::format("--similarity: value {} is empty (expected a comma-"
                                          "separated list of numbers, one per layer)", layer), 2);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(item.c_str(), &end);
    if (end != item.c_str() + item.size() || errno == ERANGE)
      return core::make_error(fmt::format("--similarity: value {} ('{}') is not a number", layer, item), 2);
    if (!std::isfinite(v))
      return core::make_error(fmt::format("--similarity: value {} ('{}') is not a finite number", layer, item), 2);
    values.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return values;
}

core::Result<int> resolve_uniform_budget(const BudgetsOptions& o) {
  if (o.budget_tokens) {
    if (*o.budget_tokens < 1)
      return core::make_error(fmt::format("--budget-tokens must be at least 1, got {}", *o.budget_tokens), 2);
    return *o.budget_tokens;
  }
  if (o.budget_fraction && o.prompt_len) return core::budget_from_fraction(*o.budget_fraction, *o.prompt_len);
  return core::make_error("no budget given: pass --budget-tokens B, or --budget-fraction F with "
                          "--prompt-len N", 2);
}

std::string group_name(const core::LayerBudgets& b, int layer) {
  return b.is_unimportant(layer) ? "unimportant" : "important";
}

void print_json(const std::vector<double>& sims, const core::LayerBudgets& b) {
  nlohmann::json j;
  j["budgets"] = b.budgets;
  j["clusters"] = b.clusters;
  j["unimportant"] = b.unimportant;
  j["centers"] = b.centers;
  j["uniform_budget"] = b.uniform_budget;
  j["squeezed_budget"] = b.squeezed_budget;
  j["p"] = b.p;
  j["total"] = b.total;
  j["similarity"] = sims;
  fmt::print("{}\n", j.dump(2));
}

void print_table(const std::vector<double>& sims, const core::LayerBudgets& b,
                 const BudgetsOptions& o) {
  fmt::print("{:>5}  {:>10}  {:>7}  {:<11}  {:>7}\n", "layer", "similarity", "cluster", "group", "budget");
  for (int l = 0; l < b.n_layers(); ++l) {
    const auto i = static_cast<std::size_t>(l);
    fmt::print("{:>5}  {:>10.6f}  {:>7}  {:<11}  {:>7}\n", l, sims[i], b.clusters[i],
               group_name(b, l), b.budgets[i]);
  }
  fmt::print("\n");
  if (o.budget_fraction && !o.budget_tokens)
    fmt::print("uniform budget B: {} tokens per layer ({} of a {}-token prompt)\n", b.uniform_budget,
               *o.budget_fraction, *o.prompt_len);
  else
    fmt::print("uniform budget B: {} tokens per layer\n", b.uniform_budget);
  fmt::print("cluster centers:  {:.6f}\n", fmt::join(b.centers, ", "));
  const std::int64_t uniform_total = std::int64_t{b.n_layers()} * b.uniform_budget;
  if (b.unimportant.empty()) {
    fmt::print("one cluster: no layer is less important than the others, budgets stay uniform\n");
  } else {
    const int saved = b.uniform_budget - b.squeezed_budget;
    fmt::print("unimportant:      {} layers ({}) keep floor(p*B) = floor({}*{}) = {} tokens, "
               "saving {} tokens each\n", b.unimportant.size(), fmt::join(b.unimportant, ","), b.p,
               b.uniform_budget, b.squeezed_budget, saved);
    fmt::print("important:        {} layers share the {} freed tokens\n",
               b.n_layers() - static_cast<int>(b.unimportant.size()),
               static_cast<std::int64_t>(saved) * static_cast<std::int64_t>(b.unimportant.size()));
  }
  fmt::print("total KV tokens per sequence: uniform {} / squeeze {}\n", uniform_total, b.total);
}

int run_budgets(const BudgetsOptions& o) {
  auto fail = [](const core::Error& e) {
    fmt::print(stderr, "squeeze-sim budgets: {}\n", e.message);
    return e.code == 0 ? 1 : e.code;
  };
  auto sims = parse_similarities(o.similarity);
  if (!sims) return fail(sims.error());
  auto uniform = resolve_uniform_budget(o);
  if (!uniform) return fail(uniform.error());
  if (o.clusters < 1)
    return fail(core::make_error(fmt::format("--clusters must be at least 1, got {}", o.clusters), 2));
  auto budgets = core::squeeze_budgets(*sims, *uniform, o.p, o.clusters);
  if (!budgets) return fail(budgets.error());
  if (o.json) print_json(*sims, *budgets);
  else print_table(*sims, *budgets, o);
  return 0;
}

}  // namespace

void add_budgets_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<BudgetsOptions>();
  auto* cmd = app.add_subcommand(
      "budgets",
      "SqueezeAttention layer-wise KV budgets from per-layer attention cosine similarities");
  cmd->footer(
      "How the budgets are made (DESIGN.md §2):\n"
      "  Each layer's similarity is the mean cosine between the residual stream before and after\n"
      "  its attention; high similarity means the layer changes little, so it matters less.\n"
      "  The similarities are split into K clusters by an exact 1-D k-means; the cluster with the\n"
      "  highest center is 'unimportant'.\n"
      "  B (the uniform budget) is what every layer would keep without squeezing: tokens of KV\n"
      "  cache per sequence per layer. Each unimportant layer keeps floor(p*B) tokens; the tokens\n"
      "  this frees are shared evenly by the other layers (lowest similarity first for the odd\n"
      "  tokens), so the total stays exactly layers*B. p = 1 gives uniform budgets; the paper\n"
      "  found p around 0.3-0.4 good.\n"
      "Example (the SqueezeAttention README: budget 21% of the prompt, unimportant layers 8%):\n"
      "  squeeze-sim budgets --similarity 0.55,0.78,... --budget-fraction 0.21 --prompt-len 2000 \\\n"
      "      --p 0.381");
  cmd->add_option("--similarity", opts->similarity,
                  "Per-layer similarities, comma-separated, layer 0 first (e.g. 0.62,0.91,0.97)")
      ->required();
  auto* tokens = cmd->add_option("--budget-tokens", opts->budget_tokens,
                                 "Uniform budget B in tokens per layer (>= 1)");
  auto* fraction = cmd->add_option("--budget-fraction", opts->budget_fraction,
                                   "Uniform budget as a fraction F of the prompt: B = round(F * N)");
  auto* prompt = cmd->add_option("--prompt-len", opts->prompt_len,
                                 "Prompt length N in tokens, for --budget-fraction");
  tokens->excludes(fraction);
  fraction->needs(prompt);
  prompt->needs(fraction);
  cmd->add_option("-p,--p", opts->p,
                  "Fraction of B that unimportant layers keep, in (0, 1]; floor(p*B) must be >= 1")
      ->required();
  cmd->add_option("--clusters", opts->clusters, "Number of k-means clusters K (>= 1)")
      ->capture_default_str();
  cmd->add_flag("--json", opts->json,
                "Print one JSON object: budgets, clusters, unimportant, centers, uniform_budget, total");
  cmd->callback([opts, &exit_code] { exit_code = run_budgets(*opts); });
}

}  // namespace squeeze::sim::cli
