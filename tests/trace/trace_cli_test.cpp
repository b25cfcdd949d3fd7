// squeeze-sim info / export / synth as a user runs them: outputs, exit codes, messages, and the
// Perfetto JSON itself (one complete event per kernel, microseconds, atomically written).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "squeeze/core/trace_perfetto.hpp"
#include "squeeze/core/trace_reader.hpp"
#include "squeeze/core/trace_writer.hpp"
#include "trace_test_util.hpp"

namespace squeeze::core {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::ScratchDir;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs squeeze-sim with `args` (already shell-quoted where needed).
Outcome sim(const ScratchDir& dir, const std::string& args) {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string command =
      std::string(SQUEEZE_BINARY_DIR "/sim/squeeze-sim ") + args + " >" + out + " 2>" + err;
  const int status = std::system(command.c_str());
  Outcome o;
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  o.out = slurp(out);
  o.err = slurp(err);
  return o;
}

// Two runs with kernels on two streams; clocks as large as real CUPTI timestamps.
std::vector<KernelRecord> write_kernel_trace(const std::string& path) {
  auto writer = TraceWriter::create(path);
  EXPECT_TRUE(writer.ok());
  std::vector<KernelRecord> all;
  for (int r = 0; r < 2; ++r) {
    auto run = writer->add_run(test::sample_run(r));
    EXPECT_TRUE(run.ok());
    std::vector<KernelRecord> batch;
    for (int i = 0; i < 30 + 5 * r; ++i) batch.push_back(test::sample_kernel(*run, i));
    EXPECT_TRUE(writer->add_kernels(batch).ok());
    all.insert(all.end(), batch.begin(), batch.end());
  }
  return all;
}

TEST(PerfettoExport, OneCompleteEventPerKernelInMicroseconds) {
  ScratchDir dir;
  const std::string trace_path = dir.file("k.sqz");
  const auto kernels = write_kernel_trace(trace_path);
  auto reader = TraceReader::open(trace_path);
  ASSERT_TRUE(reader.ok());
  const std::string out = dir.file("k.json");
  auto written = export_perfetto_json(*reader, std::nullopt, out);
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(*written, static_cast<std::int64_t>(kernels.size()));

  const json doc = json::parse(slurp(out));
  std::map<std::pair<std::int64_t, std::int64_t>, json> by_correlation;  // (run, corr) -> event
  std::set<std::int64_t> named_processes;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("ph") == "M" && e.at("name") == "process_name")
      named_processes.insert(e.at("pid").get<std::int64_t>());
    if (e.at("ph") != "X") continue;
    by_correlation[{e.at("pid").get<std::int64_t>(),
                    e.at("args").at("correlation_id").get<std::int64_t>()}] = e;
  }
  ASSERT_EQ(by_correlation.size(), kernels.size());
  EXPECT_EQ(named_processes.size(), 2u);
  std::map<std::int64_t, std::int64_t> run_origin;
  for (const auto& k : kernels) {
    auto [it, fresh] = run_origin.emplace(k.run_id, k.start_ns);
    if (!fresh) it->second = std::min(it->second, k.start_ns);
  }
  for (const auto& k : kernels) {
    const json& e = by_correlation.at({k.run_id, k.correlation_id});
    EXPECT_EQ(e.at("name"), k.name);
    EXPECT_EQ(e.at("tid"), k.stream);
    EXPECT_DOUBLE_EQ(e.at("ts").get<double>(), (k.start_ns - run_origin[k.run_id]) / 1000.0);
    EXPECT_DOUBLE_EQ(e.at("dur").get<double>(), k.duration_ns / 1000.0);
    EXPECT_EQ(e.at("args").at("step"), k.step);
    EXPECT_EQ(e.at("args").at("layer"), k.layer);
    EXPECT_EQ(e.at("args").at("op"), k.op);
    EXPECT_EQ(e.at("args").at("grid"), json({k.grid_x, k.grid_y, k.grid_z}));
    EXPECT_EQ(e.at("args").at("block"), json({k.block_x, k.block_y, k.block_z}));
  }
  EXPECT_FALSE(fs::exists(out + ".tmp"));

  // One run only.
  auto one = export_perfetto_json(*reader, kernels.back().run_id, out);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, 35);
}

TEST(PerfettoExport, UnknownRunLeavesAnExistingOutputUntouched) {
  ScratchDir dir;
  const std::string trace_path = dir.file("k.sqz");
  write_kernel_trace(trace_path);
  auto reader = TraceReader::open(trace_path);
  ASSERT_TRUE(reader.ok());
  const std::string out = dir.file("keep.json");
  std::ofstream(out) << "previous";
  auto failed = export_perfetto_json(*reader, 77, out);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("no run 77"), std::string::npos);
  EXPECT_EQ(slurp(out), "previous");
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST(SimCli, SynthThenInfoJsonAndText) {
  ScratchDir dir;
  const std::string trace = dir.file("syn.sqz");
  const Outcome synth = sim(dir, "synth --out " + trace + " --seed 3");
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  EXPECT_NE(synth.out.find("SYNTHETIC"), std::string::npos);

  const Outcome info = sim(dir, "info " + trace + " --json");
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const json j = json::parse(info.out);
  auto reader = TraceReader::open(trace);
  ASSERT_TRUE(reader.ok());
  const auto counts = *reader->counts();
  EXPECT_EQ(j.at("format_version"), 1);
  EXPECT_TRUE(j.at("model").is_object());
  EXPECT_EQ(j.at("model").at("n_layers"), 32);
  EXPECT_EQ(j.at("model").at("intermediate"), 11008);
  EXPECT_EQ(j.at("gpu").at("name"), "synthetic-h100");
  ASSERT_TRUE(j.at("prompts").is_number_integer());
  EXPECT_EQ(j.at("prompts"), counts.prompts);
  EXPECT_EQ(j.at("runs"), counts.runs);
  EXPECT_EQ(j.at("kernels"), counts.kernels);
  EXPECT_EQ(j.at("calibration_points"), counts.calibration);
  EXPECT_EQ(j.at("run_list").size(), static_cast<std::size_t>(counts.runs));
  EXPECT_EQ(j.at("synthetic"), true);

  const Outcome text = sim(dir, "info " + trace);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("format version 1"), std::string::npos);
  EXPECT_NE(text.out.find("SYNTHETIC"), std::string::npos);
  EXPECT_NE(text.out.find("llama2-7b"), std::string::npos);
  EXPECT_NE(text.out.find(fmt::format("kernels      {}", counts.kernels)), std::string::npos);
}

TEST(SimCli, InfoRefusesFilesThatAreNotTraces) {
  ScratchDir dir;
  const std::string text_file = dir.file("notes.txt");
  std::ofstream(text_file) << "not a trace";
  Outcome o = sim(dir, "info " + text_file);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find(text_file + " is not a squeeze trace"), std::string::npos) << o.err;
  EXPECT_TRUE(o.out.empty());

  o = sim(dir, "info " + dir.file("missing.sqz") + " --json");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("missing.sqz: no such file"), std::string::npos) << o.err;

  o = sim(dir, "info");
  EXPECT_EQ(o.exit_code, 2);  // no TRACE argument
}

TEST(SimCli, ExportWritesPerfettoJsonAndFailsCleanly) {
  ScratchDir dir;
  const std::string trace = dir.file("syn.sqz");
  ASSERT_EQ(sim(dir, "synth --out " + trace).exit_code, 0);
  auto reader = TraceReader::open(trace);
  ASSERT_TRUE(reader.ok());
  const auto runs = *reader->runs();

  const std::string out = dir.file("timeline.json");
  Outcome o = sim(dir, "export " + trace + " --perfetto " + out);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  const json doc = json::parse(slurp(out));
  std::int64_t complete = 0;
  for (const auto& e : doc.at("traceEvents")) complete += e.at("ph") == "X";
  EXPECT_EQ(complete, *reader->kernel_count());
  EXPECT_GT(complete, 0);

  // --run with the run that has kernels, then with one that does not exist.
  std::int64_t kernel_run = 0;
  for (const auto& r : runs) {
    if (*reader->kernel_count(r.id) > 0) kernel_run = r.id;
  }
  const std::string one = dir.file("one.json");
  o = sim(dir, fmt::format("export {} --perfetto {} --run {}", trace, one, kernel_run));
  ASSERT_EQ(o.exit_code, 0) << o.err;
  json parsed;
  EXPECT_NO_THROW(parsed = json::parse(slurp(one)));
  EXPECT_FALSE(parsed.at("traceEvents").empty());

  const std::string never = dir.file("never.json");
  o = sim(dir, fmt::format("export {} --perfetto {} --run 999", trace, never));
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("no run 999"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(never));
  EXPECT_FALSE(fs::exists(never + ".tmp"));

  const std::string text_file = dir.file("plain.txt");
  std::ofstream(text_file) << "x";
  o = sim(dir, "export " + text_file + " --perfetto " + never);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_FALSE(fs::exists(never));

  o = sim(dir, "export " + trace + " --perfetto " + dir.file("no-such-dir/out.json"));
  EXPECT_NE(o.exit_code, 0);
  EXPECT_NE(o.err.find("no-such-dir"), std::string::npos) << o.err;

  o = sim(dir, "export " + trace);  // --perfetto is required
  EXPECT_EQ(o.exit_code, 2);
}

TEST(SimCli, SynthRejectsBadInput) {
  ScratchDir dir;
  Outcome o = sim(dir, "synth --out " + dir.file("x.sqz") + " --model gpt-9");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir.file("x.sqz")));
  o = sim(dir, "synth");
  EXPECT_EQ(o.exit_code, 2);
  o = sim(dir, "synth --out " + dir.file("x.sqz") + " --seed minus-one");
  EXPECT_EQ(o.exit_code, 2);
  o = sim(dir, "synth --out " + dir.path().string());  // a directory
  EXPECT_NE(o.exit_code, 0);
  EXPECT_NE(o.err.find(dir.path().string()), std::string::npos) << o.err;
}

}  // namespace
}  // namespace squeeze::core
