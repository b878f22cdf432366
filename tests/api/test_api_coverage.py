"""Every capability of the web UI is reachable under /api/v1 with the same permissions.

``API_FOR`` maps each web endpoint to the API endpoints that do the same, or to the reason
it has none. A new page or form without a row here fails, as does a row naming an API
endpoint that does not exist, or an API endpoint that refuses a role the page lets in.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

API_FOR: dict[str, tuple[str, ...] | str] = {
    # administration
    "admin.users": ("api.list_users",),
    "admin.user_new": ("api.create_user",),
    "admin.user_edit": ("api.get_user", "api.update_user", "api.list_user_tokens"),
    "admin.user_password": ("api.reset_user_password",),
    "admin.token_revoke": ("api.revoke_user_token",),
    "audit.index": ("api.list_audit",),
    # signing in and one's own account
    "auth.login": ("api.create_token",),
    "auth.logout": ("api.revoke_current_token",),
    "auth.change_password": ("api.change_own_password",),
    "auth.sessions": "a browser's signed-in sessions; an API client lists its tokens instead",
    "auth.end_other_sessions": "ends the browser sessions; tokens are revoked one by one",
    "main.home": "the start page only sends each role on to its own first page",
    "main.healthz": "the load balancer's liveness probe, not a capability of the fund",
    "main.language": "switches the pages' language in the browser session",
    # cooperatives
    "cooperatives.index": ("api.list_cooperatives",),
    "cooperatives.detail": ("api.get_cooperative",),
    "cooperatives.create": ("api.create_cooperative",),
    "cooperatives.edit": ("api.get_cooperative", "api.update_cooperative"),
    # GET /cooperatives?needs_confirming=true
    "cooperatives.communes_to_confirm": ("api.list_cooperatives",),
    "cooperatives.groups": ("api.list_related_groups",),
    "cooperatives.create_group": ("api.create_related_group",),
    # the fund's books
    "ledger.overview": ("api.fund_position", "api.fund_overview", "api.list_journal"),
    "ledger.capital": ("api.list_capital_entries",),
    "ledger.capital_new": ("api.create_capital_entry",),
    "ledger.journal": ("api.list_journal",),
    "policy.index": ("api.list_policy", "api.list_policy_changes"),
    "policy.history": ("api.get_policy", "api.list_policy_changes"),
    "policy.change": ("api.get_policy", "api.change_policy"),
    "policy.approve_change": ("api.approve_policy_change",),
    "policy.reject_change": ("api.reject_policy_change",),
    "policy.withdraw_change": ("api.withdraw_policy_change",),
    # applications
    "applications.index": ("api.list_applications",),
    "applications.detail": ("api.get_application", "api.list_application_documents"),
    "applications.create": ("api.create_application",),
    "applications.edit": ("api.get_application", "api.update_application"),
    "applications.submit": ("api.submit_application",),
    "applications.withdraw": ("api.withdraw_application",),
    "applications.appraise": ("api.appraise_application",),
    "applications.approve": ("api.approve_application",),
    "applications.reject": ("api.reject_application",),
    "applications.upload": ("api.upload_application_document",),
    "applications.document": ("api.download_application_document",),
    # loans
    "loans.index": ("api.list_loans",),
    "loans.detail": (
        "api.get_loan",
        "api.get_schedule",
        "api.list_repayments",
        "api.list_disbursements",
        "api.list_reversals",
        "api.list_restructurings",
        "api.list_write_offs",
        "api.list_collateral",
        "api.list_inspections",
        "api.list_loan_transitions",
    ),
    "loans.schedule": ("api.get_schedule", "api.list_disbursements"),
    "loans.approvals": ("api.list_approvals",),
    "loans.sign_contract": ("api.sign_contract",),
    "loans.cancel": ("api.cancel_loan",),
    "loans.record_disbursement": ("api.record_disbursement",),
    "loans.approve_disbursement": ("api.approve_disbursement",),
    "loans.reject_disbursement": ("api.reject_disbursement",),
    "loans.record_repayment": ("api.record_repayment",),
    "loans.request_reversal": ("api.request_reversal",),
    "loans.approve_reversal": ("api.approve_reversal",),
    "loans.reject_reversal": ("api.reject_reversal",),
    "loans.request_restructuring": ("api.request_restructuring",),
    "loans.approve_restructuring": ("api.approve_restructuring",),
    "loans.reject_restructuring": ("api.reject_restructuring",),
    "loans.propose_write_off": ("api.propose_write_off",),
    "loans.approve_write_off": ("api.approve_write_off",),
    "loans.reject_write_off": ("api.reject_write_off",),
    "loans.add_collateral": ("api.add_collateral",),
    # interest relief, removal from off-balance tracking
    "relief.loan_page": (
        "api.list_loan_interest_reliefs",
        "api.get_waivable_interest",
        "api.list_removals",
    ),
    "relief.request_relief": ("api.request_interest_relief",),
    "relief.approve_relief": ("api.approve_interest_relief",),
    "relief.reject_relief": ("api.reject_interest_relief",),
    "relief.propose_removal": ("api.propose_removal",),
    "relief.approve_removal": ("api.approve_removal",),
    "relief.reject_removal": ("api.reject_removal",),
    "loans.add_inspection": ("api.add_inspection",),
    # close of day, notices, documents, reports
    "servicing.index": ("api.close_day_runs",),
    "servicing.run": ("api.close_day",),
    "notices.index": ("api.list_notices",),
    "notices.read": ("api.mark_notice_read",),
    "notices.read_all": ("api.mark_all_notices_read",),
    "documents.statement": ("api.loan_statement_pdf",),
    "documents.schedule": ("api.loan_schedule_pdf",),
    "documents.receipt": ("api.repayment_receipt_pdf",),
    "documents.debt_receipt": ("api.disbursement_debt_receipt_pdf",),
    "documents.notice": ("api.notice_pdf",),
    "documents.debt_confirmation": ("api.cooperative_debt_confirmation_pdf",),
    "dashboard.index": ("api.dashboard",),
    "reports.index": "a menu of links to the reports, each of which has its own endpoint",
    "reports.fund_balance": ("api.report_fund_balance",),
    "reports.fund_balance_pdf": ("api.report_fund_balance_pdf",),
    "reports.fund_balance_xlsx": ("api.report_fund_balance_xlsx",),
    "reports.lending_activity": ("api.report_lending_activity",),
    "reports.lending_activity_pdf": ("api.report_lending_activity_pdf",),
    "reports.lending_activity_xlsx": ("api.report_lending_activity_xlsx",),
    "reports.operations": ("api.report_operations",),
    "reports.operations_pdf": ("api.report_operations_pdf",),
    "reports.operations_xlsx": ("api.report_operations_xlsx",),
    "reports.ranking": ("api.report_ranking", "api.get_ranking"),
    "reports.ranking_pdf": ("api.report_ranking_pdf",),
    "reports.ranking_xlsx": ("api.report_ranking_xlsx",),
    "ranking.record": ("api.record_ranking",),
    "reports.support_claim": ("api.report_support_claim",),
    "reports.support_claim_pdf": ("api.report_support_claim_pdf",),
    "reports.support_claim_xlsx": ("api.report_support_claim_xlsx",),
    # the review of bank statements
    "banking.index": ("api.get_bank_statement", "api.list_bank_lines"),
    "banking.upload": ("api.import_bank_statement",),
    "banking.statement": ("api.get_bank_statement",),
    "banking.correct": ("api.correct_bank_line",),
    "banking.post": ("api.post_bank_batch",),
    "banking.approve": ("api.approve_bank_batch",),
    "banking.reject": ("api.reject_bank_batch",),
    "banking.unmatched": ("api.list_bank_lines",),
    # interest support
    "support.index": ("api.list_support_schemes", "api.list_support_claims"),
    "support.new": ("api.create_support_scheme",),
    "support.scheme": ("api.list_support_schemes", "api.list_support_claims"),
    "support.enrol": ("api.enrol_loan_support",),
    "support.stop": ("api.stop_loan_support",),
    "support.submit": ("api.submit_support_claim",),
    "support.paid": ("api.record_support_payment",),
    "reports.plan_actual": ("api.report_plan_actual",),
    "reports.plan_actual_pdf": ("api.report_plan_actual_pdf",),
    "reports.plan_actual_xlsx": ("api.report_plan_actual_xlsx",),
    # the annual plan
    "planning.index": ("api.list_plans",),
    "planning.new": ("api.create_plan",),
    "planning.edit": ("api.get_plan",),
    "planning.save": ("api.update_plan",),
    "planning.approve": ("api.approve_plan",),
    "reports.classification": ("api.report_classification",),
    "reports.classification_pdf": ("api.report_classification_pdf",),
    "reports.classification_xlsx": ("api.report_classification_xlsx",),
    "reports.par": ("api.report_par",),
    "reports.par_pdf": ("api.report_par_pdf",),
    "reports.par_xlsx": ("api.report_par_xlsx",),
    "reports.trial_balance": ("api.report_trial_balance",),
    "reports.trial_balance_pdf": ("api.report_trial_balance_pdf",),
    "reports.trial_balance_xlsx": ("api.report_trial_balance_xlsx",),
    "reports.account_ledger": ("api.report_account_ledger",),
    "reports.account_ledger_pdf": ("api.report_account_ledger_pdf",),
    "reports.account_ledger_xlsx": ("api.report_account_ledger_xlsx",),
    # the landing page of work (issue 16) gathers reads the API has one by one
    "work.index": ("api.list_loans", "api.list_applications", "api.list_approvals"),
    "work.collection_calendar": "a month's grid for the screen; the API gives each loan's "
    "schedule (GET /loans/{id}/schedule) and its repayments",
    # the cooperative portal
    "portal.home": ("api.list_loans", "api.get_loan", "api.get_schedule", "api.list_notices"),
    "portal.loans": ("api.list_loans",),
    "portal.loan": (
        "api.get_loan",
        "api.get_schedule",
        "api.list_repayments",
        "api.list_disbursements",
    ),
    "portal.applications": ("api.list_applications",),
    "portal.application": ("api.get_application", "api.list_application_documents"),
    "portal.application_new": ("api.create_application", "api.upload_application_document"),
    "portal.application_edit": ("api.get_application", "api.update_application"),
    "portal.application_submit": ("api.submit_application",),
    "portal.application_withdraw": ("api.withdraw_application",),
    "portal.application_upload": ("api.upload_application_document",),
    "portal.application_document": ("api.download_application_document",),
    "portal.profile": ("api.get_cooperative", "api.update_own_contact"),
    "portal.readiness_check": ("api.portal_readiness",),
    # the credit file
    "credit_file.document": ("api.credit_file_document",),
    "credit_file.version": ("api.credit_file_version",),
    "credit_file.forms": ("api.list_form_templates",),
    "credit_file.form": ("api.get_form_template", "api.change_form_template"),
    # the risk committee
    "committee.index": ("api.list_committee_meetings",),
    "committee.open_meeting": ("api.open_committee_meeting",),
    "committee.meeting": ("api.get_committee_meeting",),
    "committee.update_meeting": ("api.update_committee_meeting",),
    "committee.record_decision": ("api.record_committee_decision",),
    "committee.close_meeting": ("api.close_committee_meeting",),
    "committee.pack": ("api.committee_pack_pdf",),
    # importing existing loans
    "imports.index": "the upload form and its report; the import is POST /imports/loans",
    "imports.template_xlsx": ("api.loan_import_template_xlsx",),
    "imports.template_csv": ("api.loan_import_template_csv",),
    "imports.check": ("api.import_loans",),
    "imports.run": ("api.import_loans",),
}


def _web_endpoints(app: Flask) -> set[str]:
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.endpoint.startswith("api.")
    }


def _roles(view: Any) -> tuple[str, ...] | None:
    """The roles a view lets in; ``None`` when any signed-in user (or anyone) may call it."""
    roles = getattr(view, "allowed_roles", None)
    return tuple(roles) if roles else None


def test_every_web_endpoint_has_an_api_counterpart_or_a_reason(app):
    web = _web_endpoints(app)
    assert len(web) > 50  # the map is really being walked
    missing = sorted(web - set(API_FOR))
    assert not missing, f"web endpoints without a row in API_FOR: {missing}"
    stale = sorted(set(API_FOR) - web)
    assert not stale, f"rows of API_FOR for web endpoints that no longer exist: {stale}"


def test_every_named_api_endpoint_exists(app):
    unknown = sorted(
        {
            endpoint
            for target in API_FOR.values()
            if isinstance(target, tuple)
            for endpoint in target
            if endpoint not in app.view_functions
        }
    )
    assert not unknown, f"API_FOR names API endpoints that do not exist: {unknown}"
    for web, target in API_FOR.items():
        assert target, web
        if isinstance(target, tuple):
            assert all(endpoint.startswith("api.") for endpoint in target), web


def test_the_api_lets_in_every_role_the_page_lets_in(app):
    refused: list[str] = []
    for web, target in API_FOR.items():
        if isinstance(target, str) or web not in app.view_functions:
            continue
        page_roles = _roles(app.view_functions[web])
        for endpoint in target:
            api_roles = _roles(app.view_functions[endpoint])
            if api_roles is None:
                continue
            if page_roles is None or not set(page_roles) <= set(api_roles):
                refused.append(f"{web} {page_roles or 'any user'} → {endpoint} {api_roles}")
    assert not refused, "\n".join(refused)
