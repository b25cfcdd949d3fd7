// config.json of a Hugging Face directory (no weights: the loader must fail cleanly after, or
// while, parsing the config).
#include "fuzz_input_file.hpp"
#include "squeeze/profiler/model_loader.hpp"

SQUEEZE_FUZZ_TARGET(config_json) {
  squeeze::fuzz::FuzzInputFile input("config.json", data, size);
  (void)squeeze::profiler::load_hf_model(input.dir().string());
  return 0;
}
