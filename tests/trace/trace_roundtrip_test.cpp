// Every table written by TraceWriter reads back equal through TraceReader; commits are visible to a
// reader that is already open; a writer destroyed mid-capture leaves exactly what it committed.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <optional>

#include "squeeze/core/trace_model_json.hpp"
#include "squeeze/core/trace_reader.hpp"
#include "squeeze/core/trace_writer.hpp"
#include "trace_test_util.hpp"

namespace squeeze::core {
namespace {

using test::ScratchDir;

TEST(TraceRoundTrip, EveryTableReadsBackEqual) {
  ScratchDir dir;
  const std::string path = dir.file("all.sqz");
  const TraceMeta meta = test::sample_meta();
  std::vector<std::int64_t> prompt_ids, run_ids;
  std::vector<KernelRecord> kernels;
  std::vector<CalibrationPoint> calibration;
  {
    auto writer = TraceWriter::create(path);
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    ASSERT_TRUE(writer->write_meta(meta).ok());
    for (int p = 0; p < 3; ++p) {
      std::vector<double> sims;
      for (int l = 0; l < 4; ++l) sims.push_back(test::sample_similarity(p, l));
      auto id = writer->add_prompt_with_similarities(
          PromptRecord{0, "wikitext-2", "sample-" + std::to_string(p), 100 + p}, sims);
      ASSERT_TRUE(id.ok()) << id.error().message;
      prompt_ids.push_back(*id);
    }
    for (int r = 0; r < 2; ++r) {
      auto id = writer->add_run(test::sample_run(r));
      ASSERT_TRUE(id.ok()) << id.error().message;
      run_ids.push_back(*id);
      std::vector<RunStep> steps;
      for (int s = 0; s < 5; ++s) steps.push_back(RunStep{*id, s, 1.5 * s + r});
      ASSERT_TRUE(writer->add_run_steps(steps).ok());
    }
    for (int i = 0; i < 40; ++i) kernels.push_back(test::sample_kernel(run_ids[i % 2], i));
    // Two batches: the second reuses kernel names interned by the first.
    ASSERT_TRUE(writer->add_kernels(std::span(kernels).first(25)).ok());
    ASSERT_TRUE(writer->add_kernels(std::span(kernels).subspan(25)).ok());
    for (int i = 0; i < 6; ++i) calibration.push_back(test::sample_calibration(i));
    ASSERT_TRUE(writer->add_calibration(calibration).ok());
    const std::vector<CaptureStat> stats = {{std::nullopt, "cupti_dropped_records", 3},
                                            {run_ids[1], "cupti_buffers", 17.5}};
    ASSERT_TRUE(writer->add_capture_stats(stats).ok());
  }

  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->format_version(), kTraceFormatVersion);

  auto got_meta = reader->meta();
  ASSERT_TRUE(got_meta.ok()) << got_meta.error().message;
  EXPECT_EQ(got_meta->tool, meta.tool);
  EXPECT_EQ(got_meta->tool_version, meta.tool_version);
  EXPECT_EQ(got_meta->created_utc, meta.created_utc);
  EXPECT_EQ(got_meta->host, meta.host);
  EXPECT_EQ(got_meta->device_kind, meta.device_kind);
  EXPECT_EQ(got_meta->gpu_name, meta.gpu_name);
  EXPECT_EQ(got_meta->sm_count, meta.sm_count);
  EXPECT_EQ(got_meta->gpu_memory_bytes, meta.gpu_memory_bytes);
  EXPECT_EQ(got_meta->driver, meta.driver);
  EXPECT_EQ(got_meta->copy_bandwidth_bytes_per_s, meta.copy_bandwidth_bytes_per_s);
  ASSERT_TRUE(got_meta->model.has_value());
  test::expect_same_model(*got_meta->model, *meta.model);
  EXPECT_EQ(got_meta->model_source, meta.model_source);
  EXPECT_EQ(got_meta->notes, meta.notes);
  EXPECT_EQ(got_meta->extra, meta.extra);

  auto prompts = reader->prompts();
  ASSERT_TRUE(prompts.ok());
  ASSERT_EQ(prompts->size(), 3u);
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ((*prompts)[p].id, prompt_ids[p]);
    EXPECT_EQ((*prompts)[p].dataset, "wikitext-2");
    EXPECT_EQ((*prompts)[p].label, "sample-" + std::to_string(p));
    EXPECT_EQ((*prompts)[p].token_count, 100 + p);
  }

  auto sims = reader->similarities();
  ASSERT_TRUE(sims.ok());
  EXPECT_EQ(sims->prompt_ids, prompt_ids);
  ASSERT_EQ(sims->n_layers, 4);
  for (int p = 0; p < 3; ++p)
    for (int l = 0; l < 4; ++l) EXPECT_EQ(sims->value(p, l), test::sample_similarity(p, l));

  auto runs = reader->runs();
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ((*runs)[r].id, run_ids[r]);
    test::expect_same_run((*runs)[r], test::sample_run(r));
    auto steps = reader->run_steps(run_ids[r]);
    ASSERT_TRUE(steps.ok());
    ASSERT_EQ(steps->size(), 5u);
    for (int s = 0; s < 5; ++s) {
      EXPECT_EQ((*steps)[s].run_id, run_ids[r]);
      EXPECT_EQ((*steps)[s].step, s);
      EXPECT_EQ((*steps)[s].ms, 1.5 * s + r);
    }
  }

  EXPECT_EQ(*reader->kernel_count(), 40);
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(*reader->kernel_count(run_ids[r]), 20);
    auto got = reader->kernels(run_ids[r]);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 20u);
    for (std::size_t i = 0; i < got->size(); ++i) {
      test::expect_same_kernel((*got)[i], kernels[2 * i + static_cast<std::size_t>(r)]);
    }
  }

  auto cal = reader->calibration();
  ASSERT_TRUE(cal.ok());
  ASSERT_EQ(cal->size(), calibration.size());
  for (std::size_t i = 0; i < cal->size(); ++i)
    test::expect_same_calibration((*cal)[i], calibration[i]);

  auto stats = reader->capture_stats();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), 2u);
  EXPECT_FALSE((*stats)[0].run_id.has_value());
  EXPECT_EQ((*stats)[0].name, "cupti_dropped_records");
  EXPECT_EQ((*stats)[0].value, 3);
  EXPECT_EQ((*stats)[1].run_id, run_ids[1]);
  EXPECT_EQ((*stats)[1].value, 17.5);

  auto counts = reader->counts();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->prompts, 3);
  EXPECT_EQ(counts->similarities, 12);
  EXPECT_EQ(counts->runs, 2);
  EXPECT_EQ(counts->run_steps, 10);
  EXPECT_EQ(counts->kernels, 40);
  EXPECT_EQ(counts->calibration, 6);
  EXPECT_EQ(counts->capture_stats, 2);
}

TEST(TraceRoundTrip, MissingSimilaritiesReadAsNaNAndPromptsWithoutAnyAreNoRow) {
  ScratchDir dir;
  const std::string path = dir.file("gaps.sqz");
  auto writer = TraceWriter::create(path);
  ASSERT_TRUE(writer.ok());
  const std::vector<double> three = {0.5, 0.6, 0.7};
  const std::vector<double> two = {0.8, 0.9};
  auto a = writer->add_prompt_with_similarities({0, "d", "a", 3}, three);
  auto none = writer->add_prompt({0, "d", "none", 1});
  auto b = writer->add_prompt_with_similarities({0, "d", "b", 2}, two);
  ASSERT_TRUE(a.ok() && none.ok() && b.ok());
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok());
  auto m = reader->similarities();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->prompt_ids, (std::vector<std::int64_t>{*a, *b}));
  EXPECT_EQ(m->n_layers, 3);
  EXPECT_EQ(m->value(1, 1), 0.9);
  EXPECT_TRUE(std::isnan(m->value(1, 2)));
}

TEST(TraceRoundTrip, UpdateRunAndMetaRewriteAndAppend) {
  ScratchDir dir;
  const std::string path = dir.file("update.sqz");
  std::int64_t run_id = 0;
  {
    auto writer = TraceWriter::create(path);
    ASSERT_TRUE(writer.ok());
    RunRecord running = test::sample_run(1);
    running.status = "running";
    auto id = writer->add_run(running);
    ASSERT_TRUE(id.ok());
    run_id = *id;
    TraceMeta meta = test::sample_meta();
    ASSERT_TRUE(writer->write_meta(meta).ok());
    meta.model.reset();  // a rewrite without a model removes the stored one
    meta.notes = "second";
    ASSERT_TRUE(writer->write_meta(meta).ok());
    ASSERT_TRUE(writer->set_meta_value("custom", "v").ok());
    RunRecord missing = test::sample_run(2);
    missing.id = run_id + 100;
    auto bad = writer->update_run(missing);
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("no such run"), std::string::npos);
  }
  {
    auto writer = TraceWriter::open_for_append(path);
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    RunRecord done = test::sample_run(3);
    done.id = run_id;
    ASSERT_TRUE(writer->update_run(done).ok());
    ASSERT_TRUE(writer->add_run(test::sample_run(4)).ok());
  }
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok());
  auto meta = reader->meta();
  ASSERT_TRUE(meta.ok());
  EXPECT_FALSE(meta->model.has_value());
  EXPECT_EQ(meta->notes, "second");
  EXPECT_EQ(meta->extra.at("custom"), "v");
  auto runs = reader->runs();
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  test::expect_same_run((*runs)[0], test::sample_run(3));
  test::expect_same_run((*runs)[1], test::sample_run(4));
}

TEST(TraceRoundTrip, CreateRefusesAnExistingFileUnlessOverwriting) {
  ScratchDir dir;
  const std::string path = dir.file("exists.sqz");
  { ASSERT_TRUE(TraceWriter::create(path).ok()); }
  auto again = TraceWriter::create(path);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find(path), std::string::npos);
  auto replaced = TraceWriter::create(path, /*overwrite=*/true);
  EXPECT_TRUE(replaced.ok());
}

TEST(TraceRoundTrip, WritesAreRefusedWhenTheyBreakReferencesOrHoldNaN) {
  ScratchDir dir;
  auto writer = TraceWriter::create(dir.file("refs.sqz"));
  ASSERT_TRUE(writer.ok());
  const std::vector<double> sims = {0.5};
  EXPECT_FALSE(writer->add_similarities(42, sims).ok());  // no prompt 42
  const KernelRecord orphan = test::sample_kernel(99, 0);
  EXPECT_FALSE(writer->add_kernels(std::span(&orphan, 1)).ok());  // no run 99
  const std::vector<double> nan = {0.5, std::nan("")};
  auto bad = writer->add_prompt_with_similarities({0, "d", "nan", 1}, nan);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("not finite"), std::string::npos);
  // The failed transaction left no prompt behind.
  auto reader = TraceReader::open(dir.file("refs.sqz"));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->counts()->prompts, 0);
  EXPECT_EQ(reader->counts()->kernels, 0);
}

TEST(TraceRoundTrip, OpenReaderSeesLaterCommitsOfALiveWriter) {
  ScratchDir dir;
  const std::string path = dir.file("live.sqz");
  auto writer = TraceWriter::create(path);
  ASSERT_TRUE(writer.ok());
  auto run = writer->add_run(test::sample_run(0));
  ASSERT_TRUE(run.ok());
  auto reader = TraceReader::open(path);  // while the writer is open
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(*reader->kernel_count(), 0);
  std::vector<KernelRecord> batch;
  for (int i = 0; i < 100; ++i) batch.push_back(test::sample_kernel(*run, i));
  ASSERT_TRUE(writer->add_kernels(batch).ok());
  EXPECT_EQ(*reader->kernel_count(), 100);
  ASSERT_TRUE(writer->add_kernels(batch).ok());
  EXPECT_EQ(*reader->kernel_count(*run), 200);
}

TEST(TraceRoundTrip, ClosingWriterDoesNotWaitForAnOpenReader) {
  ScratchDir dir;
  const std::string path = dir.file("reader-outlives.sqz");
  std::optional<TraceWriter> writer;
  {
    auto created = TraceWriter::create(path);
    ASSERT_TRUE(created.ok());
    writer.emplace(std::move(*created));
  }
  ASSERT_TRUE(writer->add_run(test::sample_run(0)).ok());
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ(reader->runs()->size(), 1u);
  const auto before = std::chrono::steady_clock::now();
  writer.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(2));
  EXPECT_EQ(reader->runs()->size(), 1u);  // still readable after the writer has gone
  auto again = TraceReader::open(path);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->counts()->runs, 1);
}

TEST(TraceRoundTrip, WriterDestroyedMidCaptureLeavesItsCommits) {
  ScratchDir dir;
  const std::string path = dir.file("midway.sqz");
  {
    auto writer = TraceWriter::create(path);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->write_meta(test::sample_meta()).ok());
    auto run = writer->add_run(test::sample_run(0));
    ASSERT_TRUE(run.ok());
    std::vector<KernelRecord> batch;
    for (int i = 0; i < 10; ++i) batch.push_back(test::sample_kernel(*run, i));
    ASSERT_TRUE(writer->add_kernels(batch).ok());
    // The capture stops here: no final update_run, no more batches.
  }
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  EXPECT_EQ(reader->runs()->size(), 1u);
  EXPECT_EQ(*reader->kernel_count(), 10);
  EXPECT_TRUE(reader->meta()->model.has_value());
  // At rest the file stands alone: the WAL was folded back in.
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(TraceRoundTrip, VisitorStopsWhenAskedAndStreamsInStartOrder) {
  ScratchDir dir;
  const std::string path = dir.file("visit.sqz");
  auto writer = TraceWriter::create(path);
  ASSERT_TRUE(writer.ok());
  auto run = writer->add_run(test::sample_run(0));
  ASSERT_TRUE(run.ok());
  std::vector<KernelRecord> batch;
  for (int i = 50; i-- > 0;) batch.push_back(test::sample_kernel(*run, i));  // reverse order
  ASSERT_TRUE(writer->add_kernels(batch).ok());
  auto reader = TraceReader::open(path);
  ASSERT_TRUE(reader.ok());
  std::vector<std::int64_t> starts;
  auto visited = reader->visit_kernels(std::nullopt, [&](const KernelRecord& k) {
    starts.push_back(k.start_ns);
    return starts.size() < 7;
  });
  ASSERT_TRUE(visited.ok());
  ASSERT_EQ(starts.size(), 7u);
  for (std::size_t i = 0; i < starts.size(); ++i) {
    EXPECT_EQ(starts[i], test::sample_kernel(*run, static_cast<int>(i)).start_ns);
  }
}

TEST(TraceModelJson, RoundTripsAndRejectsWrongTypes) {
  const ModelConfig m = test::sample_model();
  auto back = model_config_from_json(model_config_to_json(m));
  ASSERT_TRUE(back.ok()) << back.error().message;
  test::expect_same_model(*back, m);
  EXPECT_FALSE(model_config_from_json("{\"n_layers\": \"many\"}").ok());
  EXPECT_FALSE(model_config_from_json("[1, 2]").ok());
  EXPECT_FALSE(model_config_from_json("{oops").ok());
  EXPECT_FALSE(model_config_from_json("{\"rope_style\": \"diagonal\"}").ok());
}

}  // namespace
}  // namespace squeeze::core
