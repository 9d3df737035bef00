#!/usr/bin/env python3
"""The shape of a Wasm module: how many functions, their code bytes, and the largest ones.

Envoy's V8 compiles the whole module with TurboFan when it loads it, and the memory that
leaves behind follows the largest functions more than the module's size
(docs/performance.md). Names show when the module keeps its `name` section, e.g. a build
with `CARGO_PROFILE_RELEASE_STRIP=false`.

    python3 scripts/wasm-functions.py [--top N] FILE.wasm [FILE.wasm ...]
"""
import argparse


def leb(b, i):
    value = shift = 0
    while True:
        x = b[i]
        i += 1
        value |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            return value, i


def skip_limits(b, j):
    flags = b[j]
    _, j = leb(b, j + 1)
    if flags & 1:
        _, j = leb(b, j)
    return j


def shape(path):
    b = open(path, "rb").read()
    i, imported, sizes, names = 8, 0, [], {}
    while i < len(b):
        section = b[i]
        n, i = leb(b, i + 1)
        body = b[i:i + n]
        if section == 2:  # imports: function indices start after the imported functions
            count, j = leb(body, 0)
            for _ in range(count):
                for _ in range(2):  # module and field names
                    length, j = leb(body, j)
                    j += length
                kind = body[j]
                j += 1
                if kind == 0:
                    _, j = leb(body, j)
                    imported += 1
                elif kind == 1:
                    j = skip_limits(body, j + 1)
                elif kind == 2:
                    j = skip_limits(body, j)
                elif kind == 3:
                    j += 2
        elif section == 10:
            count, j = leb(body, 0)
            for k in range(count):
                size, j = leb(body, j)
                sizes.append((size, imported + k))
                j += size
        elif section == 0:
            length, j = leb(body, 0)
            if body[j:j + length] == b"name":
                j += length
                while j < len(body):
                    sub = body[j]
                    sub_len, j = leb(body, j + 1)
                    end = j + sub_len
                    if sub == 1:
                        count, j = leb(body, j)
                        for _ in range(count):
                            index, j = leb(body, j)
                            length, j = leb(body, j)
                            names[index] = body[j:j + length].decode("utf-8", "replace")
                            j += length
                    j = end
        i += n
    sizes.sort(reverse=True)
    return sizes, names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=5)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    for path in args.files:
        sizes, names = shape(path)
        print(f"{path}: {len(sizes)} functions, {sum(s for s, _ in sizes)} code bytes")
        for size, index in sizes[:args.top]:
            print(f"  {size:7d}  {names.get(index, f'function {index}')[:120]}")


if __name__ == "__main__":
    main()
