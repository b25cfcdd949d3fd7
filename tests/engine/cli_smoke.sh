#!/bin/sh
# End-to-end check of the command-line front ends: exit codes for bad input, and generate ->
# capture -> squeeze-sim layers on stories260K from ../shared, else on a made-up model of its
# shape (make_tiny_llama2c.py; the greedy-story check needs the real one).
# usage: cli_smoke.sh SQUEEZE_PROFILE SQUEEZE_SIM SHARED_DIR
set -u
profile=$1 sim=$2 shared=$3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() {  # expected-rc description command...
  want=$1 what=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  [ "$rc" -eq "$want" ] || { cat "$tmp/err"; fail "$what: exit $rc, expected $want"; }
}

if "$profile" devices | grep -q "not built"; then
  expect_rc 2 "--device cuda without CUDA" "$profile" generate --device cuda --model x --prompt hi
  grep -q "no CUDA backend" "$tmp/err" || fail "--device cuda message: $(cat "$tmp/err")"
  expect_rc 2 "capture --device cuda without CUDA" "$profile" capture --device cuda --out "$tmp/c.sqz"
  grep -q "no CUDA backend" "$tmp/err" || fail "capture --device cuda message: $(cat "$tmp/err")"
  expect_rc 2 "calibrate without CUDA" "$profile" calibrate --out "$tmp/c.sqz"
fi
expect_rc 2 "capture --device cuda --prompts without --model" "$profile" capture --device cuda --prompts p.jsonl --out "$tmp/c.sqz"
expect_rc 2 "capture --device cpu without --prompts" "$profile" capture --model x --out "$tmp/c.sqz"
expect_rc 2 "unknown device" "$profile" generate --device tpu --model x --prompt hi
expect_rc 2 "missing --model" "$profile" generate --prompt hi
expect_rc 2 "missing prompts file" "$profile" capture --model x --prompts "$tmp/none.jsonl" --out "$tmp/t.sqz"
expect_rc 2 "layers on a missing trace" "$sim" layers "$tmp/none.sqz"

. "$(dirname "$0")/stories_or_stand_in.sh"
if [ "$real" = 1 ]; then
  expect_rc 0 "generate" "$profile" generate --model "$model" --prompt "Once upon a time" --max-new-tokens 40
  grep -q "Lily" "$tmp/out" || fail "greedy story does not mention Lily: $(cat "$tmp/out")"
fi
expect_rc 2 "policy without budget" "$profile" generate --model "$model" --tokenizer "$tok" --prompt "Once" --policy h2o
expect_rc 0 "generate with h2o squeeze budgets" "$profile" generate --model "$model" --tokenizer "$tok" \
  --prompt "Once upon a time" --max-new-tokens 20 --policy h2o --budget-tokens 8 --p 0.5 --temperature 0.8 --top-p 0.9 --seed 7
grep -q "layer budgets" "$tmp/err" || fail "no layer budgets reported"
printf '%s\n' '{"text": "Once upon a time there was a cat."}' '{"text": "The dog ran to the park to play."}' \
  '{"text": "Lily and Ben went to the sea."}' > "$tmp/p.jsonl"
expect_rc 0 "capture" "$profile" capture --model "$model" --tokenizer "$tok" --prompts "$tmp/p.jsonl" --out "$tmp/t.sqz"
grep -q "prompt 3/3" "$tmp/err" || fail "no progress lines: $(cat "$tmp/err")"
expect_rc 2 "capture refuses to overwrite" "$profile" capture --model "$model" --tokenizer "$tok" --prompts "$tmp/p.jsonl" --out "$tmp/t.sqz"
expect_rc 0 "layers --json" "$sim" layers "$tmp/t.sqz" --json
grep -q '"prompts": 3' "$tmp/out" || fail "layers JSON: $(cat "$tmp/out")"
grep -q '"unimportant": true' "$tmp/out" || fail "no unimportant layer: $(cat "$tmp/out")"
grep -q '"mean_pairwise_jaccard"' "$tmp/out" || fail "no stability: $(cat "$tmp/out")"
echo "ok"
