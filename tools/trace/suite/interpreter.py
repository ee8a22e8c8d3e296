# The python3 program of the trace suite (tools/trace/record-suite.sh): what scripts do —
# JSON in and out, regular expressions over text, counters and small objects, built and dropped.
import collections
import json
import re
import sys

n = int(sys.argv[1])
records = [{"id": i, "name": "user-%d" % (i * 7919 % n), "tags": ["t%d" % (i % 13), "g%d" % (i % 7)],
            "score": (i * 37) % 1000 / 10.0} for i in range(n)]
text = json.dumps(records)
back = json.loads(text)
words = re.findall(r"user-(\d+)", text)
counts = collections.Counter(w[-2:] for w in words)
by_tag = collections.defaultdict(list)
for r in back:
    for t in r["tags"]:
        by_tag[t].append(r["score"])
    if r["id"] % 5 == 0:
        r["name"] = r["name"].upper() * 3
summary = {t: round(sum(v) / len(v), 3) for t, v in sorted(by_tag.items())}
print(len(text), counts.most_common(3), summary["t1"], sum(len(r["name"]) for r in back))
