"""The rule-based paraphraser behind the synthetic benchmark's rewrites, and the text helpers it shares with
the near-duplicate edits.

The paraphraser imitates the seed pair of ../shared/data/seeds (a human rewrite of a news report): most
sentences are reworded through a built-in table of common news words and phrases (said → stated,
"according to" → "as per", …), leading time/place phrases and speech attributions change sides, long sentences
are split and short ones merged, a simple active clause may turn passive, and small edits (an adverb, a swapped
function word, a dropped modifier) go on while a sentence still looks like its source. Names and
numbers are never touched, headings stay verbatim and a quote may be kept verbatim. Every function takes a
`random.Random`, so the same seed gives the same text.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from collections.abc import Set as AbstractSet

from rapidfuzz import fuzz

# key=alternative|alternative; keys are lower-case words or phrases, matched as whole words.
_TABLE = """
said=stated|noted|remarked|added; says=states|notes|remarks; say=claim|state|argue; told=informed|assured;
added=went on to say|further stated; announced=revealed|declared|unveiled; claimed=asserted|alleged;
reported=stated|disclosed; according to=as per|citing|in the words of; warned=cautioned; explained=clarified;
insisted=maintained|stressed; believes=thinks|feels; believe=think|feel; believed=thought; think=believe;
thinks=believes; suggested=indicated|hinted; expects=anticipates|forecasts; expected=anticipated|forecast;
killed=slain|shot dead; rose=climbed|increased|went up; rise=increase|climb; risen=climbed|increased;
rising=climbing|increasing|growing; fell=dropped|declined|slipped; fall=drop|decline; fallen=dropped|declined;
falling=dropping|declining; increase=rise; increased=climbed; profits=earnings; profit=earnings; firm=company|business;
company=firm|business; companies=firms|businesses; firms=companies|businesses; shares=stocks;
investors=backers|shareholders; deal=agreement|accord; deal with=handle|tackle; many of=several of|a lot of;
agreement=deal|accord; government=administration|authorities; election=poll|vote; elections=polls;
plan=proposal|scheme; plans to=intends to|aims to; plan to=intend to|aim to; plans=proposals|intentions;
campaign=drive|effort; voters=electors; critics=detractors|opponents; officials=authorities;
spokesman=spokesperson|representative; spokeswoman=spokesperson|representative; chief executive=boss|head;
people=individuals|citizens; many=numerous|several; big=large|major; large=big|sizeable; small=little|minor;
major=significant|key; important=crucial|significant|key; significant=notable|considerable; recent=latest;
recently=lately|of late; currently=at present|now; also=further|additionally; however=nevertheless|nonetheless;
because=as|since; because of=due to|owing to; despite=in spite of|notwithstanding; although=though|even though;
meanwhile=in the meantime; around=about|roughly; more than=over|in excess of; less than=under|below;
at least=no fewer than|a minimum of; a number of=several|some; a lot of=plenty of|many;
as well as=along with|together with; in order to=to|so as to; such as=including|like; due to=owing to|because of;
for example=for instance; at the moment=currently|right now; last year=a year ago|in the previous year;
next year=in the coming year; this year=in the current year; this week=in recent days; in the past=previously;
at the same time=simultaneously; as a result=consequently; so far=to date|until now; help=aid; helped=assisted|aided;
showed=revealed|indicated|demonstrated; shows=reveals|indicates; shown=revealed|demonstrated; allow=permit|enable;
allowed=permitted|enabled; allows=permits|enables; want=wish|hope; wanted=wished|hoped; wants=wishes|hopes;
needed=required; try=attempt; tried=attempted; trying=attempting|seeking; begin=start|commence;
began=started|commenced; started=commenced; buy=purchase|acquire; bought=purchased|acquired;
buying=purchasing|acquiring; sell=offload; sold=offloaded; give=offer|provide; gave=offered|provided;
given=offered|provided; keep=retain|maintain; kept=retained|maintained; won=secured|clinched; beaten=defeated;
called for=urged|demanded; reduce=lower|cut; reduced=lowered|cut; boost=lift|strengthen; launched=unveiled|introduced;
unveiled=launched|presented; decided to=opted to|chose to; remain=stay; remains=stays; remained=stayed;
seen as=regarded as|viewed as; is likely to=is expected to|is set to; are likely to=are expected to|are set to;
could=might|may; may=might|could; chief=head; country=nation; countries=nations; children=kids|youngsters; film=movie;
films=movies; movie=film; album=record; song=track; songs=tracks; actor=performer; actress=performer; singer=vocalist;
band=group; fans=supporters|admirers; match=game|fixture; game=match|contest; games=matches|contests; team=side|squad;
season=campaign; victory=win|triumph; injury=knock; club=side; striker=forward; tournament=competition|event;
users=customers|subscribers; technology=tech; software=programs; mobile phones=mobiles|handsets; phones=handsets;
phone=handset; computer=PC; computers=PCs; internet=net|web; website=site; websites=sites; device=gadget;
devices=gadgets; problem=issue|difficulty; problems=issues|difficulties; issues=matters|questions;
figures=numbers|data; analysts=experts|observers; experts=specialists|analysts; report=study; survey=poll;
rules=regulations; law=legislation; laws=legislation; bid=attempt|effort; talks=negotiations|discussions; price=cost;
prices=costs; money=funds|cash; jobs=posts|positions; job=post|role; staff=employees|workers; workers=employees|staff;
employees=staff|workers; boss=chief|head; rival=competitor; rivals=competitors; customers=clients|consumers;
consumers=shoppers|customers; chance=opportunity; fears=worries|concerns; concerns=worries|fears; concern=worry;
attack=assault; attacks=assaults; police=officers; allegations=claims|accusations; very=highly|extremely; really=truly;
quickly=rapidly|swiftly; strong=robust|solid; weak=feeble|soft; bad=poor; poor=weak; huge=massive|enormous;
massive=huge|vast; sharp=steep; slightly=marginally|a little; nearly=almost; almost=nearly; only=just|merely;
again=once more; already=previously; soon=shortly; later=subsequently; earlier=previously; previously=earlier|formerly;
finally=eventually; eventually=ultimately; immediately=at once; often=frequently; usually=typically|normally;
particularly=especially; especially=particularly; probably=likely; possible=feasible; difficult=hard|tough;
tough=difficult; previous=prior|earlier; former=one-time; latest=newest|most recent; senior=high-ranking|top;
key=crucial|central; main=principal|chief; biggest=largest; largest=biggest; clearly=evidently; whole=entire;
enough=sufficient; several=a number of|various; different=distinct|various; similar=comparable;
around the world=worldwide|across the globe; across=throughout; throughout=across; within=inside; among=amongst;
before the=prior to the; after the=following the; until=till; during=in the course of;
in a statement=in a press release; take place=happen|occur; set up=established|created;
carried out=conducted|performed; look at=examine|consider; looking at=examining|considering; as well=too;
as part of=under; a series of=a string of|several; the rest of=the remainder of; is due to=is scheduled to|is set to;
do not=don't; does not=doesn't; did not=didn't; is not=isn't; are not=aren't; was not=wasn't; cannot=can't;
will not=won't; don't=do not; doesn't=does not; didn't=did not; isn't=is not; won't=will not; can't=cannot; it's=it is;
wasn't=was not; wouldn't=would not; haven't=have not; there is=there's; including=such as|like; but=yet|though;
while=whereas; hoped=expected; new=fresh|latest; group=organisation|body; groups=organisations|bodies;
market=marketplace; industry=sector; sector=industry; director=head; international=global|worldwide;
global=worldwide|international; economic=financial; digital=electronic; president=leader; decision=ruling|move;
real=genuine|actual; information=details|data; foreign=overseas; executives=bosses|managers; media=press;
data=figures|information; playing=competing; awards=prizes|honours; award=prize|honour; case=matter; security=safety;
leader=head|chief; legal=judicial; current=present|existing; research=studies; role=part|position; bill=legislation;
financial=economic; local=regional; spending=expenditure|outlay; full=complete; always=invariably|consistently;
meeting=session|gathering; trade=commerce; programme=scheme|initiative; include=feature|cover;
includes=features|covers; included=featured|covered; find=discover; found=discovered; statement=announcement;
performance=showing|results; chairman=chair; released=issued|put out; manager=boss; council=authority;
policy=strategy|approach; production=output; content=material; higher=greater; available=on offer|accessible;
consumer=customer; saw=witnessed; competition=contest|rivalry; success=achievement; committee=panel; cash=money|funds;
evidence=proof; short=brief; race=contest; event=occasion; trial=hearing; in fact=in truth|indeed; annual=yearly;
received=got|obtained; popular=well-liked; project=scheme|venture; projects=schemes|ventures; choice=option|selection;
involved=engaged; stop=halt; stopped=halted; growing=expanding|increasing; conference=convention; education=schooling;
changes=alterations; sure=certain; giant=heavyweight|titan; quite=fairly|rather; denied=rejected|dismissed;
create=generate|produce; created=generated|produced; products=goods; ensure=make sure|guarantee; sent=dispatched;
value=worth; idea=notion|concept; provide=offer|supply; provided=supplied|offered; proposals=plans;
results=figures|outcomes; taxes=levies; simply=merely|just; impact=effect; areas=regions|parts; area=region|zone;
forced=compelled; numbers=figures; fight=battle|struggle; compared with=against|set against; wrong=mistaken|incorrect;
authorities=officials; winner=victor; admitted=conceded|acknowledged; extra=additional; happy=pleased|delighted;
comments=remarks; original=initial; opportunity=chance; process=procedure; speed=pace; newspaper=paper;
target=goal|aim; majority=bulk; confirmed=verified; cuts=reductions; amount=sum|quantity; reached=hit|achieved;
speech=address; concerned=worried; analyst=expert|observer; raise=lift; offered=provided; serious=grave|severe;
easy=simple; captain=skipper; attempt=effort|bid; confidence=faith|trust; banks=lenders; bank=lender;
battle=fight|struggle; stay=remain; build=construct; built=constructed; ceremony=event; deficit=shortfall;
argued=contended; widely=broadly; person=individual; signed=inked; rejected=dismissed;
accused of=charged with|blamed for; revealed=disclosed; predicted=forecast; seeking=looking|aiming; contract=deal;
contracts=deals; sales=revenues; growth=expansion; stake=holding; takeover=buyout|acquisition; revenue=income|turnover;
earnings=profits; exports=overseas sales; unemployment=joblessness; dropped=fell|declined; recorded=registered;
urged=called on|pressed; promised=pledged|vowed; pledged=promised|vowed; criticised=attacked|slammed;
backed=supported|endorsed; welcomed=hailed|praised; refused=declined; arrested=detained; injured=hurt|wounded;
affected=impacted; published=released; suggests=indicates; scored=netted; audience=viewers; viewers=audiences;
service=offering; services=offerings; slow=sluggish; positive=encouraging; successful=fruitful; specific=particular;
particular=specific; necessary=needed|required; effort=bid|attempt; statistics=figures|data; funding=financing|money;
risk=danger|threat; threat=danger|risk; crisis=emergency; war=conflict; fighting=combat|clashes; officers=police;
lawyers=legal representatives; investigation=probe|inquiry; inquiry=investigation|probe; visit=trip; trip=journey;
using=employing|utilising; produced=made|generated; expect=anticipate; seem=appear; seems=appears; appear=seem;
appears=seems; ended=concluded; continued=carried on|persisted; changed=altered; improve=enhance|strengthen;
improved=enhanced|strengthened; protect=safeguard|shield; prevent=stop|avert; avoid=sidestep|steer clear of;
faced=confronted; tackle=address|confront; perhaps=possibly|maybe; completely=entirely|totally; totally=completely;
fully=completely; initially=at first; originally=initially; in terms of=regarding; close to=near;
at the end of=at the close of; ahead of=before; along with=together with; instead of=rather than;
rather than=instead of; even though=although; every=each; player=competitor; players=competitors
"""


def _parse(table: str) -> dict[str, tuple[str, ...]]:
    pairs = (e.split("=", 1) for e in table.replace("\n", " ").split(";") if "=" in e)
    return {k.strip(): tuple(a.strip() for a in alts.split("|")) for k, alts in pairs}


PARAPHRASES: dict[str, tuple[str, ...]] = _parse(_TABLE)
"""The paraphrase table: a lower-case word or phrase and its replacements."""

_PHRASE_RE = re.compile(
    r"(?<![\w'-])(?:" + "|".join(re.escape(k) for k in sorted(PARAPHRASES, key=len, reverse=True)) + r")(?![\w'-])",
    re.IGNORECASE,
)
_COMMON_CAPS = frozenset(
    "the a an it he she they we i this that these those its his her their our there in on at but and some many "
    "most all one two three four five six such both each several what which who when while however meanwhile "
    "last earlier later next figures sales shares analysts experts officials critics fans users customers workers "
    "people prices profits police troops".split()
)
_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"“']?[A-Z0-9])|(?<=[.!?][\"”'])\s+(?=[\"“']?[A-Z0-9])")
_QUOTE = re.compile(r"[\"“][^\"”]*[\"”]")
_QUOTE_CHAR = re.compile(r"[\"“”]")
_ASIDE = re.compile(r", (?:which|who) [^,\"“”\dA-Z]{5,80}(?:,|(?=[.!?]$))| \([^()\dA-Z]{3,60}\)")  # no names
_HEADING_END = re.compile(r"[.!?:;\"'”’)\]]\s*$")
_NOQ = r"[^\"“”]"
_TIME = (
    r"(?:the )?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June"
    r"|July|August|September|October|November|December|week|month|year|weekend|morning|afternoon|evening|night)"
    r"(?: \d{1,2})?|\d{4}"
)
_AUX = r"(?<!\bis)(?<!\bwas)(?<!\bare)(?<!\bwere)(?<!\bhas)(?<!\bhave)(?<!\bhad)(?<!\bbe)"
_FINITE = (
    r"(?<!\bto )(?<!\bnot )(?<!\bwould )(?<!\bcould )(?<!\bmay )(?<!\bmight )(?<!\bmust )(?<!\bshould )(?<!\bwill )"
)
_CLAUSE = r"(?=(?:the|a|an|it|he|she|they|we|there|this|its|his|her|their|[A-Z0-9])\b)"
# Clause rules: a pattern over the whole sentence and a template ({^g}: capitalised, {_g}: common first word
# lower-cased, {.g}: first letter lower-cased).
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), t)
    for p, t in (
        (  # "On Monday, X did Y." -> "X did Y on Monday."
            r"^(?P<ph>(?:On|In|At|By|During|After|Before|Since|Last|Earlier|Later|This|Next|Over|Within|Following"
            rf"|Until|Despite|For)\b[^,\"“”]{{1,50}}), (?P<rest>{_NOQ}{{15,}}?)(?P<end>[.!?])$",
            "{^rest} {.ph}{end}",
        ),
        (  # "According to reports, X did Y." -> "X did Y, according to reports."
            r"^(?P<ph>(?:When|As|If|Although|Though|While|Because|With|Without|Amid|Unlike|Given|According to|Once"
            rf"|Having|Asked)\b[^,\"“”]{{3,80}}), (?P<rest>{_NOQ}{{15,}}?)(?P<end>[.!?])$",
            "{^rest}, {.ph}{end}",
        ),
        (  # "X did Y after Z happened." -> "After Z happened, X did Y."
            rf"^(?P<rest>{_NOQ}{{20,}}?),? (?P<ph>(?:because|after|when|while|although|despite|following|amid|before"
            r"|according to|until|unless) [^,\"“”]{10,80}?)(?P<end>[.!?])$",
            "{^ph}, {_rest}{end}",
        ),
        (  # "X did Y on Monday." -> "On Monday, X did Y."
            rf"^(?P<rest>{_NOQ}{{15,}}?) (?P<ph>(?:on|in|at|last|this|earlier|later|next|by|since|until|during)"
            rf" (?:{_TIME}))(?P<end>[.!?])$",
            "{^ph}, {_rest}{end}",
        ),
        (  # "The firm said profits rose." -> "Profits rose, the firm said."
            rf"^(?P<s>[A-Z][^,\"“”]{{1,60}}?){_AUX} (?P<v>said|says|added|stated|warned|claimed|argued|insisted"
            rf"|believes) (?:that )?{_CLAUSE}(?P<rest>{_NOQ}{{20,}}?)(?P<end>[.!?])$",
            "{^rest}, {_s} {v}{end}",
        ),
        (  # "Profits rose, the firm said." -> "The firm said that profits rose."
            rf"^(?P<rest>{_NOQ}{{20,}}?), (?P<s>(?:[Tt]he |[Aa] |[Hh]is |[Hh]er |[Ii]ts )?[\w.'-]+(?: [\w.'-]+){{0,5}})"
            r" (?P<v>said|says|added|stated)(?P<end>[.!?])$",
            "{^s} {v} that {_rest}{end}",
        ),
        (  # '"...," said X.' -> '"...," X said.'
            r"^(?P<rest>[\"“].{20,}?,[\"”]) (?P<v>said|says|added) (?P<s>[^,\"“”]{3,60}?)(?P<end>[.!?])$",
            "{rest} {s} {v}{end}",
        ),
        (  # '"...," X said.' -> 'X said: "...."'
            r"^(?P<q>[\"“][^\"”]{20,}?),[\"”] (?P<s>[^\"“”,]{2,60}?) (?P<v>said|says|added)\.$",
            '{^s} {v}: {q}."',
        ),
        (  # "The board approved the plan." -> "The plan was approved by the board."
            r"^(?P<d1>The|A|An|Its|His|Her|Their) (?P<s>[\w-]+(?: [\w-]+)?) (?P<v>announced|reported|revealed"
            r"|confirmed|approved|rejected|launched|unveiled|signed|introduced|published|released|opened|raised)"
            r" (?P<d2>the|a|an|its|their|his|her) (?P<o>(?![\w-]*s\b)[^,\"“”]{3,80}?)(?P<end>[.!?])$",
            "{^d2} {o} was {v} by {.d1} {s}{end}",
        ),
    )
)
_GRAMMAR: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), t)
    for p, t in (
        (rf"{_FINITE}\bhas been\b", "was"),
        (rf"{_FINITE}\bhave been\b", "were"),
        (rf"{_FINITE}\b(?:has|have) (?!been\b)(\w+ed)\b", r"\1"),
        (  # "Iraq's ministry said" -> "the ministry of Iraq said", and back
            r"\b([A-Z][a-z]+)'s ([a-z]{3,})(?= (?:is|was|are|were|has|have|had|will|would|could|to|in|on|at|for"
            r"|from|of|and|by|with|as|that)\b|[,.;:])",
            r"the \2 of \1",
        ),
        (r"\bthe ([a-z]{3,}) of ([A-Z][a-z]+)\b(?![\w'’-]| [A-Z])", r"\2's \1"),
        (r"\b(said|says|believes|thinks|added|warned) that\b", r"\1"),
        (r"\b(said|says|believes|thinks|warned) (?=(?:the|it|he|she|they|a|its|their)\b)", r"\1 that "),
        (r" (?:also|still|now|just|already|even|really)(?= [a-z])", ""),
    )
)
_ADVERBS = ("also", "now", "reportedly", "further", "currently", "notably", "recently")
_NEAR_ADVERBS = frozenset((*_ADVERBS, "lately", "additionally", "still", "already", "just", "previously"))
_AUXES = frozenset("is was are were has have had will would could can may might".split())
_DROPPABLE = frozenset(
    "best great mere suitable alternative favourite major big key main top latest recent current further other several"
    " various certain particular significant important possible potential real whole full overall original initial"
    " final previous existing special general serious strong huge massive very really actually quickly clearly".split()
)
_SWAPS = {"and": ("as well as", "along with", "plus"), "which": ("that",), "who": ("that",), "after": ("following",)}
_OPENERS = ("Meanwhile, ", "In addition, ", "Notably, ", "Reportedly, ", "It is understood that ", "It emerged that ")
_SPLITS = ((", but ", "But "), ("; ", ""), (", while ", "Meanwhile, "), (", although ", "Even so, "), (", as ", "As "))


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph (a plain full-stop splitter, enough for edited news text)."""
    return [s for s in _SENT_SPLIT.split(paragraph.strip()) if s]


def is_heading(paragraph: str) -> bool:
    """A short paragraph that does not end like a sentence: kept verbatim by the paraphraser."""
    return len(paragraph.split()) <= 14 and not _HEADING_END.search(paragraph)


def words(text: str) -> list[str]:
    """Lower-case word tokens (letters and digits), the unit of the edit and shingle measures."""
    return re.findall(r"\w+", text.lower())


def shingles(text: str, n: int = 5) -> list[tuple[str, ...]]:
    """Word `n`-grams of `text` in order (whitespace tokens, lower-cased, punctuation stripped)."""
    ws = [re.sub(r"\W", "", t.lower()) for t in text.split()]
    return [tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)]


def cap(s: str) -> str:
    """`s` with its first letter upper-cased."""
    i = next((i for i, ch in enumerate(s) if ch.isalpha()), len(s))
    return s[:i] + s[i : i + 1].upper() + s[i + 1 :]


def lower_first(s: str) -> str:
    """`s` with its first word lower-cased when it is a common word (names keep their capital)."""
    head, _, tail = s.partition(" ")
    return (head.lower() + (" " + tail if tail else "")) if head.lower() in _COMMON_CAPS else s


def substitute(text: str, rng: random.Random, p: float) -> str:
    """Replace table words and phrases with a random alternative, each with probability `p`.

    Lower-case matches are replaced anywhere; capitalised ones only at the start of `text` (elsewhere they are
    parts of names).
    """

    def repl(m: re.Match[str]) -> str:
        found, low = m[0], m[0].lower()
        if (found != low and not (m.start() == 0 and found == cap(low))) or rng.random() >= p:
            return found
        alt = rng.choice(PARAPHRASES[low])
        return cap(alt) if found != low else alt

    return _PHRASE_RE.sub(repl, text)


def restructure(sentence: str, rng: random.Random) -> str:
    """Apply one applicable clause rule (phrase move, speech attribution move, voice change), if any."""
    found = ((m, t) for pat, t in rng.sample(_RULES, len(_RULES)) if (m := pat.match(sentence)))
    m, template = next(found, (None, ""))
    if m is None:
        return sentence
    ops: dict[str, Callable[[str], str]] = {"^": cap, "_": lower_first, ".": lambda v: v[:1].lower() + v[1:]}
    return re.sub(r"\{([\^_.]?)(\w+)\}", lambda f: ops.get(f[1], str)(m[f[2]]), template)


def regrammar(text: str, rng: random.Random, p: float) -> str:
    """Tense, possessive, "that" and adverb alternations, each match changed with probability `p`."""

    def maybe(template: str) -> Callable[[re.Match[str]], str]:
        return lambda m: m.expand(template) if rng.random() < p else m[0]

    for pat, template in _GRAMMAR:
        text = pat.sub(maybe(template), text)
    return text


def split_and_merge(sents: list[str], rng: random.Random, p_split: float, p_merge: float) -> list[str]:
    """Split long sentences at a clause boundary and merge pairs of short ones."""
    out: list[str] = []
    for s in sents:
        if len(s.split()) >= 16 and not _QUOTE_CHAR.search(s) and rng.random() < p_split:
            for old, new in _SPLITS:
                left, sep, right = s.partition(old)
                if sep and len(left.split()) >= 6 and len(right.split()) >= 6:
                    s = f"{left}. {new}{right if new else cap(right)}"
                    break
        out.extend(split_sentences(s))
    merged: list[str] = []
    for s in out:
        prev = merged[-1] if merged else ""
        short = len(prev.split()) <= 14 and len(s.split()) <= 14 and prev.endswith(".")
        if short and not _QUOTE_CHAR.search(prev + s) and rng.random() < p_merge:
            merged[-1] = prev[:-1] + rng.choice((", and ", "; ", ", while ")) + lower_first(s)
        else:
            merged.append(s)
    return merged


def _micro_edit(toks: list[str], j: int, rng: random.Random, used: Counter[str]) -> bool:
    """One small edit at token `j`: an adverb after an auxiliary or before a past participle, a function-word
    swap, two coordinated words swapped, or a modifier dropped; each kind at most twice per sentence (`used`).
    False when none fits there. Replacements may hold several words or none: callers re-split `toks`.
    """
    w, nxt, prev = toks[j], toks[j + 1] if j + 1 < len(toks) else "", toks[j - 1] if j else ""
    lone = not ({nxt, prev} & _NEAR_ADVERBS or nxt.endswith("ly") or prev.endswith("ly"))
    plural = prev in ("they", "we", "you") or (prev.endswith("s") and not prev.endswith(("ss", "'s")))
    the_ok = w == "the" and nxt.isalpha() and nxt.islower() and prev not in ("of", "all", "by", "in")
    this = "these" if nxt.endswith("s") and not nxt.endswith("ss") else "this"
    ed_ok = re.fullmatch(r"[a-z]{3,}ed", w) and prev not in _AUXES and lone
    candidates = (
        ("adv", w in _AUXES and lone and re.fullmatch(r"[a-z]+(?:ed|ing|en)|be|been", nxt), j + 1, j + 1, _ADVERBS),
        ("and", w == "and" and re.fullmatch(r"[a-z]+ [a-z]+", f"{prev} {nxt}"), j - 1, j + 2, (f"{nxt} and {prev}",)),
        ("swap", w in _SWAPS, j, j + 1, _SWAPS.get(w, ())),
        ("will", w == "will", j, j + 1, ("are set to" if plural else "is set to",)),
        ("the", the_ok, j, j + 1, (this,)),
        ("ed", ed_ok, j, j, ("reportedly", "also", "recently")),
        ("drop", w in _DROPPABLE and len(toks) > 8, j, j + 1, ("",)),
    )
    for kind, ok, lo, hi, options in candidates:
        if ok and used[kind] < 2:
            toks[lo:hi] = [rng.choice(options)]
            used[kind] += 1
            return True
    return False


def reword_overlap(
    sentence: str, original: str, source: AbstractSet[tuple[str, ...]], rng: random.Random, target: float
) -> str:
    """Micro-edit `sentence` (a rewording of `original`) while more than `target` of its word 5-grams are shared
    with `source` or its character similarity to `original` exceeds ``0.75 + target / 2``.
    """
    toks = sentence.split()
    used: Counter[str] = Counter()
    for _ in range(2 * len(toks)):
        toks = " ".join(toks).split()  # a swap may have put in several words
        grams = shingles(" ".join(toks))
        shared = [i for i, g in enumerate(grams) if g in source]
        close = fuzz.ratio(" ".join(toks), original) > 75 + 50 * target
        if len(shared) <= target * max(1, len(grams)) and not close:
            break
        at = range(i := rng.choice(shared), i + 5) if shared else range(len(toks))
        if not any(_micro_edit(toks, j, rng, used) for j in rng.sample(at, len(at))):
            if not shared:
                break
            source = source - {grams[i]}
    return " ".join(toks)


def paraphrase_sentence(
    sentence: str, rng: random.Random, strength: float, keep_quote: bool, source: AbstractSet[tuple[str, ...]]
) -> str:
    """Reword one sentence: maybe a clause rule, grammar alternations and table substitutions outside a kept
    quote, micro-edits while many word 5-grams of `source` survive, sometimes a new opening connective.
    """
    if rng.random() < 0.2 + 0.2 * strength:  # compress: drop a relative clause or an aside
        sentence = _ASIDE.sub("", sentence, count=1)
    for chance in (0.5 + 0.5 * strength, 0.5 * strength):
        sentence = restructure(sentence, rng) if rng.random() < chance else sentence
    p = 0.8 + 0.2 * strength
    parts: list[str] = []
    pos = 0
    for m in _QUOTE.finditer(sentence) if keep_quote else ():
        parts += [regrammar(substitute(sentence[pos : m.start()], rng, p), rng, p), m[0]]
        pos = m.end()
    out = "".join(parts) + regrammar(substitute(sentence[pos:], rng, p), rng, p)
    if source and not keep_quote:
        out = reword_overlap(out, sentence, source, rng, 0.4 - 0.35 * strength)
    tag = rng.random() < 0.2 + 0.2 * strength and not _QUOTE_CHAR.search(out)
    if tag and out.endswith(".") and rng.random() < 0.5:
        out = out[:-1] + rng.choice((", according to reports.", ", reports said.", ", it emerged.", ", sources said."))
    elif tag and out.split(" ")[0].lower() in _COMMON_CAPS:
        out = rng.choice(_OPENERS) + lower_first(out)
    return out


def paraphrase_paragraph(
    paragraph: str, rng: random.Random, strength: float, source: AbstractSet[tuple[str, ...]] = frozenset()
) -> str:
    """Reword a paragraph sentence by sentence; headings are kept verbatim, a quote sometimes too.

    `strength` in [0, 1] raises how often each edit applies; `source` (word 5-grams of the text being
    rewritten, see `shingles`) lets sentences be micro-edited until few of them survive, as in a human rewrite.
    """
    if is_heading(paragraph):
        return paragraph
    sents = split_and_merge(split_sentences(paragraph), rng, 0.3 + 0.4 * strength, 0.15 + 0.2 * strength)
    keep = 0.3 - 0.15 * strength
    return " ".join(paraphrase_sentence(s, rng, strength, rng.random() < keep, source) for s in sents)
