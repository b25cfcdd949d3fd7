#include "squeeze/sim/sim_input.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "squeeze/core/trace_reader.hpp"

namespace squeeze::sim {

core::Result<SimInput> load_sim_input(const std::string& trace_path) {
  SQZ_TRY(reader, core::TraceReader::open(trace_path));
  SQZ_TRY(meta, reader.meta());
  SimInput in;
  in.trace_path = trace_path;
  if (!meta.model)
    return core::make_error(fmt::format("{}: the trace has no model config in its meta", trace_path));
  in.model = *meta.model;
  in.synthetic = meta.device_kind == "synthetic";
  SQZ_TRY(calibration, reader.calibration());
  in.calibration = std::move(calibration);
  in.gpu_name = meta.gpu_name;
  if (in.gpu_name.empty() && !in.calibration.empty()) in.gpu_name = in.calibration.front().device;
  in.gpu_memory_bytes = meta.gpu_memory_bytes;
  SQZ_TRY(runs, reader.runs());
  for (auto& run : runs) {
    if (run.status == "ok" || run.status == "oom") in.attempted_runs.push_back(run);
    if (run.status == "ok") in.runs.push_back(std::move(run));
  }
  SQZ_TRY(stats, reader.capture_stats());
  for (const auto& stat : stats)
    if (stat.run_id && stat.name == "cupti_kernel_records") in.kernel_rerun_ids.insert(*stat.run_id);
  SQZ_TRY(similarities, reader.similarities());
  in.similarity_prompts = similarities.rows();
  in.layer_similarity = mean_similarity(similarities);
  return in;
}

std::vector<double> mean_similarity(const core::SimilarityMatrix& m) {
  std::vector<double> mean;
  for (int l = 0; l < m.n_layers; ++l) {
    double sum = 0;
    int count = 0;
    for (int r = 0; r < m.rows(); ++r) {
      const double v = m.value(r, l);
      if (std::isfinite(v)) {
        sum += v;
        ++count;
      }
    }
    mean.push_back(count > 0 ? sum / count : std::nan(""));
  }
  return mean;
}

std::vector<double> resample_by_depth(std::span<const double> profile, int n_layers) {
  const int source = static_cast<int>(profile.size());
  if (source == n_layers || source == 0) return {profile.begin(), profile.end()};
  std::vector<double> out(static_cast<std::size_t>(n_layers));
  for (int j = 0; j < n_layers; ++j) {
    const double depth = n_layers == 1 ? 0.0 : double(j) / (n_layers - 1);
    const double x = depth * (source - 1);
    const int lo = std::min(source - 1, static_cast<int>(std::floor(x)));
    const int hi = std::min(source - 1, lo + 1);
    const double t = x - lo;
    out[static_cast<std::size_t>(j)] = profile[static_cast<std::size_t>(lo)] * (1 - t) +
                                       profile[static_cast<std::size_t>(hi)] * t;
  }
  return out;
}

namespace {

core::Result<core::ModelConfig> load_hf_config_unchecked(const std::string& path) {
  std::filesystem::path file(path);
  if (std::filesystem::is_directory(file)) file /= "config.json";
  std::ifstream stream(file);
  if (!stream) return core::make_error(fmt::format("{}: cannot open model config", file.string()), 2);
  nlohmann::json j;
  try {
    stream >> j;
  } catch (const nlohmann::json::exception& e) {
    return core::make_error(fmt::format("{}: not valid JSON ({})", file.string(), e.what()), 2);
  }
  if (!j.is_object()) return core::make_error(fmt::format("{}: expected a JSON object", file.string()), 2);
  // transformers 5 nests the decoder fields of some models under text_config.
  const nlohmann::json& c = j.contains("text_config") && j["text_config"].is_object() ? j["text_config"] : j;
  auto integer = [&](const char* key, int& out, bool required) -> core::Status {
    if (!c.contains(key) || c[key].is_null()) {
      if (required) return core::make_error(fmt::format("{}: missing '{}'", file.string(), key), 2);
      return {};
    }
    if (!c[key].is_number_integer())
      return core::make_error(fmt::format("{}: '{}' must be an integer", file.string(), key), 2);
    out = c[key].get<int>();
    return {};
  };
  core::ModelConfig m;
  m.name = file.parent_path().filename().string();
  if (c.contains("_name_or_path") && c["_name_or_path"].is_string()) m.name = c["_name_or_path"].get<std::string>();
  if (c.contains("model_type") && c["model_type"].is_string()) m.architecture = c["model_type"].get<std::string>();
  SQZ_CHECK(integer("hidden_size", m.hidden, true));
  SQZ_CHECK(integer("num_hidden_layers", m.n_layers, true));
  SQZ_CHECK(integer("num_attention_heads", m.n_heads, true));
  SQZ_CHECK(integer("intermediate_size", m.intermediate, true));
  SQZ_CHECK(integer("vocab_size", m.vocab, true));
  m.n_kv_heads = m.n_heads;
  SQZ_CHECK(integer("num_key_value_heads", m.n_kv_heads, false));
  m.head_dim = m.n_heads > 0 ? m.hidden / m.n_heads : 0;
  SQZ_CHECK(integer("head_dim", m.head_dim, false));
  SQZ_CHECK(integer("max_position_embeddings", m.max_seq, false));
  m.tied_embeddings = c.value("tie_word_embeddings", j.value("tie_word_embeddings", false));
  const std::string dtype = c.value("torch_dtype", j.value("torch_dtype", std::string("bfloat16")));
  if (dtype == "float32") m.weight_dtype = core::DType::F32;
  else if (dtype == "float16") m.weight_dtype = core::DType::F16;
  m.kv_dtype = m.weight_dtype == core::DType::F32 ? core::DType::BF16 : m.weight_dtype;
  if (auto status = m.validate(); !status.ok())
    return core::make_error(fmt::format("{}: {}", file.string(), status.error().message), 2);
  return m;
}

}  // namespace

// value() throws type_error on a field of an unexpected type ("tie_word_embeddings": "yes"): a bad
// config gets its path and the reason, exit code 2, never a crash.
core::Result<core::ModelConfig> load_hf_config(const std::string& path) {
  try {
    return load_hf_config_unchecked(path);
  } catch (const nlohmann::json::exception& e) {
    return core::make_error(fmt::format("{}: a field has an unexpected JSON type ({})", path, e.what()), 2);
  }
}

}  // namespace squeeze::sim
