"""Role pages, one module per group; ``api.web.routes.install`` includes every module here."""
