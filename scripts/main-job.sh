#!/usr/bin/env bash
# The README's main job: what squeeze answers, on a trace shipped in traces/.
#   bash scripts/main-job.sh [BUILD_DIR] [TRACE]
# Prints the trace summary, the layer importance profile and its clusters, the per-layer budgets
# SqueezeAttention assigns, and the capacity/throughput prediction (full vs uniform vs squeeze) on
# an H100 and an H200, then renders the HTML capacity report next to the build.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
trace="${2:-traces/synthetic-llama2-7b.sqz}"
sim="$build/sim/squeeze-sim"
report="$build/gui/squeeze-report"

section() { printf '\n== %s\n' "$*"; }

section "trace: $trace"
"$sim" info "$trace"

section "layer importance (cosine similarity before/after attention; high = unimportant)"
"$sim" layers "$trace"

section "capacity: full cache vs uniform 30% budget vs squeeze (p = 0.35), 2048-token prompts"
"$sim" predict "$trace" --hardware h100,h200 --policy h2o --budget 0.3 --p 0.35 \
  --batch 1,8,32,64 --prompt-len 2048 --gen-len 256

section "headline: KV memory saved and tokens/s gained at each GPU's max batch"
"$sim" headline "$trace" --hardware a100-80gb,h100,h200 --policy h2o --budget 0.3 --p 0.35 \
  --prompt-len 2048 --gen-len 256

if [ -x "$report" ]; then
  section "report"
  QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" "$report" "$trace" --hardware h100,h200 \
    -o "$build/squeeze-report.html"
  echo "wrote $build/squeeze-report.html"
fi
