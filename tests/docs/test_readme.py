"""The README is the landing page: short, its figures written by the bench, and valid for PyPI."""

import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"

if not (ROOT / "bench").is_dir():
    pytest.skip("no bench/ beside tests/ (a test run from an sdist's or a wheel's tests only)",
                allow_module_level=True)

sys.path.insert(0, str(ROOT))
from bench import report  # noqa: E402


def test_readme_headline_is_what_the_bench_results_say():
    latest = json.loads((RESULTS / "latest.json").read_text())
    hitratio = json.loads((RESULTS / "hitratio.json").read_text())
    async_tier = json.loads((RESULTS / "async.json").read_text())["async"]
    text = (ROOT / "README.md").read_text()
    start = text.index(report.README_START) + len(report.README_START)
    expected = report.headline(latest, hitratio, async_tier)
    assert text[start:text.index(report.README_END)].strip() == expected


def test_readme_fits_on_two_screens_and_keeps_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    assert "pip install . && python examples/simple_demo.py" in text
    assert "pip install '.[test]' && python -m pytest" in text


def test_update_readme_rewrites_only_the_headline(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{report.README_START}\nstale figures\n{report.README_END}\nafter\n")
    report.update_readme(str(RESULTS), str(readme))
    text = readme.read_text()
    assert text.startswith(f"before\n{report.README_START}\n| last run:")
    assert "stale figures" not in text and text.endswith(f"{report.README_END}\nafter\n")


def test_update_readme_leaves_a_readme_without_the_block_alone(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no headline here\n")
    assert report.update_readme(str(RESULTS), str(readme)) is False
    assert readme.read_text() == "no headline here\n"
