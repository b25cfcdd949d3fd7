#pragma once
// Unicode category tables (generated: gen_unicode_tables.py) and the character classes the
// byte-level BPE pre-tokenizer splits on.

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace squeeze::profiler::tokenizers {

struct CodePointRange {
  std::uint32_t first, last;  // inclusive
};

extern const CodePointRange kLetterRanges[];
extern const std::size_t kLetterRanges_count;
extern const CodePointRange kNumberRanges[];
extern const std::size_t kNumberRanges_count;

[[nodiscard]] inline bool in_ranges(const CodePointRange* ranges, std::size_t count, std::uint32_t cp) {
  const auto* end = ranges + count;
  const auto* it = std::upper_bound(ranges, end, cp, [](std::uint32_t v, const CodePointRange& r) { return v < r.first; });
  return it != ranges && cp <= (it - 1)->last;
}

// \p{L}
[[nodiscard]] inline bool is_letter(std::uint32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return in_ranges(kLetterRanges, kLetterRanges_count, cp);
}

// \p{N} (also Rust's char::is_numeric, which the Digits pre-tokenizer uses)
[[nodiscard]] inline bool is_number(std::uint32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(kNumberRanges, kNumberRanges_count, cp);
}

// \s in the regex engines tokenizers uses: the Unicode White_Space property.
[[nodiscard]] inline bool is_whitespace(std::uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

}  // namespace squeeze::profiler::tokenizers
