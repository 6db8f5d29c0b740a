"""Credentials of a known shape: provider API keys by their prefix (AWS AKIA…, GitHub
ghp_…, Stripe sk_live_…, Slack xoxb-…, Google AIza…/ya29.…, GitLab glpat-…), PEM private
keys and password hashes in their modular-crypt form ($2b$…, $argon2id$…). Unlike the
high-entropy catch-all, the shape itself says what the value is."""

from __future__ import annotations

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_KEYS = (
    "(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}",
    "gh[pousr]_[A-Za-z0-9]{36,}",
    "github_pat_[A-Za-z0-9_]{22,}",
    "(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
    "whsec_[A-Za-z0-9+/=]{24,}",
    "xox[abposr]-[A-Za-z0-9-]{10,}",
    "AIza[0-9A-Za-z_-]{35}",
    "ya29\\.[0-9A-Za-z_-]{20,}",
    "glpat-[0-9A-Za-z_-]{20,}",
    "npm_[A-Za-z0-9]{36}",
    "shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",
    "SG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}",
)
_PEM = "-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----"
_HASHES = (
    "\\$2[abxy]?\\$[0-9]{2}\\$[./A-Za-z0-9]{53}",
    "\\$argon2(?:id|i|d)\\$(?:v=[0-9]+\\$)?m=[0-9]+,t=[0-9]+,p=[0-9]+\\$[A-Za-z0-9+/]+",
    "\\$(?:5|6)\\$(?:rounds=[0-9]+\\$)?[./A-Za-z0-9]{1,16}\\$[./A-Za-z0-9]{43,86}",
    "\\$scrypt\\$[^ \t\r\n]{16,}",
    "pbkdf2_sha(?:1|256|512)\\$[0-9]+\\$[^ \t\r\n$]+\\$[A-Za-z0-9+/=]{20,}",
)


@register
class KnownSecret(Detector):
    name = "known_secret"
    description = "API keys, private keys or password hashes (AKIA…, ghp_…, sk_live_…, PEM, $2b$…)"
    suggested_action = "secret"
    pattern = (
        f"(?:(?:^|[^0-9A-Za-z_])(?:{'|'.join(_KEYS)})(?:$|[^0-9A-Za-z])"
        f"|{_PEM}|(?:{'|'.join(_HASHES)}))"
    )
