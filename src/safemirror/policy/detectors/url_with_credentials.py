"""URLs that carry credentials: user:password@host, or a token, key, password or
signature in the query string (names in any case: ``?Token=``, a presigned S3 or GCS
URL's ``X-Amz-Signature=``, ``X-Goog-Credential=``)."""

from __future__ import annotations

import re

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_USERINFO = "[A-Za-z][A-Za-z0-9+.-]*://[^/?#@ \t\r\n:]*:[^/?#@ \t\r\n]+@[^ \t\r\n/?#]+"
_NAMES = (
    "access_token|refresh_token|token|api_key|apikey|key|password|passwd|pwd|secret|"
    "client_secret|sig|signature|auth|id_token|private_token|access_key|session_id|"
    "sessionid|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|"
    "x-goog-credential"
)
_QUERY = f"[A-Za-z][A-Za-z0-9+.-]*://[^ \t\r\n]*[?&](?i:{_NAMES})=[^&# \t\r\n]{{6,}}"
_QUERY_VALUE = re.compile(f"[?&](?i:{_NAMES})=([^&# \t\r\n]+)")


@register
class UrlWithCredentials(Detector):
    name = "url_with_credentials"
    description = "URLs with credentials (https://user:pass@host, ?access_token=…)"
    suggested_action = "secret"
    pattern = f"(?:{_USERINFO}|{_QUERY})"

    def confirm(self, value: str) -> bool:
        for candidate in self.candidates(value):
            if "@" in candidate and "://" in candidate:
                userinfo = candidate.split("://", 1)[1].split("@", 1)[0]
                secret = userinfo.partition(":")[2]
                if secret and set(secret) != {"*"} and secret.lower() not in {"x", "xxx"}:
                    return True
            for match in _QUERY_VALUE.finditer(candidate):
                if set(match.group(1)) - {"*", "x", "X", "="}:
                    return True
        return False
