// squeeze-sim export: a trace's kernel records as Chrome/Perfetto trace-event JSON for timeline
// viewing (ui.perfetto.dev). The conversion is core's (trace_perfetto.hpp).
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>

#include "commands.hpp"
#include "squeeze/core/trace_perfetto.hpp"
#include "squeeze/core/trace_reader.hpp"

namespace squeeze::sim::cli {
namespace {

struct ExportOptions {
  std::string trace;
  std::string perfetto;
  std::optional<std::int64_t> run;
};

int run_export(const ExportOptions& opts) {
  auto fail = [](const core::Error& e) {
    fmt::print(stderr, "squeeze-sim export: {}\n", e.message);
    return e.code;
  };
  auto trace = core::TraceReader::open(opts.trace);
  if (!trace.ok()) return fail(trace.error());
  auto written = core::export_perfetto_json(*trace, opts.run, opts.perfetto);
  if (!written.ok()) return fail(written.error());
  if (*written == 0) {
    fmt::print(stderr, "squeeze-sim export: note: {} has no kernel records{}\n", opts.trace,
               opts.run ? fmt::format(" for run {}", *opts.run) : "");
  }
  fmt::print("wrote {} kernel events to {}\n", *written, opts.perfetto);
  return 0;
}

}  // namespace

void add_export_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ExportOptions>();
  auto* cmd = app.add_subcommand(
      "export", "Export a trace's kernel records as Chrome/Perfetto trace-event JSON");
  cmd->add_option("trace", opts->trace, "Trace file (.sqz)")->required();
  cmd->add_option("--perfetto", opts->perfetto,
                  "Output JSON file (written atomically: OUT.tmp, then renamed)")
      ->required();
  cmd->add_option("--run", opts->run, "Only this run id (default: every run)");
  cmd->callback([opts, &exit_code] { exit_code = run_export(*opts); });
}

}  // namespace squeeze::sim::cli
