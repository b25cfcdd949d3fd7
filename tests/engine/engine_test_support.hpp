#pragma once
// Shared helpers of the engine tests: fixture paths, golden JSON, engines over fixtures.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "squeeze/profiler/cpu_engine.hpp"
#include "squeeze/profiler/model_weights.hpp"

namespace squeeze::test {

std::filesystem::path fixture_dir();                 // tests/engine/fixtures
std::filesystem::path stories260k_dir();             // ../shared/models/stories260K (may be absent)
nlohmann::json read_json(const std::filesystem::path& path);

// Loads a model through the project's loader; fails the calling test (ADD_FAILURE) and returns
// nullptr when it cannot.
std::unique_ptr<profiler::ModelWeights> load_weights(const std::filesystem::path& path);
std::unique_ptr<profiler::Engine> make_engine(const profiler::ModelWeights& weights,
                                              profiler::CpuEngineOptions options = {});

std::vector<int> ints(const nlohmann::json& array);
std::vector<float> floats(const nlohmann::json& array);

// Greatest |a - b| / (atol + rtol |b|); <= 1 means within tolerance.
double tolerance_ratio(const std::vector<float>& a, const std::vector<float>& b, double atol,
                       double rtol);

}  // namespace squeeze::test
