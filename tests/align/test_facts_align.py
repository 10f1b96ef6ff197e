"""Facts across an alignment: copied wording with other figures is not verbatim, and a pair that fills the same
wording with other facts is a `template`, while a rewrite that keeps its source's facts stays a rewrite."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from retold import api
from retold.align.facts import figures_differ, lead_subject, names_only, other_subject, template_evidence
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


PRIME = (
    "{bank} said it is raising its prime lending rate to 7-3/4 pct from 7-1/2 pct, effective immediately. "
    "The bank said the increase followed a rise in its cost of funds over the past two weeks.\n"
)


def test_a_notice_of_another_subject_with_the_same_figures_is_a_template() -> None:
    """Same wording, same figures, another bank: the leads are aligned but name subjects the other never names."""
    a = Document("a", PRIME.format(bank="Marine Midland Banks Inc"))
    b = Document(
        "b", PRIME.format(bank="The First Interstate Bank of California subsidiary of First Interstate Bancorp")
    )
    assert api.compare_documents(a, b).verdict == "template"
    ev = template_evidence(analyze(a), analyze(b), api.compare_documents(a, b).alignment.passages)
    assert ev.subject and ev.template
    lead = lead_subject(analyze(a))
    assert lead is not None and lead[1].value == "marine midland banks inc"
    # The same notice sent again, or naming its bank differently ("Marine Midland"), is no template.
    again = Document("c", PRIME.format(bank="Marine Midland"))
    assert api.compare_documents(a, again).verdict != "template"


def test_leads_not_aligned_are_no_other_subject() -> None:
    """A partial reuse: one background paragraph copied into a story about someone else; the leads differ but
    are not aligned with each other."""
    background = (
        "With-profits policies are designed to smooth out the peaks and troughs of stock market volatility. "
        "Profits made in good years are kept in reserve to pay investors an annual bonus even when markets fall."
    )
    a = analyze(Document("a", "Standard Life has cut bonuses for its policyholders this year.\n\n" + background))
    b = analyze(Document("b", "Axa Sun Life has lowered its annual bonus payouts again.\n\n" + background))
    i, j = a.doc.text.index("With-"), b.doc.text.index("With-")
    copied = Passage("verbatim", i, len(a.doc.text), j, len(b.doc.text), 1.0)
    assert lead_subject(a) is not None and lead_subject(b) is not None
    assert not other_subject(a, b, [copied])
    assert api.compare_documents(a.doc, b.doc).verdict == "partial-reuse"


TEAM = "{intro}\n\n{team}\n\nReplacements: {subs}.\n"


def test_a_name_list_is_no_evidence_of_reuse() -> None:
    """Two match reports whose only shared text is a team sheet: other players named is a template (another
    match's sheet); the passage is a name list on both sides."""
    a = Document("a", TEAM.format(
        intro="Ireland beat England in a tense match in Dublin, with the captain scoring a late try to seal it.",
        team="G Murphy; G Dempsey, B O'Driscoll, S Horgan, D Hickie; R O'Gara, P Stringer; R Corrigan, S Byrne, "
        "J Hayes; M O'Kelly, P O'Connell; S Easterby, J O'Connor, A Foley",
        subs="F Sheahan, M Horan, D O'Callaghan, E Miller, G Easterby, D Humphreys, K Maggs",
    ))  # fmt: skip
    b = Document("b", TEAM.format(
        intro="The coach has named his side for the weekend's game against Scotland after two late injuries.",
        team="G Murphy; S Horgan, K Maggs, G D'Arcy, D Hickie; R O'Gara, P Stringer; R Corrigan, S Byrne, "
        "J Hayes; M O'Kelly, P O'Connell; S Easterby, J O'Connor, D Leamy",
        subs="F Sheahan, M Horan, D O'Callaghan, E Miller, G Easterby, D Humphreys, T Bowe",
    ))  # fmt: skip
    res = api.compare_documents(a, b)
    an_a, an_b = analyze(a), analyze(b)
    assert res.alignment.passages and all(names_only(an_a, an_b, p) for p in res.alignment.passages)
    assert res.verdict == "template"
    # The same lists in a match report and its rewrite: the prose is what proves reuse, not the lists.
    rewritten = Document("c", a.text.replace("in a tense match in Dublin", "in a tight game at Lansdowne Road"))
    assert api.compare_documents(a, rewritten).verdict in ("near-duplicate", "rewrite")


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
