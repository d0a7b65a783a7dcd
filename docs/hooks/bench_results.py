"""MkDocs hook: publish bench/results/*.png at bench/ in the site.

The benchmark pages include bench/results/*.md (pymdownx.snippets) and show
these charts; both are what `python -m bench` last wrote, never copies.
"""

import pathlib

from mkdocs.structure.files import File

RESULTS = pathlib.Path(__file__).resolve().parents[2] / "bench" / "results"


def on_files(files, config):
    for chart in sorted(RESULTS.glob("*.png")):
        files.append(File.generated(config, f"bench/{chart.name}", abs_src_path=str(chart)))
    return files
