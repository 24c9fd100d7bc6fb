"""Checks a docs page against the code: every ```cpp block preceded by
<!-- file: PATH --> must equal that file, and every ```console block whose first line is
`$ PROGRAM ARGS` (continued with trailing backslashes) is run from the build directory and its
output compared with the block's remaining lines. A line `...` in a block skips any number of
output lines. Usage: doc_check.py DOC SOURCE_DIR BUILD_DIR"""
import os
import re
import shlex
import subprocess
import sys

doc, source_dir, build_dir = (os.path.abspath(p) for p in sys.argv[1:4])
PROGRAMS = {"agexpr": "tools/agexpr", "seed_004_relu_net": "examples/seed_004_relu_net",
            "explain_intro": "examples/explain_intro"}
text = open(doc, encoding="utf-8").read()
failures = []
checked = 0


def matches(expected, actual):
    """expected lines with '...' wildcards against actual lines."""
    i = 0
    j = 0
    while i < len(expected):
        if expected[i] == "...":
            if i + 1 == len(expected):
                return True
            while j < len(actual) and actual[j] != expected[i + 1]:
                j += 1
            if j == len(actual):
                return False
            i += 1
            continue
        if j >= len(actual) or actual[j] != expected[i]:
            return False
        i += 1
        j += 1
    return j == len(actual)


for m in re.finditer(r"(?:<!-- file: (\S+) -->\n)?```(\w+)\n(.*?)```", text, re.S):
    path, kind, body = m.group(1), m.group(2), m.group(3)
    if kind == "cpp" and path:
        checked += 1
        if open(os.path.join(source_dir, path), encoding="utf-8").read() != body:
            failures.append(f"the ```cpp block differs from {path}")
    if kind != "console" or not body.startswith("$ "):
        continue
    lines = body.rstrip("\n").split("\n")
    command = lines[0][2:]
    k = 1
    while command.endswith("\\"):
        command = command[:-1] + " " + lines[k].strip()
        k += 1
    args = shlex.split(command)
    if args[0] not in PROGRAMS:
        continue
    checked += 1
    args[0] = os.path.join(build_dir, PROGRAMS[args[0]])
    run = subprocess.run(args, cwd=build_dir, capture_output=True, text=True)
    actual = (run.stdout + run.stderr).rstrip("\n").split("\n")
    if not matches(lines[k:], actual):
        failures.append(f"output of `{command}` differs:\n" + "\n".join(actual[:80]))
for f in failures:
    print("FAIL:", f)
print(f"{doc}: {checked} blocks checked, {len(failures)} failures")
sys.exit(1 if failures else 0)
