/*
 * The backorders storefront widget: badge, ETA, alternatives and "notify me" on a theme's
 * product page. No framework, no dependency; data only ever goes through textContent and
 * attributes set one by one (never innerHTML), and links only to http(s) URLs.
 *
 *   <div data-backorders-widget data-shop="acme.myshopify.com" data-product="red-mug"
 *        data-variant="456" data-api="https://backorders.example.com" data-lang="de"></div>
 *   <script src="https://backorders.example.com/static/backorders/widget.js" defer></script>
 *
 * data-proxy="/apps/backorders" instead of data-api calls the platform's App Proxy on the shop's
 * own domain. The widget follows the selected variant: a change of the product form's variant
 * (select or radios named "id", or a theme's hidden input of that name), a
 * `backorders:variant` event on document with detail.variantId, and ?variant= in the URL.
 */
(function () {
  "use strict";

  var TEXTS = {
    en: {
      label: "Email me when it is back in stock",
      button: "Notify me",
      alternatives: "In stock now instead",
      tier: "Premium choice",
      waiting1: "%n person is waiting for this",
      waitingN: "%n people are waiting for this",
      failed: "The shop could not be reached. Please try again.",
      busy: "Too many sign-ups from here. Please try again later.",
    },
    de: {
      label: "Benachrichtigen Sie mich, wenn es wieder da ist",
      button: "Benachrichtigen",
      alternatives: "Stattdessen sofort lieferbar",
      tier: "Premium-Wahl",
      waiting1: "%n Person wartet darauf",
      waitingN: "%n Personen warten darauf",
      failed: "Der Shop war nicht erreichbar. Bitte versuchen Sie es erneut.",
      busy: "Zu viele Anmeldungen von hier. Bitte versuchen Sie es später erneut.",
    },
  };
  var counter = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function httpUrl(value) {
    if (typeof value !== "string" || !value) return "";
    try {
      var url = new URL(value, document.baseURI);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : "";
    } catch (e) {
      return "";
    }
  }

  function getJson(url) {
    return fetch(url, { credentials: "omit", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  function Widget(root) {
    var d = root.dataset;
    var lang = (d.lang || document.documentElement.lang || "en").slice(0, 2).toLowerCase();
    this.lang = TEXTS[lang] ? lang : "en";
    this.t = TEXTS[this.lang];
    this.root = root;
    var product = encodeURIComponent(d.product || "");
    if (d.proxy) {
      this.base = d.proxy.replace(/\/+$/, "");
    } else {
      this.base = (d.api || "").replace(/\/+$/, "") + "/api/v1/storefront/" + encodeURIComponent(d.shop || "");
    }
    this.productUrl = this.base + "/products/" + product;
    this.query = "?lang=" + encodeURIComponent(this.lang);
    this.wanted = new URLSearchParams(window.location.search).get("variant") || d.variant || "";
    this.data = null;
    this.id = ++counter;
    this.build();
    this.load();
  }

  Widget.prototype.build = function () {
    var t = this.t;
    this.root.classList.add("backorders-widget");
    this.availability = el("div", "backorders-availability");
    // The live region exists before its text changes, so that a new badge is announced.
    this.badge = el("p", "backorders-badge");
    this.badge.setAttribute("role", "status");
    this.badge.setAttribute("aria-live", "polite");
    this.eta = el("p", "backorders-eta");
    this.eta.hidden = true;
    this.availability.append(this.badge, this.eta);

    var form = (this.form = el("form", "backorders-alert"));
    form.noValidate = false;
    form.hidden = true;
    var inputId = "backorders-widget-email-" + this.id;
    var label = el("label", "backorders-alert__label", t.label);
    label.htmlFor = inputId;
    var row = el("span", "backorders-alert__row");
    var input = (this.email = el("input", "backorders-alert__email"));
    input.id = inputId;
    input.type = "email";
    input.name = "email";
    input.required = true;
    input.maxLength = 254;
    input.autocomplete = "email";
    input.placeholder = "name@example.com";
    this.button = el("button", "backorders-alert__button", t.button);
    this.button.type = "submit";
    row.append(input, this.button);
    this.waiting = el("p", "backorders-alert__waiting");
    this.waiting.hidden = true;
    this.message = el("p", "backorders-alert__message");
    this.message.setAttribute("role", "status");
    this.error = el("p", "backorders-alert__error");
    this.error.setAttribute("role", "alert");
    this.error.id = inputId + "-error";
    form.append(label, row, this.waiting, this.message, this.error);
    form.addEventListener("submit", this.submit.bind(this));

    this.alternatives = el("section", "backorders-alternatives");
    this.alternatives.hidden = true;
    this.root.replaceChildren(this.availability, form, this.alternatives);
  };

  Widget.prototype.load = function () {
    var self = this;
    getJson(this.productUrl + "/availability" + this.query)
      .then(function (data) {
        self.data = data;
        self.show(self.wanted);
      })
      .catch(function () {
        self.root.hidden = true; // no badge rather than a wrong one
      });
    getJson(this.productUrl + "/alternatives" + this.query)
      .then(function (data) {
        self.showAlternatives(data.alternatives || []);
      })
      .catch(function () {});
  };

  Widget.prototype.show = function (variantId) {
    if (!this.data || !this.data.variants || !this.data.variants.length) return;
    var rows = this.data.variants;
    var row = rows[0];
    for (var i = 0; i < rows.length; i++) {
      if (String(rows[i].id) === String(variantId)) row = rows[i];
    }
    if (this.row && this.row.id === row.id) return;
    this.row = row;
    var state = /^[a-z_]+$/.test(row.state) ? row.state : "unknown";
    this.availability.dataset.variant = row.id;
    this.availability.dataset.state = state;
    this.badge.className = "backorders-badge backorders-badge--" + state;
    this.badge.textContent = row.badge || "";
    this.eta.textContent = row.eta_text || "";
    this.eta.hidden = !row.eta_text;
    this.form.hidden = !row.alert_signup;
    this.message.textContent = "";
    this.setError("");
    var n = row.alert_waiting;
    this.waiting.hidden = !n;
    this.waiting.textContent = n ? (n === 1 ? this.t.waiting1 : this.t.waitingN).replace("%n", n) : "";
  };

  Widget.prototype.setError = function (text) {
    this.error.textContent = text;
    if (text) this.email.setAttribute("aria-describedby", this.error.id);
    else this.email.removeAttribute("aria-describedby");
    this.email.setAttribute("aria-invalid", text ? "true" : "false");
  };

  Widget.prototype.submit = function (event) {
    event.preventDefault();
    if (!this.row) return;
    var self = this;
    var t = this.t;
    this.button.disabled = true;
    this.message.textContent = "";
    this.setError("");
    fetch(this.base + "/alerts", {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ variant_id: this.row.id, email: this.email.value.trim(), language: this.lang }),
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            if (response.ok) {
              self.message.textContent = body.message || "";
              self.email.value = "";
            } else if (response.status === 429) {
              self.setError(t.busy);
            } else {
              var first = function (value) {
                return Array.isArray(value) ? value[0] : value;
              };
              self.setError(first(body.email) || first(body.variant_id) || body.detail || t.failed);
            }
          });
      })
      .catch(function () {
        self.setError(t.failed);
      })
      .then(function () {
        self.button.disabled = false;
      });
  };

  Widget.prototype.showAlternatives = function (items) {
    var section = this.alternatives;
    var headingId = "backorders-widget-alternatives-" + this.id;
    var heading = el("h2", "backorders-alternatives__title", this.t.alternatives);
    heading.id = headingId;
    section.setAttribute("aria-labelledby", headingId);
    var list = el("ul", "backorders-alternatives__list");
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      var li = el("li", "backorders-alternative" + (item.higher_tier ? " backorders-alternative--higher-tier" : ""));
      var image = httpUrl(item.image_url);
      if (image) {
        var img = el("img", "backorders-alternative__image");
        img.src = image;
        img.alt = "";
        img.loading = "lazy";
        img.width = img.height = 80;
        li.append(img);
      }
      var href = httpUrl(item.url);
      var link = el(href ? "a" : "span", "backorders-alternative__link", item.title);
      if (href) link.href = href;
      li.append(link, el("span", "backorders-alternative__price", item.price + " " + (item.currency || "")));
      if (item.higher_tier) li.append(el("span", "backorders-alternative__tier", this.t.tier));
      var state = /^[a-z_]+$/.test(item.state) ? item.state : "unknown";
      li.append(el("span", "backorders-badge backorders-badge--" + state, item.badge));
      list.append(li);
    }
    section.replaceChildren(heading, list);
    section.hidden = !items.length;
  };

  var widgets = [];

  function follow(variantId) {
    if (variantId === undefined || variantId === null || variantId === "") return;
    for (var i = 0; i < widgets.length; i++) widgets[i].show(String(variantId));
  }

  function start() {
    var roots = document.querySelectorAll("[data-backorders-widget]");
    for (var i = 0; i < roots.length; i++) {
      if (!roots[i].backordersWidget) widgets.push((roots[i].backordersWidget = new Widget(roots[i])));
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target && target.form;
    if (!form || form.classList.contains("backorders-alert")) return;
    // The theme's product form: its "id" field (a select, radios, or a hidden input the theme
    // updates from its own option pickers) holds the chosen variant.
    var field = form.elements.namedItem("id");
    if (!field) return;
    // Themes update a hidden "id" input from their own pickers after the change: read it then.
    setTimeout(function () {
      follow(field.value);
    }, 0);
  });
  document.addEventListener("backorders:variant", function (event) {
    follow(event.detail && event.detail.variantId);
  });
  window.addEventListener("popstate", function () {
    follow(new URLSearchParams(window.location.search).get("variant"));
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
