#pragma once
// SqueezeAttention's layer-wise KV budgets (DESIGN.md §2): cluster the layers' attention cosine
// similarities, give the least important cluster (highest similarity: the layer barely changes
// its input) a fraction p of the uniform budget, and share what that frees among the others.

#include <cstdint>
#include <span>
#include <vector>

#include "squeeze/core/result.hpp"

namespace squeeze::core {

struct LayerBudgets {
  std::vector<int> budgets;       // tokens kept per sequence, per layer
  std::vector<int> clusters;      // cluster label per layer; 0 = lowest center (most important)
  std::vector<double> centers;    // ascending
  std::vector<int> unimportant;   // layers of the highest-center cluster, sorted; empty when the
                                  // layers form a single cluster (then budgets are uniform)
  int uniform_budget = 0;         // B: what every layer gets in the baseline
  int squeezed_budget = 0;        // floor(p * B): what each unimportant layer gets
  double p = 1.0;
  std::int64_t total = 0;         // sum of budgets == n_layers * B
  [[nodiscard]] int n_layers() const { return static_cast<int>(budgets.size()); }
  [[nodiscard]] bool is_unimportant(int layer) const;
};

// B = round(f * prompt_len) (half away from zero). Errors (code 2): f not finite or <= 0,
// prompt_len < 1, or a result below one token (names f and the prompt length).
[[nodiscard]] Result<int> budget_from_fraction(double fraction, int prompt_len);

// floor(p * B), tolerant of the rounding in a p written as a ratio (0.08 / 0.21 with B = 420
// gives 160, not 159). Errors (code 2): p outside (0, 1], B < 1, or a zero result (names p, B).
[[nodiscard]] Result<int> squeezed_budget(int uniform_budget, double p);

// The budgets for layers with these similarities (one per layer, input order). Each layer of the
// highest-center cluster gets floor(p * B); the remainder L * B - |U| * floor(p * B) goes to the
// other layers as evenly as possible (they differ by at most one token), the extra tokens to the
// lowest-similarity (most important) layers first, ties to the lower layer index. The total is
// exactly L * B. With a single cluster (one layer, or all similarities equal) every layer gets B.
// Errors (code 2): no layers, a NaN or infinite similarity, B < 1, p outside (0, 1], k < 1, and
// floor(p * B) == 0 (a layer with no cache cannot attend).
[[nodiscard]] Result<LayerBudgets> squeeze_budgets(std::span<const double> similarities,
                                                   int uniform_budget, double p, int clusters = 3);

}  // namespace squeeze::core
