#include "squeeze/sim/step_graph.hpp"

#include <algorithm>
#include <iterator>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>

namespace squeeze::sim {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;

Graph to_boost(int n, const std::vector<std::pair<int, int>>& edges) {
  Graph g(static_cast<std::size_t>(n));
  for (const auto& [from, to] : edges) boost::add_edge(from, to, g);
  return g;
}

}  // namespace

const char* node_cost_name(NodeCost cost) {
  switch (cost) {
    case NodeCost::Embed: return "embed";
    case NodeCost::Norm: return "rmsnorm";
    case NodeCost::Qkv: return "qkv";
    case NodeCost::Rope: return "rope";
    case NodeCost::DecodeAttention: return "decode_attention";
    case NodeCost::PrefillAttention: return "prefill_attention";
    case NodeCost::H2oScore: return "h2o_evict";
    case NodeCost::Similarity: return "similarity";
    case NodeCost::OProj: return "o_proj";
    case NodeCost::AllReduce: return "all_reduce";
    case NodeCost::GateUp: return "gate_up";
    case NodeCost::Swiglu: return "swiglu";
    case NodeCost::Down: return "down";
    case NodeCost::LmHead: return "lm_head";
    case NodeCost::Sample: return "sample";
  }
  return "?";
}

int StepGraph::add_node(StepNode node, std::span<const int> after) {
  const int id = size();
  nodes_.push_back(node);
  const auto stream = static_cast<std::size_t>(std::max(0, node.stream));
  if (last_on_stream_.size() <= stream) last_on_stream_.resize(stream + 1, -1);
  if (last_on_stream_[stream] >= 0) add_edge(last_on_stream_[stream], id);
  last_on_stream_[stream] = id;
  for (int dep : after) add_edge(dep, id);
  return id;
}

void StepGraph::add_edge(int from, int to) {
  const std::pair<int, int> edge{from, to};
  if (std::find(edges_.begin(), edges_.end(), edge) == edges_.end()) edges_.push_back(edge);
}

core::Result<std::vector<int>> StepGraph::topological_order() const {
  const Graph g = to_boost(size(), edges_);
  std::vector<Graph::vertex_descriptor> reversed;
  try {
    boost::topological_sort(g, std::back_inserter(reversed));
  } catch (const boost::not_a_dag&) {
    return core::make_error("step graph has a cycle: its ops cannot be ordered");
  }
  std::vector<int> order(reversed.rbegin(), reversed.rend());
  return order;
}

core::Result<CriticalPath> StepGraph::longest_path() const {
  SQZ_TRY(order, topological_order());
  const Graph g = to_boost(size(), edges_);
  // finish[v] = duration[v] + max over predecessors of finish[u] (DAG relaxation).
  std::vector<double> finish(static_cast<std::size_t>(size()), 0.0);
  std::vector<int> best_pred(static_cast<std::size_t>(size()), -1);
  for (int v : order) {
    double start = 0.0;
    for (auto [it, end] = boost::in_edges(static_cast<std::size_t>(v), g); it != end; ++it) {
      const auto u = boost::source(*it, g);
      if (best_pred[static_cast<std::size_t>(v)] < 0 || finish[u] > start) {
        start = finish[u];
        best_pred[static_cast<std::size_t>(v)] = static_cast<int>(u);
      }
    }
    finish[static_cast<std::size_t>(v)] = start + node(v).duration_us;
  }
  CriticalPath path;
  if (size() == 0) return path;
  int last = static_cast<int>(std::max_element(finish.begin(), finish.end()) - finish.begin());
  path.total_us = finish[static_cast<std::size_t>(last)];
  for (int v = last; v >= 0; v = best_pred[static_cast<std::size_t>(v)]) path.nodes.push_back(v);
  std::reverse(path.nodes.begin(), path.nodes.end());
  return path;
}

core::Result<CompiledGraph> StepGraph::compile() const {
  SQZ_TRY(order, topological_order());
  CompiledGraph compiled;
  compiled.order = std::move(order);
  std::vector<std::vector<int>> preds(static_cast<std::size_t>(size()));
  for (const auto& [from, to] : edges_) preds[static_cast<std::size_t>(to)].push_back(from);
  compiled.pred_offsets.push_back(0);
  for (const auto& list : preds) {
    compiled.preds.insert(compiled.preds.end(), list.begin(), list.end());
    compiled.pred_offsets.push_back(static_cast<int>(compiled.preds.size()));
  }
  return compiled;
}

double CompiledGraph::longest_path_us(std::span<const double> durations,
                                      std::span<double> finish) const {
  double longest = 0.0;
  for (int v : order) {
    double start = 0.0;
    for (int i = pred_offsets[static_cast<std::size_t>(v)];
         i < pred_offsets[static_cast<std::size_t>(v) + 1]; ++i)
      start = std::max(start, finish[static_cast<std::size_t>(preds[static_cast<std::size_t>(i)])]);
    const double f = start + durations[static_cast<std::size_t>(v)];
    finish[static_cast<std::size_t>(v)] = f;
    longest = std::max(longest, f);
  }
  return longest;
}

}  // namespace squeeze::sim
