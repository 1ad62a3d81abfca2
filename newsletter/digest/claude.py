"""The Claude writer: one Messages API call per (topic, date, language), structured output
through a forced tool call, grounded before it is accepted.

The SDK retries 408/409/429/5xx (including 529 overloaded) with exponential backoff; a
middleware holds every attempt to the writer's total time budget. A digest whose tool
input does not validate, or whose citations are wrong, is sent back to the model once,
with the error, as the tool's result; a second failure (or any API failure that the
retries did not cure) raises WriterError, which stores the digest as failed.

There is no temperature: the API version this SDK speaks (2026-10-21) rejects sampling
parameters; the model's effort level (output_config.effort) is the knob offered instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import anthropic
from anthropic import APIRequest, APIResponse, CallNext, Middleware
from anthropic.types import Message, ToolUseBlock
from pydantic import ValidationError

from newsletter.config import Settings
from newsletter.digest.fit import unfit_citations
from newsletter.digest.grounding import citation_problems
from newsletter.digest.pricing import with_cost
from newsletter.digest.prompt import SYSTEM_PROMPT, TOOL, TOOL_NAME, records, user_prompt
from newsletter.digest.schema import Usage, WrittenDigest
from newsletter.digest.writer import WriteRequest, WriterError, WriteResult

Clock = Callable[[], float]
_TOOL_USE_FIELDS = {"type", "id", "name", "input"}
_RETRIED = frozenset({408, 409, 429})  # and 5xx: the statuses the SDK retries


class BudgetExceeded(Exception):
    """The writer's total time budget ran out before the API answered."""


class _Deadline(Middleware):
    """Gives each HTTP attempt only the time left, and starts none after the deadline.

    An error response whose ``retry-after`` outlasts the budget stops the retries at once
    rather than sleeping past the deadline.
    """

    def __init__(self, seconds: float, clock: Clock) -> None:
        self.seconds, self.clock = seconds, clock
        self.ends = clock() + seconds

    def left(self) -> float:
        return self.ends - self.clock()

    def handle(self, request: APIRequest, call_next: CallNext) -> APIResponse[Any]:
        left = self.left()
        if left <= 0:
            raise BudgetExceeded(f"no answer within the {self.seconds:g} s time budget")
        response = call_next(request.copy(timeout=left))
        retried = response.status_code in _RETRIED or response.status_code >= 500
        wait = _retry_after(response.headers)
        if retried and wait is not None and wait >= self.left():
            response.http_response.close()
            raise BudgetExceeded(
                f"the API asked to retry in {wait:g} s, beyond the {self.seconds:g} s time budget"
            )
        return response


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return float(headers[name]) * scale
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _usage(message: Message) -> Usage:
    usage = Usage(
        input_tokens=message.usage.input_tokens,
        output_tokens=message.usage.output_tokens,
        cache_write_tokens=message.usage.cache_creation_input_tokens or 0,
        cache_read_tokens=message.usage.cache_read_input_tokens or 0,
    )
    return with_cost(usage, message.model)


def _problems(call: ToolUseBlock, known_ids: Mapping[int, str]) -> tuple[WrittenDigest | None, str]:
    """The digest in the tool call and what is wrong with it ("" if nothing)."""
    try:
        written = WrittenDigest.model_validate(call.input)
    except ValidationError as error:
        details = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in error.errors()[:10]
        )
        return None, f"the tool input does not match the schema: {details}"
    problems = citation_problems(written, known_ids) or unfit_citations(written, known_ids)
    if problems:
        return written, "the digest is not grounded: " + "; ".join(problems)
    return written, ""


def _re_ask(call: ToolUseBlock, problem: str) -> list[dict[str, Any]]:
    """The model's rejected tool call and, as its result, the error to correct."""
    return [
        {"role": "assistant", "content": [call.model_dump(include=_TOOL_USE_FIELDS)]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": call.id,
                    "is_error": True,
                    "content": f"Rejected: {problem}. Call {TOOL_NAME} again with the whole "
                    "corrected digest, citing only ids of the records given.",
                }
            ],
        },
    ]


def _api_failure(error: Exception) -> str:
    if isinstance(error, BudgetExceeded):
        return f"gave up: {error}"
    if isinstance(error, anthropic.APIStatusError):
        kind = error.type or "error"
        return f"the Anthropic API answered {error.status_code} {kind}: {error.api_message or ''}"
    if isinstance(error, anthropic.APITimeoutError):
        return "the Anthropic API timed out"
    if isinstance(error, anthropic.APIConnectionError):
        return f"cannot reach the Anthropic API: {error.__cause__ or error}"
    return f"the Anthropic API call failed: {error}"


class ClaudeWriter:
    name = "claude"

    def __init__(
        self,
        client: anthropic.Anthropic,
        *,
        model: str,
        max_tokens: int,
        effort: str,
        budget_seconds: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self.client = client
        self.model = model
        self.max_tokens = max_tokens
        self.effort = effort
        self.budget_seconds = budget_seconds
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> ClaudeWriter:
        client = anthropic.Anthropic(
            api_key=settings.anthropic_api_key,
            base_url=settings.anthropic_base_url or None,
            max_retries=settings.anthropic_max_retries,
        )
        return cls(
            client,
            model=settings.anthropic_model,
            max_tokens=settings.anthropic_max_tokens,
            effort=settings.anthropic_effort,
            budget_seconds=settings.anthropic_budget_seconds,
        )

    def write(self, request: WriteRequest) -> WriteResult:
        client = self.client.with_options(middleware=[_Deadline(self.budget_seconds, self.clock)])
        shown = records(request)
        # only what the model was shown: id -> the text a citation must fit
        known_ids = {record["id"]: f"{record['title']} {record['summary']}" for record in shown}
        messages: list[dict[str, Any]] = [{"role": "user", "content": user_prompt(request, shown)}]
        usage = Usage()
        message = self._call(client, messages, usage)
        usage += _usage(message)
        call, written, problem = self._answer(message, known_ids, usage)
        if problem:
            messages += _re_ask(call, problem)
            message = self._call(client, messages, usage)
            usage += _usage(message)
            call, written, problem = self._answer(message, known_ids, usage)
            if problem:
                raise WriterError(f"{problem} (still, after one re-ask)", usage)
        assert written is not None
        return WriteResult(written, self.name, message.model, usage)

    def _answer(
        self, message: Message, known_ids: Mapping[int, str], usage: Usage
    ) -> tuple[ToolUseBlock, WrittenDigest | None, str]:
        if message.stop_reason == "max_tokens":
            raise WriterError(
                f"the digest did not fit in {self.max_tokens} output tokens "
                "(raise NEWSLETTER_ANTHROPIC_MAX_TOKENS)",
                usage,
            )
        for block in message.content:
            if isinstance(block, ToolUseBlock) and block.name == TOOL_NAME:
                return (block, *_problems(block, known_ids))
        raise WriterError(
            f"the model answered without calling {TOOL_NAME} (stop reason {message.stop_reason})",
            usage,
        )

    def _call(
        self, client: anthropic.Anthropic, messages: list[dict[str, Any]], usage: Usage
    ) -> Message:
        try:
            return client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                output_config={"effort": self.effort} if self.effort else anthropic.omit,
                system=[
                    {"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}
                ],
                tools=[TOOL],
                tool_choice={"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
                messages=messages,
            )
        except (anthropic.AnthropicError, BudgetExceeded) as error:
            raise WriterError(_api_failure(error), usage) from error
