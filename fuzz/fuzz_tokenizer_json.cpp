// tokenizer.json (byte-level BPE: vocab, merges, added tokens, pre-tokenizer).
#include "fuzz_input_file.hpp"
#include "squeeze/profiler/tokenizer.hpp"

SQUEEZE_FUZZ_TARGET(tokenizer_json) {
  squeeze::fuzz::FuzzInputFile input("tokenizer.json", data, size);
  auto tok = squeeze::profiler::load_hf_tokenizer_json(input.path().string());
  if (tok.ok()) {
    const auto ids = (*tok)->encode("Hello  world\n\t\xC3\xA9\xE4\xB8\xAD 2024 <|im_start|>", true);
    (void)(*tok)->decode(ids);
  }
  return 0;
}
