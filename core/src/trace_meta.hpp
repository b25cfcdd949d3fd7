#pragma once
// TraceMeta <-> the key/value rows of the meta table, and the small JSON columns of other tables.
// One place for the key names so writer, reader and traces/FORMAT.md cannot drift apart.

#include <map>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"
#include "squeeze/core/trace_types.hpp"

namespace squeeze::core::trace_meta {

// Every key the struct knows, in a stable order. model_config is absent when meta.model is empty.
[[nodiscard]] std::map<std::string, std::string> to_rows(const TraceMeta& meta);
// Keys the struct owns (so write_meta can delete model_config when the model is gone).
[[nodiscard]] const std::vector<std::string>& known_keys();
// Unknown keys go to `extra`; malformed numbers or model JSON are errors naming the key.
[[nodiscard]] Result<TraceMeta> from_rows(const std::map<std::string, std::string>& rows);

// runs.layer_budgets: a JSON array of integers, "[]" for a full cache.
[[nodiscard]] std::string layer_budgets_to_json(const std::vector<int>& budgets);
[[nodiscard]] Result<std::vector<int>> layer_budgets_from_json(const std::string& text);

}  // namespace squeeze::core::trace_meta
