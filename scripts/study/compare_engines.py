#!/usr/bin/env python3
"""CUDA-engine vs CPU-engine similarity traces of the same prompts (scripts/study/capture_traces_gpu.sh),
and the 1024-token GPU profile against the committed 256-token CPU trace of the same dataset.
Prints one markdown table row per model/dataset:
  max |s_cuda - s_cpu| over prompts x layers, mean of it, unimportant set (3-means of the mean
  profile, highest center) equal between engines, per-prompt sets equal (count), and Jaccard of the
  mean-profile unimportant set against the committed trace's.
Usage: compare_engines.py GPU_TRACE_DIR [COMMITTED_TRACE_DIR]"""
import pathlib, sqlite3, sys

def similarities(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = con.execute("select prompt_id, layer, value from layer_similarity order by prompt_id, layer").fetchall()
    out = {}
    for pid, layer, v in rows:
        out.setdefault(pid, []).append(v)
    tokens = [t for (t,) in con.execute("select token_count from prompts order by id")]
    return [out[k] for k in sorted(out)], tokens

def kmeans_unimportant(values, k=3):
    """Exact 1-D k-means by dynamic programming (same rule as core::kmeans_1d); returns the indices
    of the cluster with the highest center."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    xs = [values[i] for i in order]
    n = len(xs)
    k = min(k, len(set(xs)))
    pre = [0.0]; pre2 = [0.0]
    for x in xs:
        pre.append(pre[-1] + x); pre2.append(pre2[-1] + x * x)
    def cost(i, j):  # xs[i:j]
        s = pre[j] - pre[i]; return (pre2[j] - pre2[i]) - s * s / (j - i)
    INF = float("inf")
    dp = [[INF] * (n + 1) for _ in range(k + 1)]; arg = [[0] * (n + 1) for _ in range(k + 1)]
    dp[0][0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            for i in range(c - 1, j):
                v = dp[c - 1][i] + cost(i, j)
                if v < dp[c][j] - 1e-15:
                    dp[c][j] = v; arg[c][j] = i
    start = arg[k][n]
    return {order[t] for t in range(start, n)}

def mean_profile(rows):
    return [sum(r[l] for r in rows) / len(rows) for l in range(len(rows[0]))]

def jaccard(a, b):
    return len(a & b) / len(a | b) if a | b else 1.0

gpu = pathlib.Path(sys.argv[1])
committed = pathlib.Path(sys.argv[2]) if len(sys.argv) > 2 else None
print("| trace | prompts | mean tokens | max abs diff | mean abs diff | U(mean) cuda = cpu | per-prompt U equal | |U| | Jaccard vs committed 256-token trace |")
print("|---|---:|---:|---:|---:|---|---:|---:|---:|")
for cuda_path in sorted(gpu.glob("*-cuda.sqz")):
    name = cuda_path.name[: -len("-cuda.sqz")]
    cu, tok = similarities(cuda_path)
    cp, _ = similarities(gpu / f"{name}-cpu.sqz")
    diffs = [abs(a - b) for ra, rb in zip(cu, cp) for a, b in zip(ra, rb)]
    u_cu, u_cp = kmeans_unimportant(mean_profile(cu)), kmeans_unimportant(mean_profile(cp))
    per_prompt = sum(kmeans_unimportant(a) == kmeans_unimportant(b) for a, b in zip(cu, cp))
    jac = "-"
    if committed and (committed / f"{name}.sqz").exists():
        old, _ = similarities(committed / f"{name}.sqz")
        jac = f"{jaccard(u_cu, kmeans_unimportant(mean_profile(old))):.2f}"
    print(f"| {name} | {len(cu)} | {sum(tok) / len(tok):.0f} | {max(diffs):.2e} | {sum(diffs) / len(diffs):.2e} | "
          f"{'yes' if u_cu == u_cp else 'no'} | {per_prompt}/{len(cu)} | {len(u_cu)} | {jac} |")
