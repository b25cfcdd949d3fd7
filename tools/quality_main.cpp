// squeeze-quality: quality under KV compression (docs/results.md, "Quality under compression").
//
// For each item of a JSON-lines file: a prompt (head, optionally an instruction tail that is
// never truncated away) and a reference continuation, either from a field or by splitting the
// prompt's own tokens. Every cache configuration of the grid
//   full cache; for each policy x budget fraction f: uniform (p = 1) and squeeze with each p
// is run teacher-forced on the same tokens: the prompt is prefilled (online compression, the
// paper's mode), then the continuation is fed token by token and each token's NLL under the
// logits that predicted it is averaged. All configurations of one item run as one batch through
// the engine (one decode call per continuation token), so decode reads the weights once per token
// for the whole grid. One CSV row per (item, configuration); derived numbers only, no text.
#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "squeeze/profiler/cpu_engine.hpp"
#include "squeeze/profiler/engine.hpp"
#include "squeeze/profiler/model_loader.hpp"
#include "squeeze/profiler/quality.hpp"
#include "squeeze/profiler/tokenizer.hpp"

namespace {

using namespace squeeze;
using namespace squeeze::profiler;

struct Args {
  std::string model;
  std::optional<std::string> tokenizer;
  std::string data;
  std::string head_field = "text";
  std::string tail_field;          // optional instruction kept after the (truncated) head
  std::string continuation_field;  // empty: split the prompt's own tokens at --split-at
  int split_at = 0;
  int max_prompt_tokens = 512;
  int max_continuation_tokens = 64;
  int min_continuation_tokens = 8;
  int limit = 10;
  int skip = 0;
  std::vector<std::string> policies{"window", "streaming", "h2o"};
  std::vector<double> budgets{0.1, 0.2, 0.3, 0.5};
  std::vector<double> ps{0.3, 0.4, 0.5};
  std::string dataset;
  std::string model_name;
  std::string out;
  int threads = 0;
  bool check = false;
  bool capped = false;
};

struct Config {
  std::string scheme;  // full, uniform, squeeze
  std::string policy;
  double fraction = 0;
  double p = 1;
  CachePlan plan;
};

std::vector<Config> make_grid(const Args& a) {
  std::vector<Config> grid;
  grid.push_back({"full", "full", 1.0, 1.0, CachePlan{}});
  for (const auto& name : a.policies) {
    const auto kind = core::parse_policy(name);
    if (!kind.ok()) throw std::runtime_error(kind.error().message);
    for (double f : a.budgets) {
      std::vector<double> ps{1.0};
      ps.insert(ps.end(), a.ps.begin(), a.ps.end());
      for (double p : ps) {
        CachePlan plan;
        plan.policy.kind = *kind;
        plan.budget_fraction = f;
        plan.p = p;
        grid.push_back({p == 1.0 ? "uniform" : "squeeze", core::policy_name(*kind), f, p, plan});
      }
    }
  }
  return grid;
}

// Squeeze budgets with every layer capped at what it can ever hold (prompt + continuation) and the
// excess handed out one token at a time to the smallest budget still under the cap: the same total
// memory actually used, unlike the plain budgets, whose excess over the sequence length is idle.
std::vector<int> capped_budgets(std::vector<int> budgets, int cap) {
  long excess = 0;
  for (int& b : budgets)
    if (b > cap) excess += b - cap, b = cap;
  while (excess > 0) {
    int best = -1;
    for (int l = 0; l < static_cast<int>(budgets.size()); ++l)
      if (budgets[static_cast<std::size_t>(l)] < cap &&
          (best < 0 || budgets[static_cast<std::size_t>(l)] < budgets[static_cast<std::size_t>(best)]))
        best = l;
    if (best < 0) break;
    ++budgets[static_cast<std::size_t>(best)];
    --excess;
  }
  return budgets;
}

struct Item {
  int line = 0;
  std::vector<int> prompt;
  std::vector<int> continuation;
};

// Builds prompt and continuation tokens of one JSON line; nullopt when it has too little
// continuation (skipped and counted).
std::optional<Item> make_item(const Args& a, const Tokenizer& tok, const nlohmann::json& j, int line) {
  Item item;
  item.line = line;
  std::vector<int> head = tok.encode(j.at(a.head_field).get<std::string>(), true);
  if (a.continuation_field.empty()) {
    if (static_cast<int>(head.size()) < a.split_at + a.min_continuation_tokens) return std::nullopt;
    item.prompt.assign(head.begin(), head.begin() + a.split_at);
    const int c = std::min<int>(a.max_continuation_tokens, static_cast<int>(head.size()) - a.split_at);
    item.continuation.assign(head.begin() + a.split_at, head.begin() + a.split_at + c);
    return item;
  }
  std::vector<int> tail;
  if (!a.tail_field.empty()) tail = tok.encode(j.at(a.tail_field).get<std::string>(), false);
  const int keep = a.max_prompt_tokens - static_cast<int>(tail.size());
  if (keep < 2) throw std::runtime_error("--max-prompt-tokens leaves no room for the head");
  if (static_cast<int>(head.size()) > keep) head.resize(static_cast<std::size_t>(keep));
  item.prompt = head;
  item.prompt.insert(item.prompt.end(), tail.begin(), tail.end());
  item.continuation = tok.encode(j.at(a.continuation_field).get<std::string>(), false);
  if (static_cast<int>(item.continuation.size()) < a.min_continuation_tokens) return std::nullopt;
  if (static_cast<int>(item.continuation.size()) > a.max_continuation_tokens)
    item.continuation.resize(static_cast<std::size_t>(a.max_continuation_tokens));
  return item;
}

int run(const Args& a) {
  const auto grid = make_grid(a);
  auto weights = load_model(a.model);
  if (!weights.ok()) return fmt::print(stderr, "error: {}\n", weights.error().message), 1;
  CpuEngineOptions engine_options;
  engine_options.threads = a.threads;
  auto engine = make_cpu_engine(std::move(weights).value(), engine_options);
  if (!engine.ok()) return fmt::print(stderr, "error: {}\n", engine.error().message), 1;
  auto tok = load_tokenizer(a.model, a.tokenizer);
  if (!tok.ok()) return fmt::print(stderr, "error: {}\n", tok.error().message), 1;
  Engine& e = **engine;
  const int n_layers = e.config().n_layers;

  std::ifstream in(a.data);
  if (!in) return fmt::print(stderr, "error: cannot read {}\n", a.data), 2;
  std::ofstream out(a.out);
  if (!out) return fmt::print(stderr, "error: cannot write {}\n", a.out), 2;
  out << "model,dataset,item,prompt_tokens,continuation_tokens,scheme,policy,budget_fraction,p,"
         "budget_B,kv_tokens_total,squeezed_layers,mean_nll,layer_budgets\n";

  std::string line;
  int line_no = 0, done = 0, skipped = 0;
  while (done < a.limit && std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (line_no <= a.skip) continue;
    const auto j = nlohmann::json::parse(line);
    auto item = make_item(a, **tok, j, line_no);
    if (!item) {
      ++skipped;
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const int n = static_cast<int>(item->prompt.size());
    auto item_grid = grid;
    if (a.capped) {
      // The similarities come from a full-cache prefill of the prompt alone (one extra pass).
      auto probe = e.add_sequence(CachePlan{});
      if (!probe.ok()) return fmt::print(stderr, "error: {}\n", probe.error().message), 1;
      auto pf = e.prefill(*probe, item->prompt);
      e.release_sequence(*probe);
      if (!pf.ok()) return fmt::print(stderr, "error: {}\n", pf.error().message), 1;
      const int cap = n + static_cast<int>(item->continuation.size());
      for (const auto& c : grid) {
        if (c.scheme != "squeeze") continue;
        auto b = resolve_layer_budgets(c.plan, pf->layer_similarity, n);
        if (!b.ok()) return fmt::print(stderr, "error: {}\n", b.error().message), 1;
        Config cc = c;
        cc.scheme = "squeeze_capped";
        cc.plan.layer_budgets = capped_budgets(*b, cap);
        item_grid.push_back(cc);
      }
    }
    std::vector<SequenceId> ids;
    for (const auto& c : item_grid) {
      auto id = e.add_sequence(c.plan);
      if (!id.ok()) return fmt::print(stderr, "error: {}\n", id.error().message), 1;
      ids.push_back(*id);
    }
    std::vector<std::vector<int>> prompts(ids.size(), item->prompt);
    auto pre = e.prefill(ids, prompts, PrefillOptions{});
    if (!pre.ok()) return fmt::print(stderr, "error: {}\n", pre.error().message), 1;
    std::vector<double> nll_sum(ids.size(), 0.0);
    std::vector<std::vector<float>> logits;
    for (auto& o : *pre) logits.push_back(std::move(o.logits));
    const auto& cont = item->continuation;
    for (std::size_t i = 0; i < cont.size(); ++i) {
      for (std::size_t s = 0; s < ids.size(); ++s) nll_sum[s] += token_nll(logits[s], cont[i]);
      if (i + 1 == cont.size()) break;
      std::vector<int> tokens(ids.size(), cont[i]);
      auto next = e.decode(ids, tokens);
      if (!next.ok()) return fmt::print(stderr, "error: {}\n", next.error().message), 1;
      logits = std::move(next).value();
    }
    for (std::size_t s = 0; s < ids.size(); ++s) {
      const auto& c = item_grid[s];
      const auto& budgets = (*pre)[s].layer_budgets;
      long total = 0;
      int squeezed = 0;
      const int B = c.scheme == "full" ? n : std::max(1, static_cast<int>(std::lround(c.fraction * n)));
      for (int b : budgets) {
        total += b;
        if (b < B) ++squeezed;
      }
      if (budgets.empty()) total = static_cast<long>(n) * n_layers;
      out << fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{:.6f},{}\n", a.model_name, a.dataset,
                         item->line, n, cont.size(), c.scheme, c.policy, c.fraction, c.p, B, total,
                         squeezed, nll_sum[s] / static_cast<double>(cont.size()),
                         fmt::join(budgets, ";"));
      e.release_sequence(ids[s]);
    }
    if (a.check && done == 0) {
      // The batched grid against one sequence at a time through the library's teacher_forced_nll:
      // the shared prefill and the batched decode must not change a single NLL.
      double worst = 0;
      for (std::size_t s = 0; s < ids.size(); ++s) {
        auto one = teacher_forced_nll(e, item->prompt, cont, item_grid[s].plan);
        if (!one.ok()) return fmt::print(stderr, "error: {}\n", one.error().message), 1;
        worst = std::max(worst, std::abs(one->mean_nll - nll_sum[s] / static_cast<double>(cont.size())));
      }
      fmt::print(stderr, "check: batched vs one-at-a-time mean NLL, max |diff| = {:.3g} over {} configs\n",
                 worst, ids.size());
    }
    out.flush();
    ++done;
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print(stderr, "item {} (line {}): prompt {} + continuation {} tokens, {} configs, {:.1f} s; full NLL {:.3f}\n",
               done, line_no, n, cont.size(), item_grid.size(), sec, nll_sum[0] / static_cast<double>(cont.size()));
  }
  fmt::print(stderr, "{} items written to {} ({} skipped: continuation < {} tokens)\n", done, a.out,
             skipped, a.min_continuation_tokens);
  return done > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"squeeze-quality: teacher-forced NLL of reference continuations under full, uniform "
               "and SqueezeAttention KV budgets for each policy; CSV out"};
  Args a;
  app.add_option("--model", a.model, "llama2.c .bin, Hugging Face directory or GGUF file")->required();
  app.add_option("--tokenizer", a.tokenizer, "tokenizer file (default: found beside the model)");
  app.add_option("--data", a.data, "JSON-lines file")->required();
  app.add_option("--head-field", a.head_field, "field with the prompt text (truncated to fit)")->capture_default_str();
  app.add_option("--tail-field", a.tail_field, "field with an instruction appended after the truncated head");
  app.add_option("--continuation-field", a.continuation_field, "field with the reference continuation");
  app.add_option("--split-at", a.split_at, "no continuation field: prompt = first N tokens (BOS incl.), continuation = the rest");
  app.add_option("--max-prompt-tokens", a.max_prompt_tokens, "prompt length cap (head is cut, tail kept)")->capture_default_str();
  app.add_option("--max-continuation-tokens", a.max_continuation_tokens)->capture_default_str();
  app.add_option("--min-continuation-tokens", a.min_continuation_tokens, "skip items with fewer")->capture_default_str();
  app.add_option("--limit", a.limit, "items to evaluate")->capture_default_str();
  app.add_option("--skip", a.skip, "skip the first N lines")->capture_default_str();
  app.add_option("--policies", a.policies, "KV policies")->delimiter(',')->capture_default_str();
  app.add_option("--budgets", a.budgets, "uniform budgets B as fractions of the prompt")->delimiter(',')->capture_default_str();
  app.add_option("--ps", a.ps, "SqueezeAttention p values")->delimiter(',')->capture_default_str();
  app.add_option("--dataset", a.dataset, "dataset name for the CSV")->required();
  app.add_option("--model-name", a.model_name, "model name for the CSV")->required();
  app.add_option("--out", a.out, "CSV file to write")->required();
  app.add_option("--threads", a.threads, "CPU engine threads (0: all cores)")->capture_default_str();
  app.add_flag("--capped", a.capped, "also run squeeze_capped: each squeeze plan with budgets capped at prompt + continuation and the excess re-spread");
  app.add_flag("--check", a.check, "recompute the first item one configuration at a time and report the largest NLL difference");
  CLI11_PARSE(app, argc, argv);
  if (a.continuation_field.empty() && a.split_at < 2) {
    fmt::print(stderr, "error: give --continuation-field or --split-at N (N >= 2)\n");
    return 2;
  }
  try {
    return run(a);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
