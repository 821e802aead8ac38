"""The demo corpus: what it reads from installed packages does not depend on where they are installed."""

from __future__ import annotations

from pathlib import Path

from curate.demo.corpus import package_files

META = "Metadata-Version: 2.1\nName: tinypkg\n\nA small package that parses calendars and prints them.\n"


def _site(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_ids_and_sample_do_not_depend_on_where_site_packages_lives(tmp_path):
    files = {"tinypkg-1.0.dist-info/METADATA": META, "tinypkg-1.0.dist-info/LICENSE": "MIT License\nPermission is granted.\n",
             "other-2.0.dist-info/METADATA": META.replace("tinypkg", "other")}
    here = _site(tmp_path / "a" / ".venv" / "lib" / "site-packages", files)
    there = _site(tmp_path / "elsewhere" / "clone" / "venv2" / "lib" / "site-packages", files)
    for kind in ("docs", "licenses"):
        assert list(package_files(kind, [here])) == list(package_files(kind, [there])) != []
    assert [i for i, _ in package_files("docs", [here])] == ["site:other-2.0.dist-info/METADATA", "site:tinypkg-1.0.dist-info/METADATA"]


def test_a_file_in_two_site_folders_is_taken_once_whatever_their_order(tmp_path):
    first = _site(tmp_path / "x" / "site-packages", {"pkg/README.md": "Version two of the package, with more words.\n"})
    second = _site(tmp_path / "y" / "site-packages", {"pkg/README.md": "Version one of the package.\n"})
    one_way, other_way = list(package_files("docs", [first, second])), list(package_files("docs", [second, first]))
    assert one_way == other_way == [("site:pkg/README.md", "Version one of the package.\n")]
