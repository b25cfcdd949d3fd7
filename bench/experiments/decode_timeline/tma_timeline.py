# Per-CTA timeline of the TMA-ring decode kernel from a build of apply_tma_probes.py's copy:
#   python3 tma_timeline.py tl.so tma4 8,17,1024 ...   (KV heads, batch, KV length)
# 40 launches queued behind a spin, the median-span one reported: start, first block landed,
# loops done, end, and the end times of CTAs alone on an SM against CTAs sharing one.
import ctypes, sys, os, statistics, collections
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
import torch
import decode_attention_compare as dc
lib = dc.load_lib(sys.argv[1])
lib.sqz_probe_set.argtypes = [ctypes.c_void_p]
kernel = sys.argv[2]
for spec in sys.argv[3:]:
    kvh, b, L = map(int, spec.split(","))
    sh = dc.Shape(lib, b, kvh, L)
    run = sh.ours(kernel)
    probe = torch.zeros(8 * 4096, dtype=torch.int64, device="cuda")
    lib.sqz_probe_set(ctypes.c_void_p(probe.data_ptr()))
    spans = []; rows_all = []
    for i in range(40):
        probe.zero_()
        torch.cuda.synchronize()
        # queue behind a spin so the launch overhead is hidden, as the A/B harness does
        torch.cuda._sleep(200000)
        run(i)
        torch.cuda.synchronize()
        if i < 10: continue
        p = probe.view(-1, 8).cpu().tolist()
        rows = [r for r in p if r[0] != 0]
        t0 = min(r[0] for r in rows)
        rows_all.append([(r[0]-t0, r[1]-t0, r[5]-t0, r[2]-t0, r[3]-t0, r[4]) for r in rows])
        spans.append(max(r[3] for r in rows) - t0)
    med = sorted(range(len(spans)), key=lambda i: spans[i])[len(spans)//2]
    rows = rows_all[med]
    per_sm = collections.Counter(r[5] for r in rows)
    def q(v): v = sorted(v); return f"min {v[0]/1e3:.1f} med {v[len(v)//2]/1e3:.1f} max {v[-1]/1e3:.1f}"
    print(f"{kvh}x{b}x{L} {kernel}: CTAs {len(rows)}, SMs {len(per_sm)}, span median {statistics.median(spans)/1e3:.1f} us (min {min(spans)/1e3:.1f})")
    print("  start      ", q([r[0] for r in rows]))
    print("  first block", q([r[1] for r in rows]))
    print("  warp0 loop ", q([r[2] for r in rows]))
    print("  all loops  ", q([r[3] for r in rows]))
    print("  end        ", q([r[4] for r in rows]))
    dbl = [r for r in rows if per_sm[r[5]] > 1]; sgl = [r for r in rows if per_sm[r[5]] == 1]
    if dbl: print("  end, CTAs sharing an SM", q([r[4] for r in dbl]), " alone", q([r[4] for r in sgl]))
    late = sorted(rows, key=lambda r: -r[4])[:6]
    print("  latest CTAs (start, first, loops, end, sm, shares):", [(round(r[0]/1e3,1), round(r[1]/1e3,1), round(r[3]/1e3,1), round(r[4]/1e3,1), r[5], per_sm[r[5]]) for r in late])
