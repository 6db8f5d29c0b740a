"""The query server: HTTP API and dashboard over the mirror, behind API keys
(``server.app.create_app``; imported by ``serve`` alone, so other commands start without
the web framework)."""
