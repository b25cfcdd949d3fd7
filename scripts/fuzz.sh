#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": clang + ASan + UBSan) and runs each for SECONDS.
#   bash scripts/fuzz.sh 600          # the 10-minute-per-target campaign
#   bash scripts/fuzz.sh 20 gguf      # one target, briefly (CI runs every target like this)
# Crashers land in fuzz/regressions/<target>/ (commit them: fuzz_regression_tests replays them).
# The growing corpus lives in build/fuzz-corpus/<target>, seeded from fuzz/corpus/<target>.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(llama2c llama2c_tokenizer gguf safetensors config_json tokenizer_json trace)

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" >/dev/null

status=0
for t in "${targets[@]}"; do
  corpus="build/fuzz-corpus/$t"
  crashes="fuzz/regressions/$t"
  mkdir -p "$corpus" "$crashes"
  cp -n fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  log="build/fuzz-corpus/$t.log"
  # FUZZ_SEED fixes libFuzzer's mutation sequence (CI sets it, so a brief run is repeatable).
  if ./build/fuzz/fuzz/fuzz_"$t" "$corpus" -max_total_time="$seconds" -max_len=65536 ${FUZZ_SEED:+-seed=$FUZZ_SEED} \
       -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$crashes/" -print_final_stats=1 >"$log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz_$t: ${seconds}s, ${execs:-?} inputs, no finding"
  else
    echo "fuzz_$t: FINDING (see $log; input saved under $crashes/)"
    tail -n 30 "$log"
    status=1
  fi
done
exit $status
