#!/usr/bin/env bash
# The plots of docs/results.md §4, rendered by squeeze-report (the same images a capacity planner
# gets in the HTML report): the H100 headline trace's costs with the SmolLM2 profile captured on the
# H100, the configuration of the measured headline (H2O, B = 205 tokens, p = 0.35, prompt 1024 + 32).
# Usage: scripts/study/report_plots.sh [BUILD_DIR]   -> docs/reports/headline-h100.html, docs/img/report-*.png
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
mkdir -p docs/reports docs/img
QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen} "$build/gui/squeeze-report" traces/llama2-7b-h100-headline.sqz \
  --similarity-from traces/h100/smollm2-xsum.sqz --hardware h100,h200 --policy h2o --budget 205 --p 0.35 \
  --prompt-len 1024 --gen-len 32 -o docs/reports/headline-h100.html
python3 - <<'PY'
import base64, re
html = open("docs/reports/headline-h100.html").read()
names = {"Per-layer similarity": "similarity", "Tokens kept per sequence": "budgets",
         "Memory vs batch on h100": "memory-h100", "Throughput vs batch on h100": "throughput-h100",
         "Measured vs predicted": "validation"}
for data, alt in re.findall(r'<img src="data:image/png;base64,([^"]+)"[^>]*alt="([^"]*)"', html):
    for prefix, name in names.items():
        if alt.startswith(prefix):
            open(f"docs/img/report-{name}.png", "wb").write(base64.b64decode(data))
            print(f"docs/img/report-{name}.png  ({alt})")
PY
