#pragma once
// TraceReader: reads a squeeze trace, read-only. open() refuses, with a message naming the path,
// anything that is not a readable squeeze trace of a version this build understands: a missing
// path, a directory, an empty, truncated or corrupt file, a foreign SQLite database, a newer
// format. Safe to use while a TraceWriter appends (WAL): each call sees the last commit.
// Opening checks every page (PRAGMA quick_check): about a second per few hundred MB.
// Use one reader from one thread at a time; open one per thread for parallel reads.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_types.hpp"

namespace squeeze::core {

class TraceReader {
 public:
  [[nodiscard]] static Result<TraceReader> open(const std::string& path);

  TraceReader(TraceReader&&) noexcept;
  TraceReader& operator=(TraceReader&&) noexcept;
  ~TraceReader();

  [[nodiscard]] const std::string& path() const;
  [[nodiscard]] int format_version() const;

  [[nodiscard]] Result<TraceMeta> meta() const;
  [[nodiscard]] Result<std::vector<PromptRecord>> prompts() const;  // by id
  [[nodiscard]] Result<SimilarityMatrix> similarities() const;
  [[nodiscard]] Result<std::vector<RunRecord>> runs() const;        // by id
  [[nodiscard]] Result<std::vector<RunStep>> run_steps(std::int64_t run_id) const;  // by step
  [[nodiscard]] Result<TraceCounts> counts() const;

  // Kernel records, ordered by (run_id, start_ns). nullopt = all runs.
  [[nodiscard]] Result<std::int64_t> kernel_count(std::optional<std::int64_t> run_id = {}) const;
  [[nodiscard]] Result<std::vector<KernelRecord>> kernels(std::int64_t run_id) const;
  // Streams kernels one row at a time (millions of rows without holding them). The visitor
  // returns false to stop early; that is not an error.
  [[nodiscard]] Status visit_kernels(std::optional<std::int64_t> run_id,
                                     const std::function<bool(const KernelRecord&)>& visitor) const;

  [[nodiscard]] Result<std::vector<CalibrationPoint>> calibration() const;
  [[nodiscard]] Result<std::vector<CaptureStat>> capture_stats() const;

  struct Impl;

 private:
  explicit TraceReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace squeeze::core
