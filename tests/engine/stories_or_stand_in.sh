# Sourced by the engine's shell tests (needs $shared, $tmp and fail()): sets model and tok to
# stories260K from ../shared, or to a made-up model of its shape written by make_tiny_llama2c.py
# (the tests check the capture machinery, not the model), and real=1 or 0 to say which. Exits 77
# (skip) only when neither is possible.
model="$shared/models/stories260K/stories260K.bin" tok="$shared/models/stories260K/tok512.bin" real=1
if [ ! -f "$model" ] || [ ! -f "$tok" ]; then
  command -v python3 >/dev/null || { echo "SKIP: no $model and no python3 to make a stand-in"; exit 77; }
  model="$tmp/tiny.bin" tok="$tmp/tiny_tok.bin" real=0
  python3 "$(dirname "$0")/make_tiny_llama2c.py" "$model" "$tok" || fail "make_tiny_llama2c.py failed"
  echo "no stories260K in $shared: a made-up model of its shape stands in"
fi
