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
  another day, issuer or company does. Not reuse: families and the keep-list leave such pairs out by default.
"""

from __future__ import annotations

from retold.align.facts import template_evidence
from retold.align.passages import coverage
from retold.config import VerdictConfig
from retold.model import Alignment, PairResult, Passage, SideSummary, VerdictName
from retold.text.analyze import Analyzed


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


def _sentences(an: Analyzed, alignment: Alignment, side: str) -> int:
    """How many content sentences of one side the passages touch."""
    spans = sorted((p.a_start, p.a_end) if side == "a" else (p.b_start, p.b_end) for p in alignment.passages)
    touched = 0
    for s in an.sentences:
        if s.kind != "attribution" and any(st < s.end and en > s.start for st, en in spans):
            touched += 1
    return touched


def judge(a: Analyzed, b: Analyzed, alignment: Alignment, cfg: VerdictConfig | None = None) -> PairResult:
    """Verdict and per-side summary for an aligned pair."""
    cfg = cfg or VerdictConfig()
    cov_a, va, pa = coverage(alignment.spans_a)
    cov_b, vb, pb = coverage(alignment.spans_b)
    identical = bool(a.content_tokens()) and a.content_tokens() == b.content_tokens()
    evidence = max((_strength(p, cfg) for p in alignment.passages), default=0.0)
    verdict = decide(cov_a, cov_b, va + vb, (va + pa, vb + pb), identical, evidence, cfg)
    if (
        verdict in ("near-duplicate", "rewrite", "partial-reuse")
        and template_evidence(a, b, alignment.passages).template
    ):
        verdict = "template"
    elif (
        verdict == "partial-reuse"
        and max(cov_a, cov_b) < cfg.rewrite_coverage
        and min(_sentences(a, alignment, "a"), _sentences(b, alignment, "b")) < cfg.partial_sentences
    ):
        verdict = "unrelated"
    return PairResult(
        a=SideSummary(a.doc.id, a.doc.date, len(a.doc.text), cov_a),
        b=SideSummary(b.doc.id, b.doc.date, len(b.doc.text), cov_b),
        verdict=verdict,
        alignment=alignment,
    )
