#pragma once
// The ops of one forward step as a DAG (DESIGN.md §5). Nodes are kernels with a duration and a
// stream; edges are data dependencies. Nodes on one stream run in the order they were added, so
// add_node() chains each node after the previous node of its stream. The step time is the
// longest path: with one stream that is the sum of the kernels; a side stream (H2O scoring) or a
// tensor-parallel all-reduce changes the path, not the method.
//
// Boost.Graph does the work inside step_graph.cpp; this header stays Boost-free so the GUI can
// include it.

#include <span>
#include <string>
#include <vector>

#include "squeeze/core/result.hpp"

namespace squeeze::sim {

// How a node is priced, so that a sweep can re-price a built graph without rebuilding it.
enum class NodeCost {
  Embed, Norm, Qkv, Rope, DecodeAttention, PrefillAttention, H2oScore, Similarity, OProj,
  AllReduce, GateUp, Swiglu, Down, LmHead, Sample
};
[[nodiscard]] const char* node_cost_name(NodeCost cost);  // the trace_op name where one exists

struct StepNode {
  NodeCost cost = NodeCost::Norm;
  int layer = -1;      // decoder layer; -1 for embedding, LM head, sampling
  int stream = 0;
  double duration_us = 0;
};

struct CriticalPath {
  double total_us = 0;
  std::vector<int> nodes;  // node ids along the longest path, in execution order
};

// The graph flattened in topological order: longest paths in a tight loop, no allocation.
struct CompiledGraph {
  std::vector<int> order;         // node ids, topological
  std::vector<int> pred_offsets;  // (nodes + 1) CSR offsets into preds, by node id
  std::vector<int> preds;         // predecessor node ids
  // durations[i] is node i's duration; finish is scratch of the same size.
  [[nodiscard]] double longest_path_us(std::span<const double> durations,
                                       std::span<double> finish) const;
};

class StepGraph {
 public:
  // Adds a node after the last node of its stream and after every node in `after`.
  int add_node(StepNode node, std::span<const int> after = {});
  int add_node(StepNode node, std::initializer_list<int> after) {
    return add_node(node, std::span<const int>(after.begin(), after.size()));
  }
  void add_edge(int from, int to);

  [[nodiscard]] int size() const { return static_cast<int>(nodes_.size()); }
  [[nodiscard]] StepNode& node(int id) { return nodes_[static_cast<std::size_t>(id)]; }
  [[nodiscard]] const StepNode& node(int id) const { return nodes_[static_cast<std::size_t>(id)]; }
  [[nodiscard]] const std::vector<std::pair<int, int>>& edges() const { return edges_; }

  // Errors when the edges form a cycle (a builder bug, or a hand-made graph).
  [[nodiscard]] core::Result<std::vector<int>> topological_order() const;
  // Longest path by relaxation in topological order (Boost.Graph adjacency_list).
  [[nodiscard]] core::Result<CriticalPath> longest_path() const;
  [[nodiscard]] core::Result<CompiledGraph> compile() const;

 private:
  std::vector<StepNode> nodes_;
  std::vector<std::pair<int, int>> edges_;
  std::vector<int> last_on_stream_;  // (streams) last node id, -1 none
};

}  // namespace squeeze::sim
