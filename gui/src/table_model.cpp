#include "squeeze/gui/table_model.hpp"

#include <cmath>

namespace squeeze::gui {

TableModel::TableModel(QObject* parent) : QAbstractTableModel(parent) {}

void TableModel::setTable(TableData table) {
  beginResetModel();
  table_ = std::move(table);
  endResetModel();
}

int TableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(table_.rows.size());
}

int TableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(table_.headers.size());
}

QVariant TableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const auto& row = table_.rows[static_cast<std::size_t>(index.row())];
  if (static_cast<std::size_t>(index.column()) >= row.size()) return {};
  const auto& cell = row[static_cast<std::size_t>(index.column())];
  switch (role) {
    case Qt::DisplayRole:
      return QString::fromStdString(cell.text);
    case Qt::TextAlignmentRole:
      return std::isnan(cell.value) ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                    : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case kSortRole:
      return std::isnan(cell.value) ? QVariant(QString::fromStdString(cell.text)) : QVariant(cell.value);
    default:
      return {};
  }
}

QVariant TableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || section < 0 ||
      static_cast<std::size_t>(section) >= table_.headers.size())
    return QAbstractTableModel::headerData(section, orientation, role);
  if (role == Qt::DisplayRole) return QString::fromStdString(table_.headers[static_cast<std::size_t>(section)]);
  if (role == Qt::ToolTipRole && static_cast<std::size_t>(section) < table_.tooltips.size())
    return QString::fromStdString(table_.tooltips[static_cast<std::size_t>(section)]);
  return {};
}

}  // namespace squeeze::gui
