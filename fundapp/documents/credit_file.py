"""The credit file (hồ sơ tín dụng): the documents of a loan from application to closure,
each a PDF made from the file's data with a wording the fund keeps and adjusts.

- **Kinds** (:data:`KINDS`): what each document is, what it is about (an application, a
  loan, a collateral…), its reference series and the fields its wording may use
  (``documents.file_data`` builds them).
- **Wording**: a ``FormTemplate`` per version. The first version of each kind is the
  default shipped in ``templates/credit_file/wording/<kind>.html``; a saved change is a new
  version, checked by rendering it before it is kept. The wording is a Jinja template run
  in a sandbox (no attribute of Python objects beyond the data, no file but the shared
  macros of printed documents) and printed inside ``documents/_base.html``.
- **Issuing** (:func:`issue`): the data of the subject and the wording in force give a
  digest; the same digest gives back the stored version, a new one makes the next
  version under the same reference number. Every version stays, with its data and PDF.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from jinja2 import BaseLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup
from sqlalchemy import and_, func, or_, select

from fundapp import audit
from fundapp.core.dates import business_date
from fundapp.documents.file_models import FileDocument, FormTemplate
from fundapp.documents.pdf import html_to_pdf
from fundapp.documents.words import amount_in_words
from fundapp.domain.errors import ValidationFailed
from fundapp.extensions import db
from fundapp.loans.numbering import next_number

# The documents are Vietnamese legal papers, whoever opens them: their data and figures are
# made in Vietnamese, so that a version does not change with the reader's language.
LANGUAGE = "vi"
MACROS = "documents/_macros.html"  # the one file a wording may import
BODY_LIMIT = 200_000  # characters of a wording


@dataclass(frozen=True)
class Field:
    name: str
    label: Any  # lazy text


@dataclass(frozen=True)
class Kind:
    key: str
    title: Any  # lazy text
    subject: str  # application | loan | collateral | inspection | restructuring
    series: str  # the reference number's code, e.g. "HĐTD"
    fields: tuple[Field, ...]
    build: Callable[[Any], dict[str, Any]]  # the subject → the data of the document
    filename: str


KINDS: dict[str, Kind] = {}


def kind(
    key: str, title: Any, subject: str, series: str, filename: str, fields: list[tuple[str, Any]]
) -> Callable[[Callable[[Any], dict[str, Any]]], Callable[[Any], dict[str, Any]]]:
    """Register the builder of a kind of document (``documents.file_data``)."""

    def register(build: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        KINDS[key] = Kind(
            key, title, subject, series, tuple(Field(n, lbl) for n, lbl in fields), build, filename
        )
        return build

    return register


def kinds_of(subject: str) -> list[Kind]:
    return [k for k in KINDS.values() if k.subject == subject]


def get_kind(key: str) -> Kind | None:
    return KINDS.get(key)


# --- the wording -----------------------------------------------------------------------------


def default_body(key: str) -> str:
    folder = Path(current_app.root_path).parent / "templates" / "credit_file" / "wording"
    path = folder / f"{key}.html"
    return path.read_text(encoding="utf-8")


def current_template(key: str) -> FormTemplate:
    """The wording in force for ``key``; the shipped default becomes version 1 the first
    time it is needed."""
    template = db.session.scalar(
        select(FormTemplate)
        .where(FormTemplate.kind == key)
        .order_by(FormTemplate.version.desc())
        .limit(1)
    )
    if template is None:
        note = _("Mẫu mặc định của phần mềm")
        template = FormTemplate(kind=key, version=1, body=default_body(key), note=note)
        db.session.add(template)
        db.session.flush()
    return template


def versions(key: str) -> list[FormTemplate]:
    current_template(key)
    return list(
        db.session.scalars(
            select(FormTemplate)
            .where(FormTemplate.kind == key)
            .order_by(FormTemplate.version.desc())
        )
    )


def save_template(actor: Any, key: str, body: str, note: str, sample: Any) -> FormTemplate:
    """A new version of the wording of ``key``, kept only if it renders with the data of
    ``sample`` (a subject of that kind) without an error."""
    errors: dict[str, str] = {}
    body = (body or "").replace("\r\n", "\n")
    note = (note or "").strip()
    if not body.strip():
        errors["body"] = _("Nội dung mẫu không được để trống.")
    elif len(body) > BODY_LIMIT:
        errors["body"] = _(
            "Nội dung mẫu tối đa %(n)s ký tự.", n=f"{BODY_LIMIT:,}".replace(",", ".")
        )
    if not note:
        errors["note"] = _("Ghi rõ nội dung thay đổi.")
    elif len(note) > 1000:
        errors["note"] = _("Ghi chú tối đa 1.000 ký tự.")
    current = current_template(key)
    if not errors and body == current.body:
        errors["body"] = _("Nội dung giống phiên bản đang dùng.")
    if not errors and sample is not None:
        problem = _try_render(key, body, sample)
        if problem:
            errors["body"] = problem
    if errors:
        raise ValidationFailed(_("Mẫu chưa lưu được, xin kiểm tra lại."), errors)
    template = FormTemplate(
        kind=key,
        version=current.version + 1,
        body=body,
        note=note,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(template)
    db.session.flush()
    audit.record(
        actor, "form_template.save", "form_template", template.id, None,
        {"kind": key, "version": template.version, "note": note},
    )  # fmt: skip
    return template


def _try_render(key: str, body: str, sample: Any) -> str | None:
    try:
        with force_locale(LANGUAGE):
            render_body(body, KINDS[key].build(sample), _sample_reference(key), 1)
    except TemplateError as exc:
        return _("Mẫu có lỗi: %(e)s", e=str(exc)[:300])
    return None


def _sample_reference(key: str) -> str:
    return f"0000/{business_date().year}/{KINDS[key].series}"


# --- rendering -------------------------------------------------------------------------------


class _MacrosOnly(BaseLoader):
    """The shared macros of printed documents, and nothing else of the file system."""

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        if template != MACROS:
            raise TemplateNotFound(template)
        loader = current_app.jinja_env.loader
        assert loader is not None
        return loader.get_source(current_app.jinja_env, template)


_FILTERS = ("money", "figure", "vndate", "rate")


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=_MacrosOnly(), autoescape=True, undefined=StrictUndefined, auto_reload=False
    )
    for name in _FILTERS:
        env.filters[name] = current_app.jinja_env.filters[name]
    env.filters["words"] = amount_in_words
    config = current_app.config
    env.globals.update(
        _=_,
        config={
            "FUNDAPP_NAME": config["FUNDAPP_NAME"],
            "FUNDAPP_ADDRESS": config["FUNDAPP_ADDRESS"],
            "FUNDAPP_PLACE": config.get("FUNDAPP_PLACE") or "Bắc Giang",
        },
    )
    return env


def render_body(body: str, data: dict[str, Any], reference: str, version: int) -> str:
    """The HTML of a document: the wording run on ``data`` inside the printed layout."""
    env = _environment()
    document = {"reference": reference, "version": version}
    # The sandbox escaped every value it printed: its output is HTML.
    content = Markup(env.from_string(body).render(d=data, doc=document))  # noqa: S704
    return render_template(
        "documents/credit_file.html",
        content=content,
        title=data.get("title", ""),
        printed_on=data.get("document_date"),
    )


# --- issuing ---------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} in a document's data")


def digest(data: dict[str, Any], template: FormTemplate) -> str:
    text = json.dumps(data, default=_plain, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{template.id}\0{text}".encode()).hexdigest()


def latest(key: str, subject_id: int) -> FileDocument | None:
    return db.session.scalar(
        select(FileDocument)
        .where(
            FileDocument.kind == key,
            FileDocument.subject_type == KINDS[key].subject,
            FileDocument.subject_id == subject_id,
        )
        .order_by(FileDocument.version.desc())
        .limit(1)
    )


def issue(actor: Any, key: str, subject: Any) -> FileDocument:
    """The document ``key`` of ``subject`` as its data and wording stand: the stored
    version when nothing changed since it was made, else the next version (flushed; the
    caller commits)."""
    spec = KINDS[key]
    with force_locale(LANGUAGE):
        data = spec.build(subject)
    template = current_template(key)
    hashed = digest(data, template)
    last = latest(key, subject.id)
    if last is not None and last.data_hash == hashed:
        return last
    version = last.version + 1 if last is not None else 1
    day = data.get("document_date") or business_date()
    reference = last.reference_no if last is not None else _reference(spec, day)
    with force_locale(LANGUAGE):
        pdf = html_to_pdf(render_body(template.body, data, reference, version))
    document = FileDocument(
        kind=key,
        subject_type=spec.subject,
        subject_id=subject.id,
        version=version,
        reference_no=reference,
        template_id=template.id,
        data=json.loads(json.dumps(data, default=_plain)),
        data_hash=hashed,
        pdf=pdf,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(document)
    db.session.flush()
    audit.record(
        actor, "file_document.issue", "file_document", document.id, None,
        {"kind": key, "subject": f"{spec.subject}:{subject.id}", "version": version,
         "reference_no": reference},
    )  # fmt: skip
    return document


def _reference(spec: Kind, day: date) -> str:
    """``0007/2026/HĐTD``: the series' number of the year, gap-free."""
    number = next_number(f"{spec.series}-{day.year}", 4).rsplit("-", 1)[1]
    return f"{number}/{day.year}/{spec.series}"


def history(subject_type: str, subject_id: int) -> list[FileDocument]:
    """Every issued version of every document of a subject, newest first per kind."""
    return histories([(subject_type, subject_id)]).get((subject_type, subject_id), [])


def histories(subjects: list[tuple[str, int]]) -> dict[tuple[str, int], list[FileDocument]]:
    """:func:`history` of several subjects with one query (their PDFs are not read)."""
    ids: dict[str, list[int]] = {}
    for subject_type, subject_id in subjects:
        ids.setdefault(subject_type, []).append(subject_id)
    if not ids:
        return {}
    out: dict[tuple[str, int], list[FileDocument]] = {}
    for document in db.session.scalars(
        select(FileDocument)
        .where(
            or_(
                *(
                    and_(FileDocument.subject_type == t, FileDocument.subject_id.in_(some))
                    for t, some in ids.items()
                )
            )
        )
        .order_by(FileDocument.kind, FileDocument.version.desc())
    ):
        out.setdefault((document.subject_type, document.subject_id), []).append(document)
    return out


def version_of(key: str, subject_id: int, version: int) -> FileDocument | None:
    return db.session.scalar(
        select(FileDocument).where(
            FileDocument.kind == key,
            FileDocument.subject_type == KINDS[key].subject,
            FileDocument.subject_id == subject_id,
            FileDocument.version == version,
        )
    )


def issued_count(key: str) -> int:
    return int(
        db.session.scalar(select(func.count(FileDocument.id)).where(FileDocument.kind == key)) or 0
    )


def filename(document: FileDocument) -> str:
    spec = KINDS[document.kind]
    return f"{spec.filename}-{document.subject_id}-v{document.version}.pdf"
