"""Hostile values for templates fed by payloads, and checks that what they produce is inert.

``inert_html`` parses the HTML (as a browser tokenises it) instead of searching for strings, so
a template that lets markup through fails whatever form the markup takes.
"""

from html.parser import HTMLParser

MARKUP = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
QUOTES = 'O\'Hara & "Sons"'
# One value with all three, as a field of a payload could carry it.
HOSTILE = f"{MARKUP}{ATTRIBUTE} {QUOTES}"

SCRIPT_URLS = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",  # browsers strip leading spaces
    "java\tscript:alert(1)",  # and tabs inside the scheme
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/path",  # no scheme: relative to the page, not a carrier's site
    "https:///no-host",
]

# A real tracking URL with characters that must be escaped inside an attribute.
GOOD_URL = 'https://carrier.example/track?n=1Z&lang="en"'


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def inert_html(html: str, *, allowed_tags: set[str] | None = None) -> tuple[list[str], str]:
    """Assert that ``html`` runs nothing: no script, no event handler attribute, no element a
    payload could have added, every link http(s). Returns (the hrefs, the visible text)."""
    parser = _Collector()
    parser.feed(html)
    parser.close()
    allowed = allowed_tags or {
        "html", "head", "meta", "title", "link", "body", "main", "header", "div", "section", "p", "h1",
        "h2", "span", "strong", "ul", "li", "a", "br", "table", "tr", "td", "form", "input", "button",
    }  # fmt: skip
    hrefs = []
    for tag, attrs in parser.tags:
        assert tag in allowed, f"unexpected <{tag}> in the HTML: {attrs}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name}={value!r} on <{tag}>"
            if name in ("href", "src", "action", "formaction"):
                assert value and (
                    value.startswith(("https://", "http://"))
                    or (value.startswith("/") and not value.startswith("//"))
                ), f"<{tag} {name}={value!r}>"
        if tag == "a":
            hrefs.append(attrs.get("href") or "")
    return hrefs, "".join(parser.text)


def sane_text(text: str) -> None:
    """A text/plain part shows values as they are: no HTML entities, no markup escaping."""
    for entity in ("&lt;", "&gt;", "&quot;", "&#x27;", "&#39;", "&amp;"):
        assert entity not in text, f"{entity} in the text part:\n{text}"
