#include "squeeze/sim/session.hpp"

#include <cstdlib>

#include <fmt/format.h>

namespace squeeze::sim {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  auto flush = [&] {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    item.clear();
  };
  for (char c : text) {
    if (c == ',') flush();
    else item += c;
  }
  flush();
  return out;
}

core::Result<std::vector<int>> parse_batch_list(const std::string& text) {
  std::vector<int> out;
  for (const auto& item : split_list(text)) {
    if (item == "max") {
      out.push_back(0);
      continue;
    }
    char* end = nullptr;
    const long value = std::strtol(item.c_str(), &end, 10);
    if (end == nullptr || *end != '\0')
      return core::make_error(fmt::format("batch '{}' is not a whole number (or 'max')", item), 2);
    if (value < 1 || value > (1 << 24))
      return core::make_error(fmt::format("batch must be between 1 and {}, got {}", 1 << 24, item), 2);
    out.push_back(static_cast<int>(value));
  }
  if (out.empty()) return core::make_error("--batch needs at least one value", 2);
  return out;
}

core::Result<PlanningSession> open_session(const SessionOptions& options) {
  PlanningSession session;
  session.reserve_fraction = options.reserve_fraction;
  if (!(options.reserve_fraction >= 0 && options.reserve_fraction < 1))
    return core::make_error(fmt::format("--reserve must be in [0, 1), got {}", options.reserve_fraction), 2);
  SQZ_TRY(input, load_sim_input(options.trace_path));
  session.input = std::move(input);
  SQZ_TRY(fitted, fit_model(session.input, session.input.runs, options.trace_hardware));
  session.fitted = std::move(fitted);
  session.notes = session.fitted.notes;
  if (session.input.synthetic)
    session.notes.insert(session.notes.begin(),
                         "SYNTHETIC trace: calibration comes from a roofline model, not a GPU");
  session.target = session.input.model;
  if (!options.model_config_path.empty()) {
    SQZ_TRY(target, load_hf_config(options.model_config_path));
    session.target = std::move(target);
    session.notes.push_back(fmt::format(
        "model '{}' was never run here: GEMM and attention costs are its rooflines at the "
        "slowdowns measured on '{}'", session.target.name, session.input.model.name));
  }
  std::vector<double> profile = session.input.layer_similarity;
  int profile_prompts = session.input.similarity_prompts;
  std::string origin = "trace";
  if (!options.similarity_trace_path.empty()) {
    SQZ_TRY(other, load_sim_input(options.similarity_trace_path));
    if (other.layer_similarity.empty())
      return core::make_error(fmt::format("--similarity-from {}: the trace holds no layer similarities",
                                          options.similarity_trace_path), 2);
    profile = std::move(other.layer_similarity);
    profile_prompts = other.similarity_prompts;
    origin = fmt::format("{} (model {})", options.similarity_trace_path, other.model.name);
  }
  const int source_layers = static_cast<int>(profile.size());
  session.similarity = resample_by_depth(profile, session.target.n_layers);
  if (source_layers == 0) {
    session.similarity_source = "none in the trace (squeeze budgets unavailable)";
  } else if (source_layers == session.target.n_layers) {
    session.similarity_source =
        fmt::format("{}: mean of {} prompts over {} layers", origin, profile_prompts, source_layers);
  } else {
    session.similarity_source = fmt::format(
        "{}: mean of {} prompts, resampled by relative depth from {} layers to {} layers (assumes "
        "layer importance depends on relative depth only)",
        origin, profile_prompts, source_layers, session.target.n_layers);
    session.notes.push_back("similarity profile " + session.similarity_source);
  }
  return session;
}

core::Result<Predictor> PlanningSession::predictor(const std::string& hardware) const {
  SQZ_TRY(gpu, find_gpu(hardware.empty() ? fitted.profiled_gpu.name : hardware));
  return Predictor::create(fitted, target, gpu, similarity, reserve_fraction);
}

}  // namespace squeeze::sim
