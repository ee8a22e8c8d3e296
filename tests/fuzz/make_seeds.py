#!/usr/bin/env python3
"""Writes the seed corpus (tests/fuzz/corpus/<target>/): deterministic inputs that reach every
composition and every operation, so the fuzzers start from covered ground and the replay tests
exercise each path. Rerun after changing the input format in operations.hpp."""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
COMPOSITIONS = 12  # per target: 6 search policies x 2 compositions (see fuzz_*.cpp)


def allocation(rng, size_kind=None):
    op = rng.randrange(0, 6)
    kind = rng.randrange(0, 8) if size_kind is None else size_kind
    size = rng.randrange(0, 65536)
    align = rng.randrange(0, 256)
    return [op, kind, size & 0xFF, size >> 8, align, rng.randrange(256)]


def random_ops(rng, steps):
    out = []
    for _ in range(steps):
        r = rng.random()
        if r < 0.45:
            out += allocation(rng)
        elif r < 0.75:
            out += [rng.choice([6, 7, 8, 9, 10, 11]), rng.randrange(256)]      # free sized / unsized
        elif r < 0.85:
            out += [rng.choice([12, 13]), rng.randrange(256), rng.randrange(8), rng.randrange(256), rng.randrange(256)]
        elif r < 0.92:
            out += [14, rng.randrange(8), rng.randrange(256), rng.randrange(256), rng.randrange(256)]  # reserve
        elif r < 0.99:
            out += [15, rng.randrange(256)]                                   # bad input
        else:
            out += [0xFF]                                                     # release
    return out


def churn(rng):
    """Fill up with one size, free every other block, refill with another size: splits and merges."""
    out = []
    for _ in range(40):
        out += allocation(rng, size_kind=7)
    for i in range(40):
        out += [6 if i % 2 else 9, 2 * (i % 20)]
    for _ in range(30):
        out += allocation(rng, size_kind=4)
    out += [0xFF]
    for _ in range(20):
        out += allocation(rng, size_kind=6)
    return out


def main():
    for target in ("fuzz_search", "fuzz_checked"):
        folder = os.path.join(HERE, "corpus", target)
        os.makedirs(folder, exist_ok=True)
        for c in range(COMPOSITIONS):
            rng = random.Random(f"{target}-{c}")
            seeds = {"short": random_ops(rng, 60), "long": random_ops(rng, 400), "churn": churn(rng)}
            for name, body in seeds.items():
                with open(os.path.join(folder, f"{c:02d}-{name}"), "wb") as f:
                    f.write(bytes([c]) + bytes(body))


if __name__ == "__main__":
    main()
