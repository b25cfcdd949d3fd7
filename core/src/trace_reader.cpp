#include "squeeze/core/trace_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>

#include "trace_meta.hpp"
#include "trace_schema.hpp"
#include "trace_sqlite.hpp"

namespace squeeze::core {

using sqlite::Statement;

struct TraceReader::Impl {
  std::string path;
  sqlite::Db db;
  int format_version = 0;

  [[nodiscard]] Result<Statement> prepare(std::string_view sql) const {
    return Statement::prepare(db.get(), path, sql);
  }

  // Prefixes errors about a row's content with the file, so "meta key 'sm_count' ..." becomes
  // actionable.
  [[nodiscard]] Error in_file(const Error& e) const {
    return make_error(fmt::format("{}: {}", path, e.message), 2);
  }
};

namespace {

// No decoder has this many layers; a larger index means a damaged row, not a matrix to allocate.
constexpr int kMaxLayers = 1 << 16;

constexpr const char* kKernelSelect =
    "SELECT k.run_id, k.step, k.layer, k.op, n.name, k.start_ns, k.duration_ns, k.grid_x, "
    "k.grid_y, k.grid_z, k.block_x, k.block_y, k.block_z, k.stream, k.correlation_id "
    "FROM kernels k JOIN kernel_names n ON n.id = k.name_id";

KernelRecord kernel_from_row(const Statement& s) {
  KernelRecord k;
  k.run_id = s.int64(0);
  k.step = s.int32(1);
  k.layer = s.int32(2);
  k.op = s.text(3);
  k.name = s.text(4);
  k.start_ns = s.int64(5);
  k.duration_ns = s.int64(6);
  k.grid_x = s.int32(7);
  k.grid_y = s.int32(8);
  k.grid_z = s.int32(9);
  k.block_x = s.int32(10);
  k.block_y = s.int32(11);
  k.block_z = s.int32(12);
  k.stream = s.int32(13);
  k.correlation_id = s.int64(14);
  return k;
}

}  // namespace

Result<TraceReader> TraceReader::open(const std::string& path) {
  SQZ_CHECK(trace_schema::check_file(path));
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  impl->db.reset(raw);
  if (rc != SQLITE_OK) {
    Error e = sqlite::db_error(raw, path, "cannot open");
    e.code = 2;
    return e;
  }
  // A writer may hold the lock for a moment while it commits a batch.
  sqlite3_busy_timeout(impl->db.get(), 10000);
  SQZ_TRY(version, trace_schema::validate(impl->db.get(), path));
  impl->format_version = version;
  return TraceReader(std::move(impl));
}

TraceReader::TraceReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceReader::TraceReader(TraceReader&&) noexcept = default;
TraceReader& TraceReader::operator=(TraceReader&&) noexcept = default;
TraceReader::~TraceReader() = default;

const std::string& TraceReader::path() const { return impl_->path; }
int TraceReader::format_version() const { return impl_->format_version; }

Result<TraceMeta> TraceReader::meta() const {
  SQZ_TRY(stmt, impl_->prepare("SELECT key, value FROM meta"));
  std::map<std::string, std::string> rows;
  while (true) {
    SQZ_TRY(has_row, stmt.step());
    if (!has_row) break;
    rows.emplace(stmt.text(0), stmt.text(1));
  }
  auto meta = trace_meta::from_rows(rows);
  if (!meta.ok()) return impl_->in_file(meta.error());
  return std::move(*meta);
}

Result<std::vector<PromptRecord>> TraceReader::prompts() const {
  SQZ_TRY(stmt, impl_->prepare("SELECT id, dataset, label, token_count FROM prompts ORDER BY id"));
  std::vector<PromptRecord> out;
  while (true) {
    SQZ_TRY(has_row, stmt.step());
    if (!has_row) break;
    out.push_back(PromptRecord{stmt.int64(0), stmt.text(1), stmt.text(2), stmt.int32(3)});
  }
  return out;
}

Result<SimilarityMatrix> TraceReader::similarities() const {
  // One statement, one snapshot: a writer appending a prompt meanwhile cannot make the layer
  // count and the rows disagree.
  SQZ_TRY(stmt,
          impl_->prepare(
              "SELECT prompt_id, layer, value FROM layer_similarity ORDER BY prompt_id, layer"));
  struct Row {
    std::int64_t prompt;
    int layer;
    double value;
  };
  std::vector<Row> rows;
  SimilarityMatrix m;
  while (true) {
    SQZ_TRY(has_row, stmt.step());
    if (!has_row) break;
    const Row row{stmt.int64(0), stmt.int32(1), stmt.real(2)};
    if (row.layer < 0 || row.layer >= kMaxLayers) {
      return make_error(fmt::format("{}: prompt {} has a similarity for layer {} (damaged trace)",
                                    impl_->path, row.prompt, row.layer),
                        2);
    }
    m.n_layers = std::max(m.n_layers, row.layer + 1);
    if (m.prompt_ids.empty() || m.prompt_ids.back() != row.prompt)
      m.prompt_ids.push_back(row.prompt);
    rows.push_back(row);
  }
  m.values.assign(m.prompt_ids.size() * static_cast<std::size_t>(m.n_layers),
                  std::numeric_limits<double>::quiet_NaN());
  std::size_t r = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i > 0 && rows[i].prompt != rows[i - 1].prompt) ++r;
    m.values[r * static_cast<std::size_t>(m.n_layers) + static_cast<std::size_t>(rows[i].layer)] =
        rows[i].value;
  }
  return m;
}

Result<std::vector<RunRecord>> TraceReader::runs() const {
  SQZ_TRY(stmt, impl_->prepare(
                    "SELECT id, label, policy, budget_unit, budget_value, p, layer_budgets, batch, "
                    "prompt_len, gen_len, mode, tokens_per_s, prefill_ms, decode_step_ms_mean, "
                    "peak_bytes, kv_bytes, weights_bytes, status FROM runs ORDER BY id"));
  std::vector<RunRecord> out;
  while (true) {
    SQZ_TRY(has_row, stmt.step());
    if (!has_row) break;
    RunRecord r;
    r.id = stmt.int64(0);
    r.label = stmt.text(1);
    r.policy = stmt.text(2);
    auto unit = parse_budget_unit(stmt.text(3));
    if (!unit.ok())
      return impl_->in_file(make_error(fmt::format("run {}: {}", r.id, unit.error().message)));
    r.budget_unit = *unit;
    r.budget_value = stmt.real(4);
    r.p = stmt.real(5);
    auto budgets = trace_meta::layer_budgets_from_json(stmt.text(6));
    if (!budgets.ok())
      return impl_->in_file(make_error(fmt::format("run {}: {}", r.id, budgets.error().message)));
    r.layer_budgets = std::move(*budgets);
    r.batch = stmt.int32(7);
    r.prompt_len = stmt.int32(8);
    r.gen_len = stmt.int32(9);
    r.mode = stmt.text(10);
    r.tokens_per_s = stmt.real(11);
    r.prefill_ms = stmt.real(12);
    r.decode_step_ms_mean = stmt.real(13);
    r.peak_bytes = stmt.int64(14);
    r.kv_bytes = stmt.int64(15);
    r.weights_bytes = stmt.int64(16);
    r.status = stmt.text(17);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<RunStep>> TraceReader::run_steps(std::int64_t run_id) const {
  SQZ_TRY(stmt,
          impl_->prepare("SELECT run_id, step, ms FROM run_steps WHERE run_id = ? ORDER BY step"));
  stmt.bind(1, run_id);
  std::vector<RunStep> out;
  while (true) {
    SQZ_TRY(has_row, stmt.step());
    if (!has_row) break;
    out.push_back(RunStep{stmt.int64(0), stmt.int32(1), stmt.real(2)});
  }
  return out;
}

Result<TraceCounts> TraceReader::counts() const {
  // One statement, so all counts come from the same snapshot even while a writer appends.
  SQZ_TRY(stmt,
          impl_->prepare(
              "SELECT (SELECT count(*) FROM prompts), (SELECT count(*) FROM layer_similarity),"
              " (SELECT count(*) FROM runs), (SELECT count(*) FROM run_steps),"
              " (SELECT count(*) FROM kernels), (SELECT count(*) FROM calibration),"
              " (SELECT count(*) FROM capture_stats)"));
  SQZ_TRY(has_row, stmt.step());
  (void)has_row;
  return TraceCounts{stmt.int64(0), stmt.int64(1), stmt.int64(2), stmt.int64(3),
                     stmt.int64(4), stmt.int64(5), stmt.int64(6)};
}

Result<std::int64_t> TraceReader::kernel_count(std::optional<std::int64_t> run_id) const {
  SQZ_TRY(stmt, impl_->prepare(run_id ? "SELECT count(*) FROM kernels WHERE run_id = ?"
                                      : "SELECT count(*) FROM kernels"));
  if (run_id) stmt.bind(1, *run_id);
  SQZ_TRY(has_row, stmt.step());
  (void)has_row;
  return stmt.int64(0);
}

Result<std::vector<KernelRecord>> TraceReader::kernels(std::int64_t run_id) const {
  std::vector<KernelRecord> out;
  SQZ_CHECK(visit_kernels(run_id, [&out](const KernelRecord& k) {
    out.push_back(k);
    return true;
  }));
  return out;
}

Status TraceReader::visit_kernels(std::optional<std::int64_t> run_id,
                                  const std::function<bool(const KernelRecord&)>& visitor) const {
  const std::string sql = fmt::format("{}{} ORDER BY k.run_id, k.start_ns", kKernelSelect,
                                      run_id ? " WHERE k.run_id = ?" : "");
  SQZ_TRY(stmt, impl_->prepare(sql));
  if (run_id) stmt.bind(1, *run_id);
  while (true) {
    SQZ_TRY(has_row, stmt.step());
    if (!has_row) break;
    if (!visitor(kernel_from_row(stmt))) break;
  }
  return {};
}

Result<std::vector<CalibrationPoint>> TraceReader::calibration() const {
  SQZ_TRY(stmt, impl_->prepare(
                    "SELECT op, batch, rows, n, k, kv_len, n_heads, n_kv_heads, head_dim, dtype, "
                    "duration_us, repetitions, device FROM calibration ORDER BY rowid"));
  std::vector<CalibrationPoint> out;
  while (true) {
    SQZ_TRY(has_row, stmt.step());
    if (!has_row) break;
    CalibrationPoint c;
    c.op = stmt.text(0);
    c.batch = stmt.int32(1);
    c.rows = stmt.int32(2);
    c.n = stmt.int32(3);
    c.k = stmt.int32(4);
    c.kv_len = stmt.int32(5);
    c.n_heads = stmt.int32(6);
    c.n_kv_heads = stmt.int32(7);
    c.head_dim = stmt.int32(8);
    c.dtype = stmt.text(9);
    c.duration_us = stmt.real(10);
    c.repetitions = stmt.int32(11);
    c.device = stmt.text(12);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<CaptureStat>> TraceReader::capture_stats() const {
  SQZ_TRY(stmt, impl_->prepare("SELECT run_id, name, value FROM capture_stats ORDER BY rowid"));
  std::vector<CaptureStat> out;
  while (true) {
    SQZ_TRY(has_row, stmt.step());
    if (!has_row) break;
    CaptureStat s;
    if (!stmt.is_null(0)) s.run_id = stmt.int64(0);
    s.name = stmt.text(1);
    s.value = stmt.real(2);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace squeeze::core
