#!/usr/bin/env python3
"""Counts the locked read-modify-write instructions a program executed, from a callgrind
profile taken with `--dump-instr=yes`:

    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=cg.out <program> <args>
    scripts/locked_ops.py cg.out [items]

An x86-64 instruction is counted when it carries a `lock` prefix or is an `xchg` with a memory
operand (locked implicitly). With `items`, the totals are also given per item. The functions
that executed the most of them are listed, so it shows where each one comes from.
"""

import collections
import re
import subprocess
import sys


def parse(path):
    """(object, address) -> instructions executed there, and (object, address) -> function."""
    cost = collections.Counter()
    func_of = {}
    names = {"ob": {}, "fn": {}}
    ob = fn = None
    addr = 0
    skip_next = False
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            m = re.match(r"^(c?ob|c?fn|c?fi|c?fe|fl|fi|fe)=\((\d+)\)(?: (.*))?$", line)
            if m:
                kind, ident, name = m.groups()
                base = kind.lstrip("c")
                if base in names:
                    if name is not None:
                        names[base][ident] = name
                    if kind == "ob":
                        ob = names["ob"][ident]
                    elif kind == "fn":
                        fn = names["fn"][ident]
                continue
            if line.startswith("calls="):
                skip_next = True
                continue
            if not (line[0] in "+-*0" or line[0].isdigit()):
                continue
            parts = line.split()
            pos = parts[0]
            if pos.startswith("0x"):
                addr = int(pos, 16)
            elif pos.startswith("+"):
                addr += int(pos[1:], 16) if pos[1:].startswith("0x") else int(pos[1:])
            elif pos.startswith("-"):
                addr -= int(pos[1:], 16) if pos[1:].startswith("0x") else int(pos[1:])
            if skip_next:
                skip_next = False
                continue
            if len(parts) >= 3:
                cost[(ob, addr)] += int(parts[2])
                func_of[(ob, addr)] = fn
    return cost, func_of


def locked_addresses(obj):
    """Addresses of the locked instructions in an object file."""
    out = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", obj], capture_output=True, text=True
    ).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"^\s*([0-9a-f]+):\s+(.*)$", line)
        if not m:
            continue
        text = m.group(2).strip()
        if text.startswith("lock ") or (text.startswith("xchg") and "(" in text):
            found[int(m.group(1), 16)] = text
    return found


def main():
    path = sys.argv[1]
    items = int(sys.argv[2]) if len(sys.argv) > 2 else None
    cost, func_of = parse(path)
    total = sum(cost.values())
    locked = 0
    by_func = collections.Counter()
    for obj in sorted({ob for ob, _ in cost if ob}):
        addrs = locked_addresses(obj)
        for (ob, addr), n in cost.items():
            if ob == obj and addr in addrs:
                locked += n
                text = addrs[addr].split()
                op = text[1] if text[0] == "lock" else text[0]
                by_func[(func_of[(ob, addr)], op)] += n
    print(f"instructions: {total:,}")
    print(f"locked RMW instructions: {locked:,}")
    if items:
        print(f"per item: {total / items:.1f} instructions, {locked / items:.2f} locked")
    for (fn, op), n in by_func.most_common(15):
        per = f" ({n / items:.2f}/item)" if items else ""
        print(f"  {n:>10,}{per}  {op:<8} {fn}")


if __name__ == "__main__":
    main()
