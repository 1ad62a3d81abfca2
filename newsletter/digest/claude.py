"""The Claude writer: one Messages API call per (topic, date, language), structured output
through a forced tool call, grounded and passed through the quality gate before it is
accepted. The day's primary language is written from the news records; every other
language is translated from that digest by a cheaper model, keeping its item ids, so
every language tells the same stories citing the same items.

The SDK retries 408/409/429/5xx (including 529 overloaded) with exponential backoff; a
middleware holds every attempt to the writer's total time budget. A digest whose tool
input does not validate, whose citations are wrong or that fails the quality gate is sent
back to the model once, with the findings, as the tool's result; a second failure (or any
API failure that the retries did not cure) raises WriterError, which stores the digest as
failed.

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
from newsletter.digest.batch import BatchPolicy
from newsletter.digest.fit import unfit_citations
from newsletter.digest.grounding import citation_problems
from newsletter.digest.pricing import with_cost
from newsletter.digest.prompt import (
    SYSTEM_PROMPT,
    TOOL,
    TOOL_NAME,
    TRANSLATE_PROMPT,
    records,
    translation_prompt,
    user_prompt,
)
from newsletter.digest.quality import GateContext, check, context_for, describe
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
    return with_cost(usage, message.model, batch=message.usage.service_tier == "batch")


def _problems(
    call: ToolUseBlock, known_ids: Mapping[int, str], context: GateContext
) -> tuple[WrittenDigest | None, str]:
    """The digest in the tool call and what is wrong with it ("" if nothing): its shape,
    its citations (each must exist and fit what cites it), then the quality gate."""
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
    findings = check(written, context)
    if findings:
        return written, describe(findings)
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
                    "corrected digest, fixing every finding, citing only ids of the records "
                    "given.",
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
        translate_model: str = "",
        batch: BatchPolicy | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.client = client
        self.model = model
        self.translate_model = translate_model or model
        self.batch = batch
        self.max_tokens = max_tokens
        self.effort = effort
        self.budget_seconds = budget_seconds
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, batch: BatchPolicy | None = None) -> ClaudeWriter:
        """The writer the settings describe; ``batch``: send through the Message Batches
        API (half price) while there is time (see ``batch.batch_policy``)."""
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
            translate_model=settings.anthropic_translate_model,
            batch=batch,
        )

    def write(self, request: WriteRequest) -> WriteResult:
        """The primary language from the news records; any other language from the day's
        primary digest (``request.primary``), translated by the cheaper model."""
        client = self.client.with_options(middleware=[_Deadline(self.budget_seconds, self.clock)])
        if request.primary is None:
            shown = records(request)
            # only what the model was shown: id -> the text a citation must fit
            known_ids = {record["id"]: f"{record['title']} {record['summary']}" for record in shown}
            system, content, model = SYSTEM_PROMPT, user_prompt(request, shown), self.model
        else:
            known_ids = {
                item.id: f"{item.title} {item.summary}"
                for story in request.stories
                for item in story.items
            }
            system, content = TRANSLATE_PROMPT, translation_prompt(request)
            model = self.translate_model
        context = context_for(request)
        messages: list[dict[str, Any]] = [{"role": "user", "content": content}]
        usage = Usage()
        message = self._call(client, model, system, messages, usage)
        usage += _usage(message)
        call, written, problem = self._answer(message, known_ids, context, usage)
        if problem:
            messages += _re_ask(call, problem)
            message = self._call(client, model, system, messages, usage)
            usage += _usage(message)
            call, written, problem = self._answer(message, known_ids, context, usage)
            if problem:
                raise WriterError(f"{problem} (still, after one re-ask)", usage)
        assert written is not None
        return WriteResult(written, self.name, message.model, usage)

    def _answer(
        self, message: Message, known_ids: Mapping[int, str], context: GateContext, usage: Usage
    ) -> tuple[ToolUseBlock, WrittenDigest | None, str]:
        if message.stop_reason == "max_tokens":
            raise WriterError(
                f"the digest did not fit in {self.max_tokens} output tokens "
                "(raise NEWSLETTER_ANTHROPIC_MAX_TOKENS)",
                usage,
            )
        for block in message.content:
            if isinstance(block, ToolUseBlock) and block.name == TOOL_NAME:
                return (block, *_problems(block, known_ids, context))
        raise WriterError(
            f"the model answered without calling {TOOL_NAME} (stop reason {message.stop_reason})",
            usage,
        )

    def _call(
        self,
        client: anthropic.Anthropic,
        model: str,
        system: str,
        messages: list[dict[str, Any]],
        usage: Usage,
    ) -> Message:
        params: dict[str, Any] = {
            "model": model,
            "max_tokens": self.max_tokens,
            "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
            "tools": [TOOL],
            "tool_choice": {"type": "tool", "name": TOOL_NAME, "disable_parallel_tool_use": True},
            "messages": messages,
        }
        if self.effort:
            params["output_config"] = {"effort": self.effort}
        try:
            if self.batch is not None:
                message = self.batch.run(self.client, params)
                if message is not None:
                    return message
                # the time budget counts from now: the batch may have waited for long
                client = self.client.with_options(
                    middleware=[_Deadline(self.budget_seconds, self.clock)]
                )
            return client.messages.create(**params)
        except (anthropic.AnthropicError, BudgetExceeded) as error:
            raise WriterError(_api_failure(error), usage) from error
