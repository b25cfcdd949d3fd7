// Timeline of one decode attention launch, as measured for bench/results/decode_attention.md
// (fourth session): every CTA writes %globaltimer at points of the kernel, and the launch is
// queued behind a spin kernel that writes its own end time. Prints, per shape, the distribution
// over CTAs of each point in ns after the spin ended. See README.md here for how to build it.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <string>
#include "decode_attention.cuh"
using namespace squeeze::cuda;
#include "probe_util.cuh"
static __global__ void empty_kernel() {}
int main(int argc, char** argv) {
  std::vector<std::array<int,3>> shapes = {{8,1,1024},{8,1,4096},{8,1,16384},{8,1,32768},{8,16,1024},{8,8,1024},{32,4,1024},{32,1,4096}};
  const int n_heads = 32, hd = 128;
  unsigned long long* probe_d; const size_t probe_n = 1 << 20;
  CHECK(cudaMalloc(&probe_d, probe_n * 8));
  for (auto sh : shapes) {
    int kv_heads = sh[0], batch = sh[1], len = sh[2];
    size_t kv_elems = size_t(batch) * kv_heads * len * hd, kv_bytes = 4 * kv_elems;
    int copies = int(std::max<size_t>(1, ((size_t(512) << 20) + kv_bytes - 1) / kv_bytes));
    bf16 *k, *v, *q, *out; float* work; int32_t* lens_d;
    CHECK(cudaMalloc(&k, kv_elems * copies * 2)); CHECK(cudaMalloc(&v, kv_elems * copies * 2));
    CHECK(cudaMalloc(&q, size_t(batch) * n_heads * hd * 2)); CHECK(cudaMalloc(&out, size_t(batch) * n_heads * hd * 2));
    size_t wb = decode_attention_workspace_bytes(batch, n_heads, hd, 256);
    CHECK(cudaMalloc(&work, wb)); CHECK(cudaMemset(work, 0, wb));
    CHECK(cudaMalloc(&lens_d, batch * 4));
    fill<<<1024, 256>>>(k, kv_elems * copies, 1); fill<<<1024, 256>>>(v, kv_elems * copies, 2); fill<<<64,256>>>(q, size_t(batch)*n_heads*hd, 3);
    std::vector<int32_t> lh(batch, len); CHECK(cudaMemcpy(lens_d, lh.data(), batch * 4, cudaMemcpyHostToDevice));
    DecodeAttentionArgs a{}; a.q = q; a.lens = lens_d; a.out = out; a.batch = batch; a.n_heads = n_heads; a.kv_heads = kv_heads;
    a.head_dim = hd; a.capacity = len; a.max_len = len; a.max_splits = 256; a.scale = 0.088f;
    bind_decode_attention_workspace(a, work, batch);
    int splits, chunk;
    const void* kfn = kv_heads == n_heads ? (const void*)decode_attention_kernel<128,1> : (const void*)decode_attention_mma_kernel<128>;
    decode_attention_plan(a, decode_ctas_per_sm(kfn), 512, splits, chunk);
    const int ncta = splits * kv_heads * batch;
    cudaEvent_t e0, e1; CHECK(cudaEventCreate(&e0)); CHECK(cudaEventCreate(&e1));
    std::vector<float> times, etimes;
    unsigned long long* null_probe = nullptr;
    const int reps = 41;
    std::vector<std::vector<double>> ev(8);  // per event: samples of (t - spin_end) over CTAs and reps
    std::vector<double> span_all;
    for (int i = 0; i < reps + 3; ++i) {
      const bool rec = i >= 3 && (i % 4 == 0);
      CHECK(cudaMemcpyToSymbol(g_probe, rec ? &probe_d : &null_probe, sizeof(void*)));
      if (rec) CHECK(cudaMemset(probe_d, 0, size_t(ncta + 1) * 64));
      spin_kernel<<<1, 1>>>(100000, rec ? probe_d + size_t(ncta) * 8 : nullptr);
      CHECK(cudaEventRecord(e0));
      a.k_cache = k + kv_elems * (i % copies); a.v_cache = v + kv_elems * (i % copies);
      CHECK(launch_decode_attention(a, 0));
      CHECK(cudaEventRecord(e1)); CHECK(cudaEventSynchronize(e1));
      float ms; CHECK(cudaEventElapsedTime(&ms, e0, e1));
      if (i >= 3) (rec ? etimes : times).push_back(ms * 1e3f);
      if (rec) {
        std::vector<unsigned long long> h(size_t(ncta + 1) * 8);
        CHECK(cudaMemcpy(h.data(), probe_d, h.size() * 8, cudaMemcpyDeviceToHost));
        const double t0 = double(h[size_t(ncta) * 8]);
        for (int c = 0; c < ncta; ++c)
          for (int e = 0; e < 7; ++e)
            if (h[c * 8 + e]) ev[e].push_back(double(h[c * 8 + e]) - t0);
      }
    }
    // empty kernel with the same grid, queued
    std::vector<float> et;
    for (int i = 0; i < 20; ++i) {
      spin_kernel<<<1, 1>>>(100000, nullptr); CHECK(cudaEventRecord(e0));
      empty_kernel<<<dim3(splits, kv_heads, batch), 128>>>();
      CHECK(cudaEventRecord(e1)); CHECK(cudaEventSynchronize(e1)); float ms; CHECK(cudaEventElapsedTime(&ms, e0, e1)); et.push_back(ms * 1e3f);
    }
    // nothing between events
    std::vector<float> nt;
    for (int i = 0; i < 20; ++i) {
      spin_kernel<<<1, 1>>>(100000, nullptr); CHECK(cudaEventRecord(e0));
      CHECK(cudaEventRecord(e1)); CHECK(cudaEventSynchronize(e1)); float ms; CHECK(cudaEventElapsedTime(&ms, e0, e1)); nt.push_back(ms * 1e3f);
    }
    auto med = [](std::vector<float> x) { std::sort(x.begin(), x.end()); return x[x.size() / 2]; };
    std::printf("\n== kv_heads %d batch %d len %d: splits %d chunk %d ctas %d MB %.1f | queued us: plain %.2f probed %.2f empty-grid %.2f no-kernel %.2f\n",
                kv_heads, batch, len, splits, chunk, ncta, kv_bytes / 1e6, med(times), med(etimes), med(et), med(nt));
    const char* names[] = {"start", "1st scores", "loop end", "partials+sync", "counter", "last: ml merged", "last: done"};
    std::printf("  %-16s %8s %8s %8s %8s %8s  (ns after spin end; n)\n", "event", "min", "p10", "p50", "p90", "max");
    for (int e = 0; e < 7; ++e) {
      auto& x = ev[e]; if (x.empty()) continue; std::sort(x.begin(), x.end());
      auto q = [&](double f) { return x[std::min(x.size() - 1, size_t(f * x.size()))]; };
      std::printf("  %-16s %8.0f %8.0f %8.0f %8.0f %8.0f  n=%zu\n", names[e], x.front(), q(0.1), q(0.5), q(0.9), x.back(), x.size());
    }
    cudaFree(k); cudaFree(v); cudaFree(q); cudaFree(out); cudaFree(work); cudaFree(lens_d);
  }
  return 0;
}
