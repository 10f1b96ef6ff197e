"""A torture corpus built on the fly (never checked in): every kind of hostile record a real archive holds.

`build(root, seed)` writes a folder of files and returns the records it holds, one `Expect` per record that a
reader must account for (processed, skipped with a reason, or decoded with a stated fallback). The folder mixes
every input format retold reads, so a folder scan meets all of them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

Fate = Literal["ok", "skipped", "any"]

_WORDS = (
    "council minister harbour festival budget railway election protest vaccine drought bridge museum "
    "factory strike market tariff reservoir embassy treaty airport senate verdict witness hospital wildfire "
    "storm refinery copper wheat pipeline ceasefire monsoon glacier satellite parliament"
).split()


@dataclass(frozen=True, slots=True)
class Expect:
    """One input record: where it is (file relative to the root, 1-based line or row where the format has them)
    and what must become of it."""

    file: str
    line: int | None
    fate: Fate
    what: str


def article(rng: random.Random, sentences: int = 12) -> str:
    """A news-like article of random sentences over a small vocabulary (enough rare terms to pair copies)."""
    out = []
    for _ in range(sentences):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 18))]
        words[0] = words[0].capitalize()
        out.append(" ".join(words) + rng.choice([".", ".", ".", "?"]))
    paras = [" ".join(out[i : i + 3]) for i in range(0, len(out), 3)]
    return "\n\n".join(paras) + "\n"


def build(root: Path, seed: int = 0, *, big_mb: int = 50, long_line: int = 1_000_000) -> list[Expect]:
    """Write the torture corpus under `root` (created) and return what each record must become."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    exp: list[Expect] = []

    def txt(name: str, data: bytes, fate: Fate, what: str) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        exp.append(Expect(name, None, fate, what))

    base = article(rng)
    txt("plain/original.txt", base.encode(), "ok", "a plain article")
    txt("plain/copy.txt", base.encode(), "ok", "an exact copy of it")
    txt("plain/crlf.txt", base.replace("\n", "\r\n").encode(), "ok", "CRLF line ends")
    txt("empty/empty.txt", b"", "skipped", "empty file")
    txt("empty/blank.txt", b" \n\t\r\n  \n", "skipped", "whitespace only")
    txt("empty/bom-only.txt", b"\xef\xbb\xbf\n", "skipped", "a BOM and a newline")
    txt("binary/blob.txt", bytes(rng.randrange(256) for _ in range(4096)), "skipped", "random bytes")
    txt("binary/nul-late.txt", base.encode() + b"\0\0\0" + base.encode(), "any", "a NUL after the sniffed bytes")
    txt("enc/bad-utf8.txt", base.encode()[:200] + b"\xff\xfe\xfa" + base.encode()[200:], "any", "invalid UTF-8")
    txt("enc/latin1.txt", ("Caf\u00e9 na\u00efve r\u00e9sum\u00e9 " + base).encode("latin-1"), "any", "latin-1")
    txt("enc/cp1252.txt", ("\u201cQuoted\u201d \u2013 dash \u20ac5 " + base).encode("cp1252"), "any", "cp1252")
    txt("enc/utf16-bom.txt", b"\xff\xfe" + base.encode("utf-16-le"), "ok", "UTF-16 LE with BOM")
    txt("enc/utf16be-bom.txt", b"\xfe\xff" + base.encode("utf-16-be"), "ok", "UTF-16 BE with BOM")
    txt("enc/utf8-bom.txt", b"\xef\xbb\xbf" + base.encode(), "ok", "UTF-8 with BOM")
    para = article(rng, 30)
    big = (para * (big_mb * (1 << 20) // len(para) + 1)).encode()[: big_mb << 20]
    txt("huge/big.txt", big, "any", f"a {big_mb} MB article")
    txt(
        "huge/long-line.txt",
        (" ".join(rng.choice(_WORDS) for _ in range(long_line // 7)))[:long_line].encode(),
        "any",
        "one enormous line, no sentence end",
    )
    rep = "The council approved the harbour budget after a long debate on Tuesday. " * 250
    txt("repeat/repeated.txt", rep.encode(), "ok", "one sentence 250 times")
    txt("repeat/repeated-copy.txt", rep.encode(), "ok", "its copy")
    txt(
        "scripts/rtl.txt",
        (
            "\u0627\u0644\u0645\u062c\u0644\u0633 \u0648\u0627\u0641\u0642 \u0639\u0644\u0649 "
            "\u0627\u0644\u0645\u064a\u0632\u0627\u0646\u064a\u0629. " * 30
        ).encode(),
        "ok",
        "Arabic (RTL)",
    )
    txt(
        "scripts/cjk.txt",
        ("\u8bae\u4f1a\u6279\u51c6\u4e86\u6e2f\u53e3\u9884\u7b97\u3002" * 60).encode(),
        "ok",
        "Chinese",
    )
    txt("scripts/zero-width.txt", base.replace(" ", " \u200b\u200d\u2060").encode(), "ok", "zero-width characters")
    txt("scripts/controls.txt", base.replace(". ", ".\x07\x1b[31m ").encode(), "ok", "control characters")
    txt(
        "scripts/html.txt",
        (
            "<html><head><script>alert(1)</script></head><body><div class='nav'>Home | News"
            "</div><p>" + base.replace("\n\n", "</p><p>") + "</p><!-- comment --></body></html>"
        ).encode(),
        "ok",
        "HTML-laden text",
    )
    txt("other/notes.md", base.encode(), "any", "a file of another kind in the folder")
    txt("other/image.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "skipped", "an image in the folder")

    # JSON lines: one hostile record per line.
    lines: list[tuple[str, Fate, str]] = [
        (json.dumps({"id": "j-ok", "text": article(rng), "date": "2021-09-06"}), "ok", "a good record"),
        ("{not json", "skipped", "malformed JSON"),
        ('{"id": "j-bigint", "text": "x", "n": ' + "9" * 5000 + "}", "any", "a 5,000-digit number"),
        ("[" * 100_000 + "]" * 100_000, "skipped", "deeply nested brackets"),
        ('"just a string"', "skipped", "not an object"),
        (json.dumps({"id": "j-notext"}), "skipped", "no text field"),
        (json.dumps({"id": "j-numtext", "text": 42}), "skipped", "text is a number"),
        (json.dumps({"id": "j-nulltext", "text": None}), "skipped", "text is null"),
        (json.dumps({"id": "j-dup", "text": article(rng)}), "ok", "first of a duplicate id"),
        (json.dumps({"id": "j-dup", "text": article(rng)}), "skipped", "same id, other text"),
        (json.dumps({"id": "j-date1", "text": article(rng), "date": "2021-13-45"}), "ok", "impossible date"),
        (
            json.dumps({"id": "j-date2", "text": article(rng), "date": "0001-01-01T00:00:00+05:00"}),
            "ok",
            "date before year 1 in UTC",
        ),
        (
            json.dumps({"id": "j-date3", "text": article(rng), "date": "9999-12-31T23:59:59-05:00"}),
            "ok",
            "date after year 9999 in UTC",
        ),
        (json.dumps({"id": "j-date4", "text": base, "date": "yesterday"}), "ok", "a date that is not one"),
        (json.dumps({"id": "j-nul\u0000id", "text": article(rng)}), "any", "an id with a NUL"),
        (json.dumps({"id": "../../etc/passwd", "text": article(rng)}), "ok", "an id with .."),
        (json.dumps({"id": "a/b\\c", "text": article(rng)}), "ok", "an id with path separators"),
        (json.dumps({"id": "x'); DROP TABLE docs;--", "text": article(rng)}), "ok", "an SQL fragment"),
        (json.dumps({"id": "j-rtl", "text": "\u202eevil\u202c " + article(rng)}), "ok", "bidi override"),
        (json.dumps({"id": "j-surrogate", "text": "\ud800 broken"}), "skipped", "a lone surrogate"),
        (json.dumps({"id": ["a"], "text": article(rng)}), "skipped", "an id that is an array"),
        (json.dumps({"id": "j-html", "text": "<p>" + base + "</p><script>x()</script>"}), "ok", "HTML"),
        ("", "any", "a blank line"),
        (json.dumps({"text": article(rng)}), "ok", "a record without id"),
    ]
    body = b""
    n = 0
    for i, (line, fate, what) in enumerate(lines, 1):
        body += line.encode("utf-8", "surrogatepass") + b"\n"
        if line:
            exp.append(Expect("json/records.jsonl", i, fate, what))
            n += 1
    body += b"\xff\xfe not utf-8\n"
    exp.append(Expect("json/records.jsonl", len(lines) + 1, "skipped", "a line that is not UTF-8"))
    (root / "json").mkdir(exist_ok=True)
    (root / "json" / "records.jsonl").write_bytes(body)

    # Two id-less files of the same name in two folders: their ids must not collide.
    for sub in ("a", "b"):
        (root / "same" / sub).mkdir(parents=True, exist_ok=True)
        recs = [{"text": article(rng)} for _ in range(3)]
        (root / "same" / sub / "docs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), "utf-8")
        exp.extend(Expect(f"same/{sub}/docs.jsonl", k, "ok", "id-less record") for k in (1, 2, 3))

    # A gzip file cut short.
    gz = gzip.compress("".join(json.dumps({"id": f"gz-{k}", "text": article(rng)}) + "\n" for k in range(20)).encode())
    (root / "json" / "cut.jsonl.gz").write_bytes(gz[: len(gz) // 2])
    exp.append(Expect("json/cut.jsonl.gz", None, "any", "a truncated gzip stream"))

    # CSV: a good row, then an unterminated quote that must not swallow the rows after it silently.
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "text", "date"])
    w.writerow(["c-1", article(rng), "2020-01-01"])
    w.writerow(["c-2", article(rng), ""])
    raw = buf.getvalue() + 'c-3,"an unterminated quote runs on\nc-4,' + article(rng).replace("\n", " ") + ",\n"
    (root / "csv").mkdir(exist_ok=True)
    (root / "csv" / "rows.csv").write_text(raw, "utf-8")
    exp.extend(
        [
            Expect("csv/rows.csv", 2, "ok", "a CSV row"),
            Expect("csv/rows.csv", 3, "ok", "a CSV row"),
            Expect("csv/rows.csv", 4, "any", "an unterminated quote"),
        ]
    )

    # Parquet with a null text and a non-string id column.
    (root / "pq").mkdir(exist_ok=True)
    table = pa.table({"id": ["p-1", "p-2", None], "text": [article(rng), None, article(rng)]})
    pq.write_table(table, root / "pq" / "rows.parquet")
    exp.extend(
        [
            Expect("pq/rows.parquet", 1, "ok", "a Parquet row"),
            Expect("pq/rows.parquet", 2, "skipped", "null text"),
            Expect("pq/rows.parquet", 3, "ok", "a Parquet row without id"),
        ]
    )
    (root / "pq" / "broken.parquet").write_bytes(b"PAR1" + bytes(100))
    exp.append(Expect("pq/broken.parquet", None, "skipped", "a corrupt Parquet file"))
    return exp


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.torture FOLDER   (writes the torture corpus there, about 60 MB)")
    records = build(Path(sys.argv[1]))
    print(f"{len(records)} records in {sys.argv[1]}")
