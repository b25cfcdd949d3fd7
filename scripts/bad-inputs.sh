#!/usr/bin/env bash
# Runs squeeze's commands on bad inputs and writes what each gets (exit code, first line of the
# message) as a Markdown table: the evidence behind docs/bad-inputs.md.
#   bash scripts/bad-inputs.sh [BUILD_DIR] > docs/bad-inputs.md
# A crash (exit >= 128: a signal) or exit 0 on bad input is marked FAIL; the script exits 1 if any.
set -uo pipefail
cd "$(dirname "$0")/.."
build="${1:-build/release}"
sim="$build/sim/squeeze-sim"
prof="$build/profiler/squeeze-profile"
report="$build/gui/squeeze-report"
shared="../shared"
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT

# Bad files made here (never from ../shared).
: > "$w/empty.bin"
mkdir -p "$w/dir.sqz"
head -c 4096 /dev/urandom > "$w/random.bin"
printf 'GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\x7f\x00\x00\x00\x00\x00\x00\x00\x00' > "$w/huge-count.gguf"
printf '\xff\xff\xff\xff\xff\xff\xff\x7f{}' > "$w/huge-header.safetensors"
mkdir -p "$w/hf"; cp "$w/huge-header.safetensors" "$w/hf/model.safetensors"
printf '{"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 32, "intermediate_size": 8}' > "$w/hf/config.json"
python3 - "$w" <<'PY'
import array, struct, sys, sqlite3
w = sys.argv[1]
# llama2.c header that claims far more weights than the file holds.
open(f"{w}/truncated.bin", "wb").write(struct.pack("7i", 64, 172, 5, 8, 4, 512, 512) + b"\0" * 1000)
# llama2.c model whose weights hold NaN and inf.
dim, hid, L, H, KV, V, S = 8, 16, 1, 2, 1, 16, 4
hs = dim // H
n = V*dim + L*dim + L*dim*H*hs + 2*L*dim*KV*hs + L*H*hs*dim + L*dim + 3*L*hid*dim + dim + S*hs
wts = array.array('f', [1.0] * n); wts[5] = float('nan'); wts[9] = float('inf')
open(f"{w}/nan.bin", "wb").write(struct.pack("7i", dim, hid, L, H, KV, V, S) + wts.tobytes())
# llama2.c header with n_heads not dividing dim.
open(f"{w}/bad-heads.bin", "wb").write(struct.pack("7i", 64, 172, 5, 7, 4, 512, 512))
c = sqlite3.connect(f"{w}/foreign.sqz"); c.execute("create table t(x)"); c.commit(); c.close()
PY
printf '{"text": "hello"}\nnot json\n' > "$w/prompts.jsonl"
printf 'Once upon a time' > "$w/prompt.txt"
trace=traces/synthetic-llama2-7b.sqz
cp "$trace" "$w/newer.sqz"; python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('pragma user_version=99'); c.commit()" "$w/newer.sqz"
head -c 20000 "$trace" > "$w/truncated.sqz"
stories="$shared/models/stories260K/stories260K.bin"

fails=0
row() {  # row "what" command...
  local what="$1"; shift
  local out rc
  # Qt's note about XDG_RUNTIME_DIR is the environment talking, not squeeze: skip it.
  out=$("$@" 2>&1 >/dev/null | grep -v '^\s*$' | grep -v '^QStandardPaths:' | head -n 1)
  rc=$?
  local all
  all=$("$@" 2>&1 >/dev/null); rc=$?
  local verdict="ok"
  if [ "$rc" -ge 128 ] || { [ "$rc" -eq 0 ] && [ -z "${ANSWER_PATTERN:-}" ]; }; then
    verdict="FAIL"; fails=$((fails + 1))
  fi
  # Under the asan preset a sanitizer report exits 1 like an ordinary error: look for it.
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$all"; then
    verdict="FAIL (sanitizer: $(grep -m1 -oE '(Address|Leak)Sanitizer: [a-z-]+|runtime error: .{0,60}' <<<"$all"))"
    fails=$((fails + 1))
  fi
  # A planning question whose answer is "no" (it does not fit) is an answer, not an error: it
  # exits 0, and the row passes only if the output says so plainly.
  if [ "$rc" -eq 0 ] && [ -n "${ANSWER_PATTERN:-}" ]; then
    out=$("$@" 2>&1 | grep -m1 -E "$ANSWER_PATTERN")
    if [ -z "$out" ]; then verdict="FAIL"; fails=$((fails + 1)); else verdict="ok (answer)"; fi
  fi
  out=${out//|/\\|}; out=${out//$w/\$TMP}
  local cmd="$*"; cmd=${cmd//$w/\$TMP}; cmd=${cmd//$build\//}; cmd=${cmd//|/\\|}
  printf '| %s | `%s` | %s | %s | %s |\n' "$what" "$cmd" "$rc" "$out" "$verdict"
}

echo "# Bad inputs and what they get"
echo
cuda_note="CPU build"; [ -n "$(ls "$build"/profiler/CMakeFiles/squeeze_profiler.dir/cuda 2>/dev/null)" ] && cuda_note="CUDA build, no GPU visible"
echo "Made by \`bash scripts/bad-inputs.sh BUILD_DIR > docs/bad-inputs.md\` on $(date -u +%Y-%m-%d) ($(uname -m), $cuda_note)."
echo "FAIL marks a crash (signal) or a bad input accepted with exit 0. \$TMP is a scratch directory."
echo
echo "| bad input | command | exit | message (first line) | verdict |"
echo "| --- | --- | --- | --- | --- |"
row "missing model file" "$prof" generate --device cpu --model "$w/nope.bin" --prompt hi --max-new-tokens 1
row "model path is a directory" "$prof" generate --device cpu --model "$w/dir.sqz" --prompt hi --max-new-tokens 1
row "empty model file" "$prof" generate --device cpu --model "$w/empty.bin" --prompt hi --max-new-tokens 1
row "random bytes as a model" "$prof" generate --device cpu --model "$w/random.bin" --prompt hi --max-new-tokens 1
row "truncated llama2.c model" "$prof" generate --device cpu --model "$w/truncated.bin" --prompt hi --max-new-tokens 1
row "heads not dividing dim" "$prof" generate --device cpu --model "$w/bad-heads.bin" --prompt hi --max-new-tokens 1
row "NaN/inf in weights" "$prof" generate --device cpu --model "$w/nan.bin" --tokenizer "$shared/models/stories260K/tok512.bin" --prompt hi --max-new-tokens 1
row "GGUF with a huge tensor count" "$prof" generate --device cpu --model "$w/huge-count.gguf" --prompt hi --max-new-tokens 1
row "safetensors with a huge header length" "$prof" generate --device cpu --model "$w/hf" --prompt hi --max-new-tokens 1
if [ -f "$stories" ]; then
  row "budget 0" "$prof" generate --device cpu --model "$stories" --prompt hi --max-new-tokens 1 --policy h2o --budget 0
  row "budget beyond the prompt (fraction 2)" "$prof" generate --device cpu --model "$stories" --prompt hi --max-new-tokens 1 --policy h2o --budget 2
  row "p = 0" "$prof" generate --device cpu --model "$stories" --prompt hi --max-new-tokens 1 --policy h2o --budget 0.5 --p 0
  row "p > 1" "$prof" generate --device cpu --model "$stories" --prompt hi --max-new-tokens 1 --policy h2o --budget 0.5 --p 1.5
  row "unknown policy" "$prof" generate --device cpu --model "$stories" --prompt hi --max-new-tokens 1 --policy lru
  row "CUDA requested, not built/available" "$prof" capture --device cuda --model "$stories" --prompts "$w/prompt.txt" --out "$w/x.sqz"
  row "JSONL with a bad line" "$prof" capture --device cpu --model "$stories" --prompts "$w/prompts.jsonl" --out "$w/y.sqz"
  row "output in a missing directory" "$prof" capture --device cpu --model "$stories" --prompts "$w/prompt.txt" --out "$w/no-such-dir/z.sqz"
fi
row "nonsense flag" "$sim" predict "$trace" --frobnicate
row "trace: missing file" "$sim" info "$w/nope.sqz"
row "trace: directory" "$sim" info "$w/dir.sqz"
row "trace: empty file" "$sim" info "$w/empty.bin"
row "trace: random bytes" "$sim" info "$w/random.bin"
row "trace: truncated" "$sim" info "$w/truncated.sqz"
row "trace: foreign SQLite file" "$sim" info "$w/foreign.sqz"
row "trace: newer format version" "$sim" info "$w/newer.sqz"
row "budgets: NaN similarity" "$sim" budgets --similarity 0.5,nan,0.9 --budget-tokens 100 --p 0.3
row "budgets: budget 0" "$sim" budgets --similarity 0.5,0.7,0.9 --budget-tokens 0 --p 0.3
row "budgets: p <= 0" "$sim" budgets --similarity 0.5,0.7,0.9 --budget-tokens 100 --p 0
row "budgets: floor(p*B) = 0" "$sim" budgets --similarity 0.5,0.7,0.9 --budget-tokens 2 --p 0.3
row "predict: batch 0" "$sim" predict "$trace" --hardware h100 --policy h2o --budget 0.3 --p 0.35 --batch 0 --prompt-len 1024 --gen-len 128
row "predict: unknown hardware" "$sim" predict "$trace" --hardware tpu-v9 --policy h2o --budget 0.3 --p 0.35 --batch 1 --prompt-len 1024 --gen-len 128
ANSWER_PATTERN="does not fit" row "predict: model larger than the GPU" "$sim" predict "$trace" --hardware custom:8:1:100 --policy h2o --budget 0.3 --p 0.35 --batch 1 --prompt-len 1024 --gen-len 128
row "export: output in a missing directory" "$sim" export "$trace" --perfetto "$w/no-such-dir/k.json"
if [ -x "$report" ]; then
  row "report: output in a missing directory" env QT_QPA_PLATFORM=offscreen "$report" "$trace" -o "$w/no-such-dir/r.html"
  row "report: not a trace" env QT_QPA_PLATFORM=offscreen "$report" "$w/random.bin" -o "$w/r.html"
fi
echo
# No failing command may leave an output behind that looks whole: every output path named above.
left=()
for f in "$w/x.sqz" "$w/y.sqz" "$w/no-such-dir" "$w/r.html" "$w/r.html.tmp"; do
  [ -e "$f" ] && left+=("${f//$w/\$TMP}")
done
# Temporary siblings (writers go through NAME.tmp and rename) must be gone as well.
while IFS= read -r f; do left+=("${f//$w/\$TMP}"); done < <(find "$w" -name '*.tmp' 2>/dev/null)
if [ ${#left[@]} -eq 0 ]; then
  echo "Outputs left behind by the failing commands above (trace, report, export and their .tmp files): **none**."
else
  echo "Outputs left behind by failing commands: **${left[*]}** (FAIL)"; fails=$((fails + 1))
fi
echo
[ "$fails" -eq 0 ] || { echo; echo "**$fails FAIL rows**"; exit 1; }
