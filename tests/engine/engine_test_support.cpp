#include "engine_test_support.hpp"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "squeeze/profiler/model_loader.hpp"

namespace squeeze::test {

std::filesystem::path fixture_dir() {
  return std::filesystem::path(SQUEEZE_SOURCE_DIR) / "tests" / "engine" / "fixtures";
}

std::filesystem::path stories260k_dir() {
  return std::filesystem::path(SQUEEZE_SHARED_DIR) / "models" / "stories260K";
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  return nlohmann::json::parse(in);
}

std::unique_ptr<profiler::ModelWeights> load_weights(const std::filesystem::path& path) {
  auto weights = profiler::load_model(path.string());
  if (!weights.ok()) {
    ADD_FAILURE() << "load_model(" << path << "): " << weights.error().message;
    return nullptr;
  }
  return std::make_unique<profiler::ModelWeights>(std::move(weights).value());
}

std::unique_ptr<profiler::Engine> make_engine(const profiler::ModelWeights& weights,
                                              profiler::CpuEngineOptions options) {
  auto engine = profiler::make_cpu_engine(weights, std::move(options));
  if (!engine.ok()) {
    ADD_FAILURE() << "make_cpu_engine: " << engine.error().message;
    return nullptr;
  }
  return std::move(engine).value();
}

std::vector<int> ints(const nlohmann::json& array) { return array.get<std::vector<int>>(); }
std::vector<float> floats(const nlohmann::json& array) { return array.get<std::vector<float>>(); }

double tolerance_ratio(const std::vector<float>& a, const std::vector<float>& b, double atol,
                       double rtol) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a[i]) - b[i]) / (atol + rtol * std::abs(b[i])));
  return worst;
}

}  // namespace squeeze::test
