#!/bin/sh
# A real `squeeze-profile capture` killed with SIGKILL mid-run leaves a trace that opens, with every
# prompt it had reported as done whole (its similarities for every layer) and nothing half-written.
# usage: capture_kill.sh SQUEEZE_PROFILE SQUEEZE_SIM SHARED_DIR
# Runs on stories260K from SHARED_DIR, else on a made-up model of its shape (make_tiny_llama2c.py:
# what is tested is the capture's crash safety, not the model); skips (77) only without python3.
set -u
profile=$1 sim=$2 shared=$3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/stories_or_stand_in.sh"

# 400 prompts of made-up text (never the shared data): long enough that the kill lands mid-capture.
i=0
while [ $i -lt 400 ]; do
  echo "{\"text\": \"Once upon a time there was a little dog number $i who liked to run in the park with his friends every day and sing.\"}"
  i=$((i + 1))
done > "$tmp/prompts.jsonl"

"$profile" capture --device cpu --model "$model" --tokenizer "$tok" \
  --prompts "$tmp/prompts.jsonl" --out "$tmp/t.sqz" 2>"$tmp/err" &
pid=$!
# Wait until the capture reports its fifth prompt done, then kill it without warning.
n=0
while ! grep -q "^prompt 5/" "$tmp/err" 2>/dev/null; do
  kill -0 $pid 2>/dev/null || fail "capture ended before it could be killed: $(tail -3 "$tmp/err")"
  n=$((n + 1)); [ $n -lt 600 ] || { kill -9 $pid; fail "no progress after 60 s"; }
  sleep 0.1
done
kill -9 $pid
wait $pid 2>/dev/null
reported=$(grep -c "^prompt [0-9]*/" "$tmp/err")
[ "$reported" -lt 400 ] || fail "the capture finished before the kill; nothing was tested"

"$sim" info "$tmp/t.sqz" --json >"$tmp/info.json" 2>"$tmp/info.err" || fail "killed trace does not open: $(cat "$tmp/info.err")"
prompts=$(sed -n 's/^  "prompts": \([0-9]*\),$/\1/p' "$tmp/info.json")
values=$(sed -n 's/^  "similarity_values": \([0-9]*\),$/\1/p' "$tmp/info.json")
[ -n "$prompts" ] && [ -n "$values" ] || fail "cannot read counts from: $(cat "$tmp/info.json")"
# Every prompt reported done is in the trace; at most the one in flight may be there beyond them.
[ "$prompts" -ge "$reported" ] || fail "$reported prompts reported done, only $prompts in the trace"
[ "$prompts" -le $((reported + 1)) ] || fail "$prompts prompts in the trace, only $reported reported"
# Whole prompts only: 5 layers of similarity each, no prompt without its rows.
[ "$values" -eq $((prompts * 5)) ] || fail "$values similarity values for $prompts prompts of 5 layers"
"$sim" layers "$tmp/t.sqz" >/dev/null 2>"$tmp/layers.err" || fail "layers on the killed trace: $(cat "$tmp/layers.err")"
echo "killed after $reported prompts reported; trace holds $prompts whole prompts ($values similarity values)"
