#pragma once
// TraceWriter: appends to a squeeze trace. Every call is one SQLite transaction, committed before
// it returns, so a capture killed at any moment leaves a valid file holding every call that
// returned ok. The file is in WAL mode: TraceReader may read it while the writer appends.
// One writer per file at a time, used from one thread at a time (it holds one SQLite connection).

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_types.hpp"

namespace squeeze::core {

class TraceWriter {
 public:
  // A new trace at `path`. Fails if the path exists unless `overwrite` (then the old file and its
  // -wal/-shm companions are removed first).
  [[nodiscard]] static Result<TraceWriter> create(const std::string& path, bool overwrite = false);
  // An existing trace, validated like TraceReader::open (foreign or newer files are refused).
  [[nodiscard]] static Result<TraceWriter> open_for_append(const std::string& path);

  TraceWriter(TraceWriter&&) noexcept;
  TraceWriter& operator=(TraceWriter&&) noexcept;
  ~TraceWriter();  // closes the database; nothing uncommitted exists to lose

  [[nodiscard]] const std::string& path() const;

  // Replaces every meta key the struct knows (and the keys of `extra`); other keys stay.
  [[nodiscard]] Status write_meta(const TraceMeta& meta);
  [[nodiscard]] Status set_meta_value(const std::string& key, const std::string& value);

  // Returns the new prompt id (record.id is ignored).
  [[nodiscard]] Result<std::int64_t> add_prompt(const PromptRecord& record);
  // per_layer[l] = similarity of layer l for this prompt; replaces earlier values.
  [[nodiscard]] Status add_similarities(std::int64_t prompt_id, std::span<const double> per_layer);
  // Both in one transaction, so a prompt never appears without its similarities.
  [[nodiscard]] Result<std::int64_t> add_prompt_with_similarities(const PromptRecord& record,
                                                                  std::span<const double> per_layer);

  // Returns the new run id (record.id is ignored). A capture may add the run with
  // status "running" first and update_run() it with the measurements at the end.
  [[nodiscard]] Result<std::int64_t> add_run(const RunRecord& record);
  [[nodiscard]] Status update_run(const RunRecord& record);  // by record.id
  [[nodiscard]] Status add_run_steps(std::span<const RunStep> steps);

  // One transaction per batch: write kernels in batches of thousands, not one by one.
  [[nodiscard]] Status add_kernels(std::span<const KernelRecord> kernels);
  [[nodiscard]] Status add_calibration(std::span<const CalibrationPoint> points);
  [[nodiscard]] Status add_capture_stats(std::span<const CaptureStat> stats);

  struct Impl;

 private:
  explicit TraceWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace squeeze::core
