#!/usr/bin/env bash
# Prompt files for the results study, written OUTSIDE the repository (third-party text never
# enters it): $STUDY_TMP (default /tmp/squeeze-study).
#   tinystories.jsonl  {"text": story}            stories split on blank-line-separated story starts
#   xsum.jsonl         {"head","tail","cont"}     article body / its 1-sentence instruction / summary_gt
#   multi_news.jsonl   {"head","tail","cont"}     LongBench prompt around `context` / `answers`[0]
#   samsum.jsonl       {"head","tail","cont"}     dialogue / "Summary:" / `answer`
set -euo pipefail
SHARED=${SHARED:-/work/shared/data}
OUT=${STUDY_TMP:-/tmp/squeeze-study}
mkdir -p "$OUT"
python3 - "$SHARED" "$OUT" <<'PY'
import json, re, sys, ast
shared, out = sys.argv[1], sys.argv[2]

# TinyStories: paragraphs separated by blank lines; a story starts with a typical opener.
text = open(f"{shared}/tinystories_train_sample.Niklas6.txt", encoding="utf-8").read()
paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
starts = re.compile(r"^(Once upon a time|One day|Once there|Once,|There was|There once|Long ago|In a )")
stories, cur = [], []
for p in paras:
    if starts.match(p) and cur:
        stories.append("\n\n".join(cur)); cur = []
    cur.append(p)
if cur: stories.append("\n\n".join(cur))
with open(f"{out}/tinystories.jsonl", "w") as f:
    for s in stories: f.write(json.dumps({"text": s}) + "\n")
print("tinystories", len(stories), "stories")

with open(f"{out}/xsum.jsonl", "w") as f:
    n = 0
    for line in open(f"{shared}/xsum_0shot.h2o.jsonl"):
        r = json.loads(line); a = r["article"]
        k = a.rfind("\n\nSummarize the above article")
        if k < 0: continue
        f.write(json.dumps({"head": a[:k], "tail": a[k:], "cont": r["summary_gt"].strip()}) + "\n"); n += 1
print("xsum", n)

with open(f"{out}/multi_news.jsonl", "w") as f:
    n = 0
    for line in open(f"{shared}/longbench_multi_news.jsonl"):
        r = json.loads(line)
        ans = r["answers"]
        if isinstance(ans, str):
            try: ans = ast.literal_eval(ans)
            except Exception: ans = [ans]
        head = ("You are given several news articles. Write a one-page summary of all news. \n\nNews:\n"
                + r["context"])
        tail = "\n\nNow, write a one-page summary of all the news.\n\nSummary:"
        f.write(json.dumps({"head": head, "tail": tail, "cont": " " + ans[0].strip()}) + "\n"); n += 1
print("multi_news", n)

with open(f"{out}/samsum.jsonl", "w") as f:
    n = 0
    for line in open(f"{shared}/samsum.uniprompt.jsonl"):
        r = json.loads(line)
        f.write(json.dumps({"head": "Summarize this dialogue.\n\n" + r["question"].replace("\r\n", "\n"),
                            "tail": "\n\nSummary:", "cont": " " + r["answer"].strip()}) + "\n"); n += 1
print("samsum", n)
PY
