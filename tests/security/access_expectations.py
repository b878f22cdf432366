"""Who may use each route: one row per (endpoint, method) of the URL map, written by hand
from docs/rules.md#security and #maker-checker-and-approval-authority, and from what each
page or API call is for.

A row names the actors allowed and the answer they get. Everyone else gets the refusal of
their kind, which the test derives: anonymous → 302 to /login on a page, 401 on the API;
a signed-in role not named → 403. A cooperative user asking for another cooperative's
object on a route it may use gets 404, never 403 or 200.

The answer of an allowed actor is the one for the scenario of tests/security/
test_access_matrix.py, and, for a mutating request, for an empty body (CSRF is off in
testing): a form shown again with its messages (200 on the older forms, 422 where the page
says so), a JSON 422, or the route's success where an empty body is a complete request
(approve a pending item, mark read, log out, PATCH leaving every field as it is).

Objects owned by a user rather than a cooperative (notices, one's own API tokens) are
walked as the actor's own and as someone else's: someone else's is "not found" (404) unless
the row names who may see them too (``others``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ANONYMOUS = "anonymous"
OFFICER = "officer"
ACCOUNTANT = "accountant"
DIRECTOR = "director"
BOARD = "board"
CONTROLLER = "controller"
ADMIN = "admin"
COOPERATIVE = "cooperative"

ROLES = (OFFICER, ACCOUNTANT, DIRECTOR, BOARD, CONTROLLER, ADMIN, COOPERATIVE)
ACTORS = (ANONYMOUS, *ROLES)

# The fund's staff who read its books; the controller reads everything and changes nothing.
STAFF = (OFFICER, ACCOUNTANT, DIRECTOR, BOARD, CONTROLLER)
# The cooperative reads its own loans, schedules, statements and receipts (journey 4).
BORROWER_READ = (*STAFF, COOPERATIVE)
DECIDERS = (DIRECTOR, BOARD)
SIGNED_IN = ROLES
PUBLIC = ACTORS
# They may list every notice to supervise, and mark only their own (fundapp/notices).
SUPERVISORS = (DIRECTOR, CONTROLLER)
# The fund's self-assessment (fundapp/reports/ranking.py).
RANKING_READ = (DIRECTOR, ACCOUNTANT, CONTROLLER)
# Interest support: its pages (fundapp/web/support.py) and its claim report.
SUPPORT_READ = (OFFICER, ACCOUNTANT, DIRECTOR, CONTROLLER)
CLAIM_READ = (DIRECTOR, ACCOUNTANT, CONTROLLER)
# Bank statements and their posting batches (fundapp/api/banking.py).
BANK_READ = (ACCOUNTANT, DIRECTOR, CONTROLLER)

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
JSON = "application/json"
CSS = "text/css"
# An uploaded document comes back as it was stored (a PDF in the scenario); the API sends
# every document as an opaque file.
UPLOADED = PDF
OCTET = "application/octet-stream"


@dataclass(frozen=True)
class Access:
    who: frozenset[str]
    ok: int = 200
    # Expected content type of a 200; empty: an HTML page on the web, JSON on the API.
    content: str = ""
    # Where a 302 leads when that is the point (logging out lands on the login page).
    location: str = ""
    # Who may use someone else's user-owned object (a notice) on this route.
    others: frozenset[str] = frozenset()
    # Roles whose answer differs from ``ok`` (the login page sends a signed-in user home).
    by_role: dict[str, int] = field(default_factory=dict)


def allow(
    *who: str,
    ok: int = 200,
    content: str = "",
    location: str = "",
    others: tuple[str, ...] = (),
    by_role: dict[str, int] | None = None,
) -> Access:
    unknown = set(who) - set(ACTORS)
    assert not unknown, f"unknown actors {unknown}"
    return Access(frozenset(who), ok, content, location, frozenset(others), by_role or {})


SENT_HOME = {role: 302 for role in ROLES}

EXPECTED: dict[tuple[str, str], Access] = {
    # --- public ------------------------------------------------------------------------
    ("static", "GET"): allow(*PUBLIC, content=CSS),
    ("main.healthz", "GET"): allow(*PUBLIC, content=JSON),
    ("main.language", "POST"): allow(*PUBLIC, ok=302),
    # The login form is for the anonymous; a signed-in user is sent on to the start page.
    ("auth.login", "GET"): allow(*PUBLIC, by_role=SENT_HOME),
    ("auth.login", "POST"): allow(*PUBLIC, by_role=SENT_HOME),
    ("api.openapi_document", "GET"): allow(*PUBLIC),
    ("api.create_token", "POST"): allow(*PUBLIC, ok=422),
    # --- one's own session, password, notices and tokens --------------------------------
    ("main.home", "GET"): allow(*SIGNED_IN, ok=302),
    ("auth.logout", "POST"): allow(*SIGNED_IN, ok=302, location="/login"),
    ("auth.change_password", "GET"): allow(*SIGNED_IN),
    ("auth.change_password", "POST"): allow(*SIGNED_IN),
    ("auth.sessions", "GET"): allow(*SIGNED_IN),
    ("auth.end_other_sessions", "POST"): allow(*SIGNED_IN, ok=302),
    ("notices.index", "GET"): allow(*SIGNED_IN),
    ("notices.read", "POST"): allow(*SIGNED_IN, ok=302),
    ("notices.read_all", "POST"): allow(*SIGNED_IN, ok=302),
    ("documents.notice", "GET"): allow(*SIGNED_IN, content=PDF, others=SUPERVISORS),
    ("api.me", "GET"): allow(*SIGNED_IN),
    ("api.change_own_password", "POST"): allow(*SIGNED_IN, ok=422),
    ("api.list_own_tokens", "GET"): allow(*SIGNED_IN),
    ("api.revoke_own_token", "DELETE"): allow(*SIGNED_IN, ok=204),
    ("api.revoke_current_token", "DELETE"): allow(*SIGNED_IN, ok=204),
    ("api.list_notices", "GET"): allow(*SIGNED_IN),
    ("api.notice_pdf", "GET"): allow(*SIGNED_IN, content=PDF, others=SUPERVISORS),
    ("api.mark_notice_read", "POST"): allow(*SIGNED_IN),
    ("api.mark_all_notices_read", "POST"): allow(*SIGNED_IN),
    # --- administration: users, roles, passwords, tokens; the audit log ------------------
    ("admin.users", "GET"): allow(ADMIN),
    ("admin.user_new", "GET"): allow(ADMIN),
    ("admin.user_new", "POST"): allow(ADMIN),
    ("admin.user_edit", "GET"): allow(ADMIN),
    ("admin.user_edit", "POST"): allow(ADMIN),
    ("admin.user_password", "POST"): allow(ADMIN, ok=302),
    ("admin.token_revoke", "POST"): allow(ADMIN, ok=302),
    ("api.list_users", "GET"): allow(ADMIN),
    ("api.create_user", "POST"): allow(ADMIN, ok=422),
    ("api.get_user", "GET"): allow(ADMIN),
    ("api.update_user", "PATCH"): allow(ADMIN),
    ("api.reset_user_password", "POST"): allow(ADMIN, ok=422),
    ("api.list_user_tokens", "GET"): allow(ADMIN),
    ("api.revoke_user_token", "DELETE"): allow(ADMIN, ok=204),
    # docs/rules.md#security: the audit log is visible to the controller and the admin.
    ("audit.index", "GET"): allow(CONTROLLER, ADMIN),
    ("api.list_audit", "GET"): allow(CONTROLLER, ADMIN),
    # --- cooperatives and related groups: the officer registers them --------------------
    ("cooperatives.index", "GET"): allow(*STAFF),
    ("cooperatives.communes_to_confirm", "GET"): allow(*STAFF),
    ("cooperatives.create", "GET"): allow(OFFICER),
    ("cooperatives.create", "POST"): allow(OFFICER),
    ("cooperatives.detail", "GET"): allow(*STAFF),
    ("cooperatives.edit", "GET"): allow(OFFICER),
    ("cooperatives.edit", "POST"): allow(OFFICER),
    ("cooperatives.groups", "GET"): allow(*STAFF),
    ("cooperatives.create_group", "POST"): allow(OFFICER, ok=422),
    ("api.list_cooperatives", "GET"): allow(*BORROWER_READ),
    ("api.create_cooperative", "POST"): allow(OFFICER, ok=422),
    ("api.get_cooperative", "GET"): allow(*BORROWER_READ),
    ("api.update_cooperative", "PATCH"): allow(OFFICER),
    # A cooperative keeps its own phone, e-mail and address up to date; an officer any.
    ("api.update_own_contact", "PATCH"): allow(OFFICER, COOPERATIVE),
    ("api.list_related_groups", "GET"): allow(*STAFF),
    ("api.create_related_group", "POST"): allow(OFFICER, ok=422),
    # --- the fund's books: the accountant records capital ------------------------------
    ("ledger.overview", "GET"): allow(*STAFF),
    ("ledger.capital", "GET"): allow(*STAFF),
    ("ledger.capital_new", "GET"): allow(ACCOUNTANT),
    ("ledger.capital_new", "POST"): allow(ACCOUNTANT),
    ("ledger.journal", "GET"): allow(*STAFF),
    ("api.list_capital_entries", "GET"): allow(*STAFF),
    ("api.create_capital_entry", "POST"): allow(ACCOUNTANT, ok=422),
    ("api.list_funds", "GET"): allow(*STAFF),
    ("api.create_fund", "POST"): allow(ACCOUNTANT, DIRECTOR, ok=422),
    ("api.fund_position", "GET"): allow(*STAFF),
    ("api.fund_overview", "GET"): allow(*STAFF),
    ("api.list_journal", "GET"): allow(*STAFF),
    # --- lending policy: the board edits it; docs/rules.md is silent on the admin reading it, the
    # code lets the admin read it with the system settings.
    ("policy.index", "GET"): allow(*STAFF, ADMIN),
    ("policy.history", "GET"): allow(*STAFF, ADMIN),
    ("policy.change", "GET"): allow(BOARD),
    ("policy.change", "POST"): allow(BOARD),
    # A change is proposed by one board member and decided by another (maker/checker): the
    # scenario's pending change was proposed by another board member, so approving it needs
    # no input (302) and rejecting it needs a reason (422); the one withdrawn is the actor's.
    ("policy.approve_change", "POST"): allow(BOARD, ok=302),
    ("policy.reject_change", "POST"): allow(BOARD, ok=422),
    ("policy.withdraw_change", "POST"): allow(BOARD, ok=302),
    ("api.list_policy", "GET"): allow(*STAFF, ADMIN),
    ("api.get_policy", "GET"): allow(*STAFF, ADMIN),
    ("api.change_policy", "POST"): allow(BOARD, ok=422),
    ("api.list_policy_changes", "GET"): allow(*STAFF, ADMIN),
    ("api.approve_policy_change", "POST"): allow(BOARD),
    ("api.reject_policy_change", "POST"): allow(BOARD, ok=422),
    ("api.withdraw_policy_change", "POST"): allow(BOARD),
    # --- applications: the officer registers and appraises, the director or board decide;
    # the draft of the scenario is submitted by an empty POST (it is complete), and
    # withdrawn (a reason is optional). The cooperative applies through the portal.
    ("applications.index", "GET"): allow(*STAFF),
    ("applications.create", "GET"): allow(OFFICER),
    ("applications.create", "POST"): allow(OFFICER, ok=422),
    ("applications.detail", "GET"): allow(*STAFF),
    ("applications.edit", "GET"): allow(OFFICER),
    ("applications.edit", "POST"): allow(OFFICER, ok=422),
    ("applications.submit", "POST"): allow(OFFICER, ok=302),
    ("applications.withdraw", "POST"): allow(OFFICER, ok=302),
    ("applications.appraise", "POST"): allow(OFFICER, ok=422),
    ("applications.approve", "POST"): allow(*DECIDERS, ok=422),
    ("applications.reject", "POST"): allow(*DECIDERS, ok=422),
    ("applications.upload", "POST"): allow(OFFICER, ok=422),
    ("applications.document", "GET"): allow(*STAFF, content=UPLOADED),
    ("api.list_applications", "GET"): allow(*BORROWER_READ),
    ("api.create_application", "POST"): allow(OFFICER, COOPERATIVE, ok=422),
    ("api.get_application", "GET"): allow(*BORROWER_READ),
    ("api.update_application", "PATCH"): allow(OFFICER, COOPERATIVE),
    ("api.submit_application", "POST"): allow(OFFICER, COOPERATIVE),
    ("api.withdraw_application", "POST"): allow(OFFICER, COOPERATIVE),
    ("api.appraise_application", "POST"): allow(OFFICER, ok=422),
    ("api.approve_application", "POST"): allow(*DECIDERS, ok=422),
    ("api.reject_application", "POST"): allow(*DECIDERS, ok=422),
    ("api.list_application_documents", "GET"): allow(*BORROWER_READ),
    ("api.upload_application_document", "POST"): allow(OFFICER, COOPERATIVE, ok=422),
    ("api.download_application_document", "GET"): allow(*BORROWER_READ, content=OCTET),
    # --- loans: staff pages; each action to its role (docs/rules.md#security). An action with
    # an empty form is refused with the loan page and its messages (422); deciding a pending item
    # needs no input and goes through (302).
    ("loans.index", "GET"): allow(*STAFF),
    ("loans.approvals", "GET"): allow(*STAFF),
    ("loans.detail", "GET"): allow(*STAFF),
    ("loans.schedule", "GET"): allow(*STAFF),
    ("loans.sign_contract", "POST"): allow(OFFICER, DIRECTOR, ok=422),
    ("loans.cancel", "POST"): allow(*DECIDERS, ok=422),
    ("loans.record_disbursement", "POST"): allow(ACCOUNTANT, ok=422),
    ("loans.approve_disbursement", "POST"): allow(DIRECTOR, ok=302),
    ("loans.reject_disbursement", "POST"): allow(DIRECTOR, ok=302),
    ("loans.record_repayment", "POST"): allow(ACCOUNTANT, ok=422),
    ("loans.request_reversal", "POST"): allow(ACCOUNTANT, ok=422),
    ("loans.approve_reversal", "POST"): allow(DIRECTOR, ok=302),
    ("loans.reject_reversal", "POST"): allow(DIRECTOR, ok=302),
    ("loans.request_restructuring", "POST"): allow(OFFICER, ok=422),
    ("loans.approve_restructuring", "POST"): allow(*DECIDERS, ok=302),
    ("loans.reject_restructuring", "POST"): allow(*DECIDERS, ok=302),
    ("loans.propose_write_off", "POST"): allow(DIRECTOR, ok=422),
    ("loans.approve_write_off", "POST"): allow(BOARD, ok=302),
    ("loans.reject_write_off", "POST"): allow(BOARD, ok=302),
    ("loans.add_collateral", "POST"): allow(OFFICER, ok=422),
    ("loans.add_inspection", "POST"): allow(OFFICER, ok=422),
    ("api.list_loans", "GET"): allow(*BORROWER_READ),
    ("api.get_loan", "GET"): allow(*BORROWER_READ),
    ("api.get_schedule", "GET"): allow(*BORROWER_READ),
    ("api.list_disbursements", "GET"): allow(*BORROWER_READ),
    ("api.list_repayments", "GET"): allow(*BORROWER_READ),
    ("api.sign_contract", "POST"): allow(OFFICER, DIRECTOR, ok=422),
    ("api.update_loan", "PATCH"): allow(OFFICER, DIRECTOR),
    ("api.cancel_loan", "POST"): allow(*DECIDERS, ok=422),
    ("api.record_disbursement", "POST"): allow(ACCOUNTANT, ok=422),
    ("api.approve_disbursement", "POST"): allow(DIRECTOR),
    ("api.reject_disbursement", "POST"): allow(DIRECTOR),
    ("api.record_repayment", "POST"): allow(ACCOUNTANT, ok=422),
    ("api.request_reversal", "POST"): allow(ACCOUNTANT, ok=422),
    ("api.approve_reversal", "POST"): allow(DIRECTOR),
    ("api.reject_reversal", "POST"): allow(DIRECTOR),
    ("api.request_restructuring", "POST"): allow(OFFICER, ok=422),
    ("api.approve_restructuring", "POST"): allow(*DECIDERS),
    ("api.reject_restructuring", "POST"): allow(*DECIDERS),
    ("api.propose_write_off", "POST"): allow(DIRECTOR, ok=422),
    ("api.approve_write_off", "POST"): allow(BOARD),
    ("api.reject_write_off", "POST"): allow(BOARD),
    ("api.add_collateral", "POST"): allow(OFFICER, ok=422),
    ("api.add_inspection", "POST"): allow(OFFICER, ok=422),
    # The fund's own records of a loan (collateral, inspections, decisions) are staff's.
    ("api.list_collateral", "GET"): allow(*STAFF),
    ("api.list_inspections", "GET"): allow(*STAFF),
    ("api.list_write_offs", "GET"): allow(*STAFF),
    # Interest relief (miễn, giảm lãi) and removal from off-balance tracking (xuất toán).
    ("relief.loan_page", "GET"): allow(*STAFF),
    ("relief.request_relief", "POST"): allow(OFFICER, ok=422),
    ("relief.approve_relief", "POST"): allow(*DECIDERS, ok=302),
    ("relief.reject_relief", "POST"): allow(*DECIDERS, ok=302),
    ("relief.propose_removal", "POST"): allow(DIRECTOR, ok=422),
    # Refused (the scenario's loan is not risk-handled): a message, back to the page.
    ("relief.approve_removal", "POST"): allow(BOARD, ok=302),
    ("relief.reject_removal", "POST"): allow(BOARD, ok=302),
    ("api.list_interest_reliefs", "GET"): allow(*STAFF),
    ("api.list_loan_interest_reliefs", "GET"): allow(*STAFF),
    ("api.get_waivable_interest", "GET"): allow(*STAFF),
    ("api.request_interest_relief", "POST"): allow(OFFICER, ok=422),
    ("api.approve_interest_relief", "POST"): allow(*DECIDERS),
    ("api.reject_interest_relief", "POST"): allow(*DECIDERS),
    ("api.list_removals", "GET"): allow(*STAFF),
    ("api.propose_removal", "POST"): allow(DIRECTOR, ok=422),
    ("api.approve_removal", "POST"): allow(BOARD, ok=422),
    ("api.reject_removal", "POST"): allow(BOARD),
    ("api.list_reversals", "GET"): allow(*STAFF),
    ("api.list_restructurings", "GET"): allow(*STAFF),
    ("api.list_loan_transitions", "GET"): allow(*STAFF),
    ("api.list_approvals", "GET"): allow(*STAFF),
    # --- close of day: the accountant runs it by hand, the director may too -------------
    ("servicing.index", "GET"): allow(*STAFF),
    ("servicing.run", "POST"): allow(ACCOUNTANT, DIRECTOR, ok=302),
    ("api.close_day", "POST"): allow(ACCOUNTANT, DIRECTOR),
    ("api.close_day_runs", "GET"): allow(*STAFF),
    # --- documents of a loan: staff, and the cooperative for its own ---------------------
    ("documents.statement", "GET"): allow(*BORROWER_READ, content=PDF),
    ("documents.schedule", "GET"): allow(*BORROWER_READ, content=PDF),
    ("documents.receipt", "GET"): allow(*BORROWER_READ, content=PDF),
    ("documents.debt_receipt", "GET"): allow(*BORROWER_READ, content=PDF),
    ("documents.debt_confirmation", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.loan_statement_pdf", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.loan_schedule_pdf", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.repayment_receipt_pdf", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.disbursement_debt_receipt_pdf", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.cooperative_debt_confirmation_pdf", "GET"): allow(*BORROWER_READ, content=PDF),
    # --- dashboard and reports: the director's, read by all staff ------------------------
    ("dashboard.index", "GET"): allow(*STAFF),
    ("api.dashboard", "GET"): allow(*STAFF),
    ("reports.index", "GET"): allow(*STAFF),
    ("reports.fund_balance", "GET"): allow(*STAFF),
    ("reports.fund_balance_pdf", "GET"): allow(*STAFF, content=PDF),
    ("reports.fund_balance_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("reports.lending_activity", "GET"): allow(*STAFF),
    ("reports.lending_activity_pdf", "GET"): allow(*STAFF, content=PDF),
    ("reports.lending_activity_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("reports.classification", "GET"): allow(*STAFF),
    ("reports.classification_pdf", "GET"): allow(*STAFF, content=PDF),
    ("reports.classification_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("reports.par", "GET"): allow(*STAFF),
    ("reports.par_pdf", "GET"): allow(*STAFF, content=PDF),
    ("reports.par_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("reports.trial_balance", "GET"): allow(*STAFF),
    ("reports.trial_balance_pdf", "GET"): allow(*STAFF, content=PDF),
    ("reports.trial_balance_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("reports.account_ledger", "GET"): allow(*STAFF),
    ("reports.account_ledger_pdf", "GET"): allow(*STAFF, content=PDF),
    ("reports.account_ledger_xlsx", "GET"): allow(*STAFF, content=XLSX),
    # --- the landing page of work and the collection calendar (issue 16) ------------------
    ("work.index", "GET"): allow(*STAFF),
    ("work.collection_calendar", "GET"): allow(*STAFF),
    ("api.report_fund_balance", "GET"): allow(*STAFF),
    ("api.report_fund_balance_pdf", "GET"): allow(*STAFF, content=PDF),
    ("api.report_fund_balance_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("api.report_lending_activity", "GET"): allow(*STAFF),
    ("api.report_lending_activity_pdf", "GET"): allow(*STAFF, content=PDF),
    ("api.report_lending_activity_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("api.report_classification", "GET"): allow(*STAFF),
    ("api.report_classification_pdf", "GET"): allow(*STAFF, content=PDF),
    ("api.report_classification_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("api.report_par", "GET"): allow(*STAFF),
    ("api.report_par_pdf", "GET"): allow(*STAFF, content=PDF),
    ("api.report_par_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("api.report_trial_balance", "GET"): allow(*STAFF),
    ("api.report_trial_balance_pdf", "GET"): allow(*STAFF, content=PDF),
    ("api.report_trial_balance_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("api.report_account_ledger", "GET"): allow(*STAFF),
    ("api.report_account_ledger_pdf", "GET"): allow(*STAFF, content=PDF),
    ("api.report_account_ledger_xlsx", "GET"): allow(*STAFF, content=XLSX),
    # --- importing existing loans: the accountant's; the controller reads the page ------
    # (an empty upload is sent back to the form).
    ("imports.index", "GET"): allow(ACCOUNTANT, CONTROLLER),
    ("imports.template_xlsx", "GET"): allow(ACCOUNTANT, CONTROLLER, content=XLSX),
    ("imports.template_csv", "GET"): allow(ACCOUNTANT, CONTROLLER, content=CSV),
    ("imports.check", "POST"): allow(ACCOUNTANT, ok=302),
    ("imports.run", "POST"): allow(ACCOUNTANT, ok=302),
    ("api.loan_import_template_xlsx", "GET"): allow(ACCOUNTANT, CONTROLLER, content=XLSX),
    ("api.loan_import_template_csv", "GET"): allow(ACCOUNTANT, CONTROLLER, content=CSV),
    ("api.import_loans", "POST"): allow(ACCOUNTANT, ok=422),
    # --- the cooperative's portal: its own loans, applications and contact details ------
    ("portal.home", "GET"): allow(COOPERATIVE),
    ("portal.loans", "GET"): allow(COOPERATIVE),
    ("portal.loan", "GET"): allow(COOPERATIVE),
    ("portal.applications", "GET"): allow(COOPERATIVE),
    ("portal.application", "GET"): allow(COOPERATIVE),
    ("portal.application_new", "GET"): allow(COOPERATIVE),
    ("portal.application_new", "POST"): allow(COOPERATIVE, ok=422),
    ("portal.application_edit", "GET"): allow(COOPERATIVE),
    ("portal.application_edit", "POST"): allow(COOPERATIVE, ok=422),
    ("portal.application_submit", "POST"): allow(COOPERATIVE, ok=302),
    ("portal.application_withdraw", "POST"): allow(COOPERATIVE, ok=302),
    ("portal.application_upload", "POST"): allow(COOPERATIVE, ok=422),
    ("portal.application_document", "GET"): allow(COOPERATIVE, content=UPLOADED),
    ("portal.profile", "GET"): allow(COOPERATIVE),
    ("portal.profile", "POST"): allow(COOPERATIVE, ok=302),
    # The readiness check: the cooperative its own on the portal; staff name the borrower
    # in the API (422 without it), the cooperative gives its amounts (422 without them).
    ("portal.readiness_check", "GET"): allow(COOPERATIVE),
    ("api.portal_readiness", "GET"): allow(*BORROWER_READ, ok=422),
    ("api.application_readiness", "GET"): allow(*BORROWER_READ),
    # --- the credit file (docs/rules.md#credit-file): staff who work on loans issue a
    # paper by opening it; the controller and the cooperative get the version issued; the
    # wording is the director's and the administrator's.
    ("credit_file.document", "GET"): allow(*BORROWER_READ, content=PDF),
    ("credit_file.version", "GET"): allow(*BORROWER_READ, content=PDF),
    ("credit_file.forms", "GET"): allow(DIRECTOR, ADMIN),
    ("credit_file.form", "GET"): allow(DIRECTOR, ADMIN),
    ("credit_file.form", "POST"): allow(DIRECTOR, ADMIN),
    ("api.application_form_pdf", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.application_decision_pdf", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.loan_contract_pdf", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.collateral_contract_pdf", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.credit_file_document", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.credit_file_version", "GET"): allow(*BORROWER_READ, content=PDF),
    ("api.credit_file_index", "GET"): allow(*BORROWER_READ),
    ("api.list_form_templates", "GET"): allow(DIRECTOR, ADMIN),
    ("api.get_form_template", "GET"): allow(DIRECTOR, ADMIN),
    ("api.change_form_template", "POST"): allow(DIRECTOR, ADMIN, ok=422),
    # --- statutory reports and the annual plan: the accountant prepares the plan, a
    # director approves it (docs/rules.md#annual-plan).
    ("reports.operations", "GET"): allow(*STAFF),
    ("reports.operations_pdf", "GET"): allow(*STAFF, content=PDF),
    ("reports.operations_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("api.report_operations", "GET"): allow(*STAFF),
    ("api.report_operations_pdf", "GET"): allow(*STAFF, content=PDF),
    ("api.report_operations_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("reports.plan_actual", "GET"): allow(*STAFF),
    ("reports.plan_actual_pdf", "GET"): allow(*STAFF, content=PDF),
    ("reports.plan_actual_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("api.report_plan_actual", "GET"): allow(*STAFF),
    ("api.report_plan_actual_pdf", "GET"): allow(*STAFF, content=PDF),
    ("api.report_plan_actual_xlsx", "GET"): allow(*STAFF, content=XLSX),
    ("planning.index", "GET"): allow(*STAFF),
    ("planning.new", "GET"): allow(ACCOUNTANT),
    ("planning.new", "POST"): allow(ACCOUNTANT, ok=422),
    ("planning.edit", "GET"): allow(*STAFF),
    # An empty form changes no line of the draft.
    ("planning.save", "POST"): allow(ACCOUNTANT, ok=302),
    ("planning.approve", "POST"): allow(DIRECTOR, ok=302),
    ("api.list_plans", "GET"): allow(*STAFF),
    ("api.create_plan", "POST"): allow(ACCOUNTANT, ok=422),
    ("api.get_plan", "GET"): allow(*STAFF),
    ("api.update_plan", "PATCH"): allow(ACCOUNTANT),
    ("api.approve_plan", "POST"): allow(DIRECTOR),
    # --- the A/B/C self-assessment (docs/rules.md#ranking-and-dissolution): the director,
    # the accountant and the controller read it, the director records it. An empty form
    # records the year with nothing ticked.
    ("reports.ranking", "GET"): allow(*RANKING_READ),
    ("reports.ranking_pdf", "GET"): allow(*RANKING_READ, content=PDF),
    ("reports.ranking_xlsx", "GET"): allow(*RANKING_READ, content=XLSX),
    ("api.report_ranking", "GET"): allow(*RANKING_READ),
    ("api.report_ranking_pdf", "GET"): allow(*RANKING_READ, content=PDF),
    ("api.report_ranking_xlsx", "GET"): allow(*RANKING_READ, content=XLSX),
    ("ranking.record", "POST"): allow(DIRECTOR, ok=302),
    ("api.get_ranking", "GET"): allow(*RANKING_READ),
    ("api.record_ranking", "POST"): allow(DIRECTOR, ok=422),
    # --- interest support (docs/rules.md#interest-support): the director keeps the schemes
    # and enrols loans, the accountant (or the director) files claims, the accountant
    # records their payment; the board, the administrator and the cooperative have no part.
    ("support.index", "GET"): allow(*SUPPORT_READ),
    ("support.new", "GET"): allow(DIRECTOR),
    ("support.new", "POST"): allow(DIRECTOR, ok=422),
    ("support.scheme", "GET"): allow(*SUPPORT_READ),
    ("support.enrol", "POST"): allow(DIRECTOR, ok=422),
    ("support.stop", "POST"): allow(DIRECTOR, ok=302),
    ("support.submit", "POST"): allow(ACCOUNTANT, DIRECTOR, ok=422),
    ("support.paid", "POST"): allow(ACCOUNTANT, ok=302),
    ("reports.support_claim", "GET"): allow(*CLAIM_READ),
    ("reports.support_claim_pdf", "GET"): allow(*CLAIM_READ, content=PDF),
    ("reports.support_claim_xlsx", "GET"): allow(*CLAIM_READ, content=XLSX),
    ("api.report_support_claim", "GET"): allow(*CLAIM_READ),
    ("api.report_support_claim_pdf", "GET"): allow(*CLAIM_READ, content=PDF),
    ("api.report_support_claim_xlsx", "GET"): allow(*CLAIM_READ, content=XLSX),
    ("api.list_support_schemes", "GET"): allow(*SUPPORT_READ),
    ("api.create_support_scheme", "POST"): allow(DIRECTOR, ok=422),
    ("api.enrol_loan_support", "POST"): allow(DIRECTOR, ok=422),
    ("api.stop_loan_support", "POST"): allow(DIRECTOR, ok=422),
    ("api.list_support_claims", "GET"): allow(*SUPPORT_READ),
    ("api.submit_support_claim", "POST"): allow(ACCOUNTANT, DIRECTOR, ok=422),
    ("api.record_support_payment", "POST"): allow(ACCOUNTANT, ok=422),
    # --- bank statements (docs/rules.md, bank statement import and matching): the
    # accountant imports, reviews and sends lines to posting (maker), the director approves
    # or refuses a batch (checker), the controller reads. The scenario's statement has its
    # one line in a batch waiting for the director: nothing left to send (409); an empty
    # approval is complete (200), an empty rejection lacks its reason (422).
    ("api.import_bank_statement", "POST"): allow(ACCOUNTANT, ok=422),
    ("api.get_bank_statement", "GET"): allow(*BANK_READ),
    ("api.list_bank_lines", "GET"): allow(*BANK_READ),
    ("api.correct_bank_line", "POST"): allow(ACCOUNTANT, ok=422),
    ("api.post_bank_batch", "POST"): allow(ACCOUNTANT, ok=409),
    ("api.approve_bank_batch", "POST"): allow(DIRECTOR),
    ("api.reject_bank_batch", "POST"): allow(DIRECTOR, ok=422),
    # The review screen (fundapp/web/banking.py): a refused action shows the page again
    # with its message (422); the director's approval of the scenario's batch posts it.
    ("banking.index", "GET"): allow(*BANK_READ),
    ("banking.upload", "POST"): allow(ACCOUNTANT, ok=422),
    ("banking.statement", "GET"): allow(*BANK_READ),
    ("banking.correct", "POST"): allow(ACCOUNTANT, ok=422),
    ("banking.post", "POST"): allow(ACCOUNTANT, ok=422),
    ("banking.approve", "POST"): allow(DIRECTOR, ok=302),
    ("banking.reject", "POST"): allow(DIRECTOR, ok=422),
    ("banking.unmatched", "GET"): allow(*BANK_READ),
    # --- the risk committee (docs/rules.md#risk-committee): the board records, the
    # director and the controller read.
    ("committee.index", "GET"): allow(BOARD, DIRECTOR, CONTROLLER),
    ("committee.open_meeting", "POST"): allow(BOARD, ok=422),
    ("committee.meeting", "GET"): allow(BOARD, DIRECTOR, CONTROLLER),
    ("committee.update_meeting", "POST"): allow(BOARD, ok=422),
    ("committee.record_decision", "POST"): allow(BOARD, ok=422),
    # The scenario's meeting has no minutes yet: closing it is refused.
    ("committee.close_meeting", "POST"): allow(BOARD, ok=422),
    ("committee.pack", "GET"): allow(BOARD, DIRECTOR, CONTROLLER, content=PDF),
    ("api.list_committee_meetings", "GET"): allow(BOARD, DIRECTOR, CONTROLLER),
    ("api.open_committee_meeting", "POST"): allow(BOARD, ok=422),
    ("api.get_committee_meeting", "GET"): allow(BOARD, DIRECTOR, CONTROLLER),
    ("api.update_committee_meeting", "PATCH"): allow(BOARD),
    ("api.record_committee_decision", "PUT"): allow(BOARD, ok=422),
    ("api.close_committee_meeting", "POST"): allow(BOARD, ok=422),
    ("api.committee_pack_pdf", "GET"): allow(BOARD, DIRECTOR, CONTROLLER, content=PDF),
}
