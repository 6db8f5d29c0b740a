"""The query server: HTTP API and dashboard over the mirror, behind API keys."""

from safemirror.server.app import create_app

__all__ = ["create_app"]
