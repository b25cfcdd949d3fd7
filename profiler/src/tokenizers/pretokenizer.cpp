#include "pretokenizer.hpp"

#include "unicode_tables.hpp"

namespace squeeze::profiler::tokenizers {
namespace {

enum class Class { Letter, Number, Space, Other };

Class classify(std::uint32_t cp) {
  if (is_letter(cp)) return Class::Letter;
  if (is_number(cp)) return Class::Number;
  if (is_whitespace(cp)) return Class::Space;
  return Class::Other;
}

// Code points of one segment with their classes, so the matcher can look ahead cheaply.
struct Chars {
  std::vector<std::size_t> offset;  // byte offset of each code point; offset.back() = size
  std::vector<std::uint32_t> value;
  std::vector<Class> cls;
};

Chars scan(std::string_view text) {
  Chars c;
  for (std::size_t i = 0; i < text.size();) {
    const auto cp = decode_utf8(text, i);
    c.offset.push_back(i);
    c.value.push_back(cp.value);
    c.cls.push_back(classify(cp.value));
    i += cp.length;
  }
  c.offset.push_back(text.size());
  return c;
}

// Length in code points of the GPT-2 regex match starting at code point i.
std::size_t match_gpt2(const Chars& c, std::size_t i) {
  const std::size_t n = c.value.size();
  auto value = [&](std::size_t k) -> std::uint32_t { return k < n ? c.value[k] : 0; };
  // 's|'t|'re|'ve|'m|'ll|'d  (case-sensitive, as in GPT-2)
  if (value(i) == '\'') {
    const auto a = value(i + 1), b = value(i + 2);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional ASCII space, then a run of one class.
  const std::size_t start = value(i) == ' ' && i + 1 < n && c.cls[i + 1] != Class::Space ? i + 1 : i;
  if (start < n && c.cls[start] != Class::Space) {
    const Class run = c.cls[start];
    std::size_t j = start;
    while (j < n && c.cls[j] == run) ++j;
    return j - i;
  }
  // `\s+(?!\S)|\s+`: a whitespace run, leaving its last character to the next piece when a
  // non-space follows (so " word" keeps its space), unless the run is a single character.
  std::size_t j = i;
  while (j < n && c.cls[j] == Class::Space) ++j;
  if (j < n && j - i >= 2) return j - i - 1;
  return j - i;
}

bool is_newline(std::uint32_t cp) { return cp == '\r' || cp == '\n'; }

// Length in code points of the Llama 3 (max_digits 3) or Qwen2 (max_digits 1) match at i.
std::size_t match_llama3(const Chars& c, std::size_t i, std::size_t max_digits) {
  const std::size_t n = c.value.size();
  auto value = [&](std::size_t k) -> std::uint32_t { return k < n ? c.value[k] : 0; };
  auto lower = [&](std::size_t k) -> std::uint32_t {
    const auto v = value(k);
    return v >= 'A' && v <= 'Z' ? v + 32 : v;
  };
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (value(i) == '\'') {
    const auto a = lower(i + 1), b = lower(i + 2);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  {
    std::size_t start = i;
    if (c.cls[i] != Class::Letter && c.cls[i] != Class::Number && !is_newline(c.value[i]) && i + 1 < n &&
        c.cls[i + 1] == Class::Letter)
      start = i + 1;
    if (c.cls[start] == Class::Letter) {
      std::size_t j = start;
      while (j < n && c.cls[j] == Class::Letter) ++j;
      return j - i;
    }
  }
  // \p{N}{1,max}
  if (c.cls[i] == Class::Number) {
    std::size_t j = i;
    while (j < n && j - i < max_digits && c.cls[j] == Class::Number) ++j;
    return j - i;
  }
  // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
  {
    const std::size_t start = value(i) == ' ' && i + 1 < n && c.cls[i + 1] == Class::Other ? i + 1 : i;
    if (c.cls[start] == Class::Other) {
      std::size_t j = start;
      while (j < n && c.cls[j] == Class::Other) ++j;
      while (j < n && is_newline(c.value[j])) ++j;
      return j - i;
    }
  }
  // \s*[\r\n]+ : the whitespace run up to and including its last newline.
  std::size_t j = i;
  std::size_t after_last_newline = 0;
  while (j < n && c.cls[j] == Class::Space) {
    if (is_newline(c.value[j])) after_last_newline = j + 1;
    ++j;
  }
  if (after_last_newline > 0) return after_last_newline - i;
  // \s+(?!\S)|\s+
  if (j < n && j - i >= 2) return j - i - 1;
  return j - i;
}

void split_regex(std::string_view segment, SplitRegex regex, std::vector<std::string_view>& out) {
  const Chars c = scan(segment);
  const std::size_t n = c.value.size();
  for (std::size_t i = 0; i < n;) {
    const std::size_t len = regex == SplitRegex::Gpt2 ? match_gpt2(c, i) : match_llama3(c, i, regex == SplitRegex::Llama3 ? 3 : 1);
    out.push_back(segment.substr(c.offset[i], c.offset[i + len] - c.offset[i]));
    i += len;
  }
}

}  // namespace

CodePoint decode_utf8(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  const std::uint8_t b0 = byte(i);
  if (b0 < 0x80) return {b0, 1};
  std::size_t length;
  std::uint32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    cp = b0 & 0x07;
  } else {
    return {0xFFFD, 1};
  }
  if (i + length > text.size()) return {0xFFFD, 1};
  for (std::size_t k = 1; k < length; ++k) {
    const std::uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return {0xFFFD, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0xFFFD, 1};
  return {cp, length};
}

SplitRegex split_regex_from_pattern(std::string_view pattern) {
  constexpr std::string_view kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
  constexpr std::string_view kLlama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  constexpr std::string_view kQwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  if (pattern == kGpt2) return SplitRegex::Gpt2;
  if (pattern == kLlama3) return SplitRegex::Llama3;
  if (pattern == kQwen2) return SplitRegex::Qwen2;
  return SplitRegex::None;
}

std::vector<std::string_view> pre_tokenize(std::string_view text, const PreTokenizerSpec& spec) {
  std::vector<std::string_view> out;
  auto emit = [&](std::string_view segment) {
    if (segment.empty()) return;
    if (spec.regex != SplitRegex::None) {
      split_regex(segment, spec.regex, out);
    } else {
      out.push_back(segment);
    }
  };
  if (!spec.individual_digits) {
    emit(text);
    return out;
  }
  std::size_t segment_start = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto cp = decode_utf8(text, i);
    if (is_number(cp.value)) {
      emit(text.substr(segment_start, i - segment_start));
      out.push_back(text.substr(i, cp.length));
      segment_start = i + cp.length;
    }
    i += cp.length;
  }
  emit(text.substr(segment_start));
  return out;
}

}  // namespace squeeze::profiler::tokenizers
