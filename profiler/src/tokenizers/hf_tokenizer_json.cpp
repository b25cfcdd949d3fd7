// tokenizer.json (Hugging Face tokenizers) for byte-level BPE models. Supported pipelines: no
// normalizer; pre-tokenizer ByteLevel, optionally after Digits(individual_digits) (GPT-2,
// SmolLM, SmolLM2) or after a Split with the Llama 3 / Qwen2 / GPT-2 regex. Other regexes are
// refused with a clear error rather than tokenized subtly wrong.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bpe_tokenizer.hpp"

namespace squeeze::profiler {
namespace {

using core::make_error;
using core::Result;
using nlohmann::json;
namespace fs = std::filesystem;

Result<json> read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot open", path));
  std::stringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::exception& e) {
    return make_error(fmt::format("{}: malformed JSON: {}", path, e.what()));
  }
}

core::Status parse_pre_tokenizer(const json& pre, const std::string& path, tokenizers::PreTokenizerSpec& spec,
                                 bool& split_seen) {
  if (!pre.is_object() || !pre.contains("type") || !pre["type"].is_string())
    return make_error(fmt::format("{}: pre_tokenizer is missing; only byte-level BPE is supported", path));
  const auto type = pre["type"].get<std::string>();
  if (type == "Sequence") {
    if (!pre.contains("pretokenizers") || !pre["pretokenizers"].is_array())
      return make_error(fmt::format("{}: pre_tokenizer Sequence without pretokenizers", path));
    bool byte_level = false;
    for (const auto& p : pre["pretokenizers"]) {
      SQZ_CHECK(parse_pre_tokenizer(p, path, spec, split_seen));
      byte_level = byte_level || p.value("type", "") == "ByteLevel";
    }
    if (!byte_level) return make_error(fmt::format("{}: pre_tokenizer has no ByteLevel step", path));
    return {};
  }
  if (type == "Digits") {
    spec.individual_digits = pre.value("individual_digits", false);
    if (!spec.individual_digits)
      return make_error(fmt::format("{}: Digits pre-tokenizer without individual_digits is not supported", path));
    return {};
  }
  if (type == "ByteLevel") {
    if (pre.value("use_regex", true)) {
      if (split_seen) return make_error(fmt::format("{}: a Split followed by ByteLevel(use_regex) is not supported", path));
      spec.regex = tokenizers::SplitRegex::Gpt2;
    }
    spec.add_prefix_space = pre.value("add_prefix_space", false);
    return {};
  }
  if (type == "Split") {
    std::string pattern;
    if (pre.contains("pattern") && pre["pattern"].is_object() && pre["pattern"].contains("Regex") &&
        pre["pattern"]["Regex"].is_string())
      pattern = pre["pattern"]["Regex"].get<std::string>();
    const auto regex = tokenizers::split_regex_from_pattern(pattern);
    if (regex == tokenizers::SplitRegex::None || pre.value("behavior", "") != "Isolated" || pre.value("invert", false))
      return make_error(fmt::format("{}: pre-tokenizer Split with pattern '{}' is not supported (the GPT-2, Llama 3 "
                                    "and Qwen2 regexes are, with behavior Isolated)", path, pattern));
    if (split_seen) return make_error(fmt::format("{}: more than one Split pre-tokenizer", path));
    split_seen = true;
    spec.regex = regex;
    return {};
  }
  return make_error(fmt::format("{}: pre-tokenizer '{}' is not supported (ByteLevel, Digits, Split)", path, type));
}

// "a b" (older files) or ["a", "b"] (newer files).
Result<std::pair<std::string, std::string>> parse_merge(const json& m, const std::string& path, std::size_t rank) {
  if (m.is_string()) {
    const auto s = m.get<std::string>();
    const auto space = s.find(' ', 1);
    if (space == std::string::npos) return make_error(fmt::format("{}: merge {} '{}' has no space", path, rank, s));
    return std::pair{s.substr(0, space), s.substr(space + 1)};
  }
  if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
    return std::pair{m[0].get<std::string>(), m[1].get<std::string>()};
  return make_error(fmt::format("{}: merge {} is neither \"a b\" nor [a, b]", path, rank));
}

// A token named in tokenizer_config.json ("<s>" or {"content": "<s>"}) -> its id.
int config_token_id(const json& config, const char* key, const tokenizers::BpeModelData& data) {
  if (!config.contains(key)) return -1;
  const auto& v = config[key];
  std::string name;
  if (v.is_string()) name = v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) name = v["content"].get<std::string>();
  for (const auto& a : data.added)
    if (a.content == name) return a.id;
  for (int i = 0; i < static_cast<int>(data.tokens.size()); ++i)
    if (!name.empty() && data.tokens[i] == name) return i;
  return -1;
}

int first_int(const json& v) {
  if (v.is_number_integer()) return v.get<int>();
  if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int>();
  return -1;
}

// BOS/EOS are not in tokenizer.json: tokenizer_config.json names them, config.json numbers them.
void find_special_ids(const fs::path& dir, tokenizers::BpeModelData& data) {
  if (auto tc = read_json((dir / "tokenizer_config.json").string()); tc.ok() && tc->is_object()) {
    data.bos_id = config_token_id(*tc, "bos_token", data);
    data.eos_id = config_token_id(*tc, "eos_token", data);
  }
  if (auto mc = read_json((dir / "config.json").string()); mc.ok() && mc->is_object()) {
    if (data.bos_id < 0 && mc->contains("bos_token_id")) data.bos_id = first_int((*mc)["bos_token_id"]);
    if (data.eos_id < 0 && mc->contains("eos_token_id")) data.eos_id = first_int((*mc)["eos_token_id"]);
  }
  // Last resort: the usual names among the added tokens.
  for (const auto& a : data.added) {
    if (data.bos_id < 0 && (a.content == "<|begin_of_text|>" || a.content == "<s>")) data.bos_id = a.id;
    if (data.eos_id < 0 && (a.content == "<|endoftext|>" || a.content == "<|end_of_text|>" || a.content == "</s>"))
      data.eos_id = a.id;
  }
}

}  // namespace

namespace {

Result<std::unique_ptr<Tokenizer>> load_hf_tokenizer_json_unchecked(const std::string& path) {
  SQZ_TRY(j, read_json(path));
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    return make_error(fmt::format("{}: no \"model\" object; not a tokenizer.json?", path));
  const auto& model = j["model"];
  if (model.value("type", "BPE") != "BPE")
    return make_error(fmt::format("{}: model type '{}' is not supported (BPE)", path, model.value("type", "")));
  if (j.contains("normalizer") && !j["normalizer"].is_null())
    return make_error(fmt::format("{}: normalizers are not supported (byte-level BPE has none)", path));

  tokenizers::BpeModelData data;
  data.source = path;
  data.pre.regex = tokenizers::SplitRegex::None;  // set by the Split / ByteLevel steps
  bool split_seen = false;
  SQZ_CHECK(parse_pre_tokenizer(j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json(), path, data.pre, split_seen));
  if (!model.contains("vocab") || !model["vocab"].is_object())
    return make_error(fmt::format("{}: model.vocab is not an object", path));
  const auto& vocab = model["vocab"];
  constexpr int kMaxVocab = 1 << 22;
  auto place = [&](const std::string& text, const json& id_json) -> core::Status {
    if (!id_json.is_number_integer() || id_json.get<std::int64_t>() < 0 || id_json.get<std::int64_t>() >= kMaxVocab)
      return make_error(fmt::format("{}: token '{}' has an invalid id {}", path, text, id_json.dump()));
    const auto id = id_json.get<std::size_t>();
    if (id >= data.tokens.size()) data.tokens.resize(id + 1);
    data.tokens[id] = text;
    return {};
  };
  for (const auto& [text, id] : vocab.items()) SQZ_CHECK(place(text, id));
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& a : j["added_tokens"]) {
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string() || !a.contains("id"))
        return make_error(fmt::format("{}: an added_tokens entry lacks content or id", path));
      tokenizers::AddedToken t;
      t.content = a["content"].get<std::string>();
      SQZ_CHECK(place(t.content, a["id"]));
      t.id = a["id"].get<int>();
      t.special = a.value("special", false);
      t.lstrip = a.value("lstrip", false);
      t.rstrip = a.value("rstrip", false);
      data.added.push_back(std::move(t));
    }
  if (model.contains("merges") && model["merges"].is_array()) {
    std::size_t rank = 0;
    for (const auto& m : model["merges"]) {
      SQZ_TRY(merge, parse_merge(m, path, rank++));
      data.merges.push_back(std::move(merge));
    }
  }
  data.ignore_merges = model.value("ignore_merges", false);
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    const auto unk = model["unk_token"].get<std::string>();
    if (vocab.contains(unk)) data.unk_id = vocab[unk].get<int>();
  }
  find_special_ids(fs::path(path).parent_path(), data);
  return tokenizers::make_bpe_tokenizer(std::move(data));
}

}  // namespace

// nlohmann's value()/get() throw type_error when a field has an unexpected JSON type ("special":
// "yes"); every such file is a bad input, answered with its path and what was wrong, never a crash.
Result<std::unique_ptr<Tokenizer>> load_hf_tokenizer_json(const std::string& path) {
  try {
    return load_hf_tokenizer_json_unchecked(path);
  } catch (const json::exception& e) {
    return make_error(fmt::format("{}: a field has an unexpected JSON type ({})", path, e.what()));
  }
}

}  // namespace squeeze::profiler
