#!/usr/bin/env bash
# The README's main job: what squeeze answers, from traces shipped in traces/.
#   bash scripts/main-job.sh [BUILD_DIR]
# Costs come from a real H100 capture of a Llama-2-7B-shaped model (CUDA engine, CUPTI, random
# weights: timings do not depend on values); the layer-importance profile comes from a real model
# (SmolLM2-135M on 20 XSum articles, prompts up to 1024 tokens, CUDA engine on an H100), resampled
# to 32 layers by relative depth.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
sim="$build/sim/squeeze-sim"
report="$build/gui/squeeze-report"
gpu_trace=traces/llama2-7b-h100-cuda.sqz
profile_trace=traces/h100/smollm2-xsum.sqz

section() { printf '\n== %s\n' "$*"; }

section "the GPU trace: $gpu_trace"
"$sim" info "$gpu_trace"

section "layer importance of a real model (cosine similarity before/after attention; high = unimportant)"
"$sim" layers "$profile_trace"

section "how well the simulator predicts the measured H100 runs (leave-one-out)"
"$sim" validate "$gpu_trace"

for gpu in h100 h200; do
  section "capacity on $gpu: full cache vs uniform 30% budget vs squeeze (p = 0.35), 2048-token prompts"
  "$sim" predict "$gpu_trace" --similarity-from "$profile_trace" --hardware "$gpu" --policy h2o \
    --budget 0.3 --p 0.35 --batch 1,8,32,max --prompt-len 2048 --gen-len 256 --mode calibrated
done

section "headline: KV memory saved and tokens/s gained at each GPU's max batch"
"$sim" headline "$gpu_trace" --similarity-from "$profile_trace" --hardware a100-80gb,h100,h200 \
  --mode online,calibrated --policy h2o --budget 0.3 --p 0.35 --prompt-len 2048 --gen-len 256

if [ -x "$report" ]; then
  section "report (synthetic Llama-2-7B trace: its profile has the paper's shape; see traces/FORMAT.md)"
  QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}" "$report" traces/synthetic-llama2-7b.sqz \
    --hardware h100,h200 -o "$build/squeeze-report.html"
fi
