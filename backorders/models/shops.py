"""The tenant: one row per connected store. Every other row belongs to exactly one shop."""

import functools
import zoneinfo
from pathlib import Path
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import to_language

from backorders.conf import get_setting

# A platform domain is a lower-case host name such as "name.myshopify.com".
domain_validator = RegexValidator(
    r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    _("Enter a lower-case host name such as name.myshopify.com (letters, digits, dots and hyphens)."),
)


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a known time zone (e.g. Europe/Berlin)."), params={"value": value}
        )


_LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@functools.cache
def shipped_languages() -> frozenset[str]:
    """The languages the app's pages and emails exist in: English (the source language) and each
    ``backorders/locale/<code>/`` with compiled messages (today ``de``)."""
    compiled = {
        to_language(path.name)
        for path in _LOCALE_DIR.iterdir()
        if (path / "LC_MESSAGES" / "django.mo").is_file()
    }
    return frozenset({"en", *compiled})


def language_choices() -> list[tuple[str, str]]:
    """A shop's languages: the project's ``settings.LANGUAGES`` that the app ships (a regional
    code such as ``de-at`` counts as its language, ``de``)."""
    shipped = shipped_languages()
    return [
        (code, str(name))
        for code, name in settings.LANGUAGES
        if code.lower() in shipped or code.lower().split("-")[0] in shipped
    ]


# The active ISO 4217 currencies (the list's funds, precious metals and testing codes left out:
# no shop prices in them). The standard library has no such list; this one changes about once a
# year (2023: HRK withdrawn; 2024: ZWG; 2025: XCG, alongside the ANG it replaces).
CURRENCY_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD
    TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
    """.split()
)


def validate_currency(value: str) -> None:
    if value not in CURRENCY_CODES:
        raise ValidationError(
            _("%(value)s is not an ISO 4217 currency code: use three capital letters such as EUR or USD."),
            params={"value": value},
        )


PAYMENT_TEXT_MAX_LENGTH = 1000


def validate_payment_texts(value: object) -> None:
    """{language code: text}, each code one the app ships, each text plain and bounded."""
    if not isinstance(value, dict):
        raise ValidationError(_("Enter the texts as an object of language code to text."))
    known = {code for code, _name in language_choices()}
    for code, text in value.items():
        if code not in known:
            raise ValidationError(_("%(code)s is not a language of this site."), params={"code": code})
        if not isinstance(text, str) or len(text) > PAYMENT_TEXT_MAX_LENGTH or "\x00" in text:
            raise ValidationError(
                _("The %(code)s text must be plain text of at most %(n)d characters."),
                params={"code": code, "n": PAYMENT_TEXT_MAX_LENGTH},
            )


ORIGINS_MAX = 20


def origin_valid(value: object) -> bool:
    """Whether ``value`` is a web origin: ``http(s)://host[:port]``, nothing after it."""
    if not isinstance(value, str) or not value or len(value) > 255 or value != value.strip():
        return False
    try:
        parts = urlsplit(value)
        host, _port = parts.hostname, parts.port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(host)
        and value.isascii()
        and not any(char.isspace() or ord(char) < 32 for char in value)
        and f"{parts.scheme}://{parts.netloc}" == value
        and "@" not in parts.netloc
    )


def validate_origin(value: str) -> None:
    if value and not origin_valid(value):
        raise ValidationError(
            _("%(value)s is not a web origin: write it as https://shop.example.com (no path)."),
            params={"value": value},
        )


def validate_origins(value: object) -> None:
    """A list of at most ORIGINS_MAX web origins."""
    if not isinstance(value, list) or len(value) > ORIGINS_MAX:
        raise ValidationError(
            _("Enter a list of at most %(n)d origins such as https://www.example.com."),
            params={"n": ORIGINS_MAX},
        )
    for origin in value:
        if not origin_valid(origin):
            raise ValidationError(
                _("%(value)s is not a web origin: write it as https://shop.example.com (no path)."),
                params={"value": str(origin)[:100]},
            )


class BackorderMode(models.TextChoices):
    """Whether a variant may be sold beyond what is on hand."""

    DENY = "deny", _("Deny: sell only what is on hand")
    ALLOW = "allow", _("Allow: accept backorders")


class Shop(models.Model):
    domain = models.CharField(
        _("platform domain"), max_length=255, unique=True, validators=[domain_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    owner_email = models.EmailField(_("owner email"))
    from_email = models.EmailField(_("from address"), blank=True, help_text=_("Empty: DEFAULT_FROM_EMAIL."))
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=language_choices,
        default="en",
        error_messages={
            "invalid_choice": _(
                "%(value)s is not a language the app ships (one of the LANGUAGES the app has "
                "translations for)."
            )
        },
        help_text=_("Of customer emails and pages when the order names no language of its own."),
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_timezone])
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="USD",
        validators=[validate_currency],
        help_text=_("ISO 4217, e.g. EUR."),
    )
    webhook_secret = models.CharField(
        _("webhook secret"),
        max_length=200,
        blank=True,
        help_text=_("Empty: the app's SHOPIFY_API_SECRET (and SHOPIFY_API_SECRET_PREVIOUS) verify webhooks."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The app's life cycle on the platform, written only by services.shops (shop_connect,
    # shop_deactivate). A platform event about the installation (app/uninstalled, shop/redact)
    # acts only if it happened after ``connected_at``: a late or replayed one from before a
    # reconnection changes nothing.
    connected_at = models.DateTimeField(
        _("connected at"),
        default=now,
        editable=False,
        help_text=_("When the shop was last connected (created, or reconnected after an uninstall)."),
    )
    uninstalled_at = models.DateTimeField(
        _("uninstalled at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the platform says the app was uninstalled (its app/uninstalled webhook); "
            "empty while connected. The platform's shop redact erases the shop only after this."
        ),
    )

    # Shop-wide backorder policy: the default under every product and variant.
    backorder_mode = models.CharField(
        _("backorder mode"), max_length=10, choices=BackorderMode.choices, default=BackorderMode.DENY
    )
    backorder_limit = models.PositiveIntegerField(
        _("backorder limit"),
        null=True,
        blank=True,
        help_text=_("Most units waiting per variant; empty = no limit."),
    )
    handling_days = models.PositiveSmallIntegerField(
        _("handling days"), null=True, blank=True, help_text=_("Days from stock arrival to shipping.")
    )
    restock_lead_days = models.PositiveSmallIntegerField(
        _("restock lead time (days)"),
        null=True,
        blank=True,
        help_text=_("Used for ETAs when no manual restock date is set; empty = ETA unknown."),
    )
    low_stock_threshold = models.PositiveIntegerField(
        _("low-stock threshold"), null=True, blank=True, validators=[MinValueValidator(0)]
    )

    # Customer emails (services.notifications). Empty numbers inherit the BACKORDERS setting.
    eta_change_threshold_days = models.PositiveSmallIntegerField(
        _("ETA change threshold (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Customers are emailed when their ETA moves by more than this many days. "
            "Empty: the ETA_CHANGE_THRESHOLD_DAYS setting (2)."
        ),
    )
    apology_threshold_days = models.PositiveSmallIntegerField(
        _("apology threshold (days)"),
        null=True,
        blank=True,
        help_text=_(
            "A delay of more than this many days past the ETA promised at checkout includes the "
            "apology incentive. Empty: the APOLOGY_THRESHOLD_DAYS setting (14)."
        ),
    )
    apology_incentive = models.TextField(
        _("apology incentive"),
        blank=True,
        help_text=_(
            "Shown in long-delay emails, e.g. “Use code SORRY10 for 10 percent off your next order.”"
        ),
    )
    followup_days = models.PositiveSmallIntegerField(
        _("follow-up after (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Days after shipping to ask whether all is well; 0: no follow-up. "
            "Empty: the FOLLOWUP_DAYS setting (0)."
        ),
    )
    # What the customer is told about their money when they cancel, per language code
    # ({"en": "…", "de": "…"}): the shop knows its refund policy, the app does not. A language
    # without a text falls back to the shop's language, then to the app's default (which only
    # says what is true: the shop has been told and will refund the cancelled items).
    cancellation_payment_texts = models.JSONField(
        _("payment note in cancellation emails"),
        default=dict,
        blank=True,
        validators=[validate_payment_texts],
    )

    # The storefront: product pages, the embeddable widget, the App Proxy, restock alerts.
    storefront_url = models.CharField(
        _("storefront address"),
        max_length=255,
        blank=True,
        validators=[validate_origin],
        help_text=_(
            "The shop's public address, e.g. https://shop.example.com: links in restock emails "
            "lead there. Empty: https:// and the platform domain."
        ),
    )
    storefront_origins = models.JSONField(
        _("other storefront origins"),
        default=list,
        blank=True,
        validators=[validate_origins],
        help_text=_(
            "Further origins whose pages may call the storefront API from the browser, e.g. "
            '["https://www.example.com"]. The storefront address and the platform domain are '
            "always allowed."
        ),
    )
    show_quantity_available = models.BooleanField(
        _("show stock counts"),
        default=False,
        help_text=_("Product pages and the storefront API show how many units are in stock."),
    )
    show_alert_count = models.BooleanField(
        _("show how many wait for a restock"),
        default=False,
        help_text=_("Out-of-stock items show “N people are waiting for this”."),
    )

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["domain"]
        verbose_name = _("shop")
        verbose_name_plural = _("shops")

    def __str__(self) -> str:
        return self.name or self.domain

    def clean(self) -> None:
        suffix = get_setting("SHOP_DOMAIN_SUFFIX")
        if suffix and self.domain and not self.domain.endswith(suffix):
            raise ValidationError(
                {"domain": _("The platform domain must end with %(suffix)s.") % {"suffix": suffix}}
            )

    def payment_text(self, language: str) -> str:
        """The shop's cancellation payment note for ``language`` ("" for the app's default)."""
        texts = self.cancellation_payment_texts or {}
        return texts.get(language) or texts.get(self.language) or ""

    @property
    def storefront_base(self) -> str:
        """The storefront's origin: links to product pages start here."""
        return self.storefront_url or f"https://{self.domain}"

    def product_url(self, handle: str) -> str:
        """The storefront page of the product with ``handle`` (the platform's URL scheme); the
        storefront's home page for a product without one."""
        if not handle:
            return f"{self.storefront_base}/"
        return f"{self.storefront_base}/products/{quote(handle, safe='')}"

    def cors_origins(self) -> frozenset[str]:
        """Origins whose pages may read the storefront API in a browser: the platform domain,
        the storefront address and the owner's list."""
        return frozenset({f"https://{self.domain}", self.storefront_base, *self.storefront_origins})

    @property
    def zoneinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class ApiToken(models.Model):
    """A key to the management API, scoped to one shop (``services.shops.api_token_create``).

    Only a SHA-256 digest of the key is stored: the key is shown once, when it is created. The
    keys are 256 random bits, so a fast digest is enough (no password stretching needed) and the
    lookup by digest reveals nothing usable through its timing.
    """

    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("shop")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What uses it, e.g. “ERP sync”."))
    prefix = models.CharField(_("key starts with"), max_length=16, editable=False)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.CharField(_("created by"), max_length=255, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["shop", "-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
