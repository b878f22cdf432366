"""Issue 16, defects 3 and 4: who may appraise and who is offered "Phê duyệt".

- The officer who prepared an application (created it, or is its officer) may appraise it
  only when the policy parameter ``self_appraisal_allowed`` says so (default: no, the
  appraisal is a second officer's check); refused in words on the web and in the API.
- A director is not offered "Phê duyệt" on a file above his approval limit (default
  500.000.000 đ): the page says "Vượt thẩm quyền — trình Hội đồng quản lý" instead."""

from __future__ import annotations

from datetime import date

from fundapp.extensions import db
from fundapp.policy.models import PolicyParameter
from tests.conftest import api_token, make_cooperative
from tests.web.test_applications import (
    appraised,
    client_for,
    create,
    fresh,
    funded,
    text,
    uploads_dir,
)

__all__ = ["funded", "uploads_dir"]  # the fixtures, used by name

NOTE = {"recommended_amount": "400.000.000", "note": "Phương án khả thi, HTX trả nợ tốt."}


def _allow_self_appraisal() -> None:
    db.session.add(
        PolicyParameter(
            key="self_appraisal_allowed",
            value="yes",
            effective_from=date(2026, 1, 1),
            legal_reference="Quy chế nội bộ của Quỹ",
            note="Quỹ chỉ có một cán bộ tín dụng",
        )
    )
    db.session.commit()


def test_the_officer_who_prepared_the_file_may_not_appraise_it_by_default(funded):
    creator, _user = client_for(funded, "officer")
    application = create(creator, make_cooperative())
    assert creator.post(f"/applications/{application.id}/submit").status_code == 302
    page = text(creator.get(f"/applications/{application.id}"))
    assert "không được tự thẩm định" in page
    assert "Ghi kết quả thẩm định" not in page  # no appraisal form for him
    refused = creator.post(f"/applications/{application.id}/appraise", data=NOTE)
    assert refused.status_code == 403
    assert "Cán bộ lập hồ sơ không được tự thẩm định hồ sơ của mình" in text(refused)
    assert fresh(application.id).status == "submitted"
    assert fresh(application.id).appraised_by_id is None
    # Another officer appraises it.
    other, other_user = client_for(funded, "officer")
    assert "Ghi kết quả thẩm định" in text(other.get(f"/applications/{application.id}"))
    assert other.post(f"/applications/{application.id}/appraise", data=NOTE).status_code == 302
    assert fresh(application.id).appraised_by_id == other_user.id


def test_the_api_refuses_self_appraisal_with_a_clear_error(funded):
    creator, user = client_for(funded, "officer")
    application = create(creator, make_cooperative())
    assert creator.post(f"/applications/{application.id}/submit").status_code == 302
    headers = api_token(funded.test_client(), user)
    response = funded.test_client().post(
        f"/api/v1/applications/{application.id}/appraise",
        json={"recommended_amount": 400_000_000, "note": "Phương án khả thi"},
        headers=headers,
    )
    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "forbidden"
    assert "không được tự thẩm định" in error["message"]
    assert fresh(application.id).status == "submitted"


def test_the_policy_may_allow_the_preparer_to_appraise(funded):
    _allow_self_appraisal()
    creator, user = client_for(funded, "officer")
    application = create(creator, make_cooperative())
    assert creator.post(f"/applications/{application.id}/submit").status_code == 302
    assert "Ghi kết quả thẩm định" in text(creator.get(f"/applications/{application.id}"))
    assert creator.post(f"/applications/{application.id}/appraise", data=NOTE).status_code == 302
    assert fresh(application.id).status == "appraised"
    assert fresh(application.id).appraised_by_id == user.id
    # Still, neither the preparer nor the appraiser may decide it (the existing rule).
    assert "Ghi kết quả thẩm định" not in text(creator.get(f"/applications/{application.id}"))


def test_the_parameter_is_shown_on_the_policy_page(funded):
    board, _user = client_for(funded, "board")
    page = text(board.get("/policy/"))
    assert "Cán bộ lập hồ sơ được tự thẩm định hồ sơ của mình" in page
    history = text(board.get("/policy/self_appraisal_allowed"))
    assert "Thông tư 39/2016/TT-NHNN" in history and "Không" in history


# --- the director's authority -----------------------------------------------------------------


def test_a_director_is_not_offered_approval_beyond_his_authority(funded):
    # 600.000.000 > the director's limit of 500.000.000; own equity 300 of 900 (33 % ≥ 20 %);
    # the single-borrower cap is 15 % × 15.000.000.000 = 2.250.000.000, so only authority fails.
    application, *_ = appraised(
        funded,
        amount="600.000.000",
        total_project_cost="900.000.000",
        own_equity="300.000.000",
        requested_amount="600.000.000",
    )
    director, _user = client_for(funded, "director")
    page = text(director.get(f"/applications/{application.id}"))
    assert "Vượt thẩm quyền — trình Hội đồng quản lý" in page
    assert "Phê duyệt cho vay" not in page  # the approve form's confirmation is not there
    assert f"/applications/{application.id}/approve" not in page
    refused = director.post(f"/applications/{application.id}/approve", data={"note": "Đồng ý"})
    assert refused.status_code in (403, 409, 422)
    assert fresh(application.id).status == "appraised"
    board, _user = client_for(funded, "board")
    page = text(board.get(f"/applications/{application.id}"))
    assert "Vượt thẩm quyền" not in page
    assert f"/applications/{application.id}/approve" in page


def test_a_director_is_offered_approval_within_his_authority(funded):
    application, *_ = appraised(funded, amount="400.000.000")  # ≤ 500.000.000
    director, _user = client_for(funded, "director")
    page = text(director.get(f"/applications/{application.id}"))
    assert "Vượt thẩm quyền" not in page
    assert f"/applications/{application.id}/approve" in page
