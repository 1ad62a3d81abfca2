"""The clustering this project used before issue 13, kept only as the benchmark's baseline:
TF-IDF cosine of words (no number or name folding, no character pairs) and average link
that re-scans every pair of groups after each merge."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from newsletter.sources.dedupe import Story, StoryItem

SIMILARITY_THRESHOLD = 0.2
MIN_COMPOUND_CHARS = 6
STEM_CHARS = 6
TITLE_WEIGHT = 2
_WORD = re.compile(
    r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?k\b|[a-z0-9]+(?:[.'][a-z0-9]+)*|[\u4e00-\u9fff]"
)
_STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the this to "
    "was were will with new now over after about more than how why what who you your our "
    "says said report reports".split()
)


def _stem(word: str) -> str:
    """A crude stem: truncation ("clinical"/"clinicians", "research"/"researchers").
    Words with digits (versions, amounts) are kept whole: they tell stories apart."""
    if any(char.isdigit() for char in word):
        return word
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word[:STEM_CHARS]


def _number(token: str) -> str:
    """Numbers by value: "300,000", "300k" and "300000" are one token."""
    if "," in token:
        return token.replace(",", "")
    if token.endswith("k") and token[:-1].replace(".", "", 1).isdigit():
        return f"{float(token[:-1]) * 1000:g}"
    return token


def _words(text: str) -> list[str]:
    found = _WORD.findall(text.lower().replace("-", " "))
    return [_number(word) for word in found]


def _fold_compounds(words: list[str], vocabulary: set[str]) -> list[str]:
    """Join two neighbours whose concatenation is a word of the day ("health care")."""
    folded: list[str] = []
    index = 0
    while index < len(words):
        if index + 1 < len(words):
            joined = words[index] + words[index + 1]
            if len(joined) >= MIN_COMPOUND_CHARS and joined in vocabulary:
                folded.append(joined)
                index += 2
                continue
        folded.append(words[index])
        index += 1
    return folded


def _keep(word: str) -> bool:
    return word not in _STOPWORDS and (len(word) > 2 or word.isdigit())


def _term_counts(items: Sequence[StoryItem]) -> list[Counter[str]]:
    texts = [(_words(item.title), _words(item.summary)) for item in items]
    vocabulary = {word for title, summary in texts for word in title + summary}
    counts = []
    for title, summary in texts:
        terms = Counter(_stem(w) for w in _fold_compounds(summary, vocabulary) if _keep(w))
        for word in _fold_compounds(title, vocabulary):
            if _keep(word):
                terms[_stem(word)] += TITLE_WEIGHT
        counts.append(terms)
    return counts


def _vectors(items: Sequence[StoryItem]) -> list[dict[str, float]]:
    counts = _term_counts(items)
    document_frequency = Counter(term for terms in counts for term in terms)
    total = len(items)
    vectors = []
    for terms in counts:
        vector = {
            term: weight * math.log((1 + total) / (1 + document_frequency[term]))
            for term, weight in terms.items()
        }
        norm = math.sqrt(sum(value * value for value in vector.values())) or 1.0
        vectors.append({term: value / norm for term, value in vector.items()})
    return vectors


def similarity(left: dict[str, float], right: dict[str, float]) -> float:
    if len(left) > len(right):
        left, right = right, left
    return sum(value * right.get(term, 0.0) for term, value in left.items())


def _average_link(vectors: list[dict[str, float]], threshold: float) -> list[list[int]]:
    """Clusters of indexes: repeatedly merge the two groups with the highest average
    pairwise similarity while it reaches ``threshold``."""
    groups: dict[int, list[int]] = {index: [index] for index in range(len(vectors))}
    # link[a][b]: the sum of similarities between the members of groups a and b
    link: dict[int, dict[int, float]] = {index: {} for index in groups}
    for i in range(len(vectors)):
        for j in range(i + 1, len(vectors)):
            value = similarity(vectors[i], vectors[j])
            if value > 0:
                link[i][j] = link[j][i] = value
    while True:
        best, pair = threshold, None
        for a, neighbours in link.items():
            for b, total in neighbours.items():
                if a < b:
                    average = total / (len(groups[a]) * len(groups[b]))
                    if average >= best:
                        best, pair = average, (a, b)
        if pair is None:
            break
        a, b = pair
        groups[a].extend(groups.pop(b))
        for c, total in link.pop(b).items():
            if c == a:
                continue
            link[c].pop(b)
            link[a][c] = link[c][a] = link[a].get(c, 0.0) + total
        link[a].pop(b, None)
    return list(groups.values())


def cluster_stories(
    items: Sequence[StoryItem], threshold: float = SIMILARITY_THRESHOLD
) -> list[Story]:
    """Stories, most-reported first (then most recent); items in each by publish time."""
    stories = [
        Story(sorted((items[i] for i in group), key=lambda item: (item.published_at, item.id)))
        for group in _average_link(_vectors(items), threshold)
    ]
    stories.sort(
        key=lambda story: (
            -len(story.outlets),
            -max(item.published_at.timestamp() for item in story.items),
        )
    )
    return stories
