"""Geographic coordinates as text: a latitude and longitude pair with four or more
decimals each (about 11 m), as 'lat,lon', PostgreSQL's point '(lat,lon)', WKT
'POINT(lon lat)' or GeoJSON's [lon, lat]. One within ±90, the other within ±180; a
pair of zeros is no place."""

from __future__ import annotations

import re

from safemirror.policy.detectors.base import Detector
from safemirror.policy.detectors.registry import register

_NUMBER = "-?[0-9]{1,3}\\.[0-9]{4,}"
_PAIR = re.compile(f"({_NUMBER})[ \t]*(?:,|[ \t])[ \t]*({_NUMBER})")


def _place(first: float, second: float) -> bool:
    in_range = (abs(first) <= 90 and abs(second) <= 180) or (
        abs(first) <= 180 and abs(second) <= 90
    )
    return in_range and (abs(first) >= 0.01 or abs(second) >= 0.01)


@register
class Coordinates(Detector):
    name = "coordinates"
    description = "geographic coordinates (51.50135,-0.14189; POINT(-0.14189 51.50135))"
    suggested_action = "drop"
    pattern = f"(?:^|[^0-9A-Za-z.])(?:{_NUMBER})[ \t]*(?:,|[ \t])[ \t]*(?:{_NUMBER})(?:$|[^0-9.])"

    def confirm(self, value: str) -> bool:
        for candidate in self.candidates(value):
            pair = _PAIR.search(candidate)
            if pair is not None and _place(float(pair.group(1)), float(pair.group(2))):
                return True
        return False
