"""What a reader of a page sees, for the test that every word of a Japanese page is Japanese.

``visible_text(html, lang)`` gathers the text of a rendered page (the document's title, the body's text,
and the attributes a reader sees: placeholders, tooltips, labels) and leaves out what is not ours to
translate: scripts and styles, elements marked ``translate="no"`` (identifiers: codes, serials, user
names, OS names) and elements in another language than the page's (``lang="en"``: the device's verbatim
answers, the record's original English, the other language's switch).

``english_words(text)`` are the runs of ASCII letters in it that are words rather than identifiers or
units: a token with a digit in it (``HH-000001``, ``0/1/0``, ``T-0001``, ``1G``) is an identifier; a run of
letters in ``ALLOWED`` (units, acronyms and proper names) is fine; any other run is an untranslated word.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Units, acronyms and proper names a Japanese page writes in Latin letters.
ALLOWED: frozenset[str] = frozenset({
    "ftthnoc", "Grafana", "KPI", "JST", "ONU", "ONT", "OLT", "PON", "Rx", "dBm", "Mbps", "MEXT", "VPN", "LTE",
    "SNMP", "ID", "OS", "LOS", "VLAN", "autofind", "dying", "gasp", "BWA",
    "FTTH", "GIGA", "MDM", "LGWAN", "DX",  # the KPI definitions: the town plan's and MEXT's own names
})  # fmt: skip
#: HTML elements without an end tag.
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr"})  # fmt: skip
#: Attributes whose words a reader sees.
_SEEN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/+#%-]*", re.ASCII)
_LETTERS = re.compile(r"[A-Za-z]+", re.ASCII)


class _Visible(HTMLParser):
    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = lang
        #: (tag, hidden) of the open elements
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def _hidden_now(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def _hides(self, tag: str, attrs: dict[str, str | None]) -> bool:
        if self._hidden_now() or tag in ("script", "style", "noscript"):
            return True
        if (attrs.get("translate") or "").lower() == "no":
            return True
        lang = attrs.get("lang")
        return lang is not None and tag != "html" and not lang.lower().startswith(self.lang)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        hidden = self._hides(tag, found)
        if not hidden:
            for name in _SEEN_ATTRIBUTES:
                if found.get(name):
                    self.parts.append(str(found[name]))
            if tag == "input" and (found.get("type") or "") in ("submit", "button") and found.get("value"):
                self.parts.append(str(found["value"]))
        if tag not in _VOID:
            head_only = tag == "head"
            self.stack.append((tag, hidden or head_only))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if not self._hides(tag, found):
            for name in _SEEN_ATTRIBUTES:
                if found.get(name):
                    self.parts.append(str(found[name]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        in_title = bool(self.stack) and self.stack[-1][0] == "title" and any(t == "head" for t, _ in self.stack)
        if in_title or not self._hidden_now():
            self.parts.append(data)


def visible_text(html: str, lang: str = "ja") -> str:
    """The words a reader of the page sees that are the page's own (see the module's docstring)."""
    parser = _Visible(lang)
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def english_words(text: str) -> list[str]:
    """The untranslated words of ``text``: runs of ASCII letters that are neither identifiers nor allowed."""
    words: list[str] = []
    for token in _TOKEN.findall(text):
        if any(c.isdigit() for c in token):
            continue  # an identifier: a code, a serial, a port, a plan, a figure with its unit
        for run in _LETTERS.findall(token):
            if run in ALLOWED or (len(run) == 1 and run.isupper()):  # B+, C+: PON classes
                continue
            words.append(run)
    return words
