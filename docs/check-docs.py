#!/usr/bin/env python3
"""Checks that the user guide matches the code: run by ctest as docs_check.

Usage: docs/check-docs.py [REPO_ROOT]

For README.md, docs/*.md, examples/README.md and bench/README.md:
  * every relative link points to a file that exists, and every #anchor into a
    markdown file to one of its headings (GitHub's heading slugs);
  * every sj_... / SJ_... name is declared in a public header, or, for
    environment variables, build options, script settings and the Fortran
    module's own names, appears in the sources (fortran/ included), the CMake
    files or the scripts (a name ending in '_' is a prefix and is skipped);
  * every call `sj_f(a, b, ...)` written in code (fenced blocks and inline
    code) has as many arguments as the header's declaration of sj_f;
  * README.md links every page of docs/ (its documentation table), except
    api-mainpage.md, the Doxygen main page.
Prints one line per problem and exits 1 when there is any.
"""
import glob
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def pages():
    names = ["README.md", "examples/README.md", "bench/README.md"]
    names += sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return [n for n in names if os.path.exists(os.path.join(ROOT, n))]


def slug(heading):
    heading = heading.replace("`", "").strip().lower()
    heading = re.sub(r"[^\w\- ]", "", heading)
    return heading.replace(" ", "-")


def anchors(path):
    found, seen, fenced = set(), {}, False
    for line in read(path).splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else re.match(r"^#+\s+(.*)", line)
        if m:
            s = slug(m.group(1))
            seen[s] = seen.get(s, -1) + 1
            found.add(s if seen[s] == 0 else f"{s}-{seen[s]}")
    return found


def header_text():
    files = glob.glob(os.path.join(ROOT, "include", "starjets", "*.h"))
    files += [os.path.join(ROOT, "include", "starjets.h"), os.path.join(ROOT, "include", "starjets", "config.h.in")]
    return "".join(read(f) for f in files if os.path.exists(f))


def other_text():
    files = []
    for pattern in ("src/*/*.c", "src/*/*.h", "codelets/*.c", "CMakeLists.txt", "*/CMakeLists.txt",
                    "cmake/*", "scripts/*", "bench/run", "tools/*", "fortran/*.F90", "fortran/*.inc"):
        files += glob.glob(os.path.join(ROOT, pattern))
    text = []
    for f in files:
        if os.path.isfile(f):
            try:
                text.append(read(f))
            except UnicodeDecodeError:
                pass
    return "".join(text)


def arities(headers):
    code = re.sub(r"/\*.*?\*/", "", headers, flags=re.S)
    found = {}
    for m in re.finditer(r"\b(sj_\w+)\s*\(([^;{}]*?)\)\s*;", code, re.S):
        args = m.group(2).strip()
        if "(" in args:  # a function-pointer typedef, not a declaration
            continue
        found.setdefault(m.group(1), 0 if args in ("", "void") else args.count(",") + 1)
    return found


def calls(code):
    """(name, argument count) of every sj_f(...) call with balanced parentheses."""
    for m in re.finditer(r"\b(sj_\w+)\(", code):
        i, depth = m.end(), 1
        j = i
        while j < len(code) and depth:
            depth += {"(": 1, ")": -1}.get(code[j], 0)
            j += 1
        inner = code[i:j - 1].strip()
        if depth or inner in ("", "...", "void") or "..." in inner:
            continue
        n, level = 1, 0
        for ch in inner:
            if ch in "([{":
                level += 1
            elif ch in ")]}":
                level -= 1
            elif ch == "," and level == 0:
                n += 1
        yield m.group(1), n, inner


def main():
    headers = header_text()
    elsewhere = other_text()
    arity = arities(headers)
    problems = []
    for page in pages():
        path = os.path.join(ROOT, page)
        text = read(path)
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        for m in re.finditer(r"\]\(([^)\s]+)\)", prose):
            target = m.group(1)
            if re.match(r"[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            if not os.path.exists(full):
                problems.append(f"{page}: link to a missing file: {target}")
            elif anchor and full.endswith(".md") and anchor not in anchors(full):
                problems.append(f"{page}: link to a missing heading: {target}")
        for name in sorted(set(re.findall(r"\b(?:sj|SJ)_[A-Za-z0-9_]*[A-Za-z0-9]\b", text))):
            if not re.search(r"\b" + re.escape(name) + r"\b", headers) and \
               not re.search(r"\b" + re.escape(name) + r"\b", elsewhere):
                problems.append(f"{page}: {name} is in no public header, source, CMake file or script")
        code = "\n".join(re.findall(r"```c\n(.*?)```", text, flags=re.S))
        code += "\n" + "\n".join(re.findall(r"`([^`\n]+)`", prose))
        for name, n, inner in calls(code):
            if name in arity and arity[name] != n:
                problems.append(f"{page}: {name}({inner}) has {n} argument(s), the header declares {arity[name]}")
    readme = read(os.path.join(ROOT, "README.md"))
    for page in pages():
        if page.startswith("docs/") and page != "docs/api-mainpage.md" and f"]({page})" not in readme:
            problems.append(f"README.md: the documentation table does not link {page}")
    for p in problems:
        print(p)
    print(f"check-docs: {len(pages())} pages, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
