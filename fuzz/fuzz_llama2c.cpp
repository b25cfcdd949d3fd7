// llama2.c .bin model files: the 7-int32 header decides every later size.
#include "fuzz_input_file.hpp"
#include "squeeze/profiler/model_loader.hpp"

SQUEEZE_FUZZ_TARGET(llama2c) {
  squeeze::fuzz::FuzzInputFile input("model.bin", data, size);
  auto model = squeeze::profiler::load_llama2c_model(input.path().string());
  return model.ok() ? 0 : 0;  // only crashes, leaks and UB are findings
}
