// llama2.c legacy checkpoints (karpathy/llama2.c run.c): a 7 x int32 header, then fp32 tensors in
// run.c's memory_map_weights order. The matrices are already (out, in) row-major, the layout
// run.c's matmul(xout, x, w, n, d) reads, so they copy straight into ModelWeights.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <span>

#include <fmt/format.h>

#include "byte_reader.hpp"
#include "mapped_file.hpp"
#include "squeeze/profiler/model_loader.hpp"

namespace squeeze::profiler {
namespace {

using core::make_error;
using core::Result;
using loaders::ByteReader;

struct Llama2cHeader {
  std::int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

// Any real llama2.c dimension is far below this; capping keeps every size product in int64.
constexpr std::int64_t kMaxDim = 1 << 20;

Result<Llama2cHeader> read_header(ByteReader& in) {
  Llama2cHeader h{};
  std::int32_t* fields[] = {&h.dim, &h.hidden_dim, &h.n_layers, &h.n_heads, &h.n_kv_heads, &h.vocab_size, &h.seq_len};
  const char* names[] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  for (int i = 0; i < 7; ++i) {
    SQZ_TRY(v, in.read<std::int32_t>(fmt::format("header field {}", names[i])));
    *fields[i] = v;
    const std::int64_t magnitude = i == 5 ? std::abs(std::int64_t{v}) : v;  // vocab may be negative
    if (magnitude <= 0 || magnitude > kMaxDim)
      return make_error(fmt::format("{}: header field {} = {} is out of range (1..{}); not a llama2.c checkpoint?",
                                    in.file(), names[i], v, kMaxDim));
  }
  if (h.dim % h.n_heads != 0)
    return make_error(fmt::format("{}: header: dim {} is not divisible by n_heads {}", in.file(), h.dim, h.n_heads));
  if (h.n_heads % h.n_kv_heads != 0)
    return make_error(fmt::format("{}: header: n_heads {} is not a multiple of n_kv_heads {}", in.file(),
                                  h.n_heads, h.n_kv_heads));
  return h;
}

// Copies `count` floats for tensor `name` out of the file.
Result<std::vector<float>> read_floats(ByteReader& in, std::int64_t count, const std::string& name) {
  SQZ_TRY(raw, in.take(static_cast<std::size_t>(count) * sizeof(float), fmt::format("tensor {}", name)));
  std::vector<float> out(static_cast<std::size_t>(count));
  std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

// Splits one stacked (n_layers, ...) tensor into the per-layer fields.
core::Status read_per_layer(ByteReader& in, std::vector<LayerWeights>& layers, std::int64_t per_layer,
                            const char* name, std::vector<float> LayerWeights::*field) {
  for (std::size_t l = 0; l < layers.size(); ++l) {
    SQZ_TRY(v, read_floats(in, per_layer, fmt::format("{} (layer {})", name, l)));
    layers[l].*field = std::move(v);
  }
  return {};
}

}  // namespace

Result<ModelWeights> load_llama2c_model(const std::string& path) {
  SQZ_TRY(file, loaders::MappedFile::open(path));
  ByteReader in(file.bytes(), path);
  SQZ_TRY(h, read_header(in));

  const std::int64_t dim = h.dim, hidden = h.hidden_dim, layers = h.n_layers;
  const std::int64_t head_size = dim / h.n_heads;
  const std::int64_t kv_dim = head_size * h.n_kv_heads;
  const bool tied = h.vocab_size > 0;
  const std::int64_t vocab = std::abs(std::int64_t{h.vocab_size});
  const std::int64_t seq = h.seq_len;

  // Exact size check before reading anything: a header that disagrees with the file is caught
  // here with both numbers, not as a confusing truncation halfway through.
  const std::int64_t per_layer = 2 * dim + dim * dim + 2 * dim * kv_dim + dim * dim + 3 * dim * hidden;
  const std::int64_t floats = vocab * dim + layers * per_layer + dim + seq * head_size + (tied ? 0 : vocab * dim);
  const std::int64_t expected = 7 * 4 + floats * 4;
  if (static_cast<std::int64_t>(file.size()) != expected)
    return make_error(fmt::format(
        "{}: the header (dim {}, hidden_dim {}, n_layers {}, n_heads {}, n_kv_heads {}, vocab_size {}, seq_len {}) "
        "implies {} bytes, but the file has {}",
        path, h.dim, h.hidden_dim, h.n_layers, h.n_heads, h.n_kv_heads, h.vocab_size, h.seq_len, expected,
        file.size()));

  ModelWeights w;
  w.source = path;
  auto& c = w.config;
  c.name = std::filesystem::path(path).stem().string();
  c.architecture = "llama";
  c.n_layers = h.n_layers;
  c.hidden = h.dim;
  c.n_heads = h.n_heads;
  c.n_kv_heads = h.n_kv_heads;
  c.head_dim = static_cast<int>(head_size);
  c.intermediate = h.hidden_dim;
  c.vocab = static_cast<int>(vocab);
  c.max_seq = h.seq_len;
  c.rope_theta = 10000.0;  // run.c hard-codes it
  c.rope_style = core::RopeStyle::Interleaved;
  c.rms_eps = 1e-5;
  c.tied_embeddings = tied;
  SQZ_CHECK(c.validate());

  w.layers.resize(static_cast<std::size_t>(layers));
  SQZ_TRY(embedding, read_floats(in, vocab * dim, "token_embedding_table"));
  w.token_embedding = std::move(embedding);
  SQZ_CHECK(read_per_layer(in, w.layers, dim, "rms_att_weight", &LayerWeights::attn_norm));
  SQZ_CHECK(read_per_layer(in, w.layers, dim * dim, "wq", &LayerWeights::wq));
  SQZ_CHECK(read_per_layer(in, w.layers, kv_dim * dim, "wk", &LayerWeights::wk));
  SQZ_CHECK(read_per_layer(in, w.layers, kv_dim * dim, "wv", &LayerWeights::wv));
  SQZ_CHECK(read_per_layer(in, w.layers, dim * dim, "wo", &LayerWeights::wo));
  SQZ_CHECK(read_per_layer(in, w.layers, dim, "rms_ffn_weight", &LayerWeights::ffn_norm));
  SQZ_CHECK(read_per_layer(in, w.layers, hidden * dim, "w1", &LayerWeights::w_gate));
  SQZ_CHECK(read_per_layer(in, w.layers, dim * hidden, "w2", &LayerWeights::w_down));
  SQZ_CHECK(read_per_layer(in, w.layers, hidden * dim, "w3", &LayerWeights::w_up));
  SQZ_TRY(final_norm, read_floats(in, dim, "rms_final_weight"));
  w.final_norm = std::move(final_norm);
  // The legacy freq_cis_real / freq_cis_imag tables: RoPE is recomputed from rope_theta instead.
  SQZ_TRY(freq_cis, in.take(static_cast<std::size_t>(seq * head_size) * sizeof(float), "tensor freq_cis"));
  (void)freq_cis;
  if (!tied) {
    SQZ_TRY(wcls, read_floats(in, vocab * dim, "wcls"));
    w.lm_head = std::move(wcls);
  }
  return w;
}

}  // namespace squeeze::profiler
