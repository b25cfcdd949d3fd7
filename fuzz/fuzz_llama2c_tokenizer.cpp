// llama2.c tokenizer.bin: max_token_length, then (score, length, bytes) per token.
#include "fuzz_input_file.hpp"
#include "squeeze/profiler/tokenizer.hpp"

SQUEEZE_FUZZ_TARGET(llama2c_tokenizer) {
  squeeze::fuzz::FuzzInputFile input("tokenizer.bin", data, size);
  auto tok = squeeze::profiler::load_llama2c_tokenizer(input.path().string());
  if (tok.ok()) {
    // A tokenizer that loaded must also survive use.
    const auto ids = (*tok)->encode("Once upon a time \xF0\x9F\x98\x80 42", true);
    (void)(*tok)->decode(ids);
  }
  return 0;
}
