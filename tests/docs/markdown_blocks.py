"""Find the Python code blocks of Markdown files, and run them the way a reader would.

A block is a fenced block whose info string starts with ``python`` (or
``py``). The blocks of one page run in order in one namespace, so a later
block may use what an earlier one defined. What a block shows is checked:

* a statement ``expression  # => text`` asserts that ``repr(expression)``
  is ``text`` (``# => ...`` anywhere in ``text`` matches any characters);
* a fenced ``text`` block titled ``Output`` right after a block is what that
  block prints, exactly.

A block whose title starts with ``Not run`` (``python title="Not run: needs a
database"``) is shown but not run: the title says so on the page.
"""

import ast
import contextlib
import dataclasses
import io
import re
import textwrap

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>.*)$")
TITLE = re.compile(r'title="(?P<title>[^"]*)"')
CHECK = "# => "


@dataclasses.dataclass
class Block:
    path: str
    line: int        # 1-based line of the opening fence
    language: str
    title: str
    source: str
    output: "str | None" = None  # the Output block that follows, if any

    @property
    def runs(self):
        return self.language in ("python", "py") and not self.title.lower().startswith("not run")

    @property
    def id(self):
        return f"{self.path}:{self.line}"


def blocks(text, path):
    """Every fenced block of ``text``, in order, each with the Output block that follows it."""
    found = []
    lines = text.splitlines()
    i = 0
    previous_end = None
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            if lines[i].strip():
                previous_end = None
            i += 1
            continue
        indent, fence, info = len(match["indent"]), match["fence"], match["info"].strip()
        body = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        language = info.split()[0].strip("{}.") if info else ""
        title = TITLE.search(info)
        block = Block(path, i + 1, language, title["title"] if title else "", "\n".join(body) + "\n")
        if language == "text" and block.title == "Output" and previous_end is not None:
            found[-1].output = block.source
        else:
            found.append(block)
        previous_end = j
        i = j + 1
    return found


def _matches(expected, actual):
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


def run(block, namespace, rewrite=lambda source: source):
    """Run ``block`` in ``namespace``; AssertionError if what it shows is not what happens."""
    source = rewrite(textwrap.dedent(block.source))
    tree = ast.parse(source, filename=block.id)
    lines = source.splitlines()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for statement in tree.body:
            last = lines[statement.end_lineno - 1]
            where = f"{block.path}:{block.line + statement.lineno}"
            if isinstance(statement, ast.Expr) and CHECK in last:
                expected = last.split(CHECK, 1)[1].strip()
                value = eval(compile(ast.Expression(statement.value), where, "eval"), namespace)
                shown = repr(value)
                assert _matches(expected, shown), f"{where}: shows {expected}, gives {shown}"
            else:
                exec(compile(ast.Module([statement], type_ignores=[]), where, "exec"), namespace)
    if block.output is not None:
        assert printed.getvalue() == block.output, (
            f"{block.id}: the Output block says\n{block.output}but it printed\n{printed.getvalue()}")
