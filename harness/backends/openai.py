"""`openai` backend: any OpenAI-compatible server (`vllm serve`, SGLang, TGI, `transformers serve`...).

Why the official `openai` client rather than raw HTTP: it already retries 408/409/429/5xx and
connection errors with exponential backoff and jitter (honouring Retry-After) and enforces a
per-request timeout; we only set `max_retries` and `timeout`. When the retries run out the run
stops with a one-line error; every finished sample is already in generations.jsonl, so re-running
the same command resumes (a dead server loses only the requests in flight).

- Concurrency: a pool of `concurrency` threads; generations are yielded as requests finish.
- n per request: the pending samples of one problem go out as one request with `n`. A server that
  returns fewer choices than asked (transformers serve ignores `n`) gets the rest one request per
  sample, and is not asked for n > 1 again.
- Seeds: each request carries the seed of its first sample (all choices of an n-request share it);
  a server that rejects `seed` (HTTP 400 naming it) is asked again without one, and from then on
  generations record `seed: null`. Whether a server honours a seed it accepts is its business.
- `api="chat"` posts the suite's messages (the server applies its chat template); `api="completions"`
  renders them here with `render_prompt` and the model's tokenizer (`tokenizer`, or the model when
  it is local) and posts the raw prompt.
- Reasoning returned separately (`reasoning_content` / `reasoning`, as vLLM's and SGLang's
  reasoning parsers and DeepSeek's API do) is stored apart: `reasoning` and `response` (the
  `content`) in generations.jsonl, with `num_reasoning_tokens` when the server reports
  `usage.completion_tokens_details.reasoning_tokens`; graders read them as one response with a
  closed think block (`harness.grading.graded_text`).
- Prompt controls: the system prompt is in the messages; `--api chat` sends `stop`,
  `chat_template_kwargs` and, for `--assistant-prefill`, a final assistant message with
  `continue_final_message: true, add_generation_prompt: false` (vLLM/SGLang); the stored
  response starts with the prefill (the reasoning does, when the server returns one apart). `--chat-template` is refused with `--api chat` (the server owns
  the template: start it with its own `--chat-template`, or use `--api completions`, where the
  harness renders every control itself). Budget forcing is refused (it needs token-level control).
- The API key comes from `api_key` or OPENAI_API_KEY and is never returned by describe().
"""
from __future__ import annotations

import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Iterator, Sequence
from urllib.parse import urlparse

from harness.backends.base import BackendInfo, Generation, Request, Sampling, group_by_problem, option, positive
from harness.errors import HarnessError
from harness.settings import Role, Setting

DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT_S = 1800.0
DEFAULT_MAX_RETRIES = 6
APIS = ("chat", "completions")
INFO = BackendInfo(
    name="openai", summary="any OpenAI-compatible server (vllm serve, SGLang, transformers serve)",
    options=(
        option("base_url", "server URL, e.g. http://127.0.0.1:8000/v1 (default $OPENAI_BASE_URL)"),
        option("api_key", "API key (default $OPENAI_API_KEY; never recorded)"),
        option("api", "chat (default; the server applies its chat template) or completions (the harness "
               "renders the prompt)", choices=APIS),
        option("tokenizer", "--api completions: tokenizer/chat template to render prompts with (default: "
               "--model when local)"),
        option("concurrency", f"requests in flight (default {DEFAULT_CONCURRENCY})", int, check=positive),
        option("request_timeout", f"seconds per request attempt (default {DEFAULT_TIMEOUT_S:g})", float,
               check=positive),
        option("max_retries", f"retries on 429/5xx/connection errors, with exponential backoff (default "
               f"{DEFAULT_MAX_RETRIES})", int),
        Setting("n_per_request", True, "one request per sample instead of n samples per request",
                role=Role.PLACE, kind=bool, flag_name="--no-n-per-request")),
    default_shard_size=64,
    prompt_tokenizer=lambda model, options: ((options.get("tokenizer") or model)
                                             if options.get("api") == "completions" else None),
    refuses=lambda controls, options: refusal(controls, options))


def refusal(controls, options: dict[str, Any]) -> str | None:
    """What an OpenAI-compatible server cannot be asked to do, as the error to show."""
    if controls.budget_forcing:
        return ("--think-budget/--min-think: budget forcing edits the response between generation steps; "
                "use --backend hf or vllm")
    if controls.chat_template and options.get("api", "chat") == "chat":
        return ("--chat-template: with --api chat the server applies its own template; start the server with "
                "that template, or use --api completions (the harness renders it)")
    return None


def import_openai():
    try:
        import openai
    except ImportError:
        raise HarnessError("--backend openai: the `openai` package is not installed; "
                           "run `pip install 'ssp-harness[openai]'`") from None
    return openai


def normalise_base_url(base_url: str | None) -> str:
    url = base_url or os.environ.get("OPENAI_BASE_URL")
    if not url:
        raise HarnessError("--base-url: not given and OPENAI_BASE_URL is not set "
                           "(e.g. --base-url http://127.0.0.1:8000/v1)")
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise HarnessError(f"--base-url {url}: expected http(s)://host:port[/v1]")
    if parsed.path.strip("/") == "":  # a bare host: servers put the API under /v1
        url = url.rstrip("/") + "/v1"
    return url


class OpenAIBackend:
    name = "openai"

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None,
                 concurrency: int = DEFAULT_CONCURRENCY, request_timeout: float = DEFAULT_TIMEOUT_S,
                 max_retries: int = DEFAULT_MAX_RETRIES, api: str = "chat", n_per_request: bool = True,
                 tokenizer: str | None = None):
        openai = import_openai()
        if api not in APIS:
            raise HarnessError(f"--api {api}: expected one of {', '.join(APIS)}")
        if concurrency < 1:
            raise HarnessError(f"--concurrency {concurrency}: must be >= 1")
        self.model, self.api, self.concurrency = model, api, concurrency
        self.base_url = normalise_base_url(base_url)
        self.request_timeout, self.max_retries = request_timeout, max_retries
        self.n_per_request, self.seed_accepted = n_per_request, True
        self.client = openai.OpenAI(base_url=self.base_url, timeout=request_timeout, max_retries=max_retries,
                                    api_key=api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY")
        self.tokenizer = load_tokenizer(tokenizer or model) if api == "completions" else None

    def describe(self) -> dict[str, Any]:
        from harness.backends.prompts import chat_template_sha256

        openai = import_openai()
        return {
            "backend": self.name,
            "openai": openai.__version__,
            "base_url": self.base_url,
            "model": {"spec": self.model, "served_as": self.model},
            "server_models": self._server_models(),
            "api": self.api,
            "chat_template": ("applied by the server" if self.api == "chat"
                              else {"sha256": chat_template_sha256(self.tokenizer)}),
            "concurrency": self.concurrency,
            "request_timeout_s": self.request_timeout,
            "max_retries": self.max_retries,
            "n_per_request": self.n_per_request,
            "seed": "sent per request (the first sample's)" if self.seed_accepted else "rejected by the server",
        }

    def _server_models(self) -> list[str] | str:
        try:
            return [model.id for model in self.client.with_options(max_retries=0, timeout=10).models.list()]
        except Exception as exc:  # informational only; some servers do not implement /v1/models
            return f"unavailable ({exc.__class__.__name__})"

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> Iterator[Generation]:
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="openai")
        running: dict[Future, list[Request]] = {}

        def submit(group: list[Request]) -> None:
            running[pool.submit(self._complete, group, sampling)] = group

        try:
            for group in group_by_problem(requests):
                for part in ([group] if self.n_per_request else [[r] for r in group]):
                    submit(part)
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    group = running.pop(future)
                    generations = self._result(future, group)
                    yield from generations
                    if len(generations) < len(group):  # the server ignored n
                        self.n_per_request = False
                        for request in group[len(generations):]:
                            submit([request])
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _result(self, future: Future, group: list[Request]) -> list[Generation]:
        openai = import_openai()
        try:
            return future.result()
        except openai.APIError as exc:
            raise HarnessError(
                f"--base-url {self.base_url}: request for {group[0].problem_id} failed ({error_text(exc)}); "
                "finished samples are saved, re-run the same command to resume") from None

    def _complete(self, group: list[Request], sampling: Sampling) -> list[Generation]:
        openai = import_openai()
        params = self._params(group, sampling)
        try:
            response = self._post(group[0], params)
        except openai.BadRequestError as exc:
            if "seed" not in params or "seed" not in str(exc).lower():
                raise
            self.seed_accepted = False
            params.pop("seed")
            response = self._post(group[0], params)
        return self._generations(group, response, params.get("seed"))

    def _params(self, group: list[Request], sampling: Sampling) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.model, "max_tokens": sampling.max_tokens,
                                  "temperature": sampling.temperature, "top_p": sampling.top_p}
        if len(group) > 1:
            params["n"] = len(group)
        if self.seed_accepted:
            params["seed"] = group[0].seed
        extra: dict[str, Any] = {}
        if sampling.top_k > 0:  # not an OpenAI parameter; vLLM and SGLang read it from the body
            extra["top_k"] = sampling.top_k
        controls = group[0].controls
        if controls.stop:
            params["stop"] = list(controls.stop)
        if self.api == "chat":
            from harness.backends.prompts import chat_body

            extra.update(chat_body(group[0].messages, controls)[1])
        if extra:
            params["extra_body"] = extra
        return params

    def _post(self, request: Request, params: dict[str, Any]):
        if self.api == "chat":
            from harness.backends.prompts import chat_body

            messages, _ = chat_body(request.messages, request.controls)
            return self.client.chat.completions.create(messages=messages, **params)
        return self.client.completions.create(prompt=request.rendered(self.tokenizer), **params)

    def _generations(self, group: list[Request], response: Any, seed: int | None) -> list[Generation]:
        choices = sorted(response.choices, key=lambda choice: choice.index)[:len(group)]
        usage = getattr(response, "usage", None)
        record_usage = None if usage is None else {
            "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "choices_in_request": len(response.choices)}
        # completion_tokens is per request: it is one sample's count only when there is one choice
        one = usage is not None and len(response.choices) == 1
        num_tokens = usage.completion_tokens if one else None
        details = getattr(usage, "completion_tokens_details", None) if one else None
        reasoning_tokens = getattr(details, "reasoning_tokens", None) if details is not None else None
        prefill = group[0].controls.prefill
        generations = []
        for request, choice in zip(group, choices):
            reasoning, answer = reasoning_text(choice), answer_text(choice)
            # the prefill starts the model's output: a reasoning parser files it under the reasoning
            if reasoning is not None:
                reasoning = prefill + reasoning
            else:
                answer = prefill + answer
            generations.append(Generation(
                request.suite, request.problem_id, request.sample, answer,
                choice.finish_reason, num_tokens, seed, usage=record_usage, reasoning=reasoning,
                num_reasoning_tokens=reasoning_tokens if reasoning is not None else None))
        return generations

    def close(self) -> None:
        self.client.close()


def error_text(exc: Exception) -> str:
    """One line: HTTP status and the server's own message, or the connection error."""
    status = getattr(exc, "status_code", None)
    if status is None:
        return f"{exc.__class__.__name__}: {exc}"
    body = getattr(exc, "body", None)
    detail = body.get("detail") or body.get("message") or body.get("error") if isinstance(body, dict) else body
    return " ".join(f"HTTP {status}: {detail or exc}".split())[:300]


def answer_text(choice: Any) -> str:
    """The answer (`content` of a chat message, `text` of a completion)."""
    message = getattr(choice, "message", None)
    if message is None:
        return choice.text or ""
    return message.content or ""


def reasoning_text(choice: Any) -> str | None:
    """The thinking a reasoning parser returned apart (vLLM/SGLang/DeepSeek names), or None."""
    message = getattr(choice, "message", None)
    if message is None:
        return None
    for name in ("reasoning_content", "reasoning"):
        value = getattr(message, name, None)
        if value is None:  # the client keeps unknown fields in model_extra
            value = (getattr(message, "model_extra", None) or {}).get(name)
        if isinstance(value, str) and value:
            return value
    return None


def load_tokenizer(spec: str):
    """The model's tokenizer for `--api completions`: a local dir, .gguf, alias, or cached hub id."""
    from transformers import AutoTokenizer

    from harness.models import loadable_path, resolve_model

    try:
        return AutoTokenizer.from_pretrained(loadable_path(resolve_model(spec)))
    except (OSError, HarnessError) as exc:
        raise HarnessError(f"--tokenizer {spec}: --api completions renders prompts with the model's chat "
                           f"template, and this tokenizer could not be loaded ({str(exc).splitlines()[0]})") from None


def create(model: str, **options) -> OpenAIBackend:
    return OpenAIBackend(model, **{k: v for k, v in options.items() if v is not None})
