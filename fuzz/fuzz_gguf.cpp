// GGUF: header, metadata key/values (nested arrays), tensor infos, alignment, quantized blocks.
// The same bytes are also read as a tokenizer (GGUF vocab + merges).
#include "fuzz_input_file.hpp"
#include "squeeze/profiler/model_loader.hpp"
#include "squeeze/profiler/tokenizer.hpp"

SQUEEZE_FUZZ_TARGET(gguf) {
  squeeze::fuzz::FuzzInputFile input("model.gguf", data, size);
  (void)squeeze::profiler::load_gguf_model(input.path().string());
  auto tok = squeeze::profiler::load_gguf_tokenizer(input.path().string());
  if (tok.ok()) (void)(*tok)->encode("Hello, world! 123", true);
  return 0;
}
