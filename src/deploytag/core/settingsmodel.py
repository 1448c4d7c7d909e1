"""The base of every settings model: unknown keys are errors, values are frozen and validated.

Adapter packages declare their providers' settings on it (``adapters/<capability>/settings.py``),
so this module imports pydantic only. It lives outside ``core.config`` because importing anything
from that package runs its ``__init__``, which loads the schema, which imports the adapters'
settings: an adapter's settings module imported first would then find itself half-initialised.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
