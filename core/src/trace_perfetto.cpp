#include "squeeze/core/trace_perfetto.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

namespace squeeze::core {
namespace {

using nlohmann::json;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

json kernel_event(const KernelRecord& k, std::int64_t run_origin_ns) {
  return json{
      {"ph", "X"},
      {"name", k.name},
      {"cat", k.op.empty() ? "kernel" : k.op},
      {"pid", k.run_id},
      {"tid", k.stream},
      {"ts", static_cast<double>(k.start_ns - run_origin_ns) / 1000.0},
      {"dur", static_cast<double>(k.duration_ns) / 1000.0},
      {"args",
       {{"step", k.step},
        {"layer", k.layer},
        {"op", k.op},
        {"grid", {k.grid_x, k.grid_y, k.grid_z}},
        {"block", {k.block_x, k.block_y, k.block_z}},
        {"correlation_id", k.correlation_id}}},
  };
}

json metadata_event(const char* what, std::int64_t pid, std::optional<int> tid, std::string name) {
  json e = {{"ph", "M"}, {"name", what}, {"pid", pid}, {"args", {{"name", std::move(name)}}}};
  if (tid) e["tid"] = *tid;
  return e;
}

// Streams events into `file` as one JSON document; returns the number of kernel events.
Result<std::int64_t> write_events(std::FILE* file, const TraceReader& trace,
                                  std::optional<std::int64_t> run_id,
                                  const std::map<std::int64_t, std::string>& run_labels) {
  std::int64_t written = 0;
  bool first = true;
  auto emit = [&](const json& event) {
    std::fputs(first ? "\n" : ",\n", file);
    std::fputs(event.dump().c_str(), file);
    first = false;
  };
  std::fputs("{\"displayTimeUnit\": \"ns\",\n \"traceEvents\": [", file);
  std::optional<std::int64_t> current_run;
  std::int64_t origin_ns = 0;
  std::set<std::pair<std::int64_t, int>> named_threads;
  SQZ_CHECK(trace.visit_kernels(run_id, [&](const KernelRecord& k) {
    if (current_run != k.run_id) {  // rows arrive ordered by (run, start): first is the origin
      current_run = k.run_id;
      origin_ns = k.start_ns;
      const auto label = run_labels.find(k.run_id);
      emit(metadata_event(
          "process_name", k.run_id, std::nullopt,
          fmt::format(
              "run {}{}", k.run_id,
              label != run_labels.end() && !label->second.empty() ? ": " + label->second : "")));
    }
    if (named_threads.emplace(k.run_id, k.stream).second) {
      emit(metadata_event("thread_name", k.run_id, k.stream, fmt::format("stream {}", k.stream)));
    }
    emit(kernel_event(k, origin_ns));
    ++written;
    return true;
  }));
  std::fputs("\n]}\n", file);
  return written;
}

}  // namespace

Result<std::int64_t> export_perfetto_json(const TraceReader& trace,
                                          std::optional<std::int64_t> run_id,
                                          const std::string& out_path) {
  SQZ_TRY(runs, trace.runs());
  std::map<std::int64_t, std::string> labels;
  for (const auto& r : runs) labels.emplace(r.id, r.label);
  if (run_id && !labels.contains(*run_id)) {
    return make_error(
        fmt::format("{} has no run {} ({} runs: ids {}..{})", trace.path(), *run_id, runs.size(),
                    runs.empty() ? 0 : runs.front().id, runs.empty() ? 0 : runs.back().id),
        2);
  }

  const std::string tmp = out_path + ".tmp";
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(tmp.c_str(), "wb"));
  if (!file) {
    return make_error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  }
  auto fail = [&](Error e) {
    file.reset();
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return e;
  };
  auto written = write_events(file.get(), trace, run_id, labels);
  if (!written.ok()) return fail(written.error());
  // Check the bytes really reached the file before giving it its final name.
  if (std::fflush(file.get()) != 0 || std::ferror(file.get()) != 0) {
    return fail(make_error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno))));
  }
  if (std::fclose(file.release()) != 0) {
    return fail(make_error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno))));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, out_path, ec);
  if (ec)
    return fail(make_error(fmt::format("cannot move {} to {}: {}", tmp, out_path, ec.message())));
  return *written;
}

}  // namespace squeeze::core
