"""Hub ids versus local paths, and one quick look at the hub before anything downloads from it.

`data/missing.jsonl` or `./nosuch` matches the shape of a hub id, and huggingface_hub then spends
half a minute retrying before its real error. So: a name that looks like a path (starts with `.`,
`/` or `~`, ends in a file extension, or sits in a directory that exists) and does not exist is
"no such file" at once; a hub id is tried with one connection attempt, and when the hub cannot be
reached the command fails in one line, unless the id is in the local cache, which is then used
offline (HF_HUB_OFFLINE=1, no retry storm).
"""
from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from harness.errors import HarnessError

FILE_EXTENSIONS = {".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".arrow", ".gguf", ".txt", ".yaml", ".yml",
                   ".safetensors", ".bin", ".pt", ".gz", ".zst", ".tsv"}
CONNECT_TIMEOUT_S = 5.0


def looks_like_path(text: str) -> bool:
    path = Path(text).expanduser()
    if text.startswith((".", "/", "~")) or path.suffix.lower() in FILE_EXTENSIONS:
        return True
    return str(path.parent) not in ("", ".") and path.parent.is_dir()


def check_not_missing_path(flag: str, text: str) -> None:
    if looks_like_path(text) and not Path(text).expanduser().exists():
        raise HarnessError(f"{flag} {text}: no such file or directory")


def endpoint() -> tuple[str, int]:
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    return url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def unreachable_reason() -> str | None:
    """None when one TCP connection to the hub succeeds, else why it failed."""
    host, port = endpoint()
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        return None
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc.__class__.__name__}"


def is_cached(repo_id: str, repo_type: str) -> bool:
    try:
        from huggingface_hub import scan_cache_dir

        return any(repo.repo_id == repo_id and repo.repo_type == repo_type for repo in scan_cache_dir().repos)
    except Exception:
        return False


def require_hub(flag: str, repo_id: str, repo_type: str = "model") -> None:
    """Fail now, in one line, when `repo_id` can only come from a hub that does not answer."""
    check_not_missing_path(flag, repo_id)
    if offline():
        if not is_cached(repo_id, repo_type):
            raise HarnessError(f"{flag} {repo_id}: not in the local Hugging Face cache, and HF_HUB_OFFLINE is set")
        return
    reason = unreachable_reason()
    if reason is None:
        return
    if not is_cached(repo_id, repo_type):
        raise HarnessError(f"{flag} {repo_id}: not a local path, and the Hugging Face hub is unreachable ({reason})")
    os.environ["HF_HUB_OFFLINE"] = "1"  # use the cached copy without retrying the network
    os.environ["HF_DATASETS_OFFLINE"] = "1"
