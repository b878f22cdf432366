"""Backup and restore of the whole fund: the database and the uploaded documents.

A backup is one ``.tar.gz`` archive holding ``manifest.json``, the database (a consistent
copy of the SQLite file made with SQLite's online backup, or a ``pg_dump`` custom-format
dump) and the ``uploads/`` folder. ``restore`` puts both back as they were.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from fundapp.domain.errors import DomainError
from fundapp.extensions import db

FORMAT = 1
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.dump"


class BackupError(DomainError):
    code = "backup_failed"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: str
    revision: str | None
    uploads: int


def _url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"unsupported database backend: {backend}")
    return backend


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(url.database)


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argv, no shell
            command, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)") from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _revision() -> str | None:
    try:
        return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:  # a database made without migrations has no version table
        db.session.rollback()
        return None


def _uploads_dir() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def default_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"fundapp-backup-{stamp}.tar.gz"


def backup(target: Path) -> BackupResult:
    """Write the archive to ``target`` (a file path, or a folder to put it in)."""
    url = _url()
    kind = _kind(url)
    if target.is_dir():
        target = target / default_name()
    target.parent.mkdir(parents=True, exist_ok=True)
    revision = _revision()
    db.session.rollback()
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        if kind == "sqlite":
            member = work_dir / SQLITE_MEMBER
            source = sqlite3.connect(_sqlite_file(url))
            copy = sqlite3.connect(member)
            with copy:
                source.backup(copy)
            copy.close()
            source.close()
        else:
            member = work_dir / PG_MEMBER
            args, env = _pg_args(url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(member), *args], env)
        uploads = _uploads_dir()
        files = sorted(p for p in uploads.rglob("*") if p.is_file()) if uploads.is_dir() else []
        manifest = {
            "format": FORMAT,
            "kind": kind,
            "revision": revision,
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "uploads": len(files),
        }
        partial = target.with_name(target.name + ".part")
        with tarfile.open(partial, "w:gz") as archive:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(member, arcname=member.name)
            for path in files:
                archive.add(path, arcname=f"uploads/{path.relative_to(uploads).as_posix()}")
        partial.replace(target)
    return BackupResult(target, kind, revision, len(files))


def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = archive.getmembers()
    for member in members:
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"refused archive member: {member.name}")
    return members


def read_manifest(source: Path) -> dict[str, Any]:
    try:
        with tarfile.open(source, "r:gz") as archive:
            handle = archive.extractfile("manifest.json")
            if handle is None:
                raise KeyError("manifest.json")
            manifest = json.loads(handle.read())
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        raise BackupError(f"not a fundapp backup: {source} ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format: {manifest.get('format')}")
    return manifest


def restore(source: Path) -> dict[str, Any]:
    """Replace the database and the uploads by those of the archive."""
    manifest = read_manifest(source)
    url = _url()
    kind = _kind(url)
    if manifest["kind"] != kind:
        raise BackupError(
            f"this backup is of a {manifest['kind']} database; the configured one is {kind}"
        )
    with tempfile.TemporaryDirectory() as work:
        work_dir = Path(work)
        with tarfile.open(source, "r:gz") as archive:
            archive.extractall(work_dir, members=_safe_members(archive), filter="data")
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            saved = sqlite3.connect(work_dir / SQLITE_MEMBER)
            live = sqlite3.connect(_sqlite_file(url))
            with live:
                saved.backup(live)
            live.close()
            saved.close()
        else:
            args, env = _pg_args(url)
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    *args,
                    str(work_dir / PG_MEMBER),
                ],
                env,
            )
        uploads = _uploads_dir()
        restored = work_dir / "uploads"
        if uploads.exists():
            shutil.rmtree(uploads)
        if restored.is_dir():
            shutil.copytree(restored, uploads)
        else:
            uploads.mkdir(parents=True, exist_ok=True)
    return manifest
