"""Facts across an alignment: copied wording with other figures is not verbatim, and a pair that fills the same
wording with other facts is a `template`, while a rewrite that keeps its source's facts stays a rewrite."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from retold import api
from retold.align.facts import figures_differ, template_evidence
from retold.model import Document, Passage
from retold.text.analyze import analyze

NOTICE = (
    "{issuer} is issuing a {size} mln dlr eurobond due {due} paying {coupon} pct and priced at {price} pct, "
    "lead manager {lead} said.\n\n"
    "The non-callable bond is available in denominations of 1,000 and 10,000 dlrs and will be listed in "
    "Luxembourg. The selling concession is {sell} pct while management and underwriting combined pays 5/8 pct.\n\n"
    "The payment date is {pay}.\n"
)
A = dict(issuer="Commerzbank AG", size="100", due="1992", coupon="7-1/4", price="101-3/8", lead="Deutsche Bank",
         sell="1-1/4", pay="April 2")  # fmt: skip
B = dict(issuer="Nordic Investment Bank", size="75", due="1994", coupon="8-1/2", price="100-7/8",
         lead="Morgan Guaranty Ltd", sell="1-3/8", pay="March 30")  # fmt: skip


def test_a_notice_of_another_issuer_is_a_template() -> None:
    res = api.compare_documents(Document("a", NOTICE.format(**A)), Document("b", NOTICE.format(**B)))
    assert res.verdict == "template"


def test_a_resend_with_the_same_facts_is_not_a_template() -> None:
    again = NOTICE.format(**A) + "\nThis story was first sent on Tuesday.\n"
    res = api.compare_documents(Document("a", NOTICE.format(**A)), Document("b", again))
    assert res.verdict in ("duplicate", "near-duplicate")


def test_copied_wording_with_other_figures_is_not_verbatim() -> None:
    a, b = analyze(Document("a", NOTICE.format(**A))), analyze(Document("b", NOTICE.format(**{**A, "sell": "2"})))
    res = api.compare_documents(a.doc, b.doc)
    i = a.doc.text.index("The selling concession")
    j = b.doc.text.index("The selling concession")
    for p in res.alignment.passages:
        if p.a_start <= i + 30 < p.a_end and p.b_start <= j + 30 < p.b_end:
            assert p.label == "paraphrase"
            assert figures_differ(a, b, p)
    assert any(p.label == "verbatim" for p in res.alignment.passages)  # the rest stays a copy
    whole = Passage("verbatim", 0, len(a.doc.text), 0, len(b.doc.text), 1.0)
    assert figures_differ(a, b, whole) and not figures_differ(a, a, whole)


def test_evidence_is_per_linked_sentence_and_whole() -> None:
    a, b = analyze(Document("a", NOTICE.format(**A))), analyze(Document("b", NOTICE.format(**B)))
    whole = Passage("paraphrase", 0, len(a.doc.text), 0, len(b.doc.text), 1.0)
    ev = template_evidence(a, b, [whole])
    assert ev.template and ev.whole.other_facts and len(ev.sentences) == 1
    assert not template_evidence(a, a, [whole]).template


def test_the_seed_rewrite_and_the_news_rewrites_are_no_templates(shared_data: Path) -> None:
    seed_a, seed_b = (api.read_text_file(shared_data / p) for p in (api.SEED_A, api.SEED_B))
    assert api.compare_documents(seed_a, seed_b).verdict == "rewrite"
    docs = {
        d["id"]: Document(d["id"], d["text"])
        for d in map(json.loads, (shared_data / "news-rewrites/docs.jsonl").read_text(encoding="utf-8").splitlines())
    }
    gold = [json.loads(x) for x in (shared_data / "news-rewrites/gold.jsonl").read_text(encoding="utf-8").splitlines()]
    verdicts = [api.compare_documents(docs[g["b"]], docs[g["a"]]).verdict for g in gold if g["kind"] != "same-event"]
    assert "template" not in verdicts and len(verdicts) == 36


@pytest.fixture(scope="module")
def notices(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two eurobond notices of other issuers (a template pair) and an exact copy of one (a duplicate pair)."""
    want = {"1475", "2245"}
    rows = []
    with gzip.open(shared_data / "reuters21578/docs.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if str(r["id"]) in want:
                rows.append({"id": str(r["id"]), "text": r["body"]})
    rows.append({"id": "1475-copy", "text": rows[0]["text"]})
    path = tmp_path_factory.mktemp("notices") / "n.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["separate", "duplicate", "ignore"])
def test_template_modes_of_the_export(notices: Path, tmp_path: Path, mode: str) -> None:
    out = tmp_path / mode
    api.scan_corpus([notices], out, templates=mode)  # type: ignore[arg-type]
    pairs = [json.loads(x) for x in (out / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
    verdicts = sorted(p["verdict"] for p in pairs)
    fams = [f for f in map(json.loads, (out / "families.jsonl").read_text(encoding="utf-8").splitlines())]
    sizes = sorted(len(f["members"]) for f in fams)
    if mode == "ignore":
        assert "template" not in verdicts and sizes == [1, 2]
    elif mode == "separate":
        assert verdicts.count("template") == 2 and sizes == [1, 2]  # the copy links; templates do not
    else:
        assert verdicts.count("template") == 2 and sizes == [3]
