"""cmcore.files: atomic writes with unique temporary names, so concurrent writers never clash."""
from __future__ import annotations

import json
import threading

import pytest

from cmcore.files import atomic_path, atomic_write

WRITES = 200  # per writer: enough interleaving for a shared temporary name to collide


def test_two_concurrent_writers_of_one_file_never_clash(tmp_path):
    target = tmp_path / "sub" / "study.json"
    texts = [json.dumps({"writer": w, "payload": "x" * 50_000}) for w in range(2)]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(text: str) -> None:
        start.wait()
        try:
            for _ in range(WRITES):
                atomic_write(target, text)
                assert json.loads(target.read_text())["payload"]  # a reader always sees a whole file
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert target.read_text() in texts  # the last replace wins, whole
    assert [p.name for p in target.parent.iterdir()] == ["study.json"]  # no temporary file left behind


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = atomic_write(tmp_path / "a.json", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o644)
