#pragma once
// A read-only Qt model over a TableData, so every table view (and the tests) share one model.
#include <QAbstractTableModel>

#include "squeeze/gui/tables.hpp"

namespace squeeze::gui {

class TableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  // Role carrying the numeric value of a cell, for QSortFilterProxyModel::setSortRole.
  static constexpr int kSortRole = Qt::UserRole + 1;

  explicit TableModel(QObject* parent = nullptr);
  void setTable(TableData table);
  [[nodiscard]] const TableData& table() const { return table_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  TableData table_;
};

}  // namespace squeeze::gui
