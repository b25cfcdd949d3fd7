#!/usr/bin/env bash
# Every libFuzzer target at once, several processes per target sharing its corpus: the campaign
# for a many-core machine without a build environment (e.g. the GPU host, through the device tool).
#   bash scripts/fuzz-parallel.sh BIN_DIR CORPUS SECONDS OUT [PROCESSES]
# BIN_DIR: fuzz_<target> binaries (built by `cmake --build --preset fuzz`, may be stripped of debug
# info) and the shared libraries they need; CORPUS: a directory or .tgz with <target>/ inside;
# OUT: crashers (OUT/crashes/<target>/) and logs. Prints one line per target; exit 1 on a finding.
set -uo pipefail
bin=$1; corpus=$2; secs=$3; out=$4; procs=${5:-2}
targets=(llama2c llama2c_tokenizer gguf safetensors config_json tokenizer_json trace)
export LD_LIBRARY_PATH="$bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
work=$(mktemp -d)
if [ -d "$corpus" ]; then cp -r "$corpus" "$work/corpus"; else mkdir -p "$work/x" && tar xzf "$corpus" -C "$work/x" && mv "$work/x"/* "$work/corpus"; fi
mkdir -p "$out/logs"
for t in "${targets[@]}"; do
  mkdir -p "$out/crashes/$t" "$work/corpus/$t"
  for i in $(seq 1 "$procs"); do
    "$bin/fuzz_$t" "$work/corpus/$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$out/crashes/$t/" -print_final_stats=1 > "$out/logs/$t.$i.log" 2>&1 &
  done
done
wait
status=0
for t in "${targets[@]}"; do
  n=0
  for f in "$out/logs/$t".*.log; do
    e=$(grep -m1 'stat::number_of_executed_units' "$f" | awk '{print $2}'); n=$((n + ${e:-0}))
  done
  c=$(ls "$out/crashes/$t" | wc -l)
  [ "$c" -eq 0 ] || status=1
  echo "fuzz_$t: ${secs}s x $procs processes, $n inputs, $c findings, corpus $(ls "$work/corpus/$t" | wc -l) files"
done
tar czf "$out/corpus.tgz" -C "$work" corpus
rm -rf "$work"
exit $status
