#!/usr/bin/env bash
# Per-layer similarity traces captured with the CUDA engine (bf16 weights and KV) on the GPU
# machine, and the same prompts through the CPU engine (fp32) there, so the two engines' layer
# profiles can be compared on real models. Writes OUT_DIR/{stories260k-tinystories,
# smollm2-{tinystories,samsum,xsum,multi_news}}-{cuda,cpu}.sqz and a log per capture.
# Usage: scripts/study/capture_traces_gpu.sh SQUEEZE_PROFILE OUT_DIR
# Environment: PROMPTS (dir with tinystories/samsum/xsum/multi_news .jsonl: the first lines of the
# files named in scripts/study/capture_traces.sh), STORIES (stories260K.bin, tok512.bin beside it),
# SMOL (SmolLM2-135M-Instruct GGUF; empty: skip SmolLM2), N (prompts per dataset, default 20),
# MAX_TOKENS (SmolLM2 prompt cap, default 1024), DEVICES (default "cuda cpu").
set -euo pipefail
P=$1
OUT=$2
PROMPTS=${PROMPTS:?directory of prompt .jsonl files}
STORIES=${STORIES:?stories260K.bin}
SMOL=${SMOL:-}
N=${N:-20}
MAX_TOKENS=${MAX_TOKENS:-1024}
DEVICES=${DEVICES:-cuda cpu}
mkdir -p "$OUT"

cap() {  # name device args...
  local name=$1 device=$2
  shift 2
  local start=$SECONDS
  "$P" capture --device "$device" --overwrite --limit "$N" "$@" --out "$OUT/$name-$device.sqz" \
    >"$OUT/$name-$device.log" 2>&1 || { echo "$name-$device: FAILED"; tail -5 "$OUT/$name-$device.log"; return 1; }
  echo "$name-$device: $((SECONDS - start)) s; $(grep -m1 'prompts,' "$OUT/$name-$device.log")"
}

for dev in $DEVICES; do
  cap stories260k-tinystories "$dev" --model "$STORIES" --tokenizer "$(dirname "$STORIES")/tok512.bin" \
      --prompts "$PROMPTS/tinystories.jsonl" --field text --dataset tinystories --max-prompt-tokens 512
  [ -n "$SMOL" ] || continue
  cap smollm2-tinystories "$dev" --model "$SMOL" --prompts "$PROMPTS/tinystories.jsonl" --field text \
      --dataset tinystories --max-prompt-tokens "$MAX_TOKENS"
  cap smollm2-samsum "$dev" --model "$SMOL" --prompts "$PROMPTS/samsum.jsonl" --field question \
      --dataset samsum --max-prompt-tokens "$MAX_TOKENS"
  cap smollm2-xsum "$dev" --model "$SMOL" --prompts "$PROMPTS/xsum.jsonl" --field article \
      --dataset xsum --max-prompt-tokens "$MAX_TOKENS"
  cap smollm2-multi_news "$dev" --model "$SMOL" --prompts "$PROMPTS/multi_news.jsonl" --field context \
      --dataset multi_news --max-prompt-tokens "$MAX_TOKENS"
done
