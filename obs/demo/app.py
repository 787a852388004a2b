"""The demo application: a made-up help desk product ("Flowdesk") using obs exactly as a user would.

Three features: ``help_answer`` (RAG: query rewrite -> retrieval span -> answer, one trace per question, in a
chat that resends its last HISTORY_TURNS questions and answers: a user's day is one multi-turn session),
``ticket_triage`` (tool calls, then the final answer), ``thread_summary`` (streamed). The claude-* models are
called through the Anthropic SDK (the Messages API), the others through the openai SDK, as a real app would.
Prompt versions change over time; the planted regressions are real effects of those changes, which the
dashboard and alerts should find:

* ``help_answer`` prompt v3 (the last 5 days) tells the model to refuse when unsure; claude-haiku-4-5 then
  refuses far more often than before (a refusal-rate regression on one model).
* retrieval's top-k went from 3 to 8 chunks 6 days ago; gpt-4.1's time to first token grows with the prompt, so
  ``help_answer`` on gpt-4.1 gets much slower (a latency regression on one feature and model). acme's Slack bot
  (no user id, pinned to gpt-4.1) asks around the clock, so the regression shows on weekends and nights too.
* one user (``acme-user-03``) pastes whole documents into every question and asks for claude-opus-4-1: a big spender;
  another (``globex-user-07``) has given every answer of the last three days a thumbs-down.

Who asks what, when and of which model is planned in ``obs.demo.schedule``; this module is the app itself.
* ``flowdesk-tuned-1``, the team's fine-tuned model, has no public price: its calls are unpriced, never $0.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anthropic
import openai

import obs
from obs.demo.replies import words

#: Earlier turns (question and answer) the help-desk chat resends with each question.
HISTORY_TURNS = 2

DOCS_DIR = Path(__file__).resolve().parent / "docs"

TENANTS = {"acme": 20, "globex": 14, "initech": 6}
USERS = [f"{tenant}-user-{i:02d}" for tenant, count in TENANTS.items() for i in range(1, count + 1)]
BIG_SPENDER = "acme-user-03"
UNHAPPY_USER = "globex-user-07"
#: acme's Slack integration forwards questions from a channel around the clock, without an end user's id.
SLACKBOT_TENANT = "acme"

QUESTIONS = [
    "How much does the Team plan cost per agent?",
    "How do I download past invoices as PDF?",
    "Can I get a refund on a yearly plan?",
    "How do I set up single sign-on with Okta?",
    "What happens to passwords once SSO is enforced?",
    "Does Flowdesk support SCIM provisioning?",
    "How do I create an automation that assigns refund tickets to billing?",
    "Why did my time based automation fire late?",
    "How do I send replies from my own email domain?",
    "What is the attachment size limit for email tickets?",
    "What is the default SLA for urgent tickets?",
    "Do SLA targets pause outside business hours?",
    "What is the API rate limit?",
    "How do I verify webhook signatures?",
    "Why did push notifications stop on my phone?",
    "Can light agents reply to customers?",
    "How do I export a report as CSV?",
    "How often is report data refreshed?",
    "Where is customer data hosted?",
    "How do I delete a customer's personal data?",
    "How long are audit logs kept?",
    "Should I delete an agent who left the company?",
    "Can I pay by bank transfer?",
    "Does the mobile app work offline?",
    "Can Flowdesk integrate with our Kubernetes cluster autoscaler?",
    "What is the weather in Paris tomorrow?",
    "Do you offer a discount for nonprofits?",
]
TICKETS = [
    "Our SSO login is down and no agent can sign in, urgent!",
    "I was charged twice for the Team plan this month, please refund one invoice.",
    "How can I change the price plan for my workspace?",
    "The webhook endpoint keeps receiving 429 errors from your API.",
    "Can't see new tickets in reports for a few minutes, is that expected?",
    "Please add two more agents to our account.",
    "Emails from customers are not arriving since yesterday, outage?",
    "SAML metadata upload fails with an error.",
]
THREADS = [
    "Customer: the export to CSV is missing the tag column. Agent: which report? Customer: the weekly volume report. "
    "Agent: scheduled exports use the columns saved in the report; please add the tag column and save. "
    "Customer: that worked, thanks. Agent: great, closing the ticket.",
    "Customer: our invoices go to an old address. Agent: the billing contact receives invoices on the first day. "
    "Customer: how do I change it? Agent: Settings, then Billing, then Billing contact. Customer: done.",
    "Customer: agents on Android get no notifications. Agent: limiting notifications to urgent tickets can hide "
    "them. Customer: it was set to urgent only. Agent: switch it to all assignments and sign in again.",
]

ANSWER_PROMPTS = {
    "v1": "You answer questions about Flowdesk using only the help center context provided. Be concise.",
    "v2": "You are a friendly Flowdesk support assistant. Answer from the help center context below, in a "
    "friendly tone, citing the relevant steps.",
    "v3": "You are a friendly Flowdesk support assistant. Answer strictly from the help center context below. "
    "If the context does not fully answer the question, refuse rather than guess.",
}
REWRITE_PROMPT = "Rewrite the user's question as a short keyword search query for the help center."
TRIAGE_PROMPT = "You triage incoming support tickets. Call route_ticket with the right team and priority."
SUMMARY_PROMPT = {
    "v1": "Summarize this support conversation in two sentences.",
    "v2": "Summarize this support conversation as bullet points for the next agent.",
}
ROUTE_TOOL: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "route_ticket",
            "description": "Send a ticket to a team with a priority.",
            "parameters": {
                "type": "object",
                "properties": {
                    "team": {"type": "string", "enum": ["support", "billing", "security"]},
                    "priority": {"type": "string", "enum": ["low", "normal", "urgent"]},
                },
                "required": ["team", "priority"],
            },
        },
    }
]


#: The same tool as the Messages API takes it (its schema is ``input_schema``).
CLAUDE_ROUTE_TOOL = [
    {"name": t["function"]["name"], "description": t["function"]["description"],
     "input_schema": t["function"]["parameters"]}
    for t in ROUTE_TOOL
]  # fmt: skip


def _is_claude(model: str) -> bool:
    return model.startswith("claude")


def _text_of(blocks: Any) -> str | None:
    """The text of a Message's text blocks (None when it has none)."""
    texts = [block.text for block in blocks if block.type == "text"]
    return "".join(texts) if texts else None


@dataclass(frozen=True)
class Chunk:
    doc: str
    text: str


def load_chunks() -> list[Chunk]:
    """The help center, one chunk per paragraph."""
    chunks = []
    for path in sorted(DOCS_DIR.glob("*.md")):
        for paragraph in path.read_text(encoding="utf-8").split("\n"):
            if paragraph.strip() and not paragraph.startswith("#"):
                chunks.append(Chunk(path.stem, paragraph.strip()))
    return chunks


def retrieve(chunks: list[Chunk], query: str, k: int) -> list[Chunk]:
    """Keyword-overlap retrieval (a stand-in for a vector store)."""
    terms = set(words(query))
    scored = sorted(chunks, key=lambda c: (-len(terms & set(words(c.text))), c.doc))
    return scored[:k]


@dataclass
class Era:
    """What the app looked like on a given day (prompt versions, retrieval depth, model choice)."""

    answer_prompt: str
    summary_prompt: str
    top_k: int


def era(day: datetime, now: datetime) -> Era:
    age = (now - day) / timedelta(days=1)
    answer = "v1" if age > 20 else "v2" if age > 5 else "v3"
    return Era(answer_prompt=answer, summary_prompt="v1" if age > 15 else "v2", top_k=3 if age > 6 else 8)


class DemoApp:
    """The application code: what an obs user writes."""

    def __init__(self, client: openai.OpenAI, claude: anthropic.Anthropic, rng: random.Random) -> None:
        # Typed loosely: the obs= keyword (attributes for one call) is not in the SDKs' signatures.
        self.client: Any = obs.wrap(client)
        self.claude: Any = obs.wrap(claude)
        self.chunks = load_chunks()
        self.rng = rng
        #: The help-desk chat's history per session: earlier questions and answers, resent with each question.
        self.history: dict[str, list[dict[str, str]]] = {}

    def help_answer(
        self, user: str | None, tenant: str, question: str, when: datetime, now: datetime, model: str
    ) -> str | None:
        """RAG: rewrite the question, retrieve chunks (a span), answer; the answer's parent is the rewrite."""
        e = era(when, now)
        session = f"s-{user or tenant}-{when:%Y%m%d}"
        with obs.trace("help_answer", user_id=user, tenant_id=tenant, feature="help_answer",
                       prompt_version=e.answer_prompt, session_id=session) as t:  # fmt: skip
            rewrite = self.client.chat.completions.create(
                model="gpt-5-mini",
                messages=[{"role": "system", "content": REWRITE_PROMPT}, {"role": "user", "content": question}],
                temperature=0,
                obs={"feature": "query_rewrite", "prompt_version": "v1"},
            )
            query = rewrite.choices[0].message.content or question
            with obs.span("retrieval", kind="retrieval", input={"query": query, "top_k": e.top_k}) as span:
                found = retrieve(self.chunks, query, e.top_k)
                span.set_output([{"doc": c.doc, "text": c.text} for c in found])
            context = "\n\n".join(f"[{c.doc}] {c.text}" for c in found)
            if user == BIG_SPENDER:  # pastes whole documents into every question
                context += "\n\n" + "\n".join(c.text for c in self.chunks)
            system = ANSWER_PROMPTS[e.answer_prompt] + "\n\nContext:\n" + context
            history = self.history.setdefault(session, [])
            chat = [*history, {"role": "user", "content": question}]
            text: str | None
            if _is_claude(model):
                answer = self.claude.messages.create(
                    model=model, max_tokens=1024, system=system, messages=chat,
                    extra_body={"temperature": 0.3}, obs={"parent_id": rewrite.id},
                )  # fmt: skip
                text = _text_of(answer.content)
            else:
                answer = self.client.chat.completions.create(
                    model=model,
                    messages=[{"role": "system", "content": system}, *chat],
                    temperature=0.3,
                    obs={"parent_id": rewrite.id},
                )
                text = answer.choices[0].message.content
            t.set_output(text)
            if text:  # a failed call raised above: the user asks again without it
                history[:] = [*chat, {"role": "assistant", "content": text}][-2 * HISTORY_TURNS :]
        self._feedback(user, answer, text, when, now)
        return text

    def ticket_triage(self, user: str | None, tenant: str, ticket: str, model: str) -> str | None:
        """Tool calling: the model picks a team and priority, the app routes, the model confirms."""
        with obs.trace("ticket_triage", user_id=user, tenant_id=tenant, feature="ticket_triage", prompt_version="v2"):
            if _is_claude(model):
                return self._claude_triage(ticket, model)
            messages: list[dict[str, Any]] = [
                {"role": "system", "content": TRIAGE_PROMPT},
                {"role": "user", "content": ticket},
            ]
            first = self.client.chat.completions.create(
                model=model, messages=messages, tools=ROUTE_TOOL, tool_choice="auto"
            )
            call = (first.choices[0].message.tool_calls or [None])[0]
            if call is None:
                return str(first.choices[0].message.content)
            with obs.span("route_ticket", kind="tool", input=json.loads(call.function.arguments)) as span:
                routed = {**json.loads(call.function.arguments), "queue_position": self.rng.randrange(1, 40)}
                span.set_output(routed)
            messages += [
                first.choices[0].message.model_dump(exclude_none=True),
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(routed)},
            ]
            final = self.client.chat.completions.create(model=model, messages=messages, tools=ROUTE_TOOL)
            return str(final.choices[0].message.content)

    def _claude_triage(self, ticket: str, model: str) -> str | None:
        """Tool use through the Messages API: the tool's result goes back as a block of a user message."""
        messages: list[dict[str, Any]] = [{"role": "user", "content": ticket}]
        first = self.claude.messages.create(
            model=model, max_tokens=1024, system=TRIAGE_PROMPT, messages=messages, tools=CLAUDE_ROUTE_TOOL
        )
        call = next((block for block in first.content if block.type == "tool_use"), None)
        if call is None:
            return _text_of(first.content)
        with obs.span("route_ticket", kind="tool", input=call.input) as span:
            routed = {**call.input, "queue_position": self.rng.randrange(1, 40)}
            span.set_output(routed)
        messages += [
            {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                          "content": json.dumps(routed)}]},
        ]  # fmt: skip
        final = self.claude.messages.create(
            model=model, max_tokens=1024, system=TRIAGE_PROMPT, messages=messages, tools=CLAUDE_ROUTE_TOOL
        )
        return _text_of(final.content)

    def thread_summary(
        self, user: str | None, tenant: str, thread: str, when: datetime, now: datetime, model: str
    ) -> str:
        """Streaming: the summary is shown to the agent as it is written."""
        e = era(when, now)
        with obs.trace("thread_summary", user_id=user, tenant_id=tenant, feature="thread_summary",
                       prompt_version=e.summary_prompt):  # fmt: skip
            if _is_claude(model):  # the SDK's stream helper, read as it is written
                system = SUMMARY_PROMPT[e.summary_prompt]
                messages = [{"role": "user", "content": thread}]
                with self.claude.messages.stream(model=model, max_tokens=1024, system=system, messages=messages) as s:
                    return "".join(s.text_stream)
            stream = self.client.chat.completions.create(
                model=model,
                messages=[
                    {"role": "system", "content": SUMMARY_PROMPT[e.summary_prompt]},
                    {"role": "user", "content": thread},
                ],
                stream=True,
            )
            return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    def _feedback(self, user: str | None, answer: Any, text: str | None, when: datetime, now: datetime) -> None:
        bad = not text or bool(re.search(r"I don't know|I'm sorry", text))
        if user == UNHAPPY_USER and now - when < timedelta(days=3):
            obs.feedback("thumbs_down", call_id=answer.id, comment="Still not what I asked")
        elif self.rng.random() < 0.25:
            down = self.rng.random() < (0.7 if bad else 0.12)
            obs.feedback("thumbs_down" if down else "thumbs_up", call_id=answer.id)
