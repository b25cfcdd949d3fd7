// Decode attention throughput vs the device's measured copy bandwidth.
//
// For each shape (Llama-2-7B-like: 32 query heads, head_dim 128, 32 or 8 KV heads) it times the
// split-KV kernel with CUDA events (median of many launches after warm-up), rotating over enough
// K/V copies that the 50-60 MB L2 cannot hold them, and reports the bytes the kernel must move
// (K and V once, q and out) over its time. A device-to-device copy of 1 GiB measured in the same
// run is the ceiling. Writes CSV to stdout; bench/decode_attention_compare.py adds PyTorch SDPA.
//
// Two times per shape: `isolated` (events around one launch on an idle GPU: includes the time
// the GPU waits for the launch to arrive) and `queued` (the launch enqueued behind a spin kernel,
// as nvbench does, so the events time the kernel as it runs in a busy stream, like the engine's).
//
//   decode_attention_bench [--quick] [--kernel auto,scalar,mma,mma4,mma8,mmask,mmawsk,tma4,tma8,tmatail] [--shape KV_HEADS,BATCH,KV_LEN]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "kernels/decode_attention.cuh"

using squeeze::cuda::bf16;

#define CHECK(x)                                                                      \
  do {                                                                                \
    cudaError_t e_ = (x);                                                             \
    if (e_ != cudaSuccess) {                                                          \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
      std::exit(1);                                                                   \
    }                                                                                 \
  } while (0)

static __global__ void fill_random_bf16(bf16* p, size_t n, unsigned seed) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n;
       i += size_t(gridDim.x) * blockDim.x) {
    unsigned x = unsigned(i) * 2654435761u ^ seed;
    x ^= x >> 13;
    x *= 0x5bd1e995u;
    x ^= x >> 15;
    p[i] = __float2bfloat16((x & 0xffff) / 32768.f - 1.f);
  }
}

// Holds the stream for `ns` so that what is enqueued behind it starts back to back.
static __global__ void spin_kernel(long long ns) {
  const long long t0 = clock64();
  while (clock64() - t0 < ns * 2) {  // clock64 counts SM cycles: <= 2 GHz on these GPUs
  }
}

template <class F>
static float median_ms(F&& launch, int reps, bool queued = false) {
  cudaEvent_t a, b;
  CHECK(cudaEventCreate(&a));
  CHECK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) launch(i);
  CHECK(cudaDeviceSynchronize());
  std::vector<float> t;
  for (int i = 0; i < reps; ++i) {
    if (queued) spin_kernel<<<1, 1>>>(100000);  // 100 µs: longer than enqueueing what follows
    CHECK(cudaEventRecord(a));
    launch(i);
    CHECK(cudaEventRecord(b));
    CHECK(cudaEventSynchronize(b));
    float ms = 0;
    CHECK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms);
  }
  std::sort(t.begin(), t.end());
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return t[t.size() / 2];
}

static std::vector<int> parse_ints(const std::string& s) {
  std::vector<int> v;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = s.find(',', pos);
    v.push_back(std::atoi(s.substr(pos, comma - pos).c_str()));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return v;
}

int main(int argc, char** argv) {
  bool quick = false;
  std::vector<int> shape;
  using squeeze::cuda::DecodeKernel;
  std::vector<DecodeKernel> kernels = {DecodeKernel::kAuto};
  // Indexed by DecodeKernel.
  const char* kernel_names[] = {"auto", "scalar", "mma", "mma4", "mma8", "mmask", "mmawsk",
                                "tma4", "tma8", "tmatail"};
  static_assert(std::size(kernel_names) ==
                static_cast<size_t>(DecodeKernel::kTensorCoreTmaTail) + 1);
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--kernel" && i + 1 < argc) {
      kernels.clear();
      const std::string list = argv[++i];
      for (size_t pos = 0; pos <= list.size();) {
        const size_t comma = std::min(list.find(',', pos), list.size());
        const std::string name = list.substr(pos, comma - pos);
        const auto* it = std::find(std::begin(kernel_names), std::end(kernel_names), name);
        if (it == std::end(kernel_names)) {
          std::string known;
          for (const char* k : kernel_names) known += (known.empty() ? "" : ", ") + std::string(k);
          std::fprintf(stderr, "--kernel: unknown kernel '%s' (%s)\n", name.c_str(), known.c_str());
          return 2;
        }
        kernels.push_back(static_cast<DecodeKernel>(it - std::begin(kernel_names)));
        pos = comma + 1;
      }
    } else if (arg == "--shape" && i + 1 < argc) {
      shape = parse_ints(argv[++i]);
    } else {
      std::fprintf(stderr,
"usage: decode_attention_bench [--quick] [--kernel auto,scalar,mma,mma4,mma8,mmask,mmawsk,tma4,tma8,tmatail] "
                   "[--shape KV_HEADS,BATCH,KV_LEN]\n"
                   "  --kernel: kernels to time (auto: the launcher's choice; mma: tensor cores,\n"
                   "            mma4 / mma8: tensor cores in CTAs of 4 / 8 warps, mmask: stream-K over CTAs,\n"
                   "            mmawsk: stream-K over warps, tma4 / tma8: tensor cores with K/V through\n"
                   "            a TMA ring in shared memory, CTAs of 4 / 8 warps; tmatail: tma4 with a\n"
                   "            few pairs cut in quarters, for pair counts just above the SM count)\n"
                   "  --quick: a 2x2 grid of shapes per KV-head count\n"
                   "  --shape: one shape only (for ncu)\n");
      return 2;
    }
  }
  if (!shape.empty() && shape.size() != 3) {
    std::fprintf(stderr, "--shape wants KV_HEADS,BATCH,KV_LEN\n");
    return 2;
  }
  cudaDeviceProp prop{};
  CHECK(cudaGetDeviceProperties(&prop, 0));

  // Copy ceiling: 1 GiB device-to-device, bytes read + written.
  const size_t copy_bytes = size_t(1) << 30;
  void *src = nullptr, *dst = nullptr;
  CHECK(cudaMalloc(&src, copy_bytes));
  CHECK(cudaMalloc(&dst, copy_bytes));
  CHECK(cudaMemset(src, 1, copy_bytes));
  const float copy_ms = median_ms(
      [&](int) { CHECK(cudaMemcpyAsync(dst, src, copy_bytes, cudaMemcpyDeviceToDevice)); }, 20);
  const double copy_gbs = 2.0 * copy_bytes / (copy_ms * 1e-3) / 1e9;
  CHECK(cudaFree(src));
  CHECK(cudaFree(dst));
  std::printf("# device=%s sms=%d copy_GBps=%.1f\n", prop.name, prop.multiProcessorCount, copy_gbs);
  std::printf("kv_heads,batch,kv_len,kernel,bytes,ours_us,ours_GBps,frac_copy,queued_us,"
              "queued_GBps,queued_frac_copy\n");

  const int n_heads = 32, hd = 128;
  // 17 and 34 sequences give pair counts (x 8 or 32 KV heads) that fit 132 SMs badly.
  std::vector<int> batches = {1, 4, 8, 16, 17, 32, 34};
  std::vector<int> lens = {1024, 4096, 16384, 32768};
  if (quick) {
    batches = {1, 8};
    lens = {1024, 16384};
  }
  // MHA, and groups of 4 and 8 query heads per KV head (Llama-2-7B, Llama-3-8B, Llama-2-70B).
  std::vector<int> kv_heads_list = {32, 8, 4};
  if (!shape.empty()) {
    kv_heads_list = {shape[0]};
    batches = {shape[1]};
    lens = {shape[2]};
  }
  const size_t rotate_floor = size_t(512) << 20;  // >= 8x L2, so reps do not hit cache
  for (int kv_heads : kv_heads_list) {
    for (int batch : batches) {
      for (int len : lens) {
        const size_t kv_elems = size_t(batch) * kv_heads * len * hd;  // one of K or V
        const size_t kv_bytes = 2 * kv_elems * sizeof(bf16);
        if (kv_bytes > size_t(24) << 30) continue;  // keep the sweep inside device memory
        const int copies = int(std::max<size_t>(1, (rotate_floor + kv_bytes - 1) / kv_bytes));
        bf16 *k = nullptr, *v = nullptr, *q = nullptr, *out = nullptr;
        float* work = nullptr;
        int32_t* lens_d = nullptr;
        const int max_splits = 256;
        CHECK(cudaMalloc(&k, kv_elems * copies * sizeof(bf16)));
        CHECK(cudaMalloc(&v, kv_elems * copies * sizeof(bf16)));
        CHECK(cudaMalloc(&q, size_t(batch) * n_heads * hd * sizeof(bf16)));
        CHECK(cudaMalloc(&out, size_t(batch) * n_heads * hd * sizeof(bf16)));
        const size_t work_bytes =
            squeeze::cuda::decode_attention_workspace_bytes(batch, n_heads, hd, max_splits);
        CHECK(cudaMalloc(&work, work_bytes));
        CHECK(cudaMemset(work, 0, work_bytes));
        CHECK(cudaMalloc(&lens_d, batch * sizeof(int32_t)));
        fill_random_bf16<<<1024, 256>>>(k, kv_elems * copies, 1);
        fill_random_bf16<<<1024, 256>>>(v, kv_elems * copies, 2);
        fill_random_bf16<<<64, 256>>>(q, size_t(batch) * n_heads * hd, 3);
        std::vector<int32_t> lh(batch, len);
        CHECK(cudaMemcpy(lens_d, lh.data(), batch * sizeof(int32_t), cudaMemcpyHostToDevice));
        squeeze::cuda::DecodeAttentionArgs a{};
        a.q = q;
        a.lens = lens_d;
        a.out = out;
        a.batch = batch;
        a.n_heads = n_heads;
        a.kv_heads = kv_heads;
        a.head_dim = hd;
        a.capacity = len;
        a.max_len = len;
        a.max_splits = max_splits;
        a.scale = 1.f / std::sqrt(float(hd));
        squeeze::cuda::bind_decode_attention_workspace(a, work, batch);
        const double bytes = double(kv_bytes) + 2.0 * batch * n_heads * hd * sizeof(bf16);
        for (DecodeKernel kernel : kernels) {
          a.kernel = kernel;
          auto launch = [&](int i) {
            a.k_cache = k + kv_elems * (i % copies);
            a.v_cache = v + kv_elems * (i % copies);
            CHECK(squeeze::cuda::launch_decode_attention(a, 0));
          };
          const int reps = quick ? 20 : 50;
          const float ms = median_ms(launch, reps);
          const float queued_ms = median_ms(launch, reps, true);
          const double gbs = bytes / (ms * 1e-3) / 1e9;
          const double queued_gbs = bytes / (queued_ms * 1e-3) / 1e9;
          std::printf("%d,%d,%d,%s,%.0f,%.2f,%.1f,%.3f,%.2f,%.1f,%.3f\n", kv_heads, batch,
                      len, kernel_names[static_cast<int>(kernel)], bytes, ms * 1e3, gbs, gbs / copy_gbs, queued_ms * 1e3, queued_gbs,
                      queued_gbs / copy_gbs);
          std::fflush(stdout);
        }
        cudaFree(k);
        cudaFree(v);
        cudaFree(q);
        cudaFree(out);
        cudaFree(work);
        cudaFree(lens_d);
      }
    }
  }
  return 0;
}
