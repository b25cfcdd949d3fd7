#!/usr/bin/env bash
# Tables and plots of docs/results.md from the committed traces and quality CSVs (derived numbers
# only). Needs python3 with matplotlib. Usage: scripts/study/analyze.sh  (from the repo root)
#   stdout: markdown tables; docs/data/layer-patterns.json; docs/img/*.png
set -euo pipefail
python3 - <<'PY'
import csv, glob, itertools, json, math, os, sqlite3, statistics
from collections import defaultdict
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

def kmeans_1d(values, k=3):
    """Exact 1-D k-means over contiguous groups of the sorted values (DESIGN.md section 2)."""
    xs = sorted(set(values)); k = min(k, len(xs))
    n = len(xs); pre = [0.0]; pre2 = [0.0]
    for x in xs: pre.append(pre[-1] + x); pre2.append(pre2[-1] + x * x)
    def cost(i, j):  # xs[i:j]
        s = pre[j] - pre[i]; return (pre2[j] - pre2[i]) - s * s / (j - i)
    INF = float("inf"); D = [[INF] * (n + 1) for _ in range(k + 1)]; A = [[0] * (n + 1) for _ in range(k + 1)]
    D[0][0] = 0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            for i in range(c - 1, j):
                v = D[c - 1][i] + cost(i, j)
                if v < D[c][j] - 1e-18: D[c][j] = v; A[c][j] = i
    bounds = []; j = n
    for c in range(k, 0, -1): i = A[c][j]; bounds.append((i, j)); j = i
    bounds.reverse()
    top_lo = xs[bounds[-1][0]]
    return frozenset(l for l, v in enumerate(values) if v >= top_lo) if k > 1 else frozenset()

def jac(a, b):
    return 1.0 if not a and not b else len(a & b) / len(a | b)

def load(path):
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = c.execute("select p.id, p.token_count, s.layer, s.value from prompts p join layer_similarity s "
                     "on s.prompt_id = p.id order by p.id, s.layer").fetchall()
    prompts = defaultdict(dict); toks = {}
    for pid, t, l, v in rows: prompts[pid][l] = v; toks[pid] = t
    L = max(max(d) for d in prompts.values()) + 1
    return [[d[l] for l in range(L)] for d in prompts.values()], list(toks.values())

traces = sorted(glob.glob("traces/stories260k-*.sqz") + glob.glob("traces/smollm2-*.sqz"))
stats = {}; means = {}
print("### Unimportant-layer agreement across prompts\n")
print("| trace | prompts | tokens/prompt (mean, min-max) | U of mean profile (layers) | prompts with U = mean U | mean pairwise Jaccard | mean Jaccard to mean U |")
print("|---|---|---|---|---|---|---|")
for t in traces:
    sims, toks = load(t)
    L = len(sims[0]); mean = [statistics.fmean(s[l] for s in sims) for l in range(L)]
    U = kmeans_1d(mean); Us = [kmeans_1d(s) for s in sims]
    eq = sum(u == U for u in Us) / len(Us)
    pj = statistics.fmean(jac(a, b) for a, b in itertools.combinations(Us, 2))
    mj = statistics.fmean(jac(u, U) for u in Us)
    name = os.path.basename(t)[:-4]
    stats[name] = dict(prompts=len(sims), layers=L, mean_profile=mean, mean_U=sorted(U),
                       frac_equal=eq, pairwise_jaccard=pj, jaccard_to_mean=mj,
                       per_prompt_U_sizes=[len(u) for u in Us],
                       layer_in_U_freq=[sum(l in u for u in Us) / len(Us) for l in range(L)])
    means[name] = (mean, U, sims)
    print(f"| {name} | {len(sims)} | {statistics.fmean(toks):.0f} ({min(toks)}-{max(toks)}) | "
          f"{' '.join(map(str, sorted(U)))} ({len(U)} of {L}) | {eq:.2f} | {pj:.2f} | {mj:.2f} |")

print("\n### Sensitivity to k (clusters): |U| of the mean profile, prompts with U = mean U, mean pairwise Jaccard\n")
print("| trace | k=2 | k=3 | k=4 | k=5 |"); print("|---|---|---|---|---|")
for name, (mean, U, sims) in means.items():
    cells = []
    for k in (2, 3, 4, 5):
        Uk = kmeans_1d(mean, k); Us = [kmeans_1d(x, k) for x in sims]
        cells.append(f"{len(Uk)}, {sum(u == Uk for u in Us) / len(Us):.2f}, "
                     f"{statistics.fmean(jac(a, b) for a, b in itertools.combinations(Us, 2)):.2f}")
        stats[name][f"k{k}"] = dict(mean_U=sorted(Uk), frac_equal=sum(u == Uk for u in Us) / len(Us))
    print(f"| {name} | " + " | ".join(cells) + " |")

smol = [n for n in means if n.startswith("smollm2-")]
print("\n### Cross-dataset agreement (SmolLM2, Jaccard of the mean-profile unimportant sets)\n")
print("| | " + " | ".join(n[8:] for n in smol) + " |"); print("|---" * (len(smol) + 1) + "|")
cross = {}
for a in smol:
    row = [jac(means[a][1], means[b][1]) for b in smol]; cross[a] = dict(zip(smol, row))
    print(f"| {a[8:]} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
if smol:
    pooled = [s for n in smol for s in means[n][2]]
    Lp = len(pooled[0]); pm = [statistics.fmean(s[l] for s in pooled) for l in range(Lp)]
    PU = kmeans_1d(pm); PUs = [kmeans_1d(s) for s in pooled]
    stats["smollm2-pooled"] = dict(prompts=len(pooled), mean_U=sorted(PU),
        frac_equal=sum(u == PU for u in PUs) / len(PUs), jaccard_to_mean=statistics.fmean(jac(u, PU) for u in PUs))
    print(f"\nPooled over the {len(smol)} SmolLM2 datasets ({len(pooled)} prompts): U of the pooled mean = "
          f"{' '.join(map(str, sorted(PU)))}; prompts whose own U equals it: {stats['smollm2-pooled']['frac_equal']:.2f}; "
          f"mean Jaccard to it: {stats['smollm2-pooled']['jaccard_to_mean']:.2f}.")
os.makedirs("docs/data", exist_ok=True)
json.dump(dict(traces=stats, cross_dataset_jaccard=cross), open("docs/data/layer-patterns.json", "w"), indent=1)

os.makedirs("docs/img", exist_ok=True)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw=dict(width_ratios=[1, 4]))
for ax, names in ((axes[0], [n for n in means if n.startswith("stories")]), (axes[1], smol)):
    for n in names:
        mean, U, sims = means[n]; L = len(mean)
        lo = [min(s[l] for s in sims) for l in range(L)]; hi = [max(s[l] for s in sims) for l in range(L)]
        p = ax.plot(range(L), mean, marker="o", ms=3, label=n)
        ax.fill_between(range(L), lo, hi, alpha=0.12, color=p[0].get_color())
    ax.set_xlabel("layer"); ax.set_ylabel("mean cos(x_l, y_l)"); ax.legend(fontsize=7); ax.grid(alpha=0.3)
axes[0].set_title("stories260K"); axes[1].set_title("SmolLM2-135M (band: min-max over prompts)")
fig.tight_layout(); fig.savefig("docs/img/layer-similarity.png", dpi=90); plt.close(fig)

# Quality
rows = []
for f in sorted(glob.glob("docs/data/quality-*.csv")):
    rows += [r for r in csv.DictReader(open(f)) if r.get("layer_budgets") is not None and r.get("scheme")]
if rows:
    groups = defaultdict(list)
    for r in rows: groups[(r["model"], r["dataset"], r["scheme"], r["policy"], float(r["budget_fraction"]), float(r["p"]))].append(r)
    keys_md = sorted({(k[0], k[1]) for k in groups})
    print("\n### Quality: mean teacher-forced NLL (nats/token) of the reference continuation\n")
    summary = []
    for model, ds in keys_md:
        full = groups[(model, ds, "full", "full", 1.0, 1.0)]
        items = len(full); fnll = statistics.fmean(float(r["mean_nll"]) for r in full)
        ptok = statistics.fmean(int(r["prompt_tokens"]) for r in full); ctok = statistics.fmean(int(r["continuation_tokens"]) for r in full)
        print(f"\n**{model} / {ds}** ({items} items, prompt {ptok:.0f} tokens, continuation {ctok:.0f} tokens on average). Full cache: **{fnll:.3f}**.\n")
        print("| policy | budget | uniform | squeeze p=0.3 | p=0.4 | p=0.5 | best squeeze - uniform | items where best squeeze < uniform |")
        print("|---|---|---|---|---|---|---|---|")
        for pol in ("window", "streaming", "h2o"):
            for f in (0.1, 0.2, 0.3, 0.5):
                u = groups.get((model, ds, "uniform", pol, f, 1.0))
                if not u: continue
                uv = statistics.fmean(float(r["mean_nll"]) for r in u)
                sq = {p: groups[(model, ds, "squeeze", pol, f, p)] for p in (0.3, 0.4, 0.5)}
                sv = {p: statistics.fmean(float(r["mean_nll"]) for r in v) for p, v in sq.items()}
                best = min(sv, key=sv.get)
                wins = sum(float(s["mean_nll"]) < float(x["mean_nll"]) - 1e-9 for s, x in zip(sq[best], u))
                summary.append(dict(model=model, dataset=ds, policy=pol, budget=f, full=fnll, uniform=uv,
                                    **{f"squeeze_p{p}": v for p, v in sv.items()}))
                print(f"| {pol} | {int(f*100)}% | {uv:.3f} | {sv[0.3]:.3f} | {sv[0.4]:.3f} | {sv[0.5]:.3f} | "
                      f"{sv[best]-uv:+.3f} (p={best}) | {wins}/{len(u)} |")
    # Budget actually usable after the prefill: a layer cannot hold more than the prompt, so budgets
    # above the prompt length are nominal. Share of the uniform cache's held tokens (policy-independent).
    print("\n### Held KV after the prefill, relative to uniform (sum_l min(b_l, prompt) / sum_l min(B, prompt))\n")
    print("| model / dataset | budget | p=0.3 | p=0.4 | p=0.5 | layers squeezed |")
    print("|---|---|---|---|---|---|")
    for model, ds in keys_md:
        for f in (0.1, 0.2, 0.3, 0.5):
            u = groups.get((model, ds, "uniform", "window", f, 1.0))
            if not u: continue
            def held(r):
                n = int(r["prompt_tokens"]); return sum(min(int(b), n) for b in r["layer_budgets"].split(";"))
            cells = []
            for pv in (0.3, 0.4, 0.5):
                sq = groups[(model, ds, "squeeze", "window", f, pv)]
                cells.append(statistics.fmean(held(a) / held(b) for a, b in zip(sq, u)))
            sqz = statistics.fmean(int(r["squeezed_layers"]) for r in groups[(model, ds, "squeeze", "window", f, 0.4)])
            L = len(u[0]["layer_budgets"].split(";"))
            print(f"| {model} / {ds} | {int(f*100)}% | " + " | ".join(f"{c:.2f}" for c in cells) + f" | {sqz:.1f} of {L} |")
    with open("docs/data/quality-summary.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(summary[0].keys())); w.writeheader()
        for s in summary: w.writerow({k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in s.items()})
    # Follow-up: capped squeeze (scripts/study/quality_capped.sh), same items for every scheme.
    crow = []
    for f in sorted(glob.glob("docs/data/capped-*.csv")):
        crow += [r for r in csv.DictReader(open(f)) if r.get("layer_budgets") is not None and r.get("scheme")]
    if crow:
        cg = defaultdict(list)
        for r in crow: cg[(r["model"], r["dataset"], r["scheme"], r["policy"], float(r["budget_fraction"]), float(r["p"]))].append(r)
        print("\n### Capped squeeze: mean NLL, uniform vs squeeze vs squeeze_capped (same items)\n")
        print("| model / dataset (items) | policy | budget | full | uniform | squeeze p=0.3 / 0.4 / 0.5 | capped p=0.3 / 0.4 / 0.5 | best capped - uniform |")
        print("|---|---|---|---|---|---|---|---|")
        for model, ds in sorted({(k[0], k[1]) for k in cg}):
            full = statistics.fmean(float(r["mean_nll"]) for r in cg[(model, ds, "full", "full", 1.0, 1.0)])
            items = len(cg[(model, ds, "full", "full", 1.0, 1.0)])
            for pol in ("window", "streaming", "h2o"):
                for f in (0.1, 0.2, 0.3, 0.5):
                    u = cg.get((model, ds, "uniform", pol, f, 1.0))
                    if not u: continue
                    m = lambda rs: statistics.fmean(float(r["mean_nll"]) for r in rs)
                    sq = [m(cg[(model, ds, "squeeze", pol, f, p)]) for p in (0.3, 0.4, 0.5)]
                    cp = [m(cg[(model, ds, "squeeze_capped", pol, f, p)]) for p in (0.3, 0.4, 0.5)]
                    print(f"| {model.split('-Instruct')[0]} / {ds} ({items}) | {pol} | {int(f*100)}% | {full:.3f} | {m(u):.3f} | "
                          + " / ".join(f"{v:.3f}" for v in sq) + " | " + " / ".join(f"{v:.3f}" for v in cp)
                          + f" | {min(cp) - m(u):+.3f} |")
    # Plot: NLL vs budget, per (model, dataset), one panel each; uniform solid, squeeze p=0.4 dashed.
    n = len(keys_md); fig, axes = plt.subplots(1, n, figsize=(3.3 * n, 3.2), squeeze=False)
    for ax, (model, ds) in zip(axes[0], keys_md):
        S = [s for s in summary if s["model"] == model and s["dataset"] == ds]
        for pol, col in (("window", "C0"), ("streaming", "C1"), ("h2o", "C2")):
            P = sorted((s for s in S if s["policy"] == pol), key=lambda s: s["budget"])
            xs = [100 * s["budget"] for s in P]
            ax.plot(xs, [s["uniform"] for s in P], color=col, marker="o", ms=3, label=f"{pol} uniform")
            ax.plot(xs, [s["squeeze_p0.4"] for s in P], color=col, ls="--", marker="x", ms=4, label=f"{pol} squeeze p=0.4")
        ax.axhline(S[0]["full"], color="k", lw=1, label="full cache")
        ax.set_title(f"{model.split('-Instruct')[0]} / {ds}", fontsize=9); ax.set_xlabel("budget (% of prompt)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("mean NLL (nats/token)"); axes[0][0].legend(fontsize=6)
    fig.tight_layout(); fig.savefig("docs/img/quality-nll.png", dpi=90); plt.close(fig)
PY
