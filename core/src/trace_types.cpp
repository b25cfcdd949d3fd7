#include "squeeze/core/trace_types.hpp"

#include <fmt/format.h>

namespace squeeze::core {

const char* budget_unit_name(BudgetUnit unit) {
  switch (unit) {
    case BudgetUnit::None: return "none";
    case BudgetUnit::Fraction: return "fraction";
    case BudgetUnit::Tokens: return "tokens";
  }
  return "none";
}

Result<BudgetUnit> parse_budget_unit(const std::string& name) {
  if (name == "none") return BudgetUnit::None;
  if (name == "fraction") return BudgetUnit::Fraction;
  if (name == "tokens") return BudgetUnit::Tokens;
  return make_error(
      fmt::format("unknown budget unit '{}' (expected none, fraction or tokens)", name), 2);
}

}  // namespace squeeze::core
