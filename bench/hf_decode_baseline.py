#!/usr/bin/env python3
"""Decode tokens/s of Hugging Face transformers (bf16, static KV cache) on a Llama-2-7B-shaped
model with random weights built from a LlamaConfig on the GPU (no downloads; timings do not
depend on weight values). The baseline beside `squeeze-profile capture --device cuda`.

Per batch: random prompt ids of --prompt-len tokens, greedy generate() with
cache_implementation="static" for 1 and for 1 + --gen-tokens new tokens (min = max, no EOS);
decode time = t(1 + gen) - t(1), so prefill is left out; decode tokens/s = batch * gen / that.
Median of --repeats. Eager attention-free "sdpa" path, no torch.compile (say so when reporting).

    python3 bench/hf_decode_baseline.py --batch 1,8,32 --prompt-len 512 --gen-tokens 32 --csv out.csv
"""
import argparse
import statistics
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def parse():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", default="1,8,32")
    ap.add_argument("--prompt-len", type=int, default=512)
    ap.add_argument("--gen-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--attn", default="sdpa", help="attn_implementation (sdpa or eager)")
    ap.add_argument("--csv", default="")
    a = ap.parse_args()
    try:
        a.batch = [int(x) for x in a.batch.split(",")]
    except ValueError:
        ap.error("--batch: comma-separated integers")
    if a.prompt_len < 1 or a.gen_tokens < 1 or any(b < 1 for b in a.batch):
        ap.error("--prompt-len, --gen-tokens and batches must be >= 1")
    return a


def llama2_7b_config(attn):
    # Llama-2-7B: 32 layers, 4096 hidden, 32 heads (MHA), 11008 FFN, vocab 32000.
    return LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=32, vocab_size=32000,
                       max_position_embeddings=4096, rms_norm_eps=1e-5, torch_dtype="bfloat16",
                       attn_implementation=attn)


def timed_generate(model, ids, new_tokens):
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
                   min_new_tokens=new_tokens, do_sample=False, cache_implementation="static",
                   eos_token_id=None, pad_token_id=0)
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def main():
    a = parse()
    if not torch.cuda.is_available():
        print("error: no CUDA device", file=sys.stderr)
        return 1
    torch.manual_seed(0)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = LlamaForCausalLM(llama2_7b_config(a.attn))
    model.eval()
    import transformers
    dev = torch.cuda.get_device_name(0)
    print(f"device {dev}, torch {torch.__version__}, transformers {transformers.__version__}, "
          f"weights {sum(p.numel() for p in model.parameters()) * 2 / 2**30:.2f} GiB bf16", flush=True)
    rows = []
    with torch.inference_mode():
        for b in a.batch:
            ids = torch.randint(3, 32000, (b, a.prompt_len), device="cuda")
            try:
                timed_generate(model, ids, 2)  # warm-up: cache allocation, kernel selection
                dec = []
                for _ in range(a.repeats):
                    t1 = timed_generate(model, ids, 1)
                    tn = timed_generate(model, ids, 1 + a.gen_tokens)
                    dec.append(tn - t1)
                d = statistics.median(dec)
                rows.append((b, a.prompt_len, a.gen_tokens, d / a.gen_tokens * 1e3, b * a.gen_tokens / d,
                             torch.cuda.max_memory_allocated() / 2**30, "ok"))
            except torch.OutOfMemoryError:
                rows.append((b, a.prompt_len, a.gen_tokens, 0.0, 0.0, 0.0, "oom"))
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            print("batch %d: step %.3f ms, %.1f tok/s, peak %.2f GiB, %s" % (b, *rows[-1][3:]), flush=True)
    header = "impl,device,batch,prompt_len,gen_tokens,step_ms,tokens_per_s,peak_gib,status"
    lines = [header] + [f"transformers-{a.attn}-static,{dev},{r[0]},{r[1]},{r[2]},{r[3]:.3f},{r[4]:.1f},{r[5]:.2f},{r[6]}" for r in rows]
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
