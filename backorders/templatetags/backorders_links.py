"""Links built from values that came from outside (a platform payload, an owner's form).

``{{ value|http_url }}`` is ``value`` when it is an absolute ``http``/``https`` URL and ``""``
otherwise, so a template emits a link only for a URL a browser opens as a web page::

    {% load backorders_links %}
    {% with url=item.tracking_url|http_url %}{% if url %}<a href="{{ url }}">…</a>{% endif %}{% endwith %}

Escaping alone does not make a URL safe in an ``href``: ``javascript:alert(1)`` and
``data:text/html,…`` survive HTML escaping untouched and run as script when clicked. The
storage side drops such URLs too; this filter keeps the rendering side safe whatever is stored
(an old row, a host project's own data, a template override).
"""

from urllib.parse import urlsplit

from django import template

register = template.Library()

# Longer than any URL a carrier or shop sends (the tracking URL column holds 1000).
MAX_URL_LENGTH = 2048

_SCHEMES = frozenset({"http", "https"})


def http_url(value: object) -> str:
    """``value`` if it is an absolute http(s) URL with a host, else ``""``.

    Any control character or whitespace refuses the URL outright: browsers remove tabs and
    newlines anywhere in a URL and spaces around it, so ``"java\\tscript:…"`` or
    ``" javascript:…"`` would be opened as a ``javascript:`` URL by a browser while looking like
    something else to a parser. A real URL has none of them (they are percent-encoded).
    """
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return ""
    if any(ord(char) <= 0x20 or 0x7F <= ord(char) <= 0x9F for char in value):
        return ""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""
    if parts.scheme.lower() not in _SCHEMES or not host:
        return ""
    return value


register.filter("http_url", http_url, is_safe=False)
