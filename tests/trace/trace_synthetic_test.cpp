// The synthetic trace: deterministic from its seed, labelled as synthetic, shaped like the paper's
// observation, priced by the roofline it states, and the checked-in fixture is what the documented
// command makes.
#include "squeeze/core/trace_synthetic.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "squeeze/core/trace_reader.hpp"
#include "trace_test_util.hpp"

namespace squeeze::core {
namespace {

using test::ScratchDir;

TraceReader make(const ScratchDir& dir, const std::string& name, std::uint64_t seed,
                 const std::string& model = "llama2-7b") {
  SyntheticTraceOptions options;
  options.model = model;
  options.seed = seed;
  const std::string path = dir.file(name);
  const Status written = write_synthetic_trace(path, options);
  EXPECT_TRUE(written.ok()) << written.error().message;
  auto reader = TraceReader::open(path);
  if (!reader.ok()) {
    ADD_FAILURE() << reader.error().message;
    std::abort();  // every test below needs the trace; stop loudly rather than read garbage
  }
  return std::move(*reader);
}

// Every table but meta's creation time, compared exactly.
void expect_same_content(const TraceReader& a, const TraceReader& b) {
  EXPECT_EQ(a.similarities()->values, b.similarities()->values);
  const auto ca = *a.calibration(), cb = *b.calibration();
  ASSERT_EQ(ca.size(), cb.size());
  for (std::size_t i = 0; i < ca.size(); ++i) test::expect_same_calibration(ca[i], cb[i]);
  const auto ra = *a.runs(), rb = *b.runs();
  ASSERT_EQ(ra.size(), rb.size());
  for (std::size_t i = 0; i < ra.size(); ++i) {
    test::expect_same_run(ra[i], rb[i]);
    const auto ka = *a.kernels(ra[i].id), kb = *b.kernels(rb[i].id);
    ASSERT_EQ(ka.size(), kb.size());
    for (std::size_t k = 0; k < ka.size(); ++k) test::expect_same_kernel(ka[k], kb[k]);
  }
}

TEST(SyntheticTrace, SameSeedSameContentOtherSeedOtherNoise) {
  ScratchDir dir;
  const TraceReader a = make(dir, "a.sqz", 42);
  const TraceReader b = make(dir, "b.sqz", 42);
  expect_same_content(a, b);
  const TraceReader c = make(dir, "c.sqz", 43);
  EXPECT_NE(a.similarities()->values, c.similarities()->values);
  EXPECT_NE(a.calibration()->front().duration_us, c.calibration()->front().duration_us);
}

TEST(SyntheticTrace, IsLabelledSyntheticAndHasTheLlama2Shape) {
  ScratchDir dir;
  const TraceReader t = make(dir, "t.sqz", 1);
  const auto meta = *t.meta();
  EXPECT_EQ(meta.device_kind, "synthetic");
  EXPECT_EQ(meta.notes.rfind("SYNTHETIC", 0), 0u) << meta.notes;
  EXPECT_EQ(meta.extra.at("synthetic"), "1");
  ASSERT_TRUE(meta.model.has_value());
  const ModelConfig& m = *meta.model;
  EXPECT_EQ(m.n_layers, 32);
  EXPECT_EQ(m.hidden, 4096);
  EXPECT_EQ(m.n_heads, 32);
  EXPECT_EQ(m.n_kv_heads, 32);
  EXPECT_EQ(m.head_dim, 128);
  EXPECT_EQ(m.intermediate, 11008);
  EXPECT_EQ(m.vocab, 32000);
  EXPECT_TRUE(m.validate().ok());
  const auto prompts = *t.prompts();  // a copy: the Result is a temporary
  for (const auto& p : prompts) EXPECT_EQ(p.dataset, "synthetic");
  EXPECT_LT(std::filesystem::file_size(t.path()), 1u << 20);
}

TEST(SyntheticTrace, SimilaritiesLowInFirstLayersHighInSecondHalf) {
  ScratchDir dir;
  const TraceReader t = make(dir, "t.sqz", 7);
  const auto s = *t.similarities();
  ASSERT_EQ(s.rows(), 8);
  ASSERT_EQ(s.n_layers, 32);
  for (int p = 0; p < s.rows(); ++p) {
    EXPECT_LE(s.value(p, 0), 0.7);
    EXPECT_LE(s.value(p, 1), 0.8);
    for (int l = 16; l < 31; ++l) {
      EXPECT_GE(s.value(p, l), 0.94) << "prompt " << p << " layer " << l;
      EXPECT_LE(s.value(p, l), 0.99) << "prompt " << p << " layer " << l;
    }
  }
  // Noise per prompt: no two prompts have identical rows.
  for (int l = 0; l < 32; ++l) EXPECT_NE(s.value(0, l), s.value(1, l));
}

TEST(SyntheticTrace, CalibrationFollowsTheStatedRoofline) {
  ScratchDir dir;
  const TraceReader t = make(dir, "t.sqz", 3);
  const SyntheticRoofline roof;  // the defaults are what the trace states
  const double bw = 3.35e12 * 0.85, flops_rate = 989e12 * 0.60;
  auto expected_us = [](double bytes, double flops, double b, double f) {
    return 3.0 + std::max(bytes / b, flops / f) * 1e6;
  };
  std::map<std::string, std::set<int>> gemm_rows;
  std::set<std::pair<int, int>> attention_grid;
  const auto calibration = *t.calibration();  // a copy: the Result is a temporary
  for (const auto& c : calibration) {
    double expected = 0;
    if (c.op == "decode_attention") {
      attention_grid.emplace(c.batch, c.kv_len);
      const double bytes = double(c.batch) * c.kv_len * 2 * c.n_kv_heads * c.head_dim * 2 +
                           double(c.batch) * 2 * c.n_heads * c.head_dim * 2;
      expected =
          expected_us(bytes, 4.0 * c.batch * c.n_heads * c.kv_len * c.head_dim, bw, flops_rate);
    } else if (c.op == "prefill_attention") {
      continue;
    } else {
      gemm_rows[c.op].insert(c.rows);
      const double m = c.rows;
      expected = expected_us(2.0 * (double(c.n) * c.k + m * c.k + m * c.n), 2.0 * m * c.n * c.k, bw,
                             flops_rate);
    }
    EXPECT_NEAR(c.duration_us / expected, 1.0, roof.noise + 1e-9) << c.op << " rows " << c.rows;
    EXPECT_EQ(c.device, "synthetic-h100");
  }
  const std::map<std::string, std::pair<int, int>> shapes = {{"qkv", {12288, 4096}},
                                                             {"o_proj", {4096, 4096}},
                                                             {"gate_up", {22016, 4096}},
                                                             {"down", {4096, 11008}},
                                                             {"lm_head", {32000, 4096}}};
  for (const auto& [op, shape] : shapes) {
    ASSERT_TRUE(gemm_rows.contains(op)) << op;
    EXPECT_EQ(*gemm_rows[op].begin(), 1);
    EXPECT_EQ(*gemm_rows[op].rbegin(), 512);
  }
  for (const auto& c : calibration) {
    if (shapes.contains(c.op)) {
      EXPECT_EQ(c.n, shapes.at(c.op).first);
      EXPECT_EQ(c.k, shapes.at(c.op).second);
    }
  }
  EXPECT_EQ(attention_grid.size(), 8u * 6u);
}

TEST(SyntheticTrace, RunsAreConsistentWithTheirBudgetsStepsAndKernels) {
  ScratchDir dir;
  const TraceReader t = make(dir, "t.sqz", 1);
  const auto runs = *t.runs();
  ASSERT_EQ(runs.size(), 8u);
  std::set<std::string> policies;
  int runs_with_kernels = 0;
  for (const auto& r : runs) {
    policies.insert(r.policy);
    EXPECT_EQ(r.status, "ok");
    EXPECT_GT(r.tokens_per_s, 0);
    EXPECT_GT(r.peak_bytes, r.weights_bytes);
    if (r.budget_unit != BudgetUnit::None) {
      ASSERT_EQ(r.layer_budgets.size(), 32u);
      const int uniform = r.budget_unit == BudgetUnit::Tokens
                              ? static_cast<int>(r.budget_value)
                              : static_cast<int>(std::lround(r.budget_value * r.prompt_len));
      long total = 0;
      for (int b : r.layer_budgets) total += b;
      EXPECT_EQ(total, 32L * uniform) << r.label;  // squeezing redistributes, never adds
      if (r.p > 0) {
        EXPECT_LT(*std::min_element(r.layer_budgets.begin(), r.layer_budgets.end()), uniform);
      }
    }
    const auto steps = *t.run_steps(r.id);
    ASSERT_EQ(static_cast<int>(steps.size()), r.gen_len + 1);
    double decode_ms = 0;
    for (int s = 1; s <= r.gen_len; ++s) decode_ms += steps[s].ms;
    EXPECT_NEAR(r.decode_step_ms_mean, decode_ms / r.gen_len, 1e-9);
    EXPECT_NEAR(r.tokens_per_s, r.batch * 1000.0 / r.decode_step_ms_mean, 1e-6);

    const auto kernels = *t.kernels(r.id);
    if (kernels.empty()) continue;
    ++runs_with_kernels;
    EXPECT_GE(kernels.size(), 200u);
    std::map<int, double> kernel_us_by_step;
    for (std::size_t i = 0; i < kernels.size(); ++i) {
      EXPECT_GT(kernels[i].duration_ns, 0);
      kernel_us_by_step[kernels[i].step] += kernels[i].duration_ns / 1000.0;
      if (i + 1 < kernels.size()) {  // one stream: kernels never overlap
        EXPECT_LE(kernels[i].start_ns + kernels[i].duration_ns, kernels[i + 1].start_ns);
      }
    }
    for (const auto& [step, us] : kernel_us_by_step) {
      ASSERT_GE(step, 1);
      // The step's time is its kernels plus launch gaps (and +-1 % jitter).
      EXPECT_LE(us, steps[static_cast<std::size_t>(step)].ms * 1000.0 * 1.011);
      EXPECT_GE(us, steps[static_cast<std::size_t>(step)].ms * 1000.0 * 0.5);
    }
  }
  EXPECT_EQ(runs_with_kernels, 1);
  EXPECT_TRUE(policies.contains("full") && policies.contains("window") && policies.contains("h2o"));
}

TEST(SyntheticTrace, OtherModelsAndUnknownModel) {
  ScratchDir dir;
  const TraceReader t = make(dir, "llama3.sqz", 1, "llama3-8b");
  EXPECT_EQ(t.meta()->model->n_kv_heads, 8);
  EXPECT_EQ(t.similarities()->n_layers, 32);
  SyntheticTraceOptions bad;
  bad.model = "gpt-9";
  const Status s = write_synthetic_trace(dir.file("bad.sqz"), bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, 2);
  EXPECT_NE(s.error().message.find("llama2-7b"), std::string::npos);  // lists the known ones
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.sqz")));
}

TEST(SyntheticTrace, FailureLeavesNoFile) {
  ScratchDir dir;
  const std::string path = dir.file("no-such-dir/t.sqz");
  EXPECT_FALSE(write_synthetic_trace(path, {}).ok());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(SyntheticTrace, CheckedInFixtureIsWhatTheDocumentedCommandMakes) {
  auto fixture = TraceReader::open(SQUEEZE_SOURCE_DIR "/traces/synthetic-llama2-7b.sqz");
  ASSERT_TRUE(fixture.ok()) << fixture.error().message;
  EXPECT_EQ(fixture->meta()->device_kind, "synthetic");
  ScratchDir dir;
  const TraceReader fresh = make(dir, "fresh.sqz", 1);  // --model llama2-7b --seed 1
  expect_same_content(*fixture, fresh);
}

}  // namespace
}  // namespace squeeze::core
