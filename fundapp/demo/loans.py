"""The demo fund's loan book, built through the real services as the staff would.

Each loan is a story relative to the business date D: an officer registers the
application, a second officer appraises it, the director (or the board above the
director's limit) approves, the contract is signed, the accountant records the
disbursement and the director approves it; then the cooperative pays each instalment on
its due date — or stops paying some months ago (arrears), or asks for an extension. Every
event is replayed in date order across the whole fund, each service called with the date
at which the event happens, so the cash checks, the schedules and the ledger are those the
fund would have.

Dates are whole months before an anchor a few days before D (so the number of instalments
already due does not depend on the day of the month D falls on); the harvest loan is
anchored on mid-July. After the book is built, one borrower's prepayment on D absorbs the
difference to the reported outstanding of 14.450 triệu đồng, exact to the đồng.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from fundapp.domain.dates import add_months
from fundapp.domain.errors import DomainError
from fundapp.extensions import db
from fundapp.lending import applications, contracts, disbursements, inspections, restructuring
from fundapp.lending import collateral as lending_collateral
from fundapp.loans.models import Instalment, Loan, LoanStatus
from fundapp.policy import services as policy
from fundapp.repayments import services as repayments

MILLION = 1_000_000
TARGET_OUTSTANDING = 14_450_000_000
TARGET_PROJECTS = 49


class LoanBookError(RuntimeError):
    """The demo book could not be built as planned (a service refused a step)."""


@dataclass(frozen=True)
class Collateral:
    kind: str
    description: str
    valuation: int  # triệu đồng
    discount_factor: str


@dataclass(frozen=True)
class Plan:
    """One project, disbursed ``age`` whole months before an anchor ``back`` days before
    the business date (a harvest loan: in mid-July, two harvests ago; ``age`` unused)."""

    coop: int  # 1-based index in seed.COOPERATIVES
    project: str
    purpose: str
    amount: int  # triệu đồng
    rate: str
    term: int
    age: int
    back: int = 12
    method: str = "equal_principal"
    p: int = 1  # principal every … months
    i: int = 1  # interest every … months
    grace: int = 0
    equity_pct: int = 30
    arrears: bool = False  # stops paying from the instalment due on the anchor
    tranches: tuple[int, ...] = ()  # triệu đồng per tranche, two months apart; () = one
    harvest: tuple[int, ...] = ()  # custom: principal (triệu) each mid-July, the last at maturity
    extension: str = ""  # reason of an extension (12 months more), requested 17 months in
    collateral: tuple[Collateral, ...] = ()
    inspection: tuple[str, str] | None = None  # finding, notes (75 days after disbursement)
    absorber: bool = False  # the final prepayment on D is recorded on this loan
    description: str = ""


LAND = "Quyền sử dụng đất"
MACHINE = "Máy móc, thiết bị"

EXTENSION_REASON = (
    "Rét đậm, rét hại và mưa đá làm mất vụ chè xuân; HTX đề nghị gia hạn nợ gốc 12 tháng, "
    "vẫn trả lãi theo kỳ."
)

# fmt: off
PLANS: tuple[Plan, ...] = (
    # --- the two demo cooperatives: a harvest-linked loan; a loan in arrears ------------
    Plan(1, "Trồng mới, thâm canh vải thiều VietGAP 12 ha",
         "Cải tạo vườn vải, hệ thống tưới, phân bón hữu cơ",
         450, "6.6", 48, age=0, method="custom", p=12, i=6, harvest=(100, 100, 125, 125),
         collateral=(Collateral(LAND, "QSDĐ vườn vải 2,4 ha tại xã Hồng Giang", 900, "0.5"),),
    ),
    Plan(1, "Kho lạnh bảo quản vải thiều 200 tấn", "Xây kho lạnh, mua thiết bị làm lạnh",
         500, "6.6", 48, age=5, grace=6, equity_pct=35),
    Plan(2, "Mở rộng chăn nuôi gà đồi an toàn sinh học 20.000 con",
         "Chuồng trại, con giống, thức ăn",
         500, "6.6", 36, age=14, back=60, arrears=True,
         collateral=(
             Collateral("Công trình chăn nuôi", "Hệ thống chuồng trại 3.000 m²", 450, "0.3"),
         ),
    ),
    # --- recent loans, mostly from the new capital received this year --------------------
    Plan(3, "Mở rộng vùng trồng sâm Nam núi Dành 5 ha", "Giống, vật tư, nhà lưới",
         500, "6.0", 60, age=6, p=3, grace=12, equity_pct=40),
    Plan(4, "Nhà xưởng nuôi trồng nấm sò, nấm rơm", "Nhà xưởng, giá kệ, giống nấm",
         400, "6.6", 36, age=4, back=9),
    Plan(16, "Lò hấp và phòng cấy giống nấm", "Thiết bị hấp, phòng cấy vô trùng",
         300, "6.6", 36, age=3, back=15, grace=3),
    Plan(26, "Nhà màng trồng rau hữu cơ 1,5 ha", "Nhà màng, hệ thống tưới nhỏ giọt",
         500, "6.0", 48, age=7, back=8, p=3, grace=6, equity_pct=35),
    Plan(31, "Thu mua, tiêu thụ nông sản của các HTX thành viên",
         "Vốn lưu động thu mua vải thiều, gạo, rau",
         500, "6.0", 12, age=7, back=10, method="bullet", p=12, i=3, equity_pct=40),
    Plan(41, "Mở rộng vườn vải thiều sớm", "Cây giống, phân bón, công chăm sóc",
         150, "6.0", 12, age=4, back=14, method="bullet", p=12, i=3),
    Plan(37, "Nuôi trồng nấm linh chi đỏ", "Phôi nấm, nhà nuôi, máy sấy",
         250, "6.6", 36, age=2, back=11),
    Plan(35, "Máy cấy, máy gặt đập liên hợp phục vụ 600 ha lúa",
         "Mua 2 máy cấy, 2 máy gặt đập liên hợp",
         500, "6.0", 60, age=6, back=16, p=3, grace=6,
         collateral=(
             Collateral(MACHINE, "Máy gặt đập liên hợp Kubota DC-70 (2 chiếc)", 900, "0.3"),
         ),
    ),
    Plan(20, "Mở rộng đàn ong mật lên 800 đàn", "Thùng ong, ong giống, máy quay mật",
         200, "7.2", 24, age=3, back=13, method="annuity"),
    Plan(38, "Trồng sâm Nam và cây dược liệu dưới tán rừng", "Giống, vật tư, công trồng",
         400, "6.0", 48, age=1, back=18, grace=6),
    Plan(42, "Nuôi gà đồi thương phẩm 3.000 con", "Con giống, thức ăn, chuồng",
         150, "6.6", 24, age=5, back=7),
    Plan(11, "Vốn lưu động thu mua gạo Bao thai làm mỳ", "Thu mua nguyên liệu vụ mùa",
         400, "6.0", 24, age=7, back=19, p=3, i=3),
    Plan(21, "Dịch vụ làm đất và bảo vệ thực vật", "Máy cày, máy bay phun thuốc",
         400, "6.6", 36, age=5, back=21),
    Plan(7, "Vốn lưu động sản xuất rau vụ đông", "Giống, phân bón, bao bì",
         300, "6.0", 12, age=6, back=20, method="bullet", p=12, i=3),
    # --- loans of earlier years, paid on each due date -------------------------------------
    Plan(5, "Dây chuyền chế biến măng khô, măng muối", "Lò sấy, máy thái, bể muối",
         500, "6.6", 48, age=20, p=3, i=3, grace=6),
    Plan(6, "Lò sấy lúa và kho chứa 1.500 tấn", "Lò sấy tầng sôi, nhà kho, sân phơi",
         800, "6.0", 60, age=26, back=9, p=3, grace=6, absorber=True,
         collateral=(Collateral(LAND, "QSDĐ và nhà kho tại xã Tăng Tiến", 1_500, "0.5"),),
         inspection=("proper",
                     "Lò sấy và kho chứa đã hoàn thành, đưa vào sử dụng đúng phương án."),
    ),
    Plan(6, "Máy làm đất, máy phun thuốc dịch vụ", "Máy cày, máy phun",
         400, "6.6", 36, age=10, back=14),
    Plan(7, "Nhà lưới trồng rau an toàn 2 ha", "Nhà lưới, hệ thống tưới",
         400, "6.6", 36, age=15, back=17, p=3, i=3),
    Plan(8, "Cải tạo vườn cam, bưởi theo VietGAP", "Cây giống, phân bón, hệ thống tưới",
         450, "6.6", 48, age=27, back=11, p=3, i=3),
    Plan(11, "Máy cán, máy sấy mỳ Chũ", "Dây chuyền cán, sấy mỳ",
         500, "6.6", 48, age=16, back=8, p=3, i=3),
    Plan(13, "Xe thu gom, vận chuyển rác thải", "Mua 2 xe ép rác 5 tấn",
         500, "7.2", 48, age=21, back=13, method="annuity", p=3, i=3,
         collateral=(
             Collateral("Phương tiện vận tải", "Xe ép rác Hino 5 tấn (2 chiếc)", 700, "0.4"),
         ),
    ),
    Plan(14, "Máy may công nghiệp và máy cắt", "Mua 40 máy may, 2 máy cắt",
         400, "6.6", 36, age=20, back=10, method="annuity"),
    Plan(15, "Máy sấy, đóng gói gạo nếp cái hoa vàng", "Máy sấy, máy hút chân không",
         400, "6.0", 36, age=10, p=3, i=3),
    # fully repaid at maturity: closed
    Plan(15, "Vốn lưu động vụ lúa nếp cái hoa vàng", "Giống, phân bón, thu mua",
         200, "6.0", 12, age=16, back=20, p=3, i=3),
    Plan(17, "Chuồng nuôi gà đồi và lò ấp trứng", "Chuồng trại, máy ấp",
         350, "6.6", 36, age=17, back=15, p=3, i=3, grace=3),
    Plan(18, "Thâm canh vải sớm Phúc Hòa", "Phân bón, hệ thống tưới",
         400, "6.6", 48, age=25, back=16, p=3, i=3),
    Plan(19, "Vùng trồng dược liệu dưới tán rừng", "Giống ba kích, hà thủ ô; vật tư",
         500, "6.0", 60, age=18, back=19, p=3, i=3, grace=12),
    Plan(21, "Kho vật tư nông nghiệp và xe tải nhỏ", "Nhà kho, xe tải 2,5 tấn",
         500, "6.0", 48, age=27, back=8, p=3, i=3),
    Plan(23, "Trồng mới bưởi Diễn 10 ha", "Cây giống, làm đất, tưới",
         500, "6.6", 48, age=24, back=22, p=3, i=3, grace=12),
    Plan(24, "Nuôi bò thịt 120 con", "Bò giống, chuồng, trồng cỏ",
         500, "6.6", 48, age=14, back=10, p=3, i=3, grace=6,
         collateral=(Collateral("Vật nuôi", "Đàn bò thịt 120 con", 600, "0.2"),),
    ),
    Plan(27, "Xưởng chế biến măng tre", "Nhà xưởng, lò luộc, máy thái",
         300, "6.6", 36, age=11),
    Plan(29, "Sơ chế, đóng gói nông sản sạch", "Nhà sơ chế, kho mát",
         450, "6.6", 48, age=9, back=9),
    Plan(32, "Xưởng chế biến chè búp khô", "Máy sao, máy vò chè",
         400, "6.6", 60, age=34, back=14, p=3, i=3, grace=6),
    Plan(33, "Trồng dâu nuôi tằm 8 ha", "Cây dâu, nhà nuôi tằm",
         300, "6.6", 36, age=12, back=17, method="annuity"),
    Plan(34, "Sân phơi, lò sấy vải thiều", "Lò sấy, sân phơi",
         500, "6.6", 48, age=38, back=10, p=3, i=3),
    Plan(36, "Trại gà đẻ trứng 5.000 con", "Chuồng, gà giống, máy ấp",
         300, "6.6", 48, age=23, back=18, p=3, i=3),
    Plan(39, "Nhà máy chế biến nông sản, lâm sản Sơn Động", "Nhà xưởng, dây chuyền chế biến",
         800, "6.0", 60, age=16, back=13, p=3, i=3, grace=12, equity_pct=35, tranches=(500, 300),
         collateral=(Collateral(LAND, "QSDĐ và nhà xưởng tại thị trấn An Châu", 1_200, "0.5"),),
    ),
    Plan(40, "Trồng thanh long ruột đỏ 6 ha", "Trụ, giống, hệ thống tưới",
         300, "6.6", 36, age=19, back=21, p=3, i=3),
    Plan(22, "Lò nung gốm bằng gas", "Lò gas 12 m³, khuôn mẫu",
         450, "6.6", 48, age=13, back=11, p=3, i=3),
    Plan(25, "Nhà kính trồng hoa lan, hoa ly", "Nhà kính, hệ thống tưới phun sương",
         300, "6.6", 36, age=8, back=15, method="annuity"),
    # restructured: an extension of 12 months approved 17 months in
    Plan(9, "Cải tạo đồi chè, máy chế biến chè xanh", "Giống chè, máy sao, máy vò",
         500, "6.6", 24, age=19, back=15, p=3, i=3,
         extension=EXTENSION_REASON,
    ),
    Plan(3, "Xưởng sơ chế, sấy sâm Nam núi Dành", "Lò sấy, kho bảo quản",
         400, "6.0", 36, age=22, p=3, i=3),
    Plan(17, "Lò giết mổ gia cầm tập trung", "Nhà xưởng, dây chuyền giết mổ",
         300, "6.6", 48, age=3, back=19, grace=6),
    # --- arrears: stopped paying ``back`` days before the business date -----------------
    Plan(12, "Chuồng trại chăn nuôi lợn an toàn sinh học", "Chuồng, hệ thống xử lý chất thải",
         350, "6.6", 36, age=20, back=15, arrears=True),
    Plan(10, "Ao nuôi cá lồng và cá giống", "Ao, lồng, cá giống, thức ăn",
         400, "7.2", 48, age=18, back=120, arrears=True),
    Plan(28, "Nuôi tôm càng xanh thâm canh", "Cải tạo ao, máy sục khí, giống",
         300, "7.2", 36, age=16, back=250, arrears=True,
         inspection=("partial",
                     "Một phần vốn dùng trả nợ mua thức ăn vụ trước; đã nhắc nhở HTX."),
    ),
    Plan(30, "Xưởng xẻ, sấy gỗ rừng trồng", "Máy xẻ, lò sấy gỗ",
         350, "7.2", 36, age=12, back=400, arrears=True),
)
# fmt: on


@dataclass
class Run:
    plan: Plan
    index: int
    disbursed_on: date
    approve_on: date
    loan: Loan | None = None
    stop: date | None = None
    gen: int = 0
    custom: list[list[Any]] | None = None


def _weekday_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _weekday_before(day: date) -> date:
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _harvest_start(today: date) -> date:
    """Mid-July disbursement such that exactly two harvests have been paid by ``today``."""
    year = today.year - 2
    start = _weekday_after(date(year, 7, 15))
    if add_months(start, 24) > today:
        start = _weekday_after(date(year - 1, 7, 15))
    return start


def _disbursement_date(plan: Plan, today: date) -> date:
    if plan.harvest:
        return _harvest_start(today)
    anchor = today - timedelta(days=plan.back)
    return _weekday_after(add_months(anchor, -plan.age))


def _money(millions: int) -> int:
    return millions * MILLION


def _project_cost(plan: Plan) -> tuple[int, int]:
    """Total project cost and own equity: the loan is (100 − equity_pct) % of the cost,
    the cost rounded up to 10 triệu."""
    amount = _money(plan.amount)
    cost = -(-amount * 100 // (100 - plan.equity_pct))
    step = 10 * MILLION
    cost = -(-cost // step) * step
    return cost, cost - amount


class Builder:
    def __init__(self, users: dict[str, Any], coop_ids: list[int], today: date) -> None:
        self.users = users
        self.coop_ids = coop_ids
        self.today = today
        self.queue: list[tuple[date, int, int, str, Run, Any]] = []
        self.seq = 0
        self.runs: list[Run] = []

    # --- the event queue -------------------------------------------------------------------

    APPROVE, DISBURSE, RESTRUCTURE, INSPECT, REPAY = range(5)

    def push(self, day: date, priority: int, kind: str, run: Run, payload: Any = None) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (day, priority, self.seq, kind, run, payload))

    def build(self) -> list[Run]:
        for index, plan in enumerate(PLANS):
            disbursed_on = _disbursement_date(plan, self.today)
            approve_on = _weekday_before(disbursed_on - timedelta(days=12))
            run = Run(plan, index, disbursed_on, approve_on)
            self.runs.append(run)
            self.push(approve_on, self.APPROVE, "approve", run)
        handlers: dict[str, Callable[[date, Run, Any], None]] = {
            "approve": self.approve,
            "disburse": self.disburse,
            "restructure": self.restructure,
            "decide": self.decide,
            "inspect": self.inspect,
            "repay": self.repay,
        }
        while self.queue:
            day, _priority, _seq, kind, run, payload = heapq.heappop(self.queue)
            if day > self.today:
                raise LoanBookError(f"event {kind} of plan {run.index} after the business date")
            try:
                handlers[kind](day, run, payload)
            except DomainError as exc:
                detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
                raise LoanBookError(
                    f"plan {run.index} ({run.plan.project}), {kind} on {day}: "
                    f"{exc.message} {detail}".strip()
                ) from exc
        return self.runs

    # --- the stories ------------------------------------------------------------------------

    def approve(self, day: date, run: Run, _payload: Any) -> None:
        plan = run.plan
        apply_on = _weekday_before(day - timedelta(days=25))
        appraise_on = _weekday_before(day - timedelta(days=10))
        cost, equity = _project_cost(plan)
        data: dict[str, Any] = {
            "cooperative_id": self.coop_ids[plan.coop - 1],
            "project_name": plan.project,
            "purpose": plan.purpose,
            "description": plan.description
            or f"Phương án sản xuất kinh doanh: {plan.project.lower()}.",
            "total_project_cost": cost,
            "own_equity": equity,
            "requested_amount": _money(plan.amount),
            "term_months": plan.term,
            "annual_rate": plan.rate,
            "principal_method": plan.method,
            "principal_every_months": plan.p,
            "interest_every_months": plan.i,
            "grace_months": plan.grace,
            "collateral_offered": "; ".join(c.description for c in plan.collateral),
        }
        if plan.harvest:
            dates = [add_months(run.disbursed_on, 12 * (n + 1)) for n in range(len(plan.harvest))]
            if dates[-1] != add_months(run.disbursed_on, plan.term):
                raise LoanBookError("the harvest plan must end at maturity")
            run.custom = [
                [d.isoformat(), _money(a)] for d, a in zip(dates, plan.harvest, strict=True)
            ]
            data["custom_schedule"] = run.custom
        officer, appraiser = self.users["canbo"], self.users["canbo2"]
        app = applications.create_application(officer, data, apply_on)
        applications.submit(officer, app)
        applications.appraise(
            appraiser,
            app,
            _money(plan.amount),
            "Phương án khả thi, HTX có kinh nghiệm; đề nghị cho vay theo đề xuất.",
            appraise_on,
        )
        limit = policy.value("director_approval_limit", day)
        approver = self.users["chutich" if _money(plan.amount) > limit else "giamdoc"]
        run.loan = applications.approve(
            approver, app, "Đồng ý cho vay theo đề xuất thẩm định.", day
        )
        for item in plan.collateral:
            lending_collateral.add_collateral(
                officer,
                run.loan,
                {
                    "kind": item.kind,
                    "description": item.description,
                    "valuation": _money(item.valuation),
                    "discount_factor": item.discount_factor,
                },
            )
        tranches = plan.tranches or (plan.amount,)
        for n, millions in enumerate(tranches):
            when = (
                run.disbursed_on if n == 0 else _weekday_after(add_months(run.disbursed_on, 2 * n))
            )
            self.push(when, self.DISBURSE, "disburse", run, (n, _money(millions)))

    def disburse(self, day: date, run: Run, payload: tuple[int, int]) -> None:
        n, amount = payload
        loan = self._loan(run)
        if n == 0:
            contract_on = _weekday_before(day - timedelta(days=5))
            contracts.sign_contract(self.users["canbo"], loan, contract_on, contract_on)
        disbursement = disbursements.record_disbursement(
            self.users["ketoan"],
            loan.id,
            {"amount": amount, "date": day, "reference": f"UNC {day:%d%m%y}-{run.index + 1:02d}"},
            day,
        )
        disbursements.approve_disbursement(self.users["giamdoc"], disbursement.id, day)
        loan = self._loan(run)
        if n == 0:
            plan = run.plan
            if plan.arrears:
                run.stop = add_months(loan.first_disbursement_date, plan.age)
            if plan.extension:
                effective = add_months(day, 17) + timedelta(days=10)
                self.push(effective, self.RESTRUCTURE, "restructure", run, effective)
            if plan.inspection:
                self.push(day + timedelta(days=75), self.INSPECT, "inspect", run, plan.inspection)
        self.schedule_next(run, day)

    def restructure(self, day: date, run: Run, effective: date) -> None:
        loan = self._loan(run)
        new_maturity = add_months(loan.maturity_date, 12)  # type: ignore[arg-type]
        item = restructuring.request_restructuring(
            self.users["canbo"],
            loan.id,
            {
                "kind": "extension",
                "effective_date": effective,
                "new_maturity": new_maturity,
                "reason": run.plan.extension,
            },
            day,
        )
        self.push(day + timedelta(days=3), self.RESTRUCTURE, "decide", run, item.id)

    def decide(self, day: date, run: Run, restructuring_id: int) -> None:
        restructuring.decide_restructuring(
            self.users["giamdoc"],
            restructuring_id,
            True,
            "Đồng ý gia hạn nợ theo đề nghị của cán bộ tín dụng.",
            day,
        )
        self.schedule_next(run, day)

    def inspect(self, day: date, run: Run, payload: tuple[str, str]) -> None:
        finding, notes = payload
        inspections.add_inspection(
            self.users["canbo"],
            self._loan(run),
            {"inspected_on": day, "finding": finding, "notes": notes},
            day,
        )

    def repay(self, day: date, run: Run, gen: int) -> None:
        if gen != run.gen:
            return  # the schedule changed since this payment was planned
        loan = self._loan(run)
        row = db.session.scalar(
            select(Instalment).where(Instalment.loan_id == loan.id, Instalment.due_date == day)
        )
        if row is None:
            raise LoanBookError(f"plan {run.index}: no instalment due on {day}")
        amount = (row.principal - row.principal_paid) + (row.interest - row.interest_paid)
        repayments.record_repayment(
            self.users["ketoan"],
            loan.id,
            {
                "amount": amount,
                "date": day,
                "method": "cash" if run.plan.coop > 40 else "bank",
                "reference": f"GBC {day:%d%m%y}-{run.index + 1:02d}",
            },
            day,
        )
        self.schedule_next(run, day)

    def schedule_next(self, run: Run, day: date) -> None:
        """Plan the payment of the next instalment, if the borrower pays it."""
        run.gen += 1
        loan = self._loan(run)
        if loan.status != LoanStatus.ACTIVE:
            return
        due = db.session.scalar(
            select(Instalment.due_date)
            .where(
                Instalment.loan_id == loan.id,
                Instalment.due_date >= day,
                (Instalment.principal_paid < Instalment.principal)
                | (Instalment.interest_paid < Instalment.interest),
            )
            .order_by(Instalment.due_date)
            .limit(1)
        )
        if due is None or due > self.today or (run.stop is not None and due >= run.stop):
            return
        self.push(due, self.REPAY, "repay", run, run.gen)

    def _loan(self, run: Run) -> Loan:
        if run.loan is None:
            raise LoanBookError(f"plan {run.index} has no loan")
        return run.loan

    # --- the final adjustment ----------------------------------------------------------------

    def absorb(self, target: int) -> int:
        """One borrower prepays on the business date what the book holds above ``target``."""
        total = self.outstanding()
        excess = total - target
        run = next(r for r in self.runs if r.plan.absorber)
        loan = self._loan(run)
        if excess <= 0 or excess >= loan.principal_outstanding:
            raise LoanBookError(
                f"the planned book holds {total} đ, cannot reach {target} đ by a prepayment"
            )
        repayments.record_repayment(
            self.users["ketoan"],
            loan.id,
            {
                "amount": excess,
                "date": self.today,
                "method": "bank",
                "reference": f"GBC {self.today:%d%m%y}-TTTH",
            },
            self.today,
        )
        return excess

    def overdue(self, today: date) -> list[tuple[str, int]]:
        """(contract, days past due) of each active loan with an instalment unpaid after its
        due date, oldest first."""
        rows = db.session.execute(
            select(Loan.contract_no, func.min(Instalment.due_date))
            .join(Instalment, Instalment.loan_id == Loan.id)
            .where(
                Loan.status == LoanStatus.ACTIVE,
                Instalment.due_date < today,
                (Instalment.principal_paid < Instalment.principal)
                | (Instalment.interest_paid < Instalment.interest),
            )
            .group_by(Loan.contract_no)
        ).all()
        return sorted(((no, (today - oldest).days) for no, oldest in rows), key=lambda r: -r[1])

    def outstanding(self) -> int:
        return sum(
            r.loan.principal_outstanding
            for r in self.runs
            if r.loan is not None and r.loan.status == LoanStatus.ACTIVE
        )


def build_book(users: dict[str, Any], coop_ids: list[int], today: date) -> Builder:
    builder = Builder(users, coop_ids, today)
    builder.build()
    builder.absorb(TARGET_OUTSTANDING)
    return builder
