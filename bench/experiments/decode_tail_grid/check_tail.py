# Outputs of two FFI builds, forced tma4, at the shapes given: the tail-grid build against main.
#   python3 check_tail.py main.so tail.so 8,17,1024 8,18,1536
import sys, os, torch
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
import decode_attention_compare as dc
libs = [dc.load_lib(p) for p in sys.argv[1:3]]
for spec in sys.argv[3:]:
    kvh, b, L = map(int, spec.split(","))
    sh = dc.Shape(libs[0], b, kvh, L)
    outs = []
    for lib in libs:
        sh.lib = lib
        sh.work.zero_()
        sh.ours("tma4")(0); torch.cuda.synchronize(); outs.append(sh.out.clone())
    print(spec, "max diff", (outs[0].float() - outs[1].float()).abs().max().item())
