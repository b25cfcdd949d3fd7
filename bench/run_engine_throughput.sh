#!/usr/bin/env bash
# Headline throughput run on one NVIDIA GPU (bench/results/engine_throughput.md):
#  1. squeeze-profile capture --device cuda on Llama-2-7B-shaped random weights: full cache vs
#     uniform H2O budget (p = 1) vs squeeze (p = 0.35, budgets from the SmolLM2/xsum similarity
#     profile) over a ladder of batch sizes, so the largest batch that fits shows up as the last
#     "ok" run before "oom"; one run's kernels under CUPTI; the calibration table.
#  2. the same engine, full cache, at batch 1/8/32, prompt 512, beside
#  3. Hugging Face transformers bf16 with a static cache (bench/hf_decode_baseline.py).
# Binaries and libs in BIN (default .dev); logs and traces to OUT (default ./throughput).
#   bench/run_engine_throughput.sh [PROMPT_LEN] [GEN_TOKENS] [BUDGET_TOKENS]
set -u
BIN=${BIN:-.dev}
OUT=${OUT:-throughput}
PROMPT=${1:-1024}; GEN=${2:-32}; B=${3:-205}
BATCHES=${BATCHES:-8,16,24,32,40,48,56,64,80,96,112,128,144,160}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$BIN:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/device.txt" 2>&1
# The short comparison first, so a slow headline run cannot starve it.
t0=$(date +%s)
"$BIN/squeeze-profile" capture --device cuda --model random:llama-2-7b --out "$OUT/vs_hf.sqz" \
  --policy full --batch 1,8,32 --prompt-len 512 --gen-tokens 32 --kernel-runs 0 > "$OUT/ours_vs_hf.log" 2>&1
echo "ours vs hf rc $? in $(( $(date +%s) - t0 )) s" | tee -a "$OUT/ours_vs_hf.log"
t0=$(date +%s)
PYTHONUNBUFFERED=1 timeout 240 python3 bench/hf_decode_baseline.py --batch 1,8,32 --prompt-len 512 \
  --gen-tokens 32 --repeats 3 --csv "$OUT/hf.csv" > "$OUT/hf.log" 2>&1
echo "hf rc $? in $(( $(date +%s) - t0 )) s" | tee -a "$OUT/hf.log"
t0=$(date +%s)
timeout ${HEADLINE_TIMEOUT:-420} "$BIN/squeeze-profile" capture --device cuda --model random:llama-2-7b --out "$OUT/headline.sqz" \
  --policy full,h2o --budget "$B" --p 1,0.35 --batch "$BATCHES" --prompt-len "$PROMPT" \
  --gen-tokens "$GEN" --kernel-runs 1 --calibrate --similarity-from traces/smollm2-xsum.sqz \
  > "$OUT/headline.log" 2>&1
echo "headline capture rc $? in $(( $(date +%s) - t0 )) s" | tee -a "$OUT/headline.log"
echo; cat "$OUT/device.txt"
echo "== headline (policy-B-p-batch: prefill, step, tok/s, KV, peak) =="; grep -E "^run|error" "$OUT/headline.log"
echo "== ours, full, prompt 512 =="; grep -E "^run|error" "$OUT/ours_vs_hf.log"
echo "== transformers =="; cat "$OUT/hf.csv" 2>/dev/null || tail -5 "$OUT/hf.log"
