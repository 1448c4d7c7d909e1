"""The base of every settings model: unknown keys are errors, values are frozen and validated.

Adapter packages declare their providers' settings on it (``adapters/<capability>/settings.py``),
so this module imports pydantic only.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class SettingsModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
