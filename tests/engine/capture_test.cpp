// The similarity capture: prompt files (.txt whole file, .jsonl per line), and a capture into a
// real trace read back through TraceReader: token counts (never text), similarities equal to a
// direct prefill, truncation, one prompt per transaction.
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <gtest/gtest.h>

#include "engine_test_support.hpp"
#include "squeeze/core/trace_reader.hpp"
#include "squeeze/profiler/capture.hpp"

namespace squeeze::test {
namespace {

namespace fs = std::filesystem;

// Bytes as tokens (offset by 3 to stay clear of BOS/EOS), BOS = 1: enough to drive a capture
// without depending on a tokenizer file.
class ByteTokenizer final : public profiler::Tokenizer {
 public:
  std::vector<int> encode(std::string_view text, bool add_bos) const override {
    std::vector<int> ids;
    if (add_bos) ids.push_back(1);
    for (unsigned char c : text) ids.push_back(3 + c % 250);
    return ids;
  }
  std::string decode(int token) const override { return std::string(1, static_cast<char>(token - 3)); }
  int bos_id() const override { return 1; }
  int eos_id() const override { return 2; }
  int vocab_size() const override { return 256; }
  std::string token_text(int token) const override { return decode(token); }
  const char* kind() const override { return "bytes"; }
};

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / fs::path("squeeze_capture_" + std::to_string(::getpid()) + "_" +
                                                          ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path file(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
    return path_ / name;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(ReadPrompts, TxtIsOnePromptJsonlOnePerLine) {
  TempDir dir;
  auto txt = profiler::read_prompts(dir.file("story.txt", "line one\nline two\n").string());
  ASSERT_TRUE(txt.ok());
  ASSERT_EQ(txt->size(), 1u);
  EXPECT_EQ((*txt)[0].text, "line one\nline two\n");
  EXPECT_EQ((*txt)[0].label, "story");

  const auto jsonl = dir.file("set.jsonl", "{\"article\": \"a b\", \"x\": 1}\n\n{\"article\": \"c\"}\n{\"article\": \"d\"}\n");
  auto all = profiler::read_prompts(jsonl.string(), "article");
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].text, "c");
  EXPECT_EQ((*all)[1].label, "set-3");  // blank line 2 skipped, labels keep file line numbers
  auto limited = profiler::read_prompts(jsonl.string(), "article", 2);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 2u);
}

TEST(ReadPrompts, BadFilesAreCode2WithTheLine) {
  TempDir dir;
  auto missing_field = profiler::read_prompts(dir.file("a.jsonl", "{\"text\": \"ok\"}\n{\"other\": 1}\n").string());
  ASSERT_FALSE(missing_field.ok());
  EXPECT_EQ(missing_field.error().code, 2);
  EXPECT_NE(missing_field.error().message.find(":2:"), std::string::npos) << missing_field.error().message;
  auto not_json = profiler::read_prompts(dir.file("b.jsonl", "{\"text\": \"ok\"}\nnot json\n").string());
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().code, 2);
  EXPECT_FALSE(profiler::read_prompts(dir.file("c.csv", "x").string()).ok());
  EXPECT_FALSE(profiler::read_prompts((dir.path() / "absent.txt").string()).ok());
  EXPECT_FALSE(profiler::read_prompts(dir.file("empty.jsonl", "\n\n").string()).ok());
}

TEST(Capture, WritesTokenCountsAndSimilaritiesOfEachPrompt) {
  auto weights = load_weights(fixture_dir() / "tiny_llama");
  ASSERT_NE(weights, nullptr);
  auto engine = make_engine(*weights);
  ASSERT_NE(engine, nullptr);
  TempDir dir;
  const std::vector<profiler::PromptText> prompts = {
      {"p-1", "The quick brown fox jumps over the lazy dog."}, {"p-2", "short"},
      {"p-3", std::string(100, 'z') + " long prompt that gets truncated"}};
  ByteTokenizer tokenizer;
  const auto trace = dir.path() / "capture.sqz";
  {
    auto writer = core::TraceWriter::create(trace.string());
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    ASSERT_TRUE(writer->write_meta(profiler::capture_meta(*engine, "tiny_llama", "cpu")).ok());
    int calls = 0;
    profiler::CaptureOptions options;
    options.max_prompt_tokens = 50;
    options.dataset = "unit";
    options.on_prompt = [&](const profiler::CaptureProgress& p) {
      ++calls;
      EXPECT_EQ(p.index, calls);
      EXPECT_EQ(p.total, 3);
    };
    auto summary = profiler::capture_similarities(*engine, tokenizer, prompts, *writer, options);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    EXPECT_EQ(summary->prompts, 3);
    EXPECT_EQ(calls, 3);
  }
  auto reader = core::TraceReader::open(trace.string());
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto meta = reader->meta();
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->device_kind, "cpu");
  ASSERT_TRUE(meta->model.has_value());
  EXPECT_EQ(meta->model->n_layers, 3);
  auto records = reader->prompts();
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[0].token_count, 45);  // BOS + 44 bytes
  EXPECT_EQ((*records)[1].token_count, 6);
  EXPECT_EQ((*records)[2].token_count, 50);  // truncated
  EXPECT_EQ((*records)[0].dataset, "unit");
  EXPECT_EQ((*records)[0].label, "p-1");
  auto sims = reader->similarities();
  ASSERT_TRUE(sims.ok());
  ASSERT_EQ(sims->rows(), 3);
  ASSERT_EQ(sims->n_layers, 3);
  // Each row equals a direct prefill of the same tokens.
  for (int r = 0; r < 3; ++r) {
    auto tokens = tokenizer.encode(prompts[static_cast<std::size_t>(r)].text, true);
    if (tokens.size() > 50) tokens.resize(50);
    auto seq = engine->add_sequence({});
    ASSERT_TRUE(seq.ok());
    auto pre = engine->prefill(*seq, tokens);
    ASSERT_TRUE(pre.ok());
    for (int l = 0; l < 3; ++l)
      EXPECT_DOUBLE_EQ(sims->value(r, l), pre->layer_similarity[static_cast<std::size_t>(l)]) << r << "," << l;
  }
}

}  // namespace
}  // namespace squeeze::test
