"""The owner's dashboard: the admin's first page (``site.BackordersAdminSite``), its view
(``views``) and its charts, drawn on the server as SVG (``charts``): no script, no CDN."""
