"""Map an alignment to a verdict.

Rules, in order (cut-offs in `VerdictConfig`):
- ``duplicate``: the same content tokens after normalisation (attribution and date headers ignored);
- ``unrelated``: less than `partial_chars` aligned on either side, or no strong evidence: neither a verbatim
  passage of `min_verbatim_chars` nor a paraphrase passage of `min_paraphrase_chars` scoring
  `min_passage_score` (weak paraphrase links and a shared stock phrase are what independent reports of one
  event share);
- ``near-duplicate``: at least `near_duplicate_verbatim` of the aligned text verbatim, one side at least
  `near_duplicate_coverage` covered and the other at least `rewrite_coverage` (the same text, lightly edited,
  or one version extending the other);
- ``rewrite``: both sides at least `rewrite_coverage` covered (most content shared, largely reworded);
- ``partial-reuse``: anything else with aligned passages in at least `partial_sentences` sentences of each side,
  or covering at least `rewrite_coverage` of one side (one shared sentence — a stock background line, a name
  list, a quote — is what independent reports share: ``unrelated``; unless it is most of one text);
- ``template``, instead of any of the three above: the aligned sentences fill the same wording with other facts
  (figures, amounts, dates, quotes, names: `retold.align.facts.template_evidence`), as a recurring report of
  another day, issuer or company does; or the aligned leads name other subjects; or, for a near-duplicate or a
  rewrite, the aligned text names no one both sides name. Not reuse: families and the keep-list leave such
  pairs out by default.

A name list or a title (a team sheet, "U.S. Treasury Secretary James Baker") is no evidence of reuse on its own
(`retold.align.facts.names_only`): a pair with nothing else is ``unrelated``, or ``template`` when the lists
name other people (a team sheet of another match).
"""

from __future__ import annotations

from retold.align.facts import names_only, template_evidence
from retold.align.passages import coverage
from retold.config import VerdictConfig
from retold.model import Alignment, PairResult, Passage, SideSummary, VerdictName
from retold.text.analyze import Analyzed
from retold.text.facts import compare, extract


def decide(
    cov_a: float,
    cov_b: float,
    verbatim_chars: int,
    aligned_chars: tuple[int, int],
    identical: bool,
    evidence: float,
    cfg: VerdictConfig,
) -> VerdictName:
    """The verdict from coverage numbers; symmetric in a and b. `evidence` is the best passage score.

    >>> decide(0.84, 0.85, 300, (2000, 1900), False, 0.8, VerdictConfig())
    'rewrite'
    """
    if identical:
        return "duplicate"
    if max(aligned_chars) < cfg.partial_chars or evidence < cfg.min_passage_score:
        return "unrelated"
    low, high = sorted((cov_a, cov_b))
    share = verbatim_chars / max(1, sum(aligned_chars))
    if low < cfg.rewrite_coverage:
        return "partial-reuse"
    if share >= cfg.near_duplicate_verbatim:
        return "near-duplicate" if high >= cfg.near_duplicate_coverage else "partial-reuse"
    return "rewrite"


def _strength(p: Passage, cfg: VerdictConfig) -> float:
    """How much one passage proves reuse: 1 for a long verbatim passage, the score of a paraphrase passage of
    sentence size, 0 for short fragments (a stock phrase, a few reworded words between copied runs)."""
    size = (p.a_end - p.a_start + p.b_end - p.b_start) / 2
    if p.label == "verbatim":
        return 1.0 if size >= cfg.min_verbatim_chars else 0.0
    return p.score if size >= cfg.min_paraphrase_chars else 0.0


def _sentences(an: Analyzed, passages: list[Passage], side: str) -> int:
    """How many content sentences of one side the passages touch."""
    spans = sorted((p.a_start, p.a_end) if side == "a" else (p.b_start, p.b_end) for p in passages)
    touched = 0
    for s in an.sentences:
        if s.kind != "attribution" and any(st < s.end and en > s.start for st, en in spans):
            touched += 1
    return touched


def _other_lists(a: Analyzed, b: Analyzed, names: list[Passage], cfg: VerdictConfig) -> bool:
    """Name lists strong enough to be evidence had they been prose, naming other people (another match's team)."""
    if max(_strength(p, cfg) for p in names) < cfg.min_passage_score:
        return False
    fa = [f for p in names for f in extract(a.doc.text, p.a_start, p.a_end)]
    fb = [f for p in names for f in extract(b.doc.text, p.b_start, p.b_end)]
    return compare(fa, fb).of("name").conflict > 0


def judge(a: Analyzed, b: Analyzed, alignment: Alignment, cfg: VerdictConfig | None = None) -> PairResult:
    """Verdict and per-side summary for an aligned pair."""
    cfg = cfg or VerdictConfig()
    cov_a, va, pa = coverage(alignment.spans_a)
    cov_b, vb, pb = coverage(alignment.spans_b)
    identical = bool(a.content_tokens()) and a.content_tokens() == b.content_tokens()
    names = [p for p in alignment.passages if names_only(a, b, p)]
    content = [p for p in alignment.passages if p not in names] if names else list(alignment.passages)
    evidence = max((_strength(p, cfg) for p in content), default=0.0)
    verdict = decide(cov_a, cov_b, va + vb, (va + pa, vb + pb), identical, evidence, cfg)
    if verdict in ("near-duplicate", "rewrite", "partial-reuse"):
        ev = template_evidence(a, b, alignment.passages)
        if ev.template or (verdict != "partial-reuse" and ev.other_names):
            verdict = "template"
        elif (
            verdict == "partial-reuse"
            and max(cov_a, cov_b) < cfg.rewrite_coverage
            and min(_sentences(a, content, "a"), _sentences(b, content, "b")) < cfg.partial_sentences
        ):
            verdict = "unrelated"
    elif verdict == "unrelated" and not identical and names and _other_lists(a, b, names, cfg):
        verdict = "template"
    return PairResult(
        a=SideSummary(a.doc.id, a.doc.date, len(a.doc.text), cov_a),
        b=SideSummary(b.doc.id, b.doc.date, len(b.doc.text), cov_b),
        verdict=verdict,
        alignment=alignment,
    )
