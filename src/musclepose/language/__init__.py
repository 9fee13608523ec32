"""Language: the physics summary and prompts the coach is given (LLM backends come with the coach)."""

from .prompts import SYSTEM_PROMPT, PhysicsSummary, build_prompt

__all__ = ["SYSTEM_PROMPT", "PhysicsSummary", "build_prompt"]
