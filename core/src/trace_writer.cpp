#include "squeeze/core/trace_writer.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <unordered_map>

#include "trace_meta.hpp"
#include "trace_schema.hpp"
#include "trace_sqlite.hpp"

namespace squeeze::core {

namespace fs = std::filesystem;
using sqlite::Statement;
using sqlite::Transaction;

struct TraceWriter::Impl {
  std::string path;
  sqlite::Db db;
  // kernel_names.id by name; only names whose insert has committed.
  std::unordered_map<std::string, std::int64_t> kernel_name_ids;

  ~Impl() {
    // Leave a single self-contained file at rest (no -wal/-shm beside it). Fails harmlessly while
    // a reader still has the file open; the WAL is then checkpointed by the last one to close.
    // No busy wait: an open reader (a GUI, say) must not stall the end of a capture.
    if (db) {
      sqlite3_busy_timeout(db.get(), 0);
      sqlite3_exec(db.get(), "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
    }
  }

  [[nodiscard]] Status configure() {
    sqlite3_busy_timeout(db.get(), 10000);
    // WAL: readers see every commit while this writer appends. synchronous=NORMAL loses nothing
    // when the process is killed (only on power loss), and keeps kernel batches fast.
    SQZ_CHECK(sqlite::exec(db.get(), path, "PRAGMA journal_mode=WAL"));
    SQZ_CHECK(sqlite::exec(db.get(), path, "PRAGMA synchronous=NORMAL"));
    return sqlite::exec(db.get(), path, "PRAGMA foreign_keys=ON");
  }

  [[nodiscard]] Status insert_prompt(const PromptRecord& r, std::int64_t& id) {
    SQZ_TRY(stmt, Statement::prepare(db.get(), path,
                                     "INSERT INTO prompts(dataset, label, token_count) "
                                     "VALUES (?, ?, ?)"));
    stmt.bind(1, std::string_view(r.dataset));
    stmt.bind(2, std::string_view(r.label));
    stmt.bind(3, r.token_count);
    SQZ_CHECK(stmt.run());
    id = sqlite3_last_insert_rowid(db.get());
    return {};
  }

  [[nodiscard]] Status insert_similarities(std::int64_t prompt_id, std::span<const double> values) {
    for (std::size_t l = 0; l < values.size(); ++l) {
      if (!std::isfinite(values[l])) {
        return make_error(fmt::format("{}: similarity of prompt {} layer {} is not finite ({})",
                                      path, prompt_id, l, values[l]));
      }
    }
    SQZ_TRY(stmt, Statement::prepare(db.get(), path,
                                     "INSERT OR REPLACE INTO layer_similarity(prompt_id, layer, "
                                     "value) VALUES (?, ?, ?)"));
    for (std::size_t l = 0; l < values.size(); ++l) {
      stmt.bind(1, prompt_id);
      stmt.bind(2, static_cast<int>(l));
      stmt.bind(3, values[l]);
      SQZ_CHECK(stmt.run());
    }
    return {};
  }

  // Binds every run column but id to parameters 1..17, in schema order.
  static void bind_run(Statement& stmt, const RunRecord& r) {
    stmt.bind(1, std::string_view(r.label));
    stmt.bind(2, std::string_view(r.policy));
    stmt.bind(3, std::string_view(budget_unit_name(r.budget_unit)));
    stmt.bind(4, r.budget_value);
    stmt.bind(5, r.p);
    stmt.bind(6, std::string_view(trace_meta::layer_budgets_to_json(r.layer_budgets)));
    stmt.bind(7, r.batch);
    stmt.bind(8, r.prompt_len);
    stmt.bind(9, r.gen_len);
    stmt.bind(10, std::string_view(r.mode));
    stmt.bind(11, r.tokens_per_s);
    stmt.bind(12, r.prefill_ms);
    stmt.bind(13, r.decode_step_ms_mean);
    stmt.bind(14, r.peak_bytes);
    stmt.bind(15, r.kv_bytes);
    stmt.bind(16, r.weights_bytes);
    stmt.bind(17, std::string_view(r.status));
  }
};

namespace {

constexpr const char* kRunColumns =
    "label, policy, budget_unit, budget_value, p, layer_budgets, batch, prompt_len, gen_len, "
    "mode, tokens_per_s, prefill_ms, decode_step_ms_mean, peak_bytes, kv_bytes, weights_bytes, "
    "status";

Result<sqlite::Db> open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  sqlite::Db db(raw);
  if (rc != SQLITE_OK) return sqlite::db_error(raw, path, "cannot open");
  return db;
}

}  // namespace

Result<TraceWriter> TraceWriter::create(const std::string& path, bool overwrite) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (fs::is_directory(path, ec)) {
      return make_error(fmt::format("{} is a directory; cannot write a trace there", path), 2);
    }
    if (!overwrite) {
      return make_error(fmt::format("{} already exists; refusing to overwrite it", path), 2);
    }
  }
  if (overwrite) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  SQZ_TRY(db, open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  impl->db = std::move(db);
  SQZ_CHECK(impl->configure());
  SQZ_CHECK(trace_schema::create(impl->db.get(), path));
  return TraceWriter(std::move(impl));
}

Result<TraceWriter> TraceWriter::open_for_append(const std::string& path) {
  SQZ_CHECK(trace_schema::check_file(path));
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  SQZ_TRY(db, open_db(path, SQLITE_OPEN_READWRITE));
  impl->db = std::move(db);
  sqlite3_busy_timeout(impl->db.get(), 10000);
  SQZ_TRY(version, trace_schema::validate(impl->db.get(), path));
  if (version != kTraceFormatVersion) {
    return make_error(fmt::format("{} has format version {}; this squeeze appends only to version "
                                  "{} (start a new trace)",
                                  path, version, kTraceFormatVersion),
                      2);
  }
  SQZ_CHECK(impl->configure());
  return TraceWriter(std::move(impl));
}

TraceWriter::TraceWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TraceWriter::TraceWriter(TraceWriter&&) noexcept = default;
TraceWriter& TraceWriter::operator=(TraceWriter&&) noexcept = default;
TraceWriter::~TraceWriter() = default;

const std::string& TraceWriter::path() const { return impl_->path; }

Status TraceWriter::write_meta(const TraceMeta& meta) {
  auto* db = impl_->db.get();
  SQZ_TRY(tx, Transaction::begin(db, impl_->path));
  SQZ_TRY(remove, Statement::prepare(db, impl_->path, "DELETE FROM meta WHERE key = ?"));
  for (const auto& key : trace_meta::known_keys()) {
    remove.bind(1, std::string_view(key));
    SQZ_CHECK(remove.run());
  }
  SQZ_TRY(put, Statement::prepare(db, impl_->path,
                                  "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)"));
  for (const auto& [key, value] : trace_meta::to_rows(meta)) {
    put.bind(1, std::string_view(key));
    put.bind(2, std::string_view(value));
    SQZ_CHECK(put.run());
  }
  return tx.commit();
}

Status TraceWriter::set_meta_value(const std::string& key, const std::string& value) {
  SQZ_TRY(put, Statement::prepare(impl_->db.get(), impl_->path,
                                  "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)"));
  put.bind(1, std::string_view(key));
  put.bind(2, std::string_view(value));
  return put.run();  // a single statement is its own transaction
}

Result<std::int64_t> TraceWriter::add_prompt(const PromptRecord& record) {
  std::int64_t id = 0;
  SQZ_CHECK(impl_->insert_prompt(record, id));
  return id;
}

Status TraceWriter::add_similarities(std::int64_t prompt_id, std::span<const double> per_layer) {
  SQZ_TRY(tx, Transaction::begin(impl_->db.get(), impl_->path));
  SQZ_CHECK(impl_->insert_similarities(prompt_id, per_layer));
  return tx.commit();
}

Result<std::int64_t> TraceWriter::add_prompt_with_similarities(const PromptRecord& record,
                                                               std::span<const double> per_layer) {
  SQZ_TRY(tx, Transaction::begin(impl_->db.get(), impl_->path));
  std::int64_t id = 0;
  SQZ_CHECK(impl_->insert_prompt(record, id));
  SQZ_CHECK(impl_->insert_similarities(id, per_layer));
  SQZ_CHECK(tx.commit());
  return id;
}

Result<std::int64_t> TraceWriter::add_run(const RunRecord& record) {
  SQZ_TRY(stmt, Statement::prepare(
                    impl_->db.get(), impl_->path,
                    fmt::format("INSERT INTO runs({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                                kRunColumns)));
  Impl::bind_run(stmt, record);
  SQZ_CHECK(stmt.run());
  return sqlite3_last_insert_rowid(impl_->db.get());
}

Status TraceWriter::update_run(const RunRecord& record) {
  SQZ_TRY(stmt, Statement::prepare(
                    impl_->db.get(), impl_->path,
                    "UPDATE runs SET label=?, policy=?, budget_unit=?, budget_value=?, p=?, "
                    "layer_budgets=?, batch=?, prompt_len=?, gen_len=?, mode=?, tokens_per_s=?, "
                    "prefill_ms=?, decode_step_ms_mean=?, peak_bytes=?, kv_bytes=?, "
                    "weights_bytes=?, status=? WHERE id=?"));
  Impl::bind_run(stmt, record);
  stmt.bind(18, record.id);
  SQZ_CHECK(stmt.run());
  if (sqlite3_changes(impl_->db.get()) != 1) {
    return make_error(fmt::format("{}: cannot update run {}: no such run", impl_->path, record.id));
  }
  return {};
}

Status TraceWriter::add_run_steps(std::span<const RunStep> steps) {
  SQZ_TRY(tx, Transaction::begin(impl_->db.get(), impl_->path));
  SQZ_TRY(stmt, Statement::prepare(impl_->db.get(), impl_->path,
                                   "INSERT OR REPLACE INTO run_steps(run_id, step, ms) "
                                   "VALUES (?, ?, ?)"));
  for (const RunStep& s : steps) {
    stmt.bind(1, s.run_id);
    stmt.bind(2, s.step);
    stmt.bind(3, s.ms);
    SQZ_CHECK(stmt.run());
  }
  return tx.commit();
}

Status TraceWriter::add_kernels(std::span<const KernelRecord> kernels) {
  auto* db = impl_->db.get();
  const std::string& path = impl_->path;
  SQZ_TRY(tx, Transaction::begin(db, path));
  SQZ_TRY(add_name,
          Statement::prepare(db, path, "INSERT OR IGNORE INTO kernel_names(name) VALUES (?)"));
  SQZ_TRY(find_name, Statement::prepare(db, path, "SELECT id FROM kernel_names WHERE name = ?"));
  SQZ_TRY(insert, Statement::prepare(
                      db, path,
                      "INSERT INTO kernels(run_id, step, layer, op, name_id, start_ns, "
                      "duration_ns, grid_x, grid_y, grid_z, block_x, block_y, block_z, stream, "
                      "correlation_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  // Names first seen in this batch join the cache only once the batch has committed.
  std::unordered_map<std::string, std::int64_t> new_names;
  for (const KernelRecord& k : kernels) {
    std::int64_t name_id = 0;
    if (auto it = impl_->kernel_name_ids.find(k.name); it != impl_->kernel_name_ids.end()) {
      name_id = it->second;
    } else if (auto fresh = new_names.find(k.name); fresh != new_names.end()) {
      name_id = fresh->second;
    } else {
      add_name.bind(1, std::string_view(k.name));
      SQZ_CHECK(add_name.run());
      find_name.bind(1, std::string_view(k.name));
      SQZ_TRY(found, find_name.step());
      if (!found) return make_error(fmt::format("{}: kernel name '{}' vanished", path, k.name));
      name_id = find_name.int64(0);
      find_name.reset();
      new_names.emplace(k.name, name_id);
    }
    insert.bind(1, k.run_id);
    insert.bind(2, k.step);
    insert.bind(3, k.layer);
    insert.bind(4, std::string_view(k.op));
    insert.bind(5, name_id);
    insert.bind(6, k.start_ns);
    insert.bind(7, k.duration_ns);
    insert.bind(8, k.grid_x);
    insert.bind(9, k.grid_y);
    insert.bind(10, k.grid_z);
    insert.bind(11, k.block_x);
    insert.bind(12, k.block_y);
    insert.bind(13, k.block_z);
    insert.bind(14, k.stream);
    insert.bind(15, k.correlation_id);
    SQZ_CHECK(insert.run());
  }
  SQZ_CHECK(tx.commit());
  impl_->kernel_name_ids.merge(new_names);
  return {};
}

Status TraceWriter::add_calibration(std::span<const CalibrationPoint> points) {
  SQZ_TRY(tx, Transaction::begin(impl_->db.get(), impl_->path));
  SQZ_TRY(stmt, Statement::prepare(impl_->db.get(), impl_->path,
                                   "INSERT INTO calibration(op, batch, rows, n, k, kv_len, "
                                   "n_heads, n_kv_heads, head_dim, dtype, duration_us, "
                                   "repetitions, device) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  for (const CalibrationPoint& c : points) {
    stmt.bind(1, std::string_view(c.op));
    stmt.bind(2, c.batch);
    stmt.bind(3, c.rows);
    stmt.bind(4, c.n);
    stmt.bind(5, c.k);
    stmt.bind(6, c.kv_len);
    stmt.bind(7, c.n_heads);
    stmt.bind(8, c.n_kv_heads);
    stmt.bind(9, c.head_dim);
    stmt.bind(10, std::string_view(c.dtype));
    stmt.bind(11, c.duration_us);
    stmt.bind(12, c.repetitions);
    stmt.bind(13, std::string_view(c.device));
    SQZ_CHECK(stmt.run());
  }
  return tx.commit();
}

Status TraceWriter::add_capture_stats(std::span<const CaptureStat> stats) {
  SQZ_TRY(tx, Transaction::begin(impl_->db.get(), impl_->path));
  SQZ_TRY(stmt, Statement::prepare(impl_->db.get(), impl_->path,
                                   "INSERT INTO capture_stats(run_id, name, value) "
                                   "VALUES (?, ?, ?)"));
  for (const CaptureStat& s : stats) {
    if (s.run_id) {
      stmt.bind(1, *s.run_id);
    } else {
      stmt.bind_null(1);
    }
    stmt.bind(2, std::string_view(s.name));
    stmt.bind(3, s.value);
    SQZ_CHECK(stmt.run());
  }
  return tx.commit();
}

}  // namespace squeeze::core
