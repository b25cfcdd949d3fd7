// Per-CTA timeline of the CTA stream-K kernel (forced), queued behind a spin kernel that writes
// its end time: for each piece of each CTA, when warp 0's key loop ended, when the barrier let
// the CTA merge its warps, and when the epilogue was done; distributions over CTAs of 10
// launches, ns after the spin ended. Build against kernels of ddd949a probed by
// apply_stream_probes.py (see README.md here).
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include "decode_attention.cuh"
using namespace squeeze::cuda;
#include "probe_util.cuh"
struct Q { std::vector<double> x; void add(double v){x.push_back(v);} double q(double f){ std::sort(x.begin(),x.end()); return x.empty()?0:x[std::min(x.size()-1,size_t(f*x.size()))]; } };
int main(int argc, char** argv) {
  std::vector<std::array<int,3>> shapes = {{32,17,1024},{32,34,1024},{8,17,1024},{32,17,4096},{8,16,1024},{32,16,1024}};
  const int n_heads = 32, hd = 128;
  unsigned long long* probe_d; CHECK(cudaMalloc(&probe_d, (1 << 16) * 8));
  for (auto sh : shapes) {
    int kv_heads = sh[0], batch = sh[1], len = sh[2];
    size_t kv_elems = size_t(batch) * kv_heads * len * hd, kv_bytes = 4 * kv_elems;
    int copies = int(std::max<size_t>(2, ((size_t(512) << 20) + kv_bytes - 1) / kv_bytes));
    bf16 *k, *v, *q, *out; float* work; int32_t* lens_d;
    CHECK(cudaMalloc(&k, kv_elems * copies * 2)); CHECK(cudaMalloc(&v, kv_elems * copies * 2));
    CHECK(cudaMalloc(&q, size_t(batch) * n_heads * hd * 2)); CHECK(cudaMalloc(&out, size_t(batch) * n_heads * hd * 2));
    size_t wb = decode_attention_workspace_bytes(batch, n_heads, hd, 256);
    CHECK(cudaMalloc(&work, wb)); CHECK(cudaMemset(work, 0, wb)); CHECK(cudaMalloc(&lens_d, batch * 4));
    fill<<<1024, 256>>>(k, kv_elems * copies, 1); fill<<<1024, 256>>>(v, kv_elems * copies, 2); fill<<<64,256>>>(q, size_t(batch)*n_heads*hd, 3);
    std::vector<int32_t> lh(batch, len); CHECK(cudaMemcpy(lens_d, lh.data(), batch * 4, cudaMemcpyHostToDevice));
    DecodeAttentionArgs a{}; a.q = q; a.lens = lens_d; a.out = out; a.batch = batch; a.n_heads = n_heads; a.kv_heads = kv_heads;
    a.head_dim = hd; a.capacity = len; a.max_len = len; a.max_splits = 256; a.scale = 0.088f;
    bind_decode_attention_workspace(a, work, batch);
    const DecodeStreamPlan p = decode_stream_plan(a, int64_t(batch) * kv_heads, decode_stream_slots<128>(), 8 * kDecodeMmaKeys);
    const int ncta = int(p.ctas);
    cudaEvent_t e0, e1; CHECK(cudaEventCreate(&e0)); CHECK(cudaEventCreate(&e1));
    std::vector<float> times, etimes;
    unsigned long long* null_probe = nullptr;
    std::vector<Q> ev(16), dur(16);
    Q total, ends;
    for (int i = 0; i < 44; ++i) {
      const bool rec = i >= 3 && (i % 4 == 0);
      CHECK(cudaMemcpyToSymbol(g_probe, rec ? &probe_d : &null_probe, sizeof(void*)));
      if (rec) CHECK(cudaMemset(probe_d, 0, size_t(ncta + 1) * 128));
      spin_kernel<<<1, 1>>>(100000, rec ? probe_d + size_t(ncta) * 16 : nullptr);
      CHECK(cudaEventRecord(e0));
      a.k_cache = k + kv_elems * (i % copies); a.v_cache = v + kv_elems * (i % copies);
      CHECK(launch_decode_mma_stream<128>(a, 0));
      CHECK(cudaEventRecord(e1)); CHECK(cudaEventSynchronize(e1));
      float ms; CHECK(cudaEventElapsedTime(&ms, e0, e1));
      if (i >= 3) (rec ? etimes : times).push_back(ms * 1e3f);
      if (rec) {
        std::vector<unsigned long long> h(size_t(ncta + 1) * 16);
        CHECK(cudaMemcpy(h.data(), probe_d, h.size() * 8, cudaMemcpyDeviceToHost));
        const double t0 = double(h[size_t(ncta) * 16]);
        for (int c = 0; c < ncta; ++c) {
          double prev = 0; double last = 0;
          for (int e = 0; e < 16; ++e) if (h[c*16+e]) {
            double t = double(h[c*16+e]) - t0; ev[e].add(t);
            if (e > 0) dur[e].add(t - prev);
            prev = t; last = t;
          }
          ends.add(last);
        }
      }
    }
    auto med = [](std::vector<float> x) { std::sort(x.begin(), x.end()); return x[x.size() / 2]; };
    std::printf("\n== %dx%dx%d: stride %d share %d ctas %d MB %.1f | queued us plain %.2f probed %.2f\n",
                kv_heads, batch, len, p.stride, p.share, ncta, kv_bytes / 1e6, med(times), med(etimes));
    std::printf("  %-22s %8s %8s %8s %8s %8s | dur since prev p10 p50 p90 (ns)\n", "event", "min", "p10", "p50", "p90", "max");
    const char* nm[3] = {"loop end", "smem merged", "epilogue done"};
    for (int e = 0; e < 16; ++e) {
      if (ev[e].x.empty()) continue;
      char name[64]; if (e == 0) std::snprintf(name, 64, "start"); else std::snprintf(name, 64, "seg%d %s", (e-1)/3, nm[(e-1)%3]);
      std::printf("  %-22s %8.0f %8.0f %8.0f %8.0f %8.0f | %7.0f %7.0f %7.0f  n=%zu\n", name, ev[e].q(0), ev[e].q(.1), ev[e].q(.5), ev[e].q(.9), ev[e].q(1),
                  dur[e].q(.1), dur[e].q(.5), dur[e].q(.9), ev[e].x.size());
    }
    std::printf("  %-22s %8.0f %8.0f %8.0f %8.0f %8.0f\n", "CTA last event", ends.q(0), ends.q(.1), ends.q(.5), ends.q(.9), ends.q(1));
    cudaFree(k); cudaFree(v); cudaFree(q); cudaFree(out); cudaFree(work); cudaFree(lens_d);
  }
  return 0;
}
