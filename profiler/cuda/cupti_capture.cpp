#include "squeeze/profiler/cuda/cupti_capture.hpp"

#include <cupti.h>
#include <cxxabi.h>
#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace squeeze::profiler {
namespace {

constexpr size_t kBufferBytes = 8u << 20;
constexpr size_t kAlign = 8;

// Process-wide state the CUPTI callbacks write into (they carry no user pointer).
struct Completed {
  std::mutex mu;
  std::vector<core::KernelRecord> records;               // correlation ids resolved later
  std::unordered_map<std::uint32_t, std::uint64_t> external;  // correlation id -> external id
  std::atomic<std::int64_t> dropped{0};
};
Completed& completed() {
  static Completed c;
  return c;
}

std::string demangle(const char* name) {
  if (name == nullptr) return "?";
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && d != nullptr ? d : name;
  std::free(d);
  return out;
}

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(kAlign, kBufferBytes));
  *size = *buffer != nullptr ? kBufferBytes : 0;
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream_id, uint8_t* buffer, size_t,
                               size_t valid) {
  auto& c = completed();
  std::vector<core::KernelRecord> local;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> ext;
  CUpti_Activity* rec = nullptr;
  while (cuptiActivityGetNextRecord(buffer, valid, &rec) == CUPTI_SUCCESS) {
    if (rec->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL || rec->kind == CUPTI_ACTIVITY_KIND_KERNEL) {
      const auto* k = reinterpret_cast<const CUpti_ActivityKernel10*>(rec);
      core::KernelRecord r;
      r.name = demangle(k->name);
      r.start_ns = static_cast<std::int64_t>(k->start);
      r.duration_ns = static_cast<std::int64_t>(k->end - k->start);
      r.grid_x = k->gridX;
      r.grid_y = k->gridY;
      r.grid_z = k->gridZ;
      r.block_x = k->blockX;
      r.block_y = k->blockY;
      r.block_z = k->blockZ;
      r.stream = static_cast<int>(k->streamId);
      r.correlation_id = k->correlationId;
      local.push_back(std::move(r));
    } else if (rec->kind == CUPTI_ACTIVITY_KIND_MEMCPY) {
      const auto* m = reinterpret_cast<const CUpti_ActivityMemcpy6*>(rec);
      core::KernelRecord r;
      r.name = fmt::format("memcpy kind {} ({} bytes)", static_cast<int>(m->copyKind), m->bytes);
      r.op = core::trace_op::kMemcpy;
      r.start_ns = static_cast<std::int64_t>(m->start);
      r.duration_ns = static_cast<std::int64_t>(m->end - m->start);
      r.stream = static_cast<int>(m->streamId);
      r.correlation_id = m->correlationId;
      local.push_back(std::move(r));
    } else if (rec->kind == CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION) {
      const auto* e = reinterpret_cast<const CUpti_ActivityExternalCorrelation*>(rec);
      ext.emplace_back(e->correlationId, e->externalId);
    }
  }
  size_t dropped = 0;
  if (cuptiActivityGetNumDroppedRecords(ctx, stream_id, &dropped) == CUPTI_SUCCESS)
    c.dropped += static_cast<std::int64_t>(dropped);
  std::free(buffer);
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& r : local) c.records.push_back(std::move(r));
  for (auto& [corr, id] : ext) c.external[corr] = id;
}

const char* cupti_error(CUptiResult r) {
  const char* s = nullptr;
  cuptiGetResultString(r, &s);
  return s != nullptr ? s : "unknown CUPTI error";
}

std::atomic<bool> g_active{false};

}  // namespace

core::Result<std::unique_ptr<CuptiCapture>> CuptiCapture::start() {
  if (g_active.exchange(true)) return core::make_error("CUPTI capture: one is already active");
  std::unique_ptr<CuptiCapture> cap(new CuptiCapture());
  auto check = [&](CUptiResult r, const char* what) -> core::Status {
    if (r == CUPTI_SUCCESS) return {};
    g_active = false;
    return core::make_error(fmt::format("CUPTI capture: {}: {}", what, cupti_error(r)));
  };
  SQZ_CHECK(check(cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed), "register callbacks"));
  SQZ_CHECK(check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL), "enable CONCURRENT_KERNEL"));
  SQZ_CHECK(check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY), "enable MEMCPY"));
  SQZ_CHECK(check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION), "enable EXTERNAL_CORRELATION"));
  // External correlation records are emitted for API activity records only: runtime launches
  // (our kernels) and driver launches (cuBLASLt's). Their own records are discarded on arrival.
  SQZ_CHECK(check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_RUNTIME), "enable RUNTIME"));
  SQZ_CHECK(check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_DRIVER), "enable DRIVER"));
  cap->active_ = true;
  return cap;
}

CuptiCapture::~CuptiCapture() { stop(); }

void CuptiCapture::stop() {
  if (!active_) return;
  cuptiActivityFlushAll(1);
  cuptiActivityDisable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  cuptiActivityDisable(CUPTI_ACTIVITY_KIND_MEMCPY);
  cuptiActivityDisable(CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION);
  cuptiActivityDisable(CUPTI_ACTIVITY_KIND_RUNTIME);
  cuptiActivityDisable(CUPTI_ACTIVITY_KIND_DRIVER);
  active_ = false;
  g_active = false;
}

void CuptiCapture::begin(int step, int layer, const char* op) {
  tags_.push_back(Tag{run_id_, step, layer, op});
  cuptiActivityPushExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0,
                                         static_cast<std::uint64_t>(tags_.size()));
}

void CuptiCapture::end() {
  std::uint64_t last = 0;
  cuptiActivityPopExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, &last);
}

core::Result<std::vector<core::KernelRecord>> CuptiCapture::collect() {
  if (CUptiResult r = cuptiActivityFlushAll(1); r != CUPTI_SUCCESS)
    return core::make_error(fmt::format("CUPTI capture: flush: {}", cupti_error(r)));
  auto& c = completed();
  std::vector<core::KernelRecord> out;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    out.swap(c.records);
    for (auto& r : out) {
      auto it = c.external.find(static_cast<std::uint32_t>(r.correlation_id));
      const bool memcpy = r.op == core::trace_op::kMemcpy;
      if (it != c.external.end() && it->second >= 1 && it->second <= tags_.size()) {
        const Tag& t = tags_[it->second - 1];
        r.run_id = t.run_id;
        r.step = t.step;
        r.layer = t.layer;
        if (!memcpy) r.op = t.op;
      } else {
        r.run_id = run_id_;
        r.step = -1;
        r.layer = -1;
        if (!memcpy) r.op = core::trace_op::kOther;
      }
    }
    c.external.clear();
  }
  return out;
}

std::int64_t CuptiCapture::dropped_records() const { return completed().dropped.load(); }

}  // namespace squeeze::profiler
