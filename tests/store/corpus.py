"""A small corpus for index tests: the seed rewrite pair, real BBC articles, and planted versions of some of
them (an exact copy, a lightly edited copy, a partial reuse), written as JSONL."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def records(shared_data: Path, n_bbc: int = 40) -> list[dict[str, str]]:
    """Seeds 000 and 004, `n_bbc` BBC articles, and three planted versions, in a fixed order."""
    out = [
        {"id": "seed-000", "text": (shared_data / "seeds/000_eb1553226c65909d.txt").read_text(encoding="utf-8")},
        {"id": "seed-004", "text": (shared_data / "seeds/004_8625c1f9bcc81fb5.txt").read_text(encoding="utf-8")},
    ]
    with gzip.open(shared_data / "bbc/docs.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            out.append({"id": f"bbc-{r['id']}", "text": r["body"]})
            if len(out) == 2 + n_bbc:
                break
    copy_src, edit_src, part_src = out[5], out[9], out[14]
    words = edit_src["text"].split(" ")
    edited = " ".join(w.upper() if i % 40 == 7 else w for i, w in enumerate(words))
    paras = [p for p in part_src["text"].split("\n") if p.strip()]
    partial = "\n\n".join(paras[:3] + ["Officials declined to comment further on the matter on Tuesday evening."])
    out.insert(20, {"id": "planted-copy", "text": copy_src["text"]})
    out.insert(30, {"id": "planted-edit", "text": edited + "\n\nThis story was updated with new details."})
    out.append({"id": "planted-part", "text": partial})
    return out


def write_jsonl(path: Path, recs: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for r in recs:
            fh.write(json.dumps(r) + "\n")
    return path
