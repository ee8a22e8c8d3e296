# The workload behind tests/data/python_threads.trace: two threads building and dropping
# strings and lists of mixed sizes (pymalloc serves the small ones; malloc the rest).
import threading
def work(seed, out):
    live = {}
    for i in range(6000):
        k = (i * seed) % 1500
        live[k] = ("x" * (64 + (i * 37) % 3000), [i] * ((i * 11) % 400))
        if i % 3 == 0:
            live.pop((k * 7) % 1500, None)
    out.append(sum(len(s) + len(l) for s, l in live.values()))
out = []
ts = [threading.Thread(target=work, args=(s, out)) for s in (3, 5)]
for t in ts: t.start()
for t in ts: t.join()
print(sorted(out))
