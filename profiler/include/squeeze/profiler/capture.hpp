#pragma once
// The similarity capture (DESIGN.md §3 "per-prompt layer similarities"): prompts from a text or
// JSON-lines file are tokenized, prefilled with the full cache, and each prompt's token count and
// per-layer similarities are written to a trace, one transaction per prompt, so a capture killed
// half way leaves every finished prompt behind. Prompt text is never stored (third-party data).

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_writer.hpp"
#include "squeeze/profiler/engine.hpp"
#include "squeeze/profiler/tokenizer.hpp"

namespace squeeze::profiler {

struct PromptText {
  std::string label;  // "<file stem>-<line or index>", stored in the trace instead of the text
  std::string text;
};

// A .txt file is one prompt (the whole file); a .jsonl file is one prompt per non-blank line,
// taken from string field `field`. limit > 0 keeps the first `limit` prompts. Errors (code 2): an
// unreadable file, another extension, a line that is not a JSON object with that string field
// (named by line number), no prompts at all.
[[nodiscard]] core::Result<std::vector<PromptText>> read_prompts(const std::string& path,
                                                                 const std::string& field = "text",
                                                                 int limit = 0);

struct CaptureProgress {
  int index = 0;  // 1-based
  int total = 0;
  int tokens = 0;
  double seconds = 0;  // prefill wall time
};

struct CaptureOptions {
  int max_prompt_tokens = 0;  // > 0: keep the first N tokens (BOS included); 0: model context
  std::string dataset;        // recorded per prompt
  std::function<void(const CaptureProgress&)> on_prompt;  // after each committed prompt
};

struct CaptureSummary {
  int prompts = 0;
  std::int64_t tokens = 0;
  double seconds = 0;
  std::vector<double> mean_similarity;  // (n_layers) over the captured prompts
};

// Meta for a trace captured by squeeze-profile on this engine: tool, version, UTC time, host,
// device kind, model config and source.
[[nodiscard]] core::TraceMeta capture_meta(const Engine& engine, const std::string& model_source,
                                           const std::string& device_kind);

[[nodiscard]] core::Result<CaptureSummary> capture_similarities(
    Engine& engine, const Tokenizer& tokenizer, std::span<const PromptText> prompts,
    core::TraceWriter& writer, const CaptureOptions& options);

}  // namespace squeeze::profiler
