// A .sqz trace: SQLite itself is fuzzed upstream; what is ours is the validation on open and every
// read of a table whose rows may hold anything (NULLs, wrong types, bad JSON, absurd values).
#include "fuzz_input_file.hpp"
#include "squeeze/core/trace_reader.hpp"

SQUEEZE_FUZZ_TARGET(trace) {
  squeeze::fuzz::FuzzInputFile input("trace.sqz", data, size);
  auto reader = squeeze::core::TraceReader::open(input.path().string());
  if (!reader.ok()) return 0;
  (void)reader->meta();
  (void)reader->prompts();
  (void)reader->similarities();
  auto runs = reader->runs();
  if (runs.ok()) {
    for (const auto& run : *runs) (void)reader->run_steps(run.id);
  }
  (void)reader->counts();
  (void)reader->kernel_count();
  (void)reader->visit_kernels({}, [](const auto&) { return true; });
  (void)reader->calibration();
  (void)reader->capture_stats();
  return 0;
}
