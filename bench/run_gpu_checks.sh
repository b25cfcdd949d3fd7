#!/usr/bin/env bash
# Rerunnable GPU check on a machine with an NVIDIA GPU: kernel tests, compute-sanitizer memcheck
# and racecheck on them (synccheck on the decode tests), the engine test when built, and the
# decode-attention benchmark against PyTorch SDPA. Binaries come from BIN (default .dev: copy build/<dir>/tests/cuda/cuda_kernels_test,
# cuda_engine_test, bench/decode_attention_bench, bench/libsqueeze_decode_ffi.so and profiler/squeeze-profile
# there); logs go to OUT (default ./gpu-checks).
#
#   bench/run_gpu_checks.sh [--quick] [--no-bench]
# Exits 1 when any step failed, 0 otherwise.
set -u
BIN=${BIN:-.dev}
OUT=${OUT:-gpu-checks}
QUICK=""; BENCH=1
for a in "$@"; do
  case $a in --quick) QUICK=--quick ;; --no-bench) BENCH=0 ;; esac
done
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$BIN/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
SAN_TIMEOUT=${SAN_TIMEOUT:-170}  # seconds per sanitizer run; a timeout shows as FAIL (rc 124)
declare -a rows
failed=0
step() {  # name, log, command...
  local name=$1 log=$2; shift 2
  local t0=$(date +%s)
  "$@" >"$OUT/$log" 2>&1
  local rc=$? t1=$(date +%s)
  [ $rc = 0 ] || failed=$((failed + 1))
  rows+=("$(printf '| %-28s | %-4s | %4ss | %s |' "$name" "$([ $rc = 0 ] && echo ok || echo FAIL)" $((t1 - t0)) "$(grep -E 'PASSED|FAILED|ERROR SUMMARY|RACECHECK SUMMARY' "$OUT/$log" | head -2 | tr '\n' ' ')")")
}
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv > "$OUT/device.txt" 2>&1
step "kernel tests" kernels.log "$BIN/cuda_kernels_test"
# The sanitizers multiply run time many times over: the largest decode case is left to the plain run.
step "memcheck kernel tests" memcheck.log timeout $SAN_TIMEOUT "$SAN" --tool memcheck --error-exitcode 3 \
  "$BIN/cuda_kernels_test" --gtest_filter=-*hd128_q32_kv32*
step "racecheck kernel tests" racecheck.log timeout $SAN_TIMEOUT "$SAN" --tool racecheck --error-exitcode 3 \
  "$BIN/cuda_kernels_test" --gtest_filter=-*hd128_q32_kv32*:*hd128_q12*
# Barrier use in the decode kernels (the last CTA's split merge, the tensor-core kernel's warps).
step "synccheck decode tests" synccheck.log timeout $SAN_TIMEOUT "$SAN" --tool synccheck --error-exitcode 3 \
  "$BIN/cuda_kernels_test" --gtest_filter=*Decode*:-*hd128_q32_kv32*
export SQUEEZE_STORIES260K=${SQUEEZE_STORIES260K:-$BIN/models/stories260K.bin}
[ -x "$BIN/cuda_engine_test" ] && step "engine tests (vs CPU)" engine.log "$BIN/cuda_engine_test"
[ -x "$BIN/cuda_engine_test" ] && step "memcheck engine tests" engine_memcheck.log timeout $SAN_TIMEOUT "$SAN" \
  --tool memcheck --error-exitcode 3 "$BIN/cuda_engine_test" --gtest_filter=*TeacherForced*:*h2o*
# The CUDA capture path of the product (squeeze-profile capture --device cuda), when copied to BIN.
[ -x "$BIN/squeeze-profile" ] && step "squeeze-profile capture cuda" capture.log "$BIN/squeeze-profile" capture \
  --device cuda --model random:llama-2-7b --out "$OUT/capture.sqz" --policy full,h2o --budget 128 --p 1,0.35 \
  --batch 1,8 --prompt-len 256 --gen-tokens 8 --kernel-runs 1
if [ $BENCH = 1 ]; then
  step "decode attention bench" bench.csv "$BIN/decode_attention_bench" $QUICK
  step "vs PyTorch SDPA" compare.log python3 bench/decode_attention_compare.py "$OUT/bench.csv" \
    --lib "$BIN/libsqueeze_decode_ffi.so" \
    --out "$OUT/decode_attention_table.md"
fi
echo; cat "$OUT/device.txt"
echo "| step | rc | time | summary |"; echo "|---|---|---|---|"
printf '%s\n' "${rows[@]}"
if [ -f "$OUT/decode_attention_table.md" ]; then cat "$OUT/decode_attention_table.md"; fi
[ $failed = 0 ]
