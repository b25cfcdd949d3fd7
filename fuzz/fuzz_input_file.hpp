#pragma once
// The loaders and the trace reader take paths, not buffers (they memory-map or hand the path to
// SQLite), so each fuzz input is written to a file first. /dev/shm keeps that off the disk.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace squeeze::fuzz {

class FuzzInputFile {
 public:
  // `name` is the file name inside a per-process directory (loaders look at names and neighbours:
  // config.json beside model.safetensors, tok512.bin beside a .bin).
  FuzzInputFile(const std::string& name, const std::uint8_t* data, std::size_t size)
      : dir_(base_dir() / ("sqz-fuzz-" + std::to_string(::getpid()))), path_(dir_ / name) {
    std::filesystem::create_directories(dir_);
    write(path_, data, size);
  }
  ~FuzzInputFile() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  FuzzInputFile(const FuzzInputFile&) = delete;
  FuzzInputFile& operator=(const FuzzInputFile&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  // Adds a fixed companion file next to the input (e.g. a valid config.json).
  void add_sibling(const std::string& name, const std::string& content) const {
    write(dir_ / name, reinterpret_cast<const std::uint8_t*>(content.data()), content.size());
  }

 private:
  static std::filesystem::path base_dir() {
    std::error_code ec;
    return std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm")
                                                         : std::filesystem::temp_directory_path();
  }
  static void write(const std::filesystem::path& p, const std::uint8_t* data, std::size_t size) {
    std::FILE* f = std::fopen(p.c_str(), "wb");
    if (f == nullptr) return;
    if (size > 0) std::fwrite(data, 1, size, f);
    std::fclose(f);
  }

  std::filesystem::path dir_;
  std::filesystem::path path_;
};

}  // namespace squeeze::fuzz

// Each target defines its body once through this macro. Built with -DSQUEEZE_FUZZ_MAIN it becomes
// libFuzzer's entry point; otherwise a named function the regression test replays inputs through.
#ifdef SQUEEZE_FUZZ_MAIN
#define SQUEEZE_FUZZ_TARGET(name)                                                  \
  static int squeeze_fuzz_body(const std::uint8_t* data, std::size_t size);       \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    return squeeze_fuzz_body(data, size);                                          \
  }                                                                                \
  static int squeeze_fuzz_body(const std::uint8_t* data, std::size_t size)
#else
#define SQUEEZE_FUZZ_TARGET(name) \
  int squeeze_fuzz_##name(const std::uint8_t* data, std::size_t size)
#endif
