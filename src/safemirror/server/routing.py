"""Route tables: handlers declare method, path and role; ``install`` adds them to the app.

Routes are added straight to the application (not through included routers), so
``app.routes`` lists every one of them and the role check can see them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import FastAPI

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Routes:
    items: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)

    def add(self, method: str, path: str, role: str, **kwargs: Any) -> Callable[[F], F]:
        def decorate(func: F) -> F:
            extra = {"openapi_extra": {"x-required-role": role}}
            self.items.append((method, path, func, {**self.defaults, **extra, **kwargs}))
            return func

        return decorate

    def get(self, path: str, role: str, **kwargs: Any) -> Callable[[F], F]:
        return self.add("GET", path, role, **kwargs)

    def post(self, path: str, role: str, **kwargs: Any) -> Callable[[F], F]:
        return self.add("POST", path, role, **kwargs)

    def delete(self, path: str, role: str, **kwargs: Any) -> Callable[[F], F]:
        return self.add("DELETE", path, role, **kwargs)

    def install(self, app: FastAPI) -> None:
        for method, path, func, kwargs in self.items:
            app.add_api_route(path, func, methods=[method], **kwargs)
