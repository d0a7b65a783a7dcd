"""The README is the landing page: short, its figures written by the bench, and valid for PyPI."""

import json
import pathlib
import re
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"

if not (ROOT / "bench").is_dir():
    pytest.skip("no bench/ beside tests/ (a test run from an sdist's or a wheel's tests only)",
                allow_module_level=True)

sys.path.insert(0, str(ROOT))
from bench import hitratio as hitratio_tables  # noqa: E402
from bench import report  # noqa: E402


def test_readme_headline_is_what_the_bench_results_say():
    latest = json.loads((RESULTS / "latest.json").read_text())
    hitratio = json.loads((RESULTS / "hitratio.json").read_text())
    async_tier = json.loads((RESULTS / "async.json").read_text())["async"]
    text = (ROOT / "README.md").read_text()
    start = text.index(report.README_START) + len(report.README_START)
    expected = report.headline(latest, hitratio, async_tier)
    assert text[start:text.index(report.README_END)].strip() == expected


def test_readme_hit_ratio_section_is_what_the_bench_results_say():
    hitratio = json.loads((RESULTS / "hitratio.json").read_text())
    text = (ROOT / "README.md").read_text()
    start = text.index(report.README_HITRATIO_START) + len(report.README_HITRATIO_START)
    section = text[start:text.index(report.README_HITRATIO_END)].strip()
    assert section == hitratio_tables.readme_section(hitratio)
    # Both tables, every row: the tuning traces and the held-out families.
    for table in ("miss_ratio", "held_out"):
        for trace, by_capacity in hitratio[table].items():
            for capacity in by_capacity:
                assert f"| {trace} | {int(capacity):,} |" in section


def test_readme_fits_on_two_screens_and_keeps_the_two_commands():
    text = (ROOT / "README.md").read_text()
    # What a reader sees at first: the hit-ratio rows are folded in <details> blocks.
    folded = re.sub(r"<details>.*?</details>", "", text, flags=re.S)
    assert len(folded.splitlines()) <= 150
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
