// The per-prompt similarity capture: tokenize, prefill with the full cache, commit to the trace.
#include <chrono>
#include <ctime>

#include <fmt/format.h>
#include <unistd.h>

#include "squeeze/profiler/capture.hpp"

namespace squeeze::profiler {

namespace {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

core::TraceMeta capture_meta(const Engine& engine, const std::string& model_source,
                             const std::string& device_kind) {
  core::TraceMeta meta;
  meta.tool = "squeeze-profile";
  meta.tool_version = "0.1.0";
  meta.created_utc = utc_now();
  meta.host = host_name();
  meta.device_kind = device_kind;
  meta.model = engine.config();
  meta.model_source = model_source;
  meta.extra["engine"] = engine.device();
  return meta;
}

core::Result<CaptureSummary> capture_similarities(Engine& engine, const Tokenizer& tokenizer,
                                                  std::span<const PromptText> prompts,
                                                  core::TraceWriter& writer,
                                                  const CaptureOptions& options) {
  const int n_layers = engine.config().n_layers;
  const int limit = options.max_prompt_tokens > 0 ? options.max_prompt_tokens
                                                  : engine.config().max_seq;
  CaptureSummary summary;
  summary.mean_similarity.assign(static_cast<std::size_t>(n_layers), 0.0);
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    std::vector<int> tokens = tokenizer.encode(prompts[i].text, /*add_bos=*/true);
    if (limit > 0 && static_cast<int>(tokens.size()) > limit) tokens.resize(static_cast<std::size_t>(limit));
    if (tokens.empty())
      return core::make_error(fmt::format("prompt {}: no tokens", prompts[i].label), 2);
    const auto start = std::chrono::steady_clock::now();
    SQZ_TRY(seq, engine.add_sequence({}));
    auto prefill = engine.prefill(seq, tokens);
    engine.release_sequence(seq);
    if (!prefill.ok())
      return core::make_error(fmt::format("prompt {}: {}", prompts[i].label, prefill.error().message),
                              prefill.error().code);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    core::PromptRecord record;
    record.dataset = options.dataset;
    record.label = prompts[i].label;
    record.token_count = static_cast<int>(tokens.size());
    SQZ_TRY(id, writer.add_prompt_with_similarities(record, prefill->layer_similarity));
    (void)id;
    for (int l = 0; l < n_layers; ++l)
      summary.mean_similarity[static_cast<std::size_t>(l)] += prefill->layer_similarity[static_cast<std::size_t>(l)];
    summary.prompts += 1;
    summary.tokens += static_cast<std::int64_t>(tokens.size());
    summary.seconds += seconds;
    if (options.on_prompt)
      options.on_prompt({static_cast<int>(i) + 1, static_cast<int>(prompts.size()),
                         static_cast<int>(tokens.size()), seconds});
  }
  for (double& s : summary.mean_similarity) s /= std::max(summary.prompts, 1);
  return summary;
}

}  // namespace squeeze::profiler
