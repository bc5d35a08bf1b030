"""Theme relevance: a score in 0..1 from a profile of weighted terms, with the reasons.

The profile (``theme.toml`` by default, ``[topic]`` in the config overrides it) is data:
groups of terms with weights, numbered legal documents ("Nghị định 03/2019/NĐ-CP"), score
components and required groups. Scoring is a handful of precompiled regex scans over the
diacritic-free match key of title and text, so it costs well under a millisecond an article
and does not care about case, tone placement, Unicode form or missing diacritics.

How the score is built, so that it can be explained in one line:
1. every term match adds its weight to its group's evidence (a title match counts
   ``title_weight`` times; one term adds at most ``count_cap`` matches);
2. a group's strength is evidence / saturation, capped at 1;
3. the score is the weighted sum of components; a component over several groups takes
   the weakest group (both sides must be present for "both sides" to count);
4. if a requirement is not met (a side is never named, no coordination or legal anchor),
   the score is capped at ``gate_cap``, and the explanation names what was missing.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qpan.config import ConfigError, TopicConfig
from qpan.pipelines.normalize import match_key, text_key

THEME_FILE = Path(__file__).with_name("theme.toml")
_Phrase = tuple[str, ...]


@dataclass(frozen=True, eq=False)  # identity hash: terms are unique objects, hashed per match
class Term:
    display: str
    group: str
    weight: float


@dataclass(frozen=True)
class Anchor:
    """A numbered legal document: "<kind> [số] <number>/<year>"."""

    name: str
    group: str
    kind: str
    number: str
    kind_key: str
    pattern: re.Pattern[str]
    year: int
    weight: float
    bare_weight: float


@dataclass(frozen=True)
class Group:
    name: str
    label: str
    saturation: float


@dataclass(frozen=True)
class Component:
    name: str
    groups: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class Requirement:
    any_of: tuple[str, ...]
    min_evidence: float


@dataclass(frozen=True)
class Relevance:
    """The verdict on one article, with everything needed to say why."""

    score: float
    relevant: bool
    threshold: float
    matched_terms: dict[str, int]
    groups: dict[str, float] = field(default_factory=dict)  # group -> strength 0..1
    components: dict[str, float] = field(default_factory=dict)  # component -> contribution
    missing: tuple[str, ...] = ()  # unmet requirements, in words
    ignored: tuple[str, ...] = ()  # look-alikes that were deliberately not counted

    def explain(self) -> str:
        """One paragraph: verdict, what contributed, what was missing, what was ignored."""
        verdict = "relevant" if self.relevant else "not relevant"
        relation = ">=" if self.score >= self.threshold else "<"
        parts = [f"{verdict}: score {self.score:.2f} {relation} threshold {self.threshold:.2f}"]
        if self.components:
            parts.append("; ".join(f"{name} {value:.2f}" for name, value in self.components.items()))
        if self.missing:
            parts.append("missing: " + "; ".join(self.missing))
        if self.matched_terms:
            ranked = sorted(self.matched_terms.items(), key=lambda item: (-item[1], item[0]))
            parts.append("terms: " + ", ".join(f"{term} x{count}" for term, count in ranked))
        else:
            parts.append("no theme term found")
        if self.ignored:
            parts.append("ignored: " + ", ".join(self.ignored))
        return ". ".join(parts) + "."

    def as_dict(self) -> dict[str, Any]:
        return {
            "relevance": self.score,
            "relevant": self.relevant,
            "matched_terms": dict(self.matched_terms),
            "explanation": self.explain(),
        }


class ThemeProfile:
    """A compiled theme profile; build with :meth:`load`, :meth:`from_file` or :meth:`from_dict`."""

    def __init__(
        self,
        *,
        name: str,
        threshold: float,
        title_weight: float,
        count_cap: int,
        gate_cap: float,
        groups: dict[str, Group],
        default_group: str,
        terms: dict[str, Term],
        ignore: list[str],
        anchors: list[Anchor],
        components: list[Component],
        requirements: list[Requirement],
        pairs: dict[str, Any] | None,
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.title_weight = title_weight
        self.count_cap = count_cap
        self.gate_cap = gate_cap
        self.groups = groups
        self.default_group = default_group
        self.terms = terms  # match key -> term
        self.ignore = ignore
        self.anchors = anchors
        self.components = components
        self.requirements = requirements
        self.pairs = pairs
        # phrases by first word, longest first: a scan is one dict lookup per word of the text
        phrases: dict[str, Term | None] = {match_key(phrase): None for phrase in ignore}
        phrases.update(terms)
        self._by_first_word: dict[str, list[tuple[_Phrase, Term | None]]] = {}
        for key, term in sorted(phrases.items(), key=lambda item: -len(item[0].split())):
            words = tuple(key.split())
            self._by_first_word.setdefault(words[0], []).append((words, term))

    # --- construction -----------------------------------------------------------------------

    @classmethod
    def load(cls, topic: TopicConfig | None = None) -> ThemeProfile:
        """The profile a run uses: ``topic.profile`` or the shipped theme, with ``topic.terms`` applied."""
        if topic is None:
            return cls.from_file(THEME_FILE)
        profile = cls.from_file(Path(topic.profile) if topic.profile else THEME_FILE, origin="topic.profile")
        profile.threshold = topic.threshold
        if topic.terms:
            profile = profile.with_terms(topic.terms)
        return profile

    @classmethod
    def from_file(cls, path: Path, origin: str | None = None) -> ThemeProfile:
        where = f"{origin} ({path})" if origin else str(path)
        try:
            with path.open("rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read theme profile ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{where}: not valid TOML ({exc})") from None
        return cls.from_dict(data, where)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "<profile>") -> ThemeProfile:
        try:
            return cls._build(data)
        except (KeyError, TypeError, ValueError) as exc:
            detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ConfigError(f"{origin}: invalid theme profile: {detail}") from None

    @classmethod
    def _build(cls, data: dict[str, Any]) -> ThemeProfile:
        groups = {
            name: Group(name, str(spec.get("label", name)), _positive(spec.get("saturation", 1.0), name))
            for name, spec in data["groups"].items()
        }
        terms: dict[str, Term] = {}
        for group_name, spec in data["groups"].items():
            for display, weight in spec.get("terms", {}).items():
                _add_term(terms, Term(display, group_name, _weight(weight, display)))
        anchors = [_anchor(spec, groups) for spec in data.get("anchors", [])]
        components = [
            Component(str(spec["name"]), tuple(_known(groups, spec["groups"])), float(spec["weight"]))
            for spec in data["components"]
        ]
        requirements = [
            Requirement(tuple(_known(groups, spec["any_of"])), float(spec.get("min_evidence", 1.0)))
            for spec in data.get("require", [])
        ]
        pairs = data.get("pairs")
        if pairs is not None:
            _known(groups, [*pairs["sides"], pairs["group"]])
        default_group = data.get("default_group", next(iter(groups)))
        _known(groups, [default_group])
        return cls(
            name=str(data.get("name", "theme")),
            threshold=float(data.get("threshold", 0.5)),
            title_weight=float(data.get("title_weight", 1.0)),
            count_cap=int(data.get("count_cap", 5)),
            gate_cap=float(data.get("gate_cap", 0.3)),
            groups=groups,
            default_group=default_group,
            terms=terms,
            ignore=list(data.get("ignore", [])),
            anchors=anchors,
            components=components,
            requirements=requirements,
            pairs=pairs,
        )

    def with_terms(self, overrides: dict[str, float]) -> ThemeProfile:
        """A copy with terms re-weighted, removed (weight 0) or added.

        A key "group:term" names the group; a bare key re-weights the existing term with
        the same match key, or adds the term to the profile's ``default_group``.
        """
        terms = dict(self.terms)
        for raw, weight in overrides.items():
            group, _, display = raw.rpartition(":") if ":" in raw else ("", "", raw)
            key = match_key(display)
            if not key:
                raise ConfigError(f"topic.terms: {raw!r} has no letters or digits to match")
            if group and group not in self.groups:
                raise ConfigError(f"topic.terms: {raw!r} names unknown group {group!r} ({', '.join(self.groups)})")
            if weight < 0:
                raise ConfigError(f"topic.terms: weight of {raw!r} must be >= 0")
            existing = terms.pop(key, None)
            if weight == 0:
                continue
            target = group or (existing.group if existing else self.default_group)
            terms[key] = Term(existing.display if existing and not group else display, target, float(weight))
        return ThemeProfile(
            name=self.name,
            threshold=self.threshold,
            title_weight=self.title_weight,
            count_cap=self.count_cap,
            gate_cap=self.gate_cap,
            groups=self.groups,
            default_group=self.default_group,
            terms=terms,
            ignore=self.ignore,
            anchors=self.anchors,
            components=self.components,
            requirements=self.requirements,
            pairs=self.pairs,
        )

    # --- scoring ----------------------------------------------------------------------------

    def score(self, title: str, text: str) -> Relevance:
        """Score one article; ``title`` matches count ``title_weight`` times."""
        counts: Counter[str] = Counter()  # display term -> matches (title + body)
        effective: Counter[Term] = Counter()  # term -> weighted count before the cap
        pair_count = 0.0
        ignored: set[str] = set()
        for key_text, factor in ((text_key(text or ""), 1.0), (match_key(title or ""), self.title_weight)):
            pair_count += factor * self._scan_terms(key_text.split(), factor, counts, effective)
            self._scan_anchors(f" {key_text} ", factor, counts, effective, ignored)
        evidence = dict.fromkeys(self.groups, 0.0)
        for term, count in effective.items():
            evidence[term.group] += term.weight * min(count, self.count_cap)
        if self.pairs is not None and pair_count:
            evidence[self.pairs["group"]] += float(self.pairs["weight"]) * min(pair_count, self.count_cap)
            counts[str(self.pairs["term"])] += round(pair_count)
        strengths = {name: min(1.0, evidence[name] / group.saturation) for name, group in self.groups.items()}
        contributions = {c.name: c.weight * min(strengths[g] for g in c.groups) for c in self.components}
        score = sum(contributions.values())
        missing = tuple(
            "none of " + " / ".join(self.groups[g].label for g in req.any_of)
            for req in self.requirements
            if not any(evidence[g] >= req.min_evidence for g in req.any_of)
        )
        if missing:
            score = min(score, self.gate_cap)
        score = round(min(1.0, max(0.0, score)), 4)
        return Relevance(
            score=score,
            relevant=score >= self.threshold,
            threshold=self.threshold,
            matched_terms=dict(counts),
            groups={name: round(value, 3) for name, value in strengths.items()},
            components={name: round(value, 3) for name, value in contributions.items()},
            missing=missing,
            ignored=tuple(sorted(ignored)),
        )

    def _scan_terms(self, words: list[str], factor: float, counts: Counter[str], effective: Counter[Term]) -> int:
        """Count term matches (longest first, no overlaps); return how often the two sides were adjacent."""
        sides = tuple(self.pairs["sides"]) if self.pairs else ()
        max_gap = int(self.pairs["max_gap_words"]) if self.pairs else 0
        pairs = 0
        last_side, last_end = "", -(10**9)
        by_first_word = self._by_first_word
        free = 0  # the first position not inside an earlier match
        # only words that start a phrase need a look; finding them in one comprehension instead
        # of stepping through every word in Python halves the scan
        for position in [n for n, word in enumerate(words) if word in by_first_word]:
            if position < free:
                continue
            matched = None
            for phrase, term in by_first_word[words[position]]:
                if len(phrase) == 1 or tuple(words[position : position + len(phrase)]) == phrase:
                    matched = (phrase, term)
                    break
            if matched is None:
                continue
            phrase, term = matched
            if term is not None:  # None: an ignore phrase swallowed a look-alike
                counts[term.display] += 1
                effective[term] += factor
                if term.group in sides:
                    if last_side and last_side != term.group and position - last_end <= max_gap:
                        pairs += 1
                        last_side = ""
                    else:
                        last_side = term.group
                    last_end = position + len(phrase)
            free = position + len(phrase)
        return pairs

    def _scan_anchors(
        self, key_text: str, factor: float, counts: Counter[str], effective: Counter[Term], ignored: set[str]
    ) -> None:
        for anchor in self.anchors:
            if f" {anchor.kind_key} " not in key_text:
                continue
            full = bare = 0
            other_years: set[str] = set()
            for match in anchor.pattern.finditer(key_text):
                year = match.group(1)
                if year is None:
                    bare += 1
                elif int(year) == anchor.year:
                    full += 1
                else:
                    other_years.add(year)
            ignored.update(f"{anchor.kind} {anchor.number}/{year} (another document)" for year in other_years)
            if full:
                term = Term(anchor.name, anchor.group, anchor.weight)
                counts[term.display] += full
                effective[term] += factor * full
            if bare and not other_years:
                term = Term(f"{anchor.name} (cited without year)", anchor.group, anchor.bare_weight)
                counts[term.display] += bare
                effective[term] += factor * bare
            elif bare:
                ignored.add(f"{anchor.kind} số {anchor.number} without year (refers to the other document)")


def _positive(value: Any, what: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError(f"saturation of group {what!r} must be > 0")
    return number


def _weight(value: Any, what: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError(f"weight of {what!r} must be >= 0")
    return number


def _known(groups: dict[str, Group], names: list[str]) -> list[str]:
    unknown = [name for name in names if name not in groups]
    if unknown:
        raise ValueError(f"unknown group {unknown[0]!r} (groups: {', '.join(groups)})")
    return list(names)


def _add_term(terms: dict[str, Term], term: Term) -> None:
    key = match_key(term.display)
    if not key:
        raise ValueError(f"term {term.display!r} has no letters or digits to match")
    if key in terms and terms[key].group != term.group:
        raise ValueError(f"term {term.display!r} is in groups {terms[key].group!r} and {term.group!r}")
    terms[key] = term


def _anchor(spec: dict[str, Any], groups: dict[str, Group]) -> Anchor:
    _known(groups, [spec["group"]])
    kind_key = match_key(str(spec["kind"]))
    number = str(spec["number"]).lstrip("0") or "0"
    pattern = re.compile(rf" {re.escape(kind_key)}(?: so)? 0*{re.escape(number)}(?: (\d{{4}}))?(?= )")
    return Anchor(
        name=str(spec["name"]),
        group=str(spec["group"]),
        kind=str(spec["kind"]),
        number=str(spec["number"]),
        kind_key=kind_key,
        pattern=pattern,
        year=int(spec["year"]),
        weight=_weight(spec["weight"], spec["name"]),
        bare_weight=_weight(spec.get("bare_weight", 0.0), spec["name"]),
    )
