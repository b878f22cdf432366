"""A generated loan portfolio, written straight into PostgreSQL.

The schema comes from the models (schema ``public`` dropped, then ``db.create_all()``); the policy
defaults, the users and the charter capital go through the app's own services; the loans
and their history are loaded with COPY, from templates replayed by the app's engine (see
:mod:`benchmarks.templates`), so every row satisfies the constraints and the invariants:

* each loan: one posted disbursement with its debt receipt, its schedule (the engine's),
  one repayment per payment with the engine's allocation, cached balances equal to the
  replay, an approved extension for the restructured ones;
* the ledger: the capital entry; per loan one disbursement entry (Dr 2111 / Cr 1121) and,
  when it has repaid anything, one entry for all its repayments (Dr 1121 / Cr 2111 principal,
  Cr 7021 interest, Cr 7022 overdue interest), i.e. exactly what ``posting.targets`` asks of a
  loan before any close of day; the per-loan running balances when the schema has them.

No close of day has run on the generated book: the first run classifies every loan.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from sqlalchemy import func, select, text

from benchmarks import bulk
from benchmarks.templates import Template, TemplateSpec, build_all, draw_spec
from fundapp.core.lists import search_text, vn_key

# Share of loans per behaviour, and of loans restructured (an approved extension).
BEHAVIOUR_SHARES = {"on_time": 85, "stopped": 10, "partial": 5}
EXTENSION_SHARE = 0.003
BATCH = 5000  # loans per COPY round (keeps each statement's FK-check queue small)

SECTORS = (
    ("Vải thiều", "Mở rộng vùng trồng vải thiều VietGAP"),
    ("Gà đồi", "Đầu tư chuồng trại nuôi gà đồi"),
    ("Sâm Nam", "Trồng sâm Nam núi Dành dưới tán rừng"),
    ("Nấm", "Xây dựng nhà xưởng sản xuất nấm"),
    ("Măng", "Dây chuyền sơ chế, đóng gói măng"),
    ("Dịch vụ nông nghiệp", "Mua máy làm đất, máy gặt đập liên hợp"),
    ("Rau an toàn", "Nhà màng trồng rau an toàn"),
    ("Cam bưởi", "Cải tạo vườn cam, bưởi"),
    ("Chè", "Xưởng chế biến chè"),
    ("Thủy sản", "Cải tạo ao nuôi cá"),
    ("Mỳ Chũ", "Lò sấy và máy cán mỳ Chũ"),
    ("Lợn", "Chuồng nuôi lợn khép kín"),
)
COMMUNES = (
    "Hồng Giang", "Đồng Tâm", "Liên Chung", "Tân Dĩnh", "An Lập", "Tăng Tiến", "Mai Đình",
    "Biên Sơn", "Tam Tiến", "Tư Mại", "Nam Dương", "Quý Sơn", "Phượng Sơn", "Xuân Hương",
    "Bố Hạ", "Cao Xá", "Ngọc Thiện", "Thái Sơn", "Hoàng Vân", "Lương Phong",
)  # fmt: skip


@dataclass
class Portfolio:
    """What was generated: counts, timings, and each loan's template (for the runner)."""

    loans: int
    business_date: date
    templates: list[Template]
    loan_template: list[int]  # loan id - 1 -> template index
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    behaviours: dict[str, int] = field(default_factory=dict)
    accountant_id: int = 0


def log(message: str) -> None:
    # The run of an older commit (--compare) tags its lines with that commit.
    tag = os.environ.get("BENCH_LOG_TAG", "")
    print(f"[bench {tag + ' ' if tag else ''}{datetime.now():%H:%M:%S}] {message}", flush=True)


def _stamp(day: date, hour: int = 3) -> datetime:
    return datetime.combine(day, clock(hour), tzinfo=UTC)


def default_template_count(loans: int) -> int:
    return max(500, min(3000, loans // 30))


def draw_templates(
    rng: random.Random, count: int, business_date: date, paid_through: date
) -> tuple[dict[str, list[TemplateSpec]], list[TemplateSpec]]:
    """Template specs per behaviour, and the extension ones (behaviours mixed)."""
    pools: dict[str, list[TemplateSpec]] = {b: [] for b in BEHAVIOUR_SHARES}
    key = 0
    for behaviour, share in BEHAVIOUR_SHARES.items():
        for _ in range(max(3, count * share // 100)):
            pools[behaviour].append(draw_spec(rng, key, business_date, paid_through, behaviour))
            key += 1
    extensions = []
    while len(extensions) < max(3, min(60, count // 40)):
        behaviour = rng.choices(["on_time", "stopped", "partial"], weights=[70, 20, 10])[0]
        spec = draw_spec(rng, key, business_date, paid_through, behaviour, extension=True)
        key += 1
        if spec.extension_on is not None:
            extensions.append(spec)
    return pools, extensions


def build_portfolio(
    loans: int,
    business_date: date,
    paid_through: date,
    *,
    seed: int = 2026,
    template_count: int | None = None,
    workers: int = 2,
) -> Portfolio:
    """Drop and recreate the schema, then generate ``loans`` active loans; commits."""
    from fundapp.extensions import db

    rng = random.Random(seed * 1_000_003 + loans)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    t = time.perf_counter()
    db.session.remove()
    # The whole schema, not the models' tables: the previous book may have been made by
    # another commit's models (--compare), with tables, columns or types these lack.
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.create_all()
    timings["schema_s"] = time.perf_counter() - t

    t = time.perf_counter()
    count = template_count or default_template_count(loans)
    pools, extension_specs = draw_templates(rng, count, business_date, paid_through)
    specs = [s for pool in pools.values() for s in pool] + extension_specs
    templates = build_all(specs, workers)
    by_key = {tpl.spec.key: i for i, tpl in enumerate(templates)}
    timings["templates_s"] = time.perf_counter() - t
    log(f"{len(templates)} templates replayed by the engine in {timings['templates_s']:.1f} s")

    # Which template each loan follows.
    n_ext = max(1, round(loans * EXTENSION_SHARE)) if loans >= 100 else 0
    ext_slots = set(rng.sample(range(loans), n_ext)) if n_ext else set()
    behaviours = list(BEHAVIOUR_SHARES)
    weights = list(BEHAVIOUR_SHARES.values())
    loan_template: list[int] = []
    tally: Tally[str] = Tally()
    for i in range(loans):
        if i in ext_slots:
            spec = rng.choice(extension_specs)
            tally["extension"] += 1
        else:
            behaviour = rng.choices(behaviours, weights=weights)[0]
            spec = rng.choice(pools[behaviour])
        tally[spec.behaviour] += 1
        loan_template.append(by_key[spec.key])

    t = time.perf_counter()
    portfolio = Portfolio(loans, business_date, templates, loan_template, timings)
    _load(portfolio, rng)
    timings["load_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - started
    portfolio.behaviours = dict(tally)
    return portfolio


# --- loading -----------------------------------------------------------------------------


def _load(portfolio: Portfolio, rng: random.Random) -> None:
    from fundapp.auth.models import User, UserRole
    from fundapp.extensions import db
    from fundapp.ledger.services import record_capital
    from fundapp.policy import services as policy

    business_date = portfolio.business_date
    templates = portfolio.templates
    loans = portfolio.loans
    dialect = db.engine.dialect

    # Policy, users, capital: through the app (a handful of rows).
    policy.install_defaults()
    password_hash = _password_hash()
    staff: dict[str, list[User]] = defaultdict(list)
    n_officers = max(3, min(40, loans // 2500))
    roster = [("officer", f"canbo{i:02d}", f"Cán bộ tín dụng {i:02d}") for i in range(n_officers)]
    roster += [
        ("accountant", "ketoan", "Kế toán"),
        ("director", "giamdoc", "Giám đốc"),
        ("board", "chutich", "Chủ tịch Hội đồng quản lý"),
    ]
    for role, username, name in roster:
        user = User(
            username=username,
            full_name=name,
            email=f"{username}@quyhtx.example.vn",
            password_hash=password_hash,
        )
        user.roles = [UserRole(role=role)]
        db.session.add(user)
        staff[role].append(user)
    db.session.flush()
    officers = [u.id for u in staff["officer"]]
    director = staff["director"][0].id
    portfolio.accountant_id = staff["accountant"][0].id

    total = sum(templates[i].disbursed for i in portfolio.loan_template)
    first = min(t.spec.disbursed_on for t in templates)
    capital = -(-total * 105 // 100 // 10**9) * 10**9
    record_capital(
        None,
        "charter",
        capital,
        first - timedelta(days=30),
        reference="QĐ-UBND/BENCH",
        note="Vốn điều lệ (dữ liệu benchmark)",
    )
    db.session.flush()

    connection = db.session.connection()
    tables = db.metadata.tables

    # Cooperatives: one for every two loans.
    n_coops = max(1, loans // 2)
    from fundapp.areas import loader as units_loader
    from fundapp.areas import services as areas

    if not units_loader.loaded(areas.fund_province()):
        units_loader.load(areas.fund_province())
        areas.forget()
    ix = areas.index()
    places = []  # today's communes of the fund's province, with their former districts
    for unit in ix.communes_of(areas.fund_province(), business_date):
        former = ix.former_district(unit)
        places.append((unit.id, former.code if former else None))
    coop_table = bulk.CopyTable(
        tables["cooperatives"],
        [
            "id", "name", "kind", "registration_no", "tax_code", "commune_unit_id",
            "former_district_code", "address", "sector", "representative", "phone", "email",
            "members_count", "created_at", "search_key", "name_key",
        ],
        dialect,
    )  # fmt: skip
    created = _stamp(business_date - timedelta(days=6 * 365))

    def coop_lines() -> Iterator[str]:
        for n in range(1, n_coops + 1):
            sector = SECTORS[n % len(SECTORS)][0]
            commune = COMMUNES[(n * 7) % len(COMMUNES)]
            name = f"HTX {sector} {commune} số {n}"
            representative = f"Nguyễn Văn {commune.split()[0]}"
            yield coop_table.line(
                (
                    n,
                    name,
                    "cooperative",
                    f"2405{n:06d}",
                    f"24{n:08d}",
                    *places[n % len(places)],
                    f"Thôn {n % 12 + 1}, xã {commune}",
                    sector,
                    representative,
                    f"09{n:08d}",
                    f"htx{n}@example.vn" if n % 3 == 0 else None,
                    10 + n % 60,
                    created,
                    # the keys the ORM would store (fundapp.core.lists.SearchKeyMixin)
                    search_text(name, f"2405{n:06d}", f"24{n:08d}", representative),
                    vn_key(name),
                )
            )

    bulk.copy_lines(connection, coop_table, coop_lines())
    coop_of = [rng.randrange(1, n_coops + 1) for _ in range(loans)]
    officer_of = [officers[rng.randrange(len(officers))] for _ in range(loans)]

    snapshot = policy.snapshot(business_date)
    entry_base = int(db.session.scalar(select(func.max(tables["journal_entries"].c.id))) or 0)
    loader = _Loader(
        connection, tables, dialect, templates, snapshot, director, portfolio.accountant_id,
        entry_base,
    )  # fmt: skip
    for start in range(0, loans, BATCH):
        stop = min(loans, start + BATCH)
        loader.batch(start, stop, portfolio.loan_template, coop_of, officer_of)
        if stop % (BATCH * 4) == 0 or stop == loans:
            log(f"loaded {stop:,} / {loans:,} loans")

    # Running balances per loan and account, when the schema keeps them.
    if "loan_balances" in tables:
        db.session.execute(
            text(
                "INSERT INTO loan_balances (loan_id, account, balance) "
                "SELECT loan_id, account, SUM(debit - credit) FROM journal_lines "
                "WHERE loan_id IS NOT NULL GROUP BY loan_id, account"
            )
        )
    # The totals a posting keeps, when the schema has them: the lines were loaded, not posted.
    if "ledger_day_totals" in tables:
        from fundapp.ledger.services import rebuild_day_totals  # only in a schema that has it

        rebuild_day_totals()
    if "book_loans" in tables:
        from fundapp.loans.book import rebuild  # only in a schema that has it

        rebuild()
    if "due_month_totals" in tables:
        from fundapp.loans import dues  # only in a schema that has it

        dues.rebuild()
    # Document counters continue after the generated numbers.
    counter = tables["counters"]
    for series, value in sorted(loader.numbers.items()):
        db.session.execute(counter.insert().values(series=series, value=value))
    for name in ("cooperatives", "loans", "journal_entries"):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
            )
        )
    db.session.commit()
    portfolio.counts = row_counts()


def _password_hash() -> str:
    from fundapp.auth.models import User

    user = User(username="x")
    user.set_password("Benchmark2026")
    return user.password_hash


def row_counts() -> dict[str, int]:
    from fundapp.extensions import db

    out = {}
    for name in (
        "cooperatives", "loans", "instalments", "disbursements", "repayments",
        "restructurings", "journal_entries", "journal_lines",
    ):  # fmt: skip
        out[name] = int(db.session.scalar(text(f"SELECT COUNT(*) FROM {name}")))
    return out


class _Loader:
    """Per-template row fragments, and the per-loan COPY rounds."""

    def __init__(
        self,
        connection: Any,
        tables: Any,
        dialect: Any,
        templates: list[Template],
        snapshot: dict[str, str],
        director: int,
        accountant: int,
        entry_base: int,
    ) -> None:
        self.connection = connection
        self.accountant = accountant
        self.entry_base = entry_base
        self.templates = templates
        self.snapshot = snapshot
        self.director = director
        self.numbers: dict[str, int] = defaultdict(int)
        self.loan_t = bulk.CopyTable(
            tables["loans"],
            [
                "id", "contract_no", "cooperative_id", "officer_id", "project_name", "purpose",
                "amount", "status", "repayment_order", "prepayment_mode", "overdue_multiplier",
                "late_rate", "policy_snapshot", "approved_on", "contract_date",
                "first_disbursement_date", "maturity_date", "term_adjustments", "extensions",
                "disbursed", "principal_outstanding", "principal_paid", "interest_paid",
                "penalty_paid", "written_off", "debt_group", "term_months", "annual_rate",
                "principal_method", "principal_every_months", "interest_every_months",
                "grace_months", "created_at", "search_key",
            ],
            dialect,
        )  # fmt: skip
        self.entry_t = bulk.CopyTable(
            tables["journal_entries"],
            ["id", "entry_date", "kind", "reference", "description", "created_by_id", "created_at"],
            dialect,
        )
        self.line_t = bulk.CopyTable(
            tables["journal_lines"],
            ["entry_id", "cooperative_id", "loan_id", "account", "debit", "credit", "source_name"],
            dialect,
        )
        self.disb_t = bulk.CopyTable(
            tables["disbursements"],
            [
                "loan_id", "receipt_no", "journal_entry_id", "recorded_by_id", "amount",
                "value_date", "reference", "status", "approved_by_id", "decided_at",
                "created_at",
            ],
            dialect,
        )  # fmt: skip
        self.rep_cols = [
            "amount", "value_date", "method", "reference", "reversed", "allocations",
            "prepaid_principal", "created_at",
        ]  # fmt: skip
        self.rep_t = bulk.CopyTable(
            tables["repayments"],
            ["loan_id", "receipt_no", "journal_entry_id", "recorded_by_id", *self.rep_cols],
            dialect,
        )
        self.inst_cols = [
            "no", "due_date", "interest_from", "principal_due_date", "opening_principal",
            "principal", "interest", "principal_paid", "interest_paid", "penalty_paid",
            "paid_on",
        ]  # fmt: skip
        self.inst_t = bulk.CopyTable(tables["instalments"], ["loan_id", *self.inst_cols], dialect)
        self.restr_t = bulk.CopyTable(
            tables["restructurings"],
            [
                "loan_id", "kind", "effective_date", "new_maturity", "principal_plan", "reason",
                "status", "requested_by_id", "approved_by_id", "decided_at", "created_at",
            ],
            dialect,
        )  # fmt: skip
        self._prepare()

    def _prepare(self) -> None:
        """The rows every loan of a template shares, formatted once."""
        self.inst_frag: list[list[str]] = []
        self.rep_frag: list[list[tuple[int, str]]] = []
        self.repay_lines: list[list[tuple[str, int, int]]] = []
        for tpl in self.templates:
            tail = self.inst_t.suffix + "\n"
            self.inst_frag.append(
                [
                    "\t"
                    + self.inst_t.fragment(
                        (
                            r.no, r.due_date, r.interest_from, r.principal_due,
                            r.opening_principal, r.principal, r.interest, r.principal_paid,
                            r.interest_paid, r.penalty_paid, r.paid_on,
                        ),
                        self.inst_cols,
                    )
                    + tail
                    for r in tpl.rows
                ]
            )  # fmt: skip
            reps = []
            for rep in tpl.repayments:
                allocations = [
                    {"no": no, "component": comp, "amount": amount}
                    for no, comp, amount in rep.allocations
                ]
                frag = self.rep_t.fragment(
                    (
                        rep.amount, rep.value_date, "bank", "", False, allocations,
                        rep.prepaid_principal, _stamp(rep.value_date, 2),
                    ),
                    self.rep_cols,
                )  # fmt: skip
                reps.append((rep.value_date.year, "\t" + frag + self.rep_t.suffix + "\n"))
            self.rep_frag.append(reps)
            repaid = sum(r.amount for r in tpl.repayments)
            assert repaid == tpl.principal_paid + tpl.interest_paid + tpl.penalty_paid, tpl.spec
            lines = [("1121", repaid, 0)] if repaid else []
            for account, amount in (
                ("2111", tpl.principal_paid),
                ("7021", tpl.interest_paid),
                ("7022", tpl.penalty_paid),
            ):
                if amount:
                    lines.append((account, 0, amount))
            self.repay_lines.append(lines)

    def _number(self, series: str, width: int) -> str:
        self.numbers[series] += 1
        return f"{series}-{self.numbers[series]:0{width}d}"

    def batch(
        self,
        start: int,
        stop: int,
        loan_template: list[int],
        coop_of: list[int],
        officer_of: list[int],
    ) -> None:
        entry_base = self.entry_base
        loans: list[str] = []
        entries: list[str] = []
        lines: list[str] = []
        disbursements: list[str] = []
        restructurings: list[str] = []
        contract_nos: dict[int, str] = {}
        for i in range(start, stop):
            loan_id = i + 1
            tpl = self.templates[loan_template[i]]
            spec = tpl.spec
            coop, officer = coop_of[i], officer_of[i]
            approved_on = spec.disbursed_on - timedelta(days=21)
            contract_date = spec.disbursed_on - timedelta(days=7)
            contract_no = self._number(f"HD-{contract_date.year}", 4)
            contract_nos[loan_id] = contract_no
            sector, project = SECTORS[(coop + loan_id) % len(SECTORS)]
            loans.append(
                self.loan_t.line(
                    (
                        loan_id, contract_no, coop, officer, project, f"Sản xuất {sector.lower()}",
                        spec.amount, "active", "standard", "keep_maturity", 150, 10,
                        self.snapshot, approved_on, contract_date, spec.disbursed_on,
                        tpl.maturity, 0, 1 if spec.extension_on else 0, tpl.disbursed,
                        tpl.principal_outstanding, tpl.principal_paid, tpl.interest_paid,
                        tpl.penalty_paid, 0, 1, spec.term_months, spec.annual_rate,
                        spec.principal_method, spec.principal_every_months,
                        spec.interest_every_months, spec.grace_months, _stamp(approved_on),
                        search_text(contract_no, project),
                    )
                )
            )  # fmt: skip
            # Disbursement entry and, when anything was repaid, one entry for all repayments.
            disb_entry = entry_base + 2 * i + 1
            receipt = self._number(f"KU-{spec.disbursed_on.year}", 4)
            entries.append(
                self.entry_t.line(
                    (
                        disb_entry, spec.disbursed_on, "disbursement", receipt,
                        f"Giải ngân {contract_no}", self.director, _stamp(spec.disbursed_on),
                    )
                )
            )  # fmt: skip
            head = f"{disb_entry}\t{coop}\t{loan_id}\t"
            tail = self.line_t.suffix
            lines.append(f"{head}1121\t0\t{tpl.disbursed}\t{tail}\n")
            lines.append(f"{head}2111\t{tpl.disbursed}\t0\t{tail}\n")
            disbursements.append(
                self.disb_t.line(
                    (
                        loan_id, receipt, disb_entry, officer, tpl.disbursed, spec.disbursed_on,
                        contract_no, "posted", self.director, _stamp(spec.disbursed_on),
                        _stamp(spec.disbursed_on, 1),
                    )
                )
            )  # fmt: skip
            if tpl.repayments:
                last = tpl.repayments[-1].value_date
                rep_entry = entry_base + 2 * i + 2
                entries.append(
                    self.entry_t.line(
                        (
                            rep_entry, last, "repayment", contract_no,
                            f"Thu nợ {contract_no} (tổng hợp các phiếu thu)", None, _stamp(last),
                        )
                    )
                )  # fmt: skip
                head = f"{rep_entry}\t{coop}\t{loan_id}\t"
                for account, debit, credit in self.repay_lines[loan_template[i]]:
                    lines.append(f"{head}{account}\t{debit}\t{credit}\t{tail}\n")
            if spec.extension_on is not None:
                restructurings.append(
                    self.restr_t.line(
                        (
                            loan_id, "extension", spec.extension_on, tpl.new_maturity, [],
                            "Thiên tai, mất mùa: gia hạn nợ theo đề nghị của hợp tác xã",
                            "approved", officer, self.director, _stamp(spec.extension_on),
                            _stamp(spec.extension_on, 1),
                        )
                    )
                )  # fmt: skip

        conn = self.connection
        bulk.copy_lines(conn, self.loan_t, loans)
        bulk.copy_lines(conn, self.entry_t, entries)
        bulk.copy_lines(conn, self.line_t, lines)
        bulk.copy_lines(conn, self.disb_t, disbursements)
        if restructurings:
            bulk.copy_lines(conn, self.restr_t, restructurings)
        bulk.copy_lines(conn, self.rep_t, self._repayment_lines(start, stop, loan_template))
        bulk.copy_lines(conn, self.inst_t, self._instalment_lines(start, stop, loan_template))

    def _repayment_lines(self, start: int, stop: int, loan_template: list[int]) -> Iterator[str]:
        number: Callable[[str, int], str] = self._number
        for i in range(start, stop):
            frags = self.rep_frag[loan_template[i]]
            if not frags:
                continue
            head = f"{i + 1}\t"
            tail = f"\t{self.entry_base + 2 * i + 2}\t{self.accountant}"
            for year, frag in frags:
                yield head + number(f"PT-{year}", 6) + tail + frag

    def _instalment_lines(self, start: int, stop: int, loan_template: list[int]) -> Iterator[str]:
        for i in range(start, stop):
            head = str(i + 1)
            for frag in self.inst_frag[loan_template[i]]:
                yield head + frag
