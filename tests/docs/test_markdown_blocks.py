"""The example runner's own rules: a wrong example must fail, a right one pass."""

import pytest

from markdown_blocks import blocks, run

PAGE = '''
Some text.

```python
x = 2
x * 21  # => 42
print("hi", x)
```

```text title="Output"
hi 2
```

```python title="Not run: needs a database"
db.load(1)
```

```bash
echo not python
```
'''


def test_blocks_finds_python_blocks_their_output_and_the_not_run_mark():
    found = blocks(PAGE, "page.md")
    assert [(b.language, b.line, b.runs) for b in found] == [
        ("python", 4, True), ("python", 14, False), ("bash", 18, False)]
    assert found[0].output == "hi 2\n"


def test_run_checks_shown_values_and_output():
    namespace = {}
    run(blocks(PAGE, "page.md")[0], namespace)
    assert namespace["x"] == 2


@pytest.mark.parametrize("source, output, message", [
    ("1 + 1  # => 3\n", None, "shows 3, gives 2"),
    ("print('a')\n", "b\n", "the Output block says"),
    ("raise ValueError('boom')\n", None, "boom"),
])
def test_run_fails_when_the_page_is_wrong(source, output, message):
    text = f"```python\n{source}```\n" + (f"\n```text title=\"Output\"\n{output}```\n" if output else "")
    (block,) = blocks(text, "wrong.md")
    with pytest.raises((AssertionError, ValueError), match=message):
        run(block, {})


def test_ellipsis_in_a_shown_value_matches_anything():
    (block,) = blocks("```python\n{'a': 1.23456}  # => {'a': 1.2...}\n```\n", "e.md")
    run(block, {})
