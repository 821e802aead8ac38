"""Recipes: YAML -> validated pydantic models. Unknown keys are errors; errors name the field.

A recipe::

    name: my-corpus
    inputs:
      - path: data/*.jsonl.gz
        text_field: content
        source: web
    ingest: {shard_docs: 20000}
    stages:
      - stage: length_filter
        min_chars: 200
      - stage: exact_dedup
      - stage: topics
    eval_split:              # optional: reserved right before the first stage that fits a model (here topics)
      per_group: 32
      ood_groups: [law]

Stage params are a discriminated union on ``stage`` built from the explicit ``STAGES`` registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from curate.ingest.tasks import IngestParams, InputSpec
from curate.mix.eval_split import EvalSplitParams
from curate.stages import STAGES


def _stage_params_type() -> Any:
    members = tuple(s.Params for s in STAGES)
    if len(members) == 1:
        return members[0]
    return Annotated[Union[members], Field(discriminator="stage")]  # noqa: UP007 - dynamic union


StageParamsUnion = _stage_params_type()
STAGE_NAMES = frozenset(s.name for s in STAGES)


class Recipe(BaseModel):
    """A curation recipe: inputs, ingest settings, and the ordered stages."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Run name; the run folder defaults to runs/<name>.", pattern=r"^[A-Za-z0-9._-]+$")
    inputs: list[InputSpec] = Field(min_length=1, description="Raw inputs (files, globs, directories).")
    ingest: IngestParams = Field(default_factory=IngestParams, description="Ingest settings.")
    stages: list[StageParamsUnion] = Field(default_factory=list, description="Ordered stages (map or global).")  # type: ignore[valid-type]
    seed: int = Field(0, description="Seed handed to every stage that samples (determinism by seed).")
    eval_split: EvalSplitParams | None = Field(None, description="Eval sets reserved before the first stage that fits a model.")

    @field_validator("stages")
    @classmethod
    def _unique_stage_names(cls, stages: list[Any]) -> list[Any]:
        names = [s.stage for s in stages]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"each stage may appear once; repeated: {dupes}")
        return stages


class RecipeError(ValueError):
    """A recipe that cannot be used, with every problem named by its field path."""


def format_validation_error(source: str, err: ValidationError, what: str = "recipe") -> str:
    """One line per problem: ``file: stages[1].min_chars: message (got: value)``; ``what`` names the kind of file."""
    lines = [f"{source}: invalid {what} ({err.error_count()} problem(s)):"]
    for e in err.errors():
        loc, prev = "", None
        for part in e["loc"]:
            if isinstance(prev, int) and part in STAGE_NAMES:
                continue  # the union's tag: the stage name is already in the recipe line
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
            prev = part
        got = e.get("input")
        shown = "" if isinstance(got, (dict, list)) else f" (got: {got!r})"
        lines.append(f"  {loc or '<root>'}: {e['msg']}{shown}")
    return "\n".join(lines)


def parse_recipe(data: Any, source: str = "<recipe>") -> Recipe:
    """Validate an already-loaded mapping as a recipe."""
    if not isinstance(data, dict):
        raise RecipeError(f"{source}: a recipe is a YAML mapping with keys name, inputs, ingest, stages, seed, eval_split")
    try:
        return Recipe.model_validate(data)
    except ValidationError as err:
        raise RecipeError(format_validation_error(source, err)) from None


def load_recipe(path: Path | str) -> Recipe:
    """Read and validate a recipe file."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"recipe file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise RecipeError(f"{path}: not valid YAML: {err}") from None
    return parse_recipe(data, str(path))
