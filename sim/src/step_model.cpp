#include "squeeze/sim/step_model.hpp"

#include <algorithm>
#include <map>

namespace squeeze::sim {

StepGraph build_step_graph(const core::ModelConfig& model, Phase phase, const StepOptions& options) {
  StepGraph g;
  const bool tp = options.tp > 1;
  const bool h2o = phase == Phase::Decode && options.h2o_scoring;
  const int h2o_stream = options.h2o_side_stream ? 1 : 0;
  int last_h2o = -1;
  g.add_node({NodeCost::Embed, -1, 0, 0});
  for (int l = 0; l < model.n_layers; ++l) {
    g.add_node({NodeCost::Norm, l, 0, 0});
    g.add_node({NodeCost::Qkv, l, 0, 0});
    g.add_node({NodeCost::Rope, l, 0, 0});
    const NodeCost attention =
        phase == Phase::Decode ? NodeCost::DecodeAttention : NodeCost::PrefillAttention;
    const int attn = g.add_node({attention, l, 0, 0});
    if (h2o) last_h2o = g.add_node({NodeCost::H2oScore, l, h2o_stream, 0}, {attn});
    g.add_node({NodeCost::OProj, l, 0, 0});
    if (tp) g.add_node({NodeCost::AllReduce, l, 0, 0});
    // The cosine similarity is fused into the attention residual add, before the MLP norm.
    if (phase == Phase::Prefill && options.similarity) g.add_node({NodeCost::Similarity, l, 0, 0});
    g.add_node({NodeCost::Norm, l, 0, 0});
    g.add_node({NodeCost::GateUp, l, 0, 0});
    g.add_node({NodeCost::Swiglu, l, 0, 0});
    g.add_node({NodeCost::Down, l, 0, 0});
    if (tp) g.add_node({NodeCost::AllReduce, l, 0, 0});
  }
  g.add_node({NodeCost::Norm, -1, 0, 0});
  g.add_node({NodeCost::LmHead, -1, 0, 0});
  // Sampling ends the step; a side stream must have drained into it.
  if (last_h2o >= 0) g.add_node({NodeCost::Sample, -1, 0, 0}, {last_h2o});
  else g.add_node({NodeCost::Sample, -1, 0, 0});
  return g;
}

double mean_over_decode_steps(std::span<const double> prefix, int cap, int prompt, int gen) {
  if (gen <= 0) return 0.0;
  const int first = prompt + 1;
  const int last = prompt + gen;
  auto value = [&](int kv) { return prefix[static_cast<std::size_t>(kv)] - prefix[static_cast<std::size_t>(kv) - 1]; };
  if (cap >= last) return (prefix[static_cast<std::size_t>(last)] - prefix[static_cast<std::size_t>(prompt)]) / gen;
  if (cap <= first) return value(std::max(1, cap));
  // Steps first..cap grow; steps cap+1..last sit at the cap.
  const double growing = prefix[static_cast<std::size_t>(cap)] - prefix[static_cast<std::size_t>(prompt)];
  return (growing + double(last - cap) * value(cap)) / gen;
}

StepTimer::StepTimer(const CostModel& cost, const core::ModelConfig& model, GpuSpec gpu,
                     StepOptions options)
    : cost_(cost), model_(model), gpu_(std::move(gpu)), options_(options),
      shapes_(layer_shapes(model, options.tp)) {}

core::Result<StepTimer> StepTimer::create(const CostModel& cost, const core::ModelConfig& model,
                                          const GpuSpec& gpu, StepOptions options) {
  SQZ_CHECK(model.validate());
  options.tp = std::max(1, options.tp);
  StepTimer timer(cost, model, gpu, options);
  timer.decode_graph_ = build_step_graph(model, Phase::Decode, options);
  timer.prefill_graph_ = build_step_graph(model, Phase::Prefill, options);
  SQZ_TRY(decode, timer.decode_graph_.compile());
  SQZ_TRY(prefill, timer.prefill_graph_.compile());
  timer.decode_compiled_ = std::move(decode);
  timer.prefill_compiled_ = std::move(prefill);
  return timer;
}

double StepTimer::node_us(NodeCost kind, int batch, int tokens, int kv_len) const {
  const double rows = double(batch) * tokens;
  const int irows = static_cast<int>(std::min(rows, 2e9));
  const double act = shapes_.act_bytes;
  const double hidden = shapes_.hidden;
  const auto& att = shapes_.attention;
  double us = 0.0;
  switch (kind) {
    case NodeCost::Embed: us = cost_.memory_bound_us(rows * hidden * act * 2.0, gpu_); break;
    // Norm with the residual add fused: read x and residual, write both.
    case NodeCost::Norm: us = cost_.memory_bound_us(rows * hidden * act * 4.0 + hidden * act, gpu_); break;
    case NodeCost::Qkv: us = cost_.gemm_us("qkv", irows, shapes_.qkv, shapes_.act_bytes, gpu_); break;
    case NodeCost::Rope:
      us = cost_.memory_bound_us(rows * shapes_.qkv.n * act * 2.0, gpu_);
      break;
    case NodeCost::DecodeAttention: us = cost_.decode_attention_us(batch, kv_len, att, gpu_); break;
    case NodeCost::PrefillAttention: us = cost_.prefill_attention_us(batch, tokens, att, gpu_); break;
    // Read-modify-write of one fp32 score per cached token and KV head.
    case NodeCost::H2oScore:
      us = cost_.memory_bound_us(double(batch) * att.n_kv_heads * kv_len * 4.0 * 2.0, gpu_);
      break;
    case NodeCost::Similarity: us = cost_.memory_bound_us(rows * hidden * act * 2.0, gpu_); break;
    case NodeCost::OProj: us = cost_.gemm_us("o_proj", irows, shapes_.o_proj, shapes_.act_bytes, gpu_); break;
    case NodeCost::AllReduce: us = cost_.allreduce_us(rows * hidden * act, options_.tp, gpu_); break;
    case NodeCost::GateUp: us = cost_.gemm_us("gate_up", irows, shapes_.gate_up, shapes_.act_bytes, gpu_); break;
    case NodeCost::Swiglu:
      us = cost_.memory_bound_us(rows * shapes_.intermediate_per_gpu * act * 3.0, gpu_);
      break;
    case NodeCost::Down: us = cost_.gemm_us("down", irows, shapes_.down, shapes_.act_bytes, gpu_); break;
    // Only the last position of each sequence reaches the LM head, in prefill too.
    case NodeCost::LmHead: us = cost_.gemm_us("lm_head", batch, shapes_.lm_head, shapes_.act_bytes, gpu_); break;
    case NodeCost::Sample: us = cost_.memory_bound_us(double(batch) * shapes_.lm_head.n * 4.0, gpu_); break;
  }
  return us + cost_.launch_gap_us();
}

double StepTimer::prefill_us(int batch, int prompt_len) const {
  std::vector<double> durations(static_cast<std::size_t>(prefill_graph_.size()));
  std::vector<double> finish(durations.size());
  for (int i = 0; i < prefill_graph_.size(); ++i)
    durations[static_cast<std::size_t>(i)] =
        node_us(prefill_graph_.node(i).cost, batch, prompt_len, prompt_len);
  return prefill_compiled_.longest_path_us(durations, finish);
}

DecodeBatchTable StepTimer::decode_table(int batch, int max_kv) const {
  DecodeBatchTable table;
  table.batch = batch;
  table.max_kv = max_kv;
  table.fixed_us.resize(static_cast<std::size_t>(decode_graph_.size()));
  for (int i = 0; i < decode_graph_.size(); ++i) {
    const NodeCost kind = decode_graph_.node(i).cost;
    const bool kv_dependent = kind == NodeCost::DecodeAttention || kind == NodeCost::H2oScore;
    table.fixed_us[static_cast<std::size_t>(i)] = kv_dependent ? 0.0 : node_us(kind, batch, 1, 0);
  }
  table.attention_prefix.assign(static_cast<std::size_t>(max_kv) + 1, 0.0);
  for (int kv = 1; kv <= max_kv; ++kv)
    table.attention_prefix[static_cast<std::size_t>(kv)] =
        table.attention_prefix[static_cast<std::size_t>(kv) - 1] +
        node_us(NodeCost::DecodeAttention, batch, 1, kv);
  table.h2o_base_us = node_us(NodeCost::H2oScore, batch, 1, 0);
  table.h2o_per_token_us = node_us(NodeCost::H2oScore, batch, 1, 1) - table.h2o_base_us;
  return table;
}

void StepTimer::fill_decode_durations(const DecodeBatchTable& table, std::span<const int> caps,
                                      int prompt_len, int gen_len, std::span<double> durations) const {
  for (int i = 0; i < decode_graph_.size(); ++i) {
    const StepNode& n = decode_graph_.node(i);
    const auto idx = static_cast<std::size_t>(i);
    const int cap = n.layer >= 0 && static_cast<std::size_t>(n.layer) < caps.size()
                        ? caps[static_cast<std::size_t>(n.layer)]
                        : kUnboundedCap;
    if (n.cost == NodeCost::DecodeAttention) {
      durations[idx] = mean_over_decode_steps(table.attention_prefix, cap, prompt_len, gen_len);
    } else if (n.cost == NodeCost::H2oScore) {
      // Affine in kv, so the mean cost is the cost at the mean kv length.
      const int last = prompt_len + gen_len;
      const int c = std::min(cap, last);
      double mean_kv;
      if (c <= prompt_len + 1) mean_kv = c;
      else mean_kv = ((double(c) * (c + 1) - double(prompt_len) * (prompt_len + 1)) / 2.0 +
                      double(last - c) * c) / gen_len;
      durations[idx] = table.h2o_base_us + table.h2o_per_token_us * mean_kv;
    } else {
      durations[idx] = table.fixed_us[idx];
    }
  }
}

double StepTimer::mean_decode_step_us(const DecodeBatchTable& table, std::span<const int> caps,
                                      int prompt_len, int gen_len, std::span<double> durations,
                                      std::span<double> finish) const {
  fill_decode_durations(table, caps, prompt_len, gen_len, durations);
  return decode_compiled_.longest_path_us(durations, finish);
}

StepBreakdown StepTimer::mean_decode_breakdown(int batch, std::span<const int> caps, int prompt_len,
                                               int gen_len) const {
  const DecodeBatchTable table = decode_table(batch, prompt_len + gen_len);
  std::vector<double> durations(static_cast<std::size_t>(decode_graph_.size()));
  std::vector<double> finish(durations.size());
  StepBreakdown out;
  out.total_us = mean_decode_step_us(table, caps, prompt_len, gen_len, durations, finish);
  std::map<NodeCost, double> sums;
  for (int i = 0; i < decode_graph_.size(); ++i)
    sums[decode_graph_.node(i).cost] += durations[static_cast<std::size_t>(i)];
  out.by_op.assign(sums.begin(), sums.end());
  return out;
}

}  // namespace squeeze::sim
