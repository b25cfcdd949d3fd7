// squeeze-sim layers: per-layer similarity statistics of a captured trace, the clusters of the
// mean profile, and how stable the unimportant set is from prompt to prompt (which decides whether
// calibrated budgets, computed once, are safe; DESIGN.md §2 "Modes").
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "squeeze/core/clustering.hpp"
#include "squeeze/core/trace_reader.hpp"

namespace squeeze::sim::cli {

namespace {

struct LayerStats {
  double mean = 0, min = 0, max = 0;
  int prompts = 0;  // prompts with a value for this layer
};

struct Stability {
  int prompts_compared = 0;     // prompts with a value for every layer
  double agreement = 0;         // fraction whose own unimportant set equals the mean profile's
  double mean_jaccard = 0;      // over all pairs of compared prompts (1 when fewer than 2)
};

// The highest-center cluster, as core's budgets read it; none when everything is one cluster.
std::vector<int> unimportant_set(const core::Clustering& c) {
  std::vector<int> layers;
  if (c.k() < 2) return layers;
  for (int l = 0; l < static_cast<int>(c.labels.size()); ++l)
    if (c.labels[static_cast<std::size_t>(l)] == c.k() - 1) layers.push_back(l);
  return layers;
}

double jaccard(const std::vector<int>& a, const std::vector<int>& b) {
  if (a.empty() && b.empty()) return 1.0;
  std::vector<int> both, either;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(either));
  return static_cast<double>(both.size()) / static_cast<double>(either.size());
}

core::Result<Stability> stability(const core::SimilarityMatrix& m, const std::vector<int>& reference,
                                  int k) {
  std::vector<std::vector<int>> sets;
  for (int r = 0; r < m.rows(); ++r) {
    std::vector<double> row;
    for (int l = 0; l < m.n_layers; ++l) row.push_back(m.value(r, l));
    if (std::any_of(row.begin(), row.end(), [](double v) { return !std::isfinite(v); })) continue;
    SQZ_TRY(c, core::kmeans_1d(row, k));
    sets.push_back(unimportant_set(c));
  }
  Stability s;
  s.prompts_compared = static_cast<int>(sets.size());
  if (sets.empty()) return s;
  s.agreement = static_cast<double>(std::count(sets.begin(), sets.end(), reference)) /
                static_cast<double>(sets.size());
  double sum = 0;
  int pairs = 0;
  for (std::size_t i = 0; i < sets.size(); ++i)
    for (std::size_t j = i + 1; j < sets.size(); ++j, ++pairs) sum += jaccard(sets[i], sets[j]);
  s.mean_jaccard = pairs > 0 ? sum / pairs : 1.0;
  return s;
}

int run_layers(const std::string& path, bool json, int k) {
  auto fail = [](const core::Error& e) {
    fmt::print(stderr, "error: {}\n", e.message);
    return e.code == 0 ? 1 : e.code;
  };
  if (k < 1) return fail(core::make_error(fmt::format("--clusters must be at least 1, got {}", k), 2));
  auto reader = core::TraceReader::open(path);
  if (!reader.ok()) return fail(reader.error());
  auto matrix = reader->similarities();
  if (!matrix.ok()) return fail(matrix.error());
  const auto& m = *matrix;
  if (m.rows() == 0 || m.n_layers == 0)
    return fail(core::make_error(fmt::format("{}: the trace holds no layer similarities (capture "
                                             "some with squeeze-profile capture)", path)));
  std::vector<LayerStats> stats(static_cast<std::size_t>(m.n_layers));
  std::vector<double> means;
  for (int l = 0; l < m.n_layers; ++l) {
    auto& s = stats[static_cast<std::size_t>(l)];
    s.min = std::numeric_limits<double>::infinity();
    s.max = -s.min;
    for (int r = 0; r < m.rows(); ++r) {
      const double v = m.value(r, l);
      if (!std::isfinite(v)) continue;
      s.mean += v;
      s.min = std::min(s.min, v);
      s.max = std::max(s.max, v);
      ++s.prompts;
    }
    if (s.prompts == 0)
      return fail(core::make_error(fmt::format("{}: layer {} has no similarity in any prompt", path, l)));
    s.mean /= s.prompts;
    means.push_back(s.mean);
  }
  auto clusters = core::kmeans_1d(means, k);
  if (!clusters.ok()) return fail(clusters.error());
  const auto unimportant = unimportant_set(*clusters);
  auto stable = stability(m, unimportant, k);
  if (!stable.ok()) return fail(stable.error());
  auto is_unimportant = [&](int l) {
    return std::find(unimportant.begin(), unimportant.end(), l) != unimportant.end();
  };

  if (json) {
    nlohmann::json out;
    out["prompts"] = m.rows();
    out["clusters"] = clusters->k();
    out["centers"] = clusters->centers;
    out["unimportant_layers"] = unimportant;
    for (int l = 0; l < m.n_layers; ++l) {
      const auto& s = stats[static_cast<std::size_t>(l)];
      out["layers"].push_back({{"layer", l}, {"similarity", s.mean}, {"min", s.min}, {"max", s.max},
                               {"cluster", clusters->labels[static_cast<std::size_t>(l)]},
                               {"unimportant", is_unimportant(l)}});
    }
    out["stability"] = {{"prompts_compared", stable->prompts_compared},
                        {"agreement", stable->agreement},
                        {"mean_pairwise_jaccard", stable->mean_jaccard}};
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  fmt::print("{}: {} prompts, {} layers, {} clusters (centers {:.4f})\n", path, m.rows(), m.n_layers,
             clusters->k(), fmt::join(clusters->centers, ", "));
  fmt::print("{:>5}  {:>8}  {:>8}  {:>8}  {:>7}  {}\n", "layer", "mean", "min", "max", "cluster", "unimportant");
  for (int l = 0; l < m.n_layers; ++l) {
    const auto& s = stats[static_cast<std::size_t>(l)];
    fmt::print("{:>5}  {:>8.4f}  {:>8.4f}  {:>8.4f}  {:>7}  {}\n", l, s.mean, s.min, s.max,
               clusters->labels[static_cast<std::size_t>(l)], is_unimportant(l) ? "yes" : "");
  }
  fmt::print("unimportant layers (mean profile): {}\n",
             unimportant.empty() ? std::string("none (one cluster)") : fmt::format("{}", fmt::join(unimportant, " ")));
  fmt::print("stability over {} prompts: {:.0f}% cluster the same unimportant set; mean pairwise "
             "Jaccard {:.3f}\n", stable->prompts_compared, 100 * stable->agreement, stable->mean_jaccard);
  return 0;
}

}  // namespace

void add_layers_command(CLI::App& app, int& exit_code) {
  struct Args {
    std::string trace;
    bool json = false;
    int clusters = 3;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "layers", "Per-layer similarity of a trace: mean/min/max over prompts, clusters, and how "
                "stable the unimportant set is across prompts");
  cmd->add_option("trace", args->trace, "trace file (.sqz)")->required();
  cmd->add_flag("--json", args->json, "print JSON instead of a table");
  cmd->add_option("--clusters", args->clusters, "k of the 1-D k-means")->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run_layers(args->trace, args->json, args->clusters); });
}

}  // namespace squeeze::sim::cli
